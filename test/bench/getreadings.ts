// GetReadings latency and throughput: Sprocket's host with the fake sensor against a bare connect-node
// handler (the floor), over native gRPC on h2c and gRPC-web on HTTP/1.1, at 1 and 32 concurrent callers.
import http from "node:http";
import { fromJson, type JsonObject } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { startRpcServer } from "../../host/server/server.js";
import { allFakesConfig, startTestHost } from "../support/host.js";
import type { Benchmark, BenchOptions, BenchRow } from "./bench.js";
import { measure, warmUp } from "./load.js";
import { medianOf, type RunSummary } from "./stats.js";

const sensorName = "sensor1";
const callerCounts = [1, 32] as const;
const maxCallers = Math.max(...callerCounts);

/** The same keys and value kinds the fake sensor answers, but fixed and built once. */
const fixedReadings: JsonObject = { a: 1, b: 2, c: 3, count: 1, uptime_s: 1.5, sine: 0.5 };

type TransportKind = "grpc h2c" | "grpc-web http/1.1";
const transportKinds: readonly TransportKind[] = ["grpc h2c", "grpc-web http/1.1"];

interface Dialed {
  readonly client: Client<typeof SensorService>;
  close(): void;
}

/**
 * h2c: one HTTP/2 connection (our own session manager, so we can close it) multiplexes every caller,
 * as gRPC clients do. gRPC-web: a keep-alive agent with one socket per caller (maxSockets 32), so
 * HTTP/1.1 requests are not queued behind each other in the client.
 */
function dial(baseUrl: string, kind: TransportKind): Dialed {
  let transport: Transport;
  let close: () => void;
  if (kind === "grpc h2c") {
    const sessionManager = new Http2SessionManager(baseUrl);
    // connect-node v2's gRPC transport is always HTTP/2 (it has no httpVersion option); on http:// that is h2c.
    transport = createGrpcTransport({ baseUrl, sessionManager });
    close = () => sessionManager.abort();
  } else {
    const agent = new http.Agent({ keepAlive: true, maxSockets: maxCallers, maxFreeSockets: maxCallers });
    transport = createGrpcWebTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { agent } });
    close = () => agent.destroy();
  }
  return { client: createClient(SensorService, transport), close };
}

export const getReadingsBenchmark: Benchmark = {
  name: "getreadings",
  description: "SensorService.GetReadings on the fake sensor vs a bare connect-node handler",
  async run(opts: BenchOptions): Promise<BenchRow[]> {
    const readings: Record<string, Value> = {};
    for (const [k, v] of Object.entries(fixedReadings)) readings[k] = fromJson(ValueSchema, v);

    const host = await startTestHost(allFakesConfig());
    const floor = await startRpcServer({
      bindAddress: "127.0.0.1:0",
      services: [{ service: SensorService, impl: { getReadings: () => ({ readings }) } }],
      interceptors: [],
    });
    const floorUrl = `http://127.0.0.1:${floor.listener.port}`;
    const targets = { sprocket: host.url, floor: floorUrl } as const;
    const clients: Dialed[] = [];
    try {
      const dialed = new Map<string, Dialed>();
      for (const [target, url] of Object.entries(targets)) {
        for (const kind of transportKinds) {
          const d = dial(url, kind);
          clients.push(d);
          dialed.set(`${target} ${kind}`, d);
        }
      }
      const caller = (target: keyof typeof targets, kind: TransportKind) => {
        const { client } = dialed.get(`${target} ${kind}`)!;
        return () => client.getReadings({ name: sensorName });
      };

      opts.log(`getreadings: sprocket ${host.url}, floor ${floorUrl}; warming up ${opts.warmupCalls} calls per client`);
      for (const kind of transportKinds) {
        for (const target of ["sprocket", "floor"] as const) {
          // All callers at once, so the HTTP/1.1 agent opens its sockets before timing starts.
          await warmUp(caller(target, kind), opts.warmupCalls, maxCallers);
          await warmUp(caller(target, kind), Math.min(100, opts.warmupCalls), 1);
        }
      }

      // Rounds interleave the cells, and within a cell which target goes first alternates per round,
      // so drift (GC, JIT, CPU frequency) spreads over both sides instead of biasing one.
      const runs = new Map<string, { sprocket: RunSummary[]; floor: RunSummary[] }>();
      for (let round = 0; round < opts.rounds; round++) {
        for (const kind of transportKinds) {
          for (const callers of callerCounts) {
            const key = `${kind}|${callers}`;
            const cell = runs.get(key) ?? { sprocket: [], floor: [] };
            runs.set(key, cell);
            const order = round % 2 === 0 ? (["sprocket", "floor"] as const) : (["floor", "sprocket"] as const);
            for (const target of order) cell[target].push(await measure(caller(target, kind), callers, opts.roundMs));
          }
        }
        opts.log(`getreadings: round ${round + 1}/${opts.rounds} done`);
      }

      const rows: BenchRow[] = [];
      for (const kind of transportKinds) {
        for (const callers of callerCounts) {
          const cell = runs.get(`${kind}|${callers}`)!;
          const s = medianOf(cell.sprocket);
          const f = medianOf(cell.floor);
          rows.push({
            benchmark: "GetReadings",
            transport: kind,
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
      }
      return rows;
    } finally {
      for (const c of clients) c.close();
      await Promise.all([host.close(), floor.close(500)]);
    }
  },
};
