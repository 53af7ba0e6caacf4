// GetReadings on a micro part's BME280 (the firmware on the Node engine, a real TCP port) from the
// official SDK through a host that has the part as a remote (SDK → the host's forwarder → the part's
// ChannelClient over TCP), over the SDK's two transports (gRPC-web over HTTP/1.1, and WebRTC with the
// host as its own signaler), beside the same call to the part directly (ChannelClient, the floor of
// any path to the part) and to a local fake sensor on the same host through the same SDK client
// (what the remote hop adds).
import { RobotClient, SensorClient } from "@viamrobotics/sdk";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { connectAuthenticated, startMicro } from "../micro/harness.js";
import { grpcWeb, microRemote } from "../remote/support.js";
import { dialSdk, disconnectSdk, localhostUrl, tameSdk } from "../sdk/harness.js";
import { startTestHost, withApiKey } from "../support/host.js";
import { apiKeyCredential, dialWebRtc, quietSdk, webrtcConf } from "../webrtc/wrtc-env.js";
import type { Benchmark, BenchOptions, BenchRow } from "./bench.js";
import { measure, warmUp, type Call } from "./load.js";
import { medianOf, type RunSummary } from "./stats.js";

const callerCounts = [1, 4] as const;
const sdkTransports = ["gRPC-web", "WebRTC"] as const;

export const remoteBenchmark: Benchmark = {
  name: "remote",
  description: "GetReadings from the SDK through the host to a micro part's sensor vs the part directly and vs a local fake",
  async run(opts: BenchOptions): Promise<BenchRow[]> {
    const untame = tameSdk();
    const unquiet = quietSdk();
    const sim = await startMicro();
    const host = await startTestHost(
      withApiKey({
        components: [{ name: "local", api: "rdk:component:sensor", model: "fake" }],
        remotes: [microRemote("esp", `tcp://127.0.0.1:${sim.port}`, { connection_check_interval: "10s" })],
      }),
    );
    const direct = await connectAuthenticated(sim);
    const clients: RobotClient[] = [];
    try {
      clients.push(await dialSdk(grpcWeb, await localhostUrl(host), apiKeyCredential));
      clients.push(await dialWebRtc(webrtcConf(host)));
      const calls: Record<string, Call> = { direct: () => direct.call(SensorService.method.getReadings, { name: "env" }) };
      sdkTransports.forEach((t, i) => {
        calls[`viaHost ${t}`] = () => new SensorClient(clients[i], "esp:env").getReadings();
        calls[`local ${t}`] = () => new SensorClient(clients[i], "local").getReadings();
      });
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
      for (const t of sdkTransports) {
        for (const callers of callerCounts) {
          const via = medianOf(runs.get(`viaHost ${t}|${callers}`)!);
          for (const [floorName, transport] of [
            ["direct", `SDK ${t} → host → micro tcp vs micro direct`],
            [`local ${t}`, `SDK ${t} → host → micro tcp vs host local fake`],
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
      }
      return rows;
    } finally {
      for (const c of clients) await disconnectSdk(c);
      direct.close();
      await host.close();
      await sim.stop();
      unquiet();
      untame();
    }
  },
};
