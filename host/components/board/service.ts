// BoardService on top of the Board interface.
import type { Duration } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { BoardService, PowerMode as PbPowerMode } from "../../../proto/gen/component/board/v1/board_pb.js";
import { guard, toConnectError } from "../../server/errors.js";
import { callOptions, doCommand, getGeometries, type ResourceLookup } from "../common.js";
import { boardApi, type Board, type PowerMode, type Tick } from "./board.js";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT64_MAX = 2n ** 64n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** google.protobuf.Duration's valid range: ±10,000 years. */
const DURATION_MAX_SECONDS = 315_576_000_000n;

/** A model's number for an int32 field, rounded; a value the field cannot carry is the model's fault. */
function toInt32(value: number, what: string): number {
  const n = Math.round(value);
  if (!Number.isFinite(n) || n < INT32_MIN || n > INT32_MAX) {
    throw new ConnectError(`${what} ${value} does not fit in an int32`, Code.Internal);
  }
  return n;
}

function toUint64(value: number, what: string): bigint {
  const n = Math.round(value);
  if (!Number.isFinite(n) || n < 0 || n > Number.MAX_SAFE_INTEGER) {
    throw new ConnectError(`${what} ${value} does not fit in a uint64`, Code.Internal);
  }
  return BigInt(n);
}

function frequencyFromWire(hz: bigint): number {
  if (hz > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ConnectError(`frequency_hz ${hz} is too large (at most ${Number.MAX_SAFE_INTEGER})`, Code.InvalidArgument);
  }
  return Number(hz);
}

function powerModeFromWire(mode: PbPowerMode): PowerMode {
  switch (mode) {
    case PbPowerMode.NORMAL:
      return "normal";
    case PbPowerMode.OFFLINE_DEEP:
      return "offline_deep";
    case PbPowerMode.UNSPECIFIED:
      throw new ConnectError("power_mode POWER_MODE_UNSPECIFIED is not a power mode", Code.InvalidArgument);
    default:
      throw new ConnectError(`power_mode ${String(mode)} is not a known power mode`, Code.InvalidArgument);
  }
}

/** The duration in milliseconds, after the checks of Go's durationpb CheckValid. */
function durationFromWire(d: Duration | undefined): number | undefined {
  if (d === undefined) return undefined;
  const { seconds, nanos } = d;
  const valid =
    seconds >= -DURATION_MAX_SECONDS &&
    seconds <= DURATION_MAX_SECONDS &&
    nanos > -1e9 &&
    nanos < 1e9 &&
    !(seconds > 0n && nanos < 0) &&
    !(seconds < 0n && nanos > 0);
  if (!valid) throw new ConnectError(`duration {seconds: ${seconds}, nanos: ${nanos}} is not valid`, Code.InvalidArgument);
  return Number(seconds) * 1000 + nanos / 1e6;
}

export function boardService(lookup: ResourceLookup): ServiceImpl<typeof BoardService> {
  const board = (name: string) => lookup.get<Board>(boardApi, name);
  return {
    setGPIO: (req, ctx) =>
      guard(async () => {
        await board(req.name).setGpio(req.pin, req.high, callOptions(ctx, req.extra));
        return {};
      }),
    getGPIO: (req, ctx) =>
      guard(async () => ({ high: await board(req.name).getGpio(req.pin, callOptions(ctx, req.extra)) })),
    pWM: (req, ctx) =>
      guard(async () => ({ dutyCyclePct: await board(req.name).pwm(req.pin, callOptions(ctx, req.extra)) })),
    setPWM: (req, ctx) =>
      guard(async () => {
        await board(req.name).setPwm(req.pin, req.dutyCyclePct, callOptions(ctx, req.extra));
        return {};
      }),
    pWMFrequency: (req, ctx) =>
      guard(async () => {
        const hz = await board(req.name).pwmFrequency(req.pin, callOptions(ctx, req.extra));
        return { frequencyHz: toUint64(hz, "PWM frequency") };
      }),
    setPWMFrequency: (req, ctx) =>
      guard(async () => {
        const b = board(req.name);
        await b.setPwmFrequency(req.pin, frequencyFromWire(req.frequencyHz), callOptions(ctx, req.extra));
        return {};
      }),
    readAnalogReader: (req, ctx) =>
      guard(async () => {
        const r = await board(req.boardName).readAnalog(req.analogReaderName, callOptions(ctx, req.extra));
        return {
          value: toInt32(r.value, "analog value"),
          minRange: r.minRange,
          maxRange: r.maxRange,
          stepSize: r.stepSize,
        };
      }),
    writeAnalog: (req, ctx) =>
      guard(async () => {
        await board(req.name).writeAnalog(req.pin, req.value, callOptions(ctx, req.extra));
        return {};
      }),
    getDigitalInterruptValue: (req, ctx) =>
      guard(async () => {
        const b = board(req.boardName);
        const value = await b.digitalInterruptValue(req.digitalInterruptName, callOptions(ctx, req.extra));
        if (value < INT64_MIN || value > INT64_MAX) {
          throw new ConnectError(`digital interrupt value ${value} does not fit in an int64`, Code.Internal);
        }
        return { value };
      }),
    streamTicks: async function* (req, ctx) {
      let ticks: AsyncIterator<Tick>;
      try {
        ticks = board(req.name).streamTicks(req.pinNames, callOptions(ctx, req.extra))[Symbol.asyncIterator]();
      } catch (err) {
        throw toConnectError(err);
      }
      // The model ends its stream when the signal aborts. Closing its iterator as well releases it even
      // when this generator sits at a yield that the transport never resumes (as on a client abort).
      let open = true;
      const close = () => {
        if (!open) return;
        open = false;
        ticks.return?.().catch(() => undefined);
      };
      ctx.signal.addEventListener("abort", close, { once: true });
      try {
        while (!ctx.signal.aborted) {
          let r: IteratorResult<Tick>;
          try {
            r = await ticks.next();
          } catch (err) {
            open = false; // an iterator that threw is finished
            throw err;
          }
          if (r.done) {
            open = false;
            return;
          }
          const t = r.value;
          if (t.timeNs < 0n || t.timeNs > UINT64_MAX) {
            throw new ConnectError(`tick time ${t.timeNs} does not fit in a uint64`, Code.Internal);
          }
          yield { pinName: t.pinName, time: t.timeNs, high: t.high };
        }
      } catch (err) {
        // The client went away (or the call ended): the model stopping on that is no error.
        if (ctx.signal.aborted) return;
        throw toConnectError(err);
      } finally {
        ctx.signal.removeEventListener("abort", close);
        close();
      }
    },
    setPowerMode: (req, ctx) =>
      guard(async () => {
        const b = board(req.name);
        await b.setPowerMode(powerModeFromWire(req.powerMode), durationFromWire(req.duration), callOptions(ctx, req.extra));
        return {};
      }),
    doCommand: doCommand(lookup, boardApi),
    getGeometries: getGeometries(lookup, boardApi),
  };
}

export { BoardService };
