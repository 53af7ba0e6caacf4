// GetReadings on a micro part's BME280 (the firmware on the Node engine, a real TCP port) through a
// host that has the part as a remote (a connect client over h2c → the host's forwarder → the part's
// ChannelClient over TCP), beside the same call to the part directly (ChannelClient, the floor of
// any path to the part) and to a local fake sensor on the same host (what the remote hop adds).
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { connectAuthenticated, startMicro } from "../micro/harness.js";
import { microRemote } from "../remote/support.js";
import { startTestHost } from "../support/host.js";
import type { Benchmark, BenchOptions, BenchRow } from "./bench.js";
import { measure, warmUp, type Call } from "./load.js";
import { medianOf, type RunSummary } from "./stats.js";

const callerCounts = [1, 4] as const;

export const remoteBenchmark: Benchmark = {
  name: "remote",
  description: "GetReadings through the host to a micro part's sensor vs the part directly and vs a local fake",
  async run(opts: BenchOptions): Promise<BenchRow[]> {
    const sim = await startMicro();
    const host = await startTestHost({
      components: [{ name: "local", api: "rdk:component:sensor", model: "fake" }],
      remotes: [microRemote("esp", `tcp://127.0.0.1:${sim.port}`, { connection_check_interval: "10s" })],
    });
    const session = new Http2SessionManager(host.url);
    const direct = await connectAuthenticated(sim);
    try {
      const sensors = createClient(SensorService, createGrpcTransport({ baseUrl: host.url, sessionManager: session }));
      const calls: Record<"viaHost" | "direct" | "local", Call> = {
        viaHost: () => sensors.getReadings({ name: "esp:env" }),
        direct: () => direct.call(SensorService.method.getReadings, { name: "env" }),
        local: () => sensors.getReadings({ name: "local" }),
      };
      opts.log(`remote: host ${host.url}, micro part on port ${sim.port}; warming up`);
      for (const call of Object.values(calls)) await warmUp(call, Math.min(opts.warmupCalls, 300), 1);

      const runs = new Map<string, RunSummary[]>();
      for (let round = 0; round < opts.rounds; round++) {
        for (const callers of callerCounts) {
          for (const [name, call] of Object.entries(calls)) {
            const key = `${name}|${callers}`;
            runs.set(key, [...(runs.get(key) ?? []), await measure(call, callers, opts.roundMs)]);
          }
        }
        opts.log(`remote: round ${round + 1}/${opts.rounds} done`);
      }
      const rows: BenchRow[] = [];
      for (const callers of callerCounts) {
        const via = medianOf(runs.get(`viaHost|${callers}`)!);
        for (const [floorName, transport] of [
          ["direct", "host→micro tcp vs micro direct"],
          ["local", "host→micro tcp vs host local fake"],
        ] as const) {
          const f = medianOf(runs.get(`${floorName}|${callers}`)!);
          rows.push({
            benchmark: "GetReadings remote",
            transport,
            callers,
            p50Ms: via.p50Ms,
            p99Ms: via.p99Ms,
            callsPerSec: via.callsPerSec,
            floorP50Ms: f.p50Ms,
            floorP99Ms: f.p99Ms,
            floorCallsPerSec: f.callsPerSec,
            ratioP50: via.p50Ms / f.p50Ms,
            ratioP99: via.p99Ms / f.p99Ms,
            ratioCallsPerSec: via.callsPerSec / f.callsPerSec,
          });
        }
      }
      return rows;
    } finally {
      direct.close();
      session.abort();
      await host.close();
      await sim.stop();
    }
  },
};
