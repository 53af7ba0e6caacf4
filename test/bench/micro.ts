// The micro runtime's benchmarks, on both engines (Node: the firmware's JavaScript on V8 with the
// tools/sim shims; XS: the same JavaScript on the real XS engine through the bridge):
//
// * `micro-codec`: encode and decode operations per second of the compact codecs (proto/micro)
//   against protobuf-es on the same messages (test/bench/micro-codec.ts). On Node it runs in this
//   process; on XS the same module is bundled with protobuf-es (which bundles and runs on xsnap)
//   and run inside an xsnap worker, so both columns are XS figures there. Columns: calls/s = our
//   ops/s, floor calls/s = protobuf-es ops/s, ratio calls/s = ours / protobuf-es (above 1: faster);
//   no latency columns.
//
// * `micro`: SensorService.GetReadings (the BME280 of examples/micro.json: two I2C transfers per
//   sample) round trip over loopback TCP to the micro part run by `sprocket micro-sim`'s simulator,
//   with the host-side ChannelClient (protobuf-es, length-prefix framing) on one authenticated
//   connection, at 1 and 4 concurrent callers. The floor: the same client against a bare
//   ChannelServer in this process answering a fixed GetReadingsResponse (the same three readings)
//   over the same framing. And the XS heap at steady state (examples/micro.json, 2 open
//   connections, after the calls) from a snapshot (xsHeapUsage): chunk bytes and slots in the
//   calls/s column beside the default classic-ESP32 creation budget in the floor column (78,848
//   chunk bytes, 4,928 slots; manifest.json), the ratio being the share of the budget (measured
//   after a GC event, which also runs the bridge's FinalizationRegistry cleanups). On this
//   64-bit host a slot is 32 bytes (16 on the ESP32) and chunks holding pointers are larger; the
//   bare machine's builtins and the bundle's bytecode live in ROM/flash on a board (preloaded), so
//   the "beyond the loaded bundle" rows are the ones to hold against the budget.
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { build } from "esbuild";
import { ChannelServer, Code } from "../../proto/channel/index.js";
import { LengthPrefixDecoder, encodeLengthPrefixed } from "../../proto/channel/length-prefix.js";
import { protobufFrameCodec } from "../../proto/channel/protobuf-codec.js";
import { GetReadingsResponseSchema } from "../../proto/gen/common/v1/common_pb.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { startMicroSimulator, type MicroSimulator } from "../../tools/cli/micro-sim.js";
import type { EngineName } from "../../tools/sim/xs/runner.js";
import { xsHeapUsage } from "../../tools/sim/xs/host.js";
import { XsnapWorker } from "../../tools/sim/xs/xsnap.js";
import { MicroClient } from "../micro/harness.js";
import type { Benchmark, BenchOptions, BenchRow } from "./bench.js";
import { measure, warmUp } from "./load.js";
import { microCodecBench, type MicroCodecRow } from "./micro-codec.js";
import { medianOf, type RunSummary } from "./stats.js";

const ENGINES: readonly EngineName[] = ["node", "xs"];
const EXAMPLE = fileURLToPath(new URL("../../../examples/micro.json", import.meta.url));
const PART_ID = "bench-part";
const PART_KEY = "bench-key-0123456789abcdef";
/** The classic ESP32's creation budget in manifest.json. */
export const ESP32_CHUNK_BUDGET = 78_848;
export const ESP32_SLOT_BUDGET = 4_928;

function codecRow(r: MicroCodecRow, engine: EngineName): BenchRow {
  return {
    benchmark: r.name.replace(/^micro /, "codec "),
    transport: engine === "node" ? "node (V8)" : "xs (xsnap)",
    callers: 1,
    p50Ms: Number.NaN,
    p99Ms: Number.NaN,
    callsPerSec: r.value,
    floorP50Ms: Number.NaN,
    floorP99Ms: Number.NaN,
    floorCallsPerSec: r.floor,
    ratioP50: Number.NaN,
    ratioP99: Number.NaN,
    ratioCallsPerSec: r.ratio,
  };
}

// The codec benchmark module itself, unchanged, bundled with protobuf-es for xsnap. handleCommand
// "run <options>" starts it (the worker runs its promise jobs and setImmediate turns to the end
// before answering), "result" returns its rows as JSON.
const CODEC_GUEST = `
import { microCodecBench } from "./micro-codec.js";
let out = "";
globalThis.handleCommand = (message) => {
  const text = new TextDecoder().decode(message);
  if (text.startsWith("run ")) {
    out = JSON.stringify({ error: "did not finish" });
    microCodecBench(JSON.parse(text.slice(4))).then(
      (rows) => { out = JSON.stringify({ rows }); },
      (e) => { out = JSON.stringify({ error: String(e) + "\\n" + (e && e.stack) }); });
    return new ArrayBuffer(0);
  }
  return new TextEncoder().encode(out).buffer;
};`;

async function codecOnXs(rounds: number, roundMs: number): Promise<MicroCodecRow[]> {
  const bundled = await build({
    stdin: { contents: CODEC_GUEST, resolveDir: fileURLToPath(new URL(".", import.meta.url)), loader: "js", sourcefile: "micro-codec-xs.js" },
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    conditions: ["import", "default"],
    logLevel: "silent",
  });
  const worker = new XsnapWorker({ name: "micro-codec-bench", meteringLimit: 0 });
  try {
    worker.evaluate(bundled.outputFiles[0].text);
    worker.command(new TextEncoder().encode("run " + JSON.stringify({ rounds, roundMs })));
    const reply = JSON.parse(new TextDecoder().decode(worker.command(new TextEncoder().encode("result")))) as { rows?: MicroCodecRow[]; error?: string };
    if (reply.rows === undefined) throw new Error("the codec benchmark failed on XS: " + reply.error);
    return reply.rows;
  } finally {
    worker.close();
  }
}

export const microCodecBenchmark: Benchmark = {
  name: "micro-codec",
  description: "compact micro codecs vs protobuf-es, encode and decode ops/s, on Node (V8) and on XS (xsnap)",
  async run(opts: BenchOptions): Promise<BenchRow[]> {
    const roundMs = Math.min(opts.roundMs, 300);
    const rows: BenchRow[] = [];
    opts.log(`micro-codec: node, ${opts.rounds} rounds x ${roundMs} ms per cell`);
    for (const r of await microCodecBench({ rounds: opts.rounds, roundMs })) rows.push(codecRow(r, "node"));
    opts.log(`micro-codec: xs (micro-codec.ts and protobuf-es bundled into an xsnap worker), ${opts.rounds} rounds x ${roundMs} ms per cell`);
    for (const r of await codecOnXs(opts.rounds, roundMs)) rows.push(codecRow(r, "xs"));
    return rows;
  },
};

// GetReadings ---------------------------------------------------------------------------------------

/** A bare ChannelServer per connection answering every call with `response`, length-prefixed. */
async function startFloor(response: Uint8Array): Promise<{ server: Server; port: number }> {
  const setTimer = (ms: number, fn: () => void) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  };
  const server = createServer({ noDelay: true }, (socket) => {
    const channel = new ChannelServer({
      codec: protobufFrameCodec,
      send: (frame) => {
        if (!socket.destroyed) socket.write(encodeLengthPrefixed(frame));
      },
      setTimer,
      dispatch: (call) => {
        void (async () => {
          await call.requests[Symbol.asyncIterator]().next();
          await call.sendMessage(response);
          call.finish({ code: Code.OK, message: "" });
        })().catch(() => undefined);
      },
    });
    const decoder = new LengthPrefixDecoder({ onFrame: (f) => channel.receive(f), onError: () => socket.destroy() });
    socket.on("data", (chunk: Buffer) => decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    socket.on("error", () => undefined);
    socket.on("close", () => channel.close({ code: Code.UNAVAILABLE, message: "closed" }, false));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return { server, port: typeof address === "object" && address !== null ? address.port : 0 };
}

const CALLERS = [1, 4] as const;

interface EngineFigures {
  rows: BenchRow[];
}

async function getReadingsOn(engine: EngineName, configText: string, opts: BenchOptions): Promise<EngineFigures> {
  const sim: MicroSimulator = await startMicroSimulator({ engine, host: "127.0.0.1", port: 0, configText, partId: PART_ID, partKey: PART_KEY });
  const clients: MicroClient[] = [];
  let floor: { server: Server; port: number } | undefined;
  try {
    const part = await MicroClient.tcp(sim.port);
    clients.push(part);
    await part.authenticate(PART_ID, PART_KEY);
    // The floor answers what the part answered, as fixed bytes.
    const sample = await part.call(SensorService.method.getReadings, { name: "env" });
    floor = await startFloor(toBinary(GetReadingsResponseSchema, create(GetReadingsResponseSchema, { readings: sample.readings })));
    const bare = await MicroClient.tcp(floor.port);
    clients.push(bare);
    const targets = {
      sprocket: () => part.call(SensorService.method.getReadings, { name: "env" }),
      floor: () => bare.call(SensorService.method.getReadings, { name: "env" }),
    } as const;
    const warm = Math.min(opts.warmupCalls, engine === "xs" ? 200 : 500);
    opts.log(`micro: ${engine}: part on 127.0.0.1:${sim.port}, floor on 127.0.0.1:${floor.port}; warming up ${warm} calls each`);
    await warmUp(targets.sprocket, warm, 4);
    await warmUp(targets.floor, warm, 4);

    const runs = new Map<number, { sprocket: RunSummary[]; floor: RunSummary[] }>();
    for (let round = 0; round < opts.rounds; round++) {
      for (const callers of CALLERS) {
        const cell = runs.get(callers) ?? { sprocket: [], floor: [] };
        runs.set(callers, cell);
        const order = round % 2 === 0 ? (["sprocket", "floor"] as const) : (["floor", "sprocket"] as const);
        for (const target of order) cell[target].push(await measure(targets[target], callers, opts.roundMs));
      }
      opts.log(`micro: ${engine}: round ${round + 1}/${opts.rounds} done`);
    }
    const rows: BenchRow[] = [];
    for (const callers of CALLERS) {
      const cell = runs.get(callers)!;
      const s = medianOf(cell.sprocket);
      const f = medianOf(cell.floor);
      rows.push({
        benchmark: "micro GetReadings (BME280)",
        transport: `${engine} engine, tcp length-prefix`,
        callers,
        p50Ms: s.p50Ms,
        p99Ms: s.p99Ms,
        callsPerSec: s.callsPerSec,
        floorP50Ms: f.p50Ms,
        floorP99Ms: f.p99Ms,
        floorCallsPerSec: f.callsPerSec,
        ratioP50: s.p50Ms / f.p50Ms,
        ratioP99: s.p99Ms / f.p99Ms,
        ratioCallsPerSec: s.callsPerSec / f.callsPerSec,
      });
    }

    if (engine === "xs" && sim.fw.xs !== undefined) {
      // Steady state with 2 open, authenticated connections: the bench's part client and one more.
      const second = await MicroClient.tcp(sim.port);
      clients.push(second);
      await second.authenticate(PART_ID, PART_KEY);
      await warmUp(() => second.call(SensorService.method.getReadings, { name: "env" }), 50, 1);
      // A GC event first: it also runs the FinalizationRegistry callbacks that release the bridge's
      // records of collected timers and sockets (bookkeeping a board's host objects do not have);
      // the snapshot's own collection leaves them pending.
      sim.fw.xs.collectGarbage();
      const heap = xsHeapUsage(sim.fw.xs);
      const loaded = sim.fw.xs.loaded;
      opts.log(
        `micro: xs heap at steady state (2 connections): ${heap.chunkBytes} chunk bytes, ${heap.slots} slots of ${heap.slotSize} bytes; ` +
          `loaded bundle ${loaded.chunkBytes} B / ${loaded.slots} slots; bare machine ${sim.fw.xs.baseline.chunkBytes} B / ${sim.fw.xs.baseline.slots} slots`,
      );
      const heapRow = (what: string, value: number, budget: number): BenchRow => ({
        benchmark: "micro XS heap, 2 connections",
        transport: what,
        callers: 2,
        p50Ms: Number.NaN,
        p99Ms: Number.NaN,
        callsPerSec: value,
        floorP50Ms: Number.NaN,
        floorP99Ms: Number.NaN,
        floorCallsPerSec: budget,
        ratioP50: Number.NaN,
        ratioP99: Number.NaN,
        ratioCallsPerSec: value / budget,
      });
      rows.push(
        heapRow("chunk bytes beyond the loaded bundle", heap.chunkBytes - loaded.chunkBytes, ESP32_CHUNK_BUDGET),
        heapRow("slots beyond the loaded bundle", heap.slots - loaded.slots, ESP32_SLOT_BUDGET),
        heapRow("chunk bytes, whole machine (64-bit)", heap.chunkBytes, ESP32_CHUNK_BUDGET),
        heapRow("slots, whole machine", heap.slots, ESP32_SLOT_BUDGET),
      );
    }
    return { rows };
  } finally {
    for (const c of clients) c.close();
    if (floor !== undefined) await new Promise((resolve) => floor?.server.close(resolve));
    await sim.stop();
  }
}

export const microBenchmark: Benchmark = {
  name: "micro",
  description: "GetReadings over loopback TCP to the micro part (examples/micro.json) on each engine vs a bare ChannelServer; XS heap with 2 connections vs the ESP32 budget",
  async run(opts: BenchOptions): Promise<BenchRow[]> {
    const configText = await readFile(EXAMPLE, "utf8");
    const rows: BenchRow[] = [];
    for (const engine of ENGINES) rows.push(...(await getReadingsOn(engine, configText, opts)).rows);
    return rows;
  },
};
