// BoardService on a micro part, mirroring the host's (host/components/board/service.ts): every
// method of viam.component.board.v1.BoardService, StreamTicks included.
import {
  PowerMode as WirePowerMode,
  decodeGetDigitalInterruptValueRequest,
  decodeGetGPIORequest,
  decodePWMFrequencyRequest,
  decodePWMRequest,
  decodeReadAnalogReaderRequest,
  decodeSetGPIORequest,
  decodeSetPWMFrequencyRequest,
  decodeSetPWMRequest,
  decodeSetPowerModeRequest,
  decodeStreamTicksRequest,
  decodeWriteAnalogRequest,
  encodeGetDigitalInterruptValueResponse,
  encodeGetGPIOResponse,
  encodePWMFrequencyResponse,
  encodePWMResponse,
  encodeReadAnalogReaderResponse,
  encodeSetGPIOResponse,
  encodeSetPWMFrequencyResponse,
  encodeSetPWMResponse,
  encodeSetPowerModeResponse,
  encodeStreamTicksResponse,
  encodeWriteAnalogResponse,
} from "../../../proto/micro/gen/component/board/v1/board_micro.js";
import type { ServiceDefinition } from "../../rpc/dispatcher.js";
import { invalidArgument } from "../../rpc/errors.js";
import { streaming, unary } from "../../rpc/method.js";
import type { Machine } from "../../runtime/machine.js";
import { boardApi } from "../../resource.js";
import { doCommand, getGeometries } from "../common.js";
import type { Board, PowerMode } from "./board.js";

const INT32_MAX = 2 ** 31 - 1;

function powerModeFromWire(mode: number): PowerMode {
  if (mode === WirePowerMode.NORMAL) return "normal";
  if (mode === WirePowerMode.OFFLINE_DEEP) return "offline_deep";
  if (mode === WirePowerMode.UNSPECIFIED) throw invalidArgument("power_mode POWER_MODE_UNSPECIFIED is not a power mode");
  throw invalidArgument("power_mode " + mode + " is not a known power mode");
}

export function boardService(machine: Machine): ServiceDefinition {
  const board = (name: string) => machine.resource<Board>(boardApi, name);
  return {
    name: "viam.component.board.v1.BoardService",
    unary: {
      SetGPIO: unary(decodeSetGPIORequest, encodeSetGPIOResponse, (req) => {
        board(req.name).setGpio(req.pin, req.high);
        return {};
      }),
      GetGPIO: unary(decodeGetGPIORequest, encodeGetGPIOResponse, (req) => ({ high: board(req.name).getGpio(req.pin) })),
      PWM: unary(decodePWMRequest, encodePWMResponse, (req) => ({ dutyCyclePct: board(req.name).pwm(req.pin) })),
      SetPWM: unary(decodeSetPWMRequest, encodeSetPWMResponse, (req) => {
        board(req.name).setPwm(req.pin, req.dutyCyclePct);
        return {};
      }),
      PWMFrequency: unary(decodePWMFrequencyRequest, encodePWMFrequencyResponse, (req) => ({
        frequencyHz: BigInt(Math.round(board(req.name).pwmFrequency(req.pin))),
      })),
      SetPWMFrequency: unary(decodeSetPWMFrequencyRequest, encodeSetPWMFrequencyResponse, (req) => {
        if (req.frequencyHz > 40_000_000n) throw invalidArgument("frequency_hz " + req.frequencyHz + " is too large for the ESP32's LEDC");
        board(req.name).setPwmFrequency(req.pin, Number(req.frequencyHz));
        return {};
      }),
      ReadAnalogReader: unary(decodeReadAnalogReaderRequest, encodeReadAnalogReaderResponse, (req) => {
        const r = board(req.boardName).readAnalog(req.analogReaderName);
        return { value: Math.min(INT32_MAX, Math.round(r.value)), minRange: r.minRange, maxRange: r.maxRange, stepSize: r.stepSize };
      }),
      WriteAnalog: unary(decodeWriteAnalogRequest, encodeWriteAnalogResponse, (req) => {
        board(req.name).writeAnalog(req.pin, req.value);
        return {};
      }),
      GetDigitalInterruptValue: unary(decodeGetDigitalInterruptValueRequest, encodeGetDigitalInterruptValueResponse, (req) => ({
        value: BigInt(board(req.boardName).digitalInterruptValue(req.digitalInterruptName)),
      })),
      SetPowerMode: unary(decodeSetPowerModeRequest, encodeSetPowerModeResponse, (req) => {
        const d = req.duration;
        board(req.name).setPowerMode(powerModeFromWire(req.powerMode), d === undefined ? undefined : Number(d.seconds) * 1000 + d.nanos / 1e6);
        return {};
      }),
      DoCommand: doCommand(machine, boardApi),
      GetGeometries: getGeometries(machine, boardApi),
    },
    streaming: {
      // One message per level change of the named interrupts, until the client cancels. Ticks are
      // queued while a message is on its way, so a slow link never loses the order.
      StreamTicks: streaming(decodeStreamTicksRequest, (req, ctx) => {
        const b = board(req.name);
        const interrupts = req.pinNames.map((n) => b.interrupt(n));
        // Headers at once: the client knows the stream is up before the first edge.
        ctx.call.sendHeaders();
        return new Promise<void>((resolve, reject) => {
          const queue: { pinName: string; time: bigint; high: boolean }[] = [];
          let sending = false;
          const unlisten: (() => void)[] = [];
          const stop = () => {
            for (const u of unlisten) u();
            unlisten.length = 0;
          };
          const pump = () => {
            if (sending) return;
            const next = queue.shift();
            if (next === undefined) return;
            sending = true;
            ctx.call.sendMessage(encodeStreamTicksResponse(next)).then(
              () => {
                sending = false;
                pump();
              },
              (error: unknown) => {
                stop();
                reject(error);
              },
            );
          };
          for (const i of interrupts) {
            unlisten.push(
              i.listen((level) => {
                queue.push({ pinName: i.name, time: BigInt(Date.now()) * 1_000_000n, high: level === 1 });
                pump();
              }),
            );
          }
          ctx.call.onCancel(() => {
            stop();
            resolve();
          });
        });
      }),
    },
  };
}
