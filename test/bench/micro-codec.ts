// Encode/decode throughput of the protoc-gen-micro codecs (proto/micro) against protobuf-es on the same
// messages: a GetReadings response with a few readings, a board SetGPIO request and a WebRTC Request
// frame carrying a message packet. In-process and CPU-only; nothing here asserts on timings.
//
// Each row: `value` is our ops/s, `floor` is protobuf-es's ops/s on the same message (the reference the
// micro codecs replace), `ratio` is value / floor (above 1: faster than protobuf-es). Figures are the
// median over rounds; rounds alternate which codec goes first, so drift (GC, JIT, clock) is shared.

import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";

import { GetReadingsResponseSchema } from "../../proto/gen/common/v1/common_pb.js";
import { SetGPIORequestSchema } from "../../proto/gen/component/board/v1/board_pb.js";
import { RequestSchema } from "../../proto/gen/proto/rpc/webrtc/v1/grpc_pb.js";
import {
  decodeGetReadingsResponse,
  encodeGetReadingsRequest,
  encodeGetReadingsResponse,
  type GetReadingsResponse,
} from "../../proto/micro/gen/common/v1/common_micro.js";
import { decodeSetGPIORequest, encodeSetGPIORequest, type SetGPIORequest } from "../../proto/micro/gen/component/board/v1/board_micro.js";
import { decodeRequest, encodeRequest, type Request } from "../../proto/micro/gen/proto/rpc/webrtc/v1/grpc_micro.js";

/** One line of the report (the shape test/bench/run.ts can print beside its own rows). */
export interface MicroCodecRow {
  /** e.g. "micro encode GetReadingsResponse (6 readings)". */
  readonly name: string;
  /** Our codec's operations per second. */
  readonly value: number;
  readonly unit: "ops/s";
  /** protobuf-es's operations per second on the same message. */
  readonly floor: number;
  /** value / floor: above 1 means the micro codec is faster. */
  readonly ratio: number;
}

export interface MicroCodecBenchOptions {
  /** Measured rounds per cell (median reported); default 5. */
  readonly rounds?: number;
  /** Wall time of one round of one cell; default 200 ms. */
  readonly roundMs?: number;
}

interface Case<T> {
  readonly label: string;
  readonly schema: DescMessage;
  readonly pb: MessageShape<DescMessage>;
  readonly plain: T;
  readonly encode: (m: T) => Uint8Array;
  readonly decode: (b: Uint8Array) => T;
}

// The readings the fake sensor answers in the GetReadings benchmark (getreadings.ts), plus a string.
const readings = { a: 1, b: 2, c: 3, count: 1, uptime_s: 1.5, sine: 0.5, unit: "celsius" };

function cases(): Case<never>[] {
  const readingsPlain: GetReadingsResponse = { readings: { ...readings } };
  const readingsPb = create(GetReadingsResponseSchema, {
    readings: Object.fromEntries(
      Object.entries(readings).map(([k, v]) => [
        k,
        create(ValueSchema, { kind: typeof v === "number" ? { case: "numberValue", value: v } : { case: "stringValue", value: v } }),
      ]),
    ),
  });

  const gpioPlain: SetGPIORequest = { name: "board1", pin: "12", high: true, extra: undefined };
  const gpioPb = create(SetGPIORequestSchema, { name: "board1", pin: "12", high: true });

  // A data-channel frame carrying one whole GetReadings request, as a client sends it.
  const payload = encodeGetReadingsRequest({ name: "sensor1", extra: undefined });
  const framePlain: Request = {
    stream: { id: 7n },
    type: { case: "message", value: { hasMessage: true, packetMessage: { data: payload, eom: true }, eos: false } },
  };
  const framePb = create(RequestSchema, {
    stream: { id: 7n },
    type: { case: "message", value: { hasMessage: true, packetMessage: { data: payload, eom: true }, eos: false } },
  });

  const list = [
    { label: `GetReadingsResponse (${Object.keys(readings).length} readings)`, schema: GetReadingsResponseSchema, pb: readingsPb, plain: readingsPlain, encode: encodeGetReadingsResponse, decode: decodeGetReadingsResponse },
    { label: "board SetGPIORequest", schema: SetGPIORequestSchema, pb: gpioPb, plain: gpioPlain, encode: encodeSetGPIORequest, decode: decodeSetGPIORequest },
    { label: "webrtc Request frame (message packet)", schema: RequestSchema, pb: framePb, plain: framePlain, encode: encodeRequest, decode: decodeRequest },
  ];
  return list as unknown as Case<never>[];
}

/** Calls fn in batches until ms have passed; returns calls per second. */
function opsPerSec(fn: () => unknown, ms: number): number {
  let calls = 0;
  let sink = 0;
  const start = performance.now();
  let now = start;
  do {
    for (let i = 0; i < 200; i++) {
      // Keep results observable so the JIT cannot drop the call.
      if (fn() === undefined) sink++;
    }
    calls += 200;
    now = performance.now();
  } while (now - start < ms);
  if (sink > 0) throw new Error("a codec returned undefined");
  return (calls * 1000) / (now - start);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Measures encode and decode ops/s of each message with our codecs and with protobuf-es. */
export async function microCodecBench(opts: MicroCodecBenchOptions = {}): Promise<MicroCodecRow[]> {
  const rounds = opts.rounds ?? 5;
  const roundMs = opts.roundMs ?? 200;
  const rows: MicroCodecRow[] = [];
  for (const c of cases()) {
    // A benchmark of codecs that disagree would be meaningless: check the bytes first.
    const bytes = toBinary(c.schema, c.pb);
    if (!sameBytes(c.encode(c.plain), bytes)) throw new Error(`${c.label}: micro and protobuf-es bytes differ`);

    const cells = [
      { op: "encode", ours: () => c.encode(c.plain), theirs: () => toBinary(c.schema, c.pb) },
      { op: "decode", ours: () => c.decode(bytes), theirs: () => fromBinary(c.schema, bytes) },
    ];
    for (const cell of cells) {
      // Warm both paths up before timing.
      opsPerSec(cell.ours, Math.min(50, roundMs));
      opsPerSec(cell.theirs, Math.min(50, roundMs));
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let round = 0; round < rounds; round++) {
        if (round % 2 === 0) {
          ours.push(opsPerSec(cell.ours, roundMs));
          theirs.push(opsPerSec(cell.theirs, roundMs));
        } else {
          theirs.push(opsPerSec(cell.theirs, roundMs));
          ours.push(opsPerSec(cell.ours, roundMs));
        }
        // Let timers and I/O of a surrounding runner through between rounds.
        await new Promise((r) => setImmediate(r));
      }
      const value = median(ours);
      const floor = median(theirs);
      rows.push({ name: `micro ${cell.op} ${c.label}`, value, unit: "ops/s", floor, ratio: value / floor });
    }
  }
  return rows;
}
