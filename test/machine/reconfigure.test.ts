// Live reconfiguration: the watched config file (atomic saves, unchanged bytes, debounce, a half-written
// file), the maintenance sensor's rules, and what GetMachineStatus and Shutdown show over gRPC.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rename, rm, unlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { GetMachineStatusResponse_State, ResourceStatus_State, RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { parseMachineConfig } from "../../host/config/load.js";
import type { MachineConfig } from "../../host/config/schema.js";
import { startHost, type Host } from "../../host/host.js";
import { createLogger } from "../../host/log/logger.js";
import { Reconfigurer } from "../../host/machine/reconfigure.js";
import {
  config,
  eventually,
  instance,
  probe,
  Recorder,
  sleep,
  startMachine,
  statusOf,
  testMachine,
  testRegistry,
} from "./support.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sprocket-reconfigure-"));
});
after(() => rm(dir, { recursive: true, force: true }));

const sink = (lines: string[]) => ({ write: (s: string) => lines.push(s) }) as unknown as NodeJS.WritableStream;

interface FileHost {
  host: Host;
  path: string;
  rec: Recorder;
  lines: string[];
  applied: MachineConfig[];
  /** The file's text for these components (same network section every time). */
  text(components: object[], extra?: object): string;
  /** Saves like an editor that writes a temporary file and renames it over the config. */
  saveAtomically(text: string): Promise<void>;
}

let hostCount = 0;
async function startFileHost(
  components: object[],
  opts: { extra?: object; debounceMs?: number; bind?: string; rec?: Recorder; wait?: boolean } = {},
): Promise<FileHost> {
  const path = join(dir, `machine-${++hostCount}.json`);
  const network = { bind_address: opts.bind ?? "127.0.0.1:0" };
  const text = (c: object[], extra: object = opts.extra ?? {}) => `${JSON.stringify({ network, ...extra, components: c }, null, 2)}\n`;
  const initial = text(components);
  await writeFile(path, initial);
  const rec = opts.rec ?? new Recorder();
  const lines: string[] = [];
  const started = startHost({
    config: parseMachineConfig(initial, path),
    registry: testRegistry(rec),
    logger: createLogger({ level: "info", out: sink(lines) }),
    configPath: path,
    configText: initial,
    watchDebounceMs: opts.debounceMs ?? 50,
    machine: { retryIntervalMs: 20 },
  });
  const host = await started;
  const applied: MachineConfig[] = [];
  host.reconfigurer.on("applied", (c) => applied.push(c));
  return {
    host,
    path,
    rec,
    lines,
    applied,
    text,
    async saveAtomically(t: string) {
      const tmp = `${path}.swp`;
      await writeFile(tmp, t);
      await rename(tmp, path);
    },
  };
}

const hosts: Host[] = [];
after(() => Promise.all(hosts.map((h) => h.close())));

async function fileHost(...args: Parameters<typeof startFileHost>): Promise<FileHost> {
  const h = await startFileHost(...args);
  hosts.push(h.host);
  return h;
}

/** a <- b <- c, plus d. */
const chain = (bTag = 1) => [probe("a"), probe("b", { deps: ["a"], tag: bTag }), probe("c", { deps: ["b"] }), probe("d")];

describe("config file watching", () => {
  it("applies an attribute edit saved atomically: rebuilds that resource and its dependents only", async () => {
    const h = await fileHost(chain());
    const m = h.host.machine;
    const before = Object.fromEntries(["a", "b", "c", "d"].map((n) => [n, instance(m, n)]));
    const applied = once(h.host.reconfigurer, "applied");
    await h.saveAtomically(h.text(chain(2)));
    await applied;
    assert.equal(instance(m, "a"), before.a);
    assert.equal(instance(m, "d"), before.d);
    assert.notEqual(instance(m, "b"), before.b);
    assert.notEqual(instance(m, "c"), before.c);
    assert.deepEqual(h.rec.closeOrder(), ["c", "b"]);
  });

  it("applies a delete followed by a create (another way editors save)", async () => {
    const h = await fileHost(chain());
    const applied = once(h.host.reconfigurer, "applied");
    await unlink(h.path);
    await sleep(5);
    await writeFile(h.path, h.text([...chain(), probe("e", { deps: ["d"] })]));
    await applied;
    assert.deepEqual(statusOf(h.host.machine, "e"), { state: "ready" });
  });

  it("skips a save that leaves the bytes unchanged", async () => {
    const h = await fileHost(chain());
    const a = instance(h.host.machine, "a");
    await h.saveAtomically(h.text(chain()));
    await sleep(250); // well past the debounce: the watcher looked and skipped
    const applied = once(h.host.reconfigurer, "applied");
    await h.saveAtomically(h.text(chain(3)));
    await applied;
    assert.equal(h.applied.length, 1);
    assert.equal(instance(h.host.machine, "a"), a);
  });

  it("debounces a burst of writes into one reconfiguration with the last text", async () => {
    const h = await fileHost(chain(), { debounceMs: 200 });
    const applied = once(h.host.reconfigurer, "applied");
    for (const tag of [4, 5, 6]) await writeFile(h.path, h.text(chain(tag)));
    await applied;
    await sleep(500);
    assert.equal(h.applied.length, 1);
    assert.equal(h.rec.count("build-start", "b"), 2);
    assert.deepEqual(h.host.machine.entries().find((e) => e.name.name === "b")!.config.attributes, { deps: ["a"], tag: 6 });
  });

  it("keeps the running machine on a half-written file and logs the ConfigError text; applies the finished file", async () => {
    const h = await fileHost(chain());
    const before = ["a", "b", "c", "d"].map((n) => instance(h.host.machine, n));
    const full = h.text(chain(7));
    const half = full.slice(0, full.indexOf('"tag"'));
    const rejected = once(h.host.reconfigurer, "rejected");
    await writeFile(h.path, half);
    const [err] = (await rejected) as [Error];
    const line = half.split("\n").length;
    const expected = `${h.path}:${line}:${half.split("\n").at(-1)!.length + 1}: unexpected end of file: expected a property name`;
    assert.equal(err.message, expected);
    assert.ok(h.lines.some((l) => l.includes("\tERROR\t") && l.includes("invalid config; keeping the running machine as it is:") && l.includes(JSON.stringify(expected).slice(1, -1))));
    assert.deepEqual(["a", "b", "c", "d"].map((n) => instance(h.host.machine, n)), before);
    const applied = once(h.host.reconfigurer, "applied");
    await writeFile(h.path, full);
    await applied;
    assert.notEqual(instance(h.host.machine, "b"), before[1]);
  });

  it("logs a config that validates badly and changes nothing", async () => {
    const h = await fileHost(chain());
    const rejected = once(h.host.reconfigurer, "rejected");
    await h.saveAtomically(h.text([...chain(), { name: "bad name!", api: "rdk:component:generic", model: "fake" }]));
    const [err] = (await rejected) as [Error];
    assert.match(err.message, /components\[4\]\.name: name "bad name!" must start with a letter or number/);
    assert.equal(h.host.machine.entries().length, 4);
  });
});

describe("maintenance sensor", () => {
  const gate = { name: "gate", api: "rdk:component:sensor", model: "acme:test:gate" };
  const maintenance = { maintenance: { sensor_name: "rdk:component:sensor/gate", maintenance_allowed_key: "allowed" } };

  async function setup(rec: Recorder, extra: object = maintenance) {
    const lines: string[] = [];
    const m = testMachine(rec, {}, lines);
    const first = config([gate, probe("a")], extra as never);
    await startMachine(m, first);
    const r = new Reconfigurer({ machine: m, logger: createLogger({ level: "info", out: sink(lines) }), current: first, maintenanceRecheckMs: 10, maintenanceReadTimeoutMs: 30 });
    const deferred: string[] = [];
    r.on("deferred", (why) => deferred.push(why));
    return { m, r, lines, deferred, next: config([gate, probe("a", { tag: 2 })], extra as never) };
  }

  it("is not checked on the initial start", async () => {
    const rec = new Recorder();
    rec.gateReadings = { allowed: false };
    const { m, r } = await setup(rec);
    assert.deepEqual(statusOf(m, "a"), { state: "ready" });
    r.close();
    await m.close();
  });

  it("defers a change until the sensor reports true, then applies the newest config", async () => {
    const rec = new Recorder();
    rec.gateReadings = { allowed: false };
    const { m, r, lines, deferred, next } = await setup(rec);
    const a = instance(m, "a");
    await r.submit(next);
    assert.deepEqual(deferred, ["sensor rdk:component:sensor/gate"]);
    assert.ok(lines.some((l) => l.includes("Reconfigure NOT allowed by maintenance sensor")));
    await sleep(50); // several re-checks
    assert.equal(instance(m, "a"), a, "still the old instance");
    const newest = config([gate, probe("a", { tag: 3 })], maintenance as never);
    await r.submit(newest);
    const applied = once(r, "applied");
    rec.gateReadings = { allowed: true };
    await applied;
    assert.notEqual(instance(m, "a"), a);
    assert.deepEqual(m.entries().find((e) => e.name.name === "a")!.config.attributes, { tag: 3 });
    assert.equal(rec.count("build-start", "a"), 2, "built once more, for the newest config only");
    assert.ok(lines.some((l) => l.includes("Reconfigure allowed by maintenance sensor")));
    r.close();
    await m.close();
  });

  for (const [what, arrange, text] of [
    ["a reading error", (rec: Recorder) => (rec.gateError = "sensor offline"), "error reading maintenance sensor readings. sensor offline"],
    ["a missing key", (rec: Recorder) => (rec.gateReadings = { other: true }), "error getting maintenance_allowed_key allowed from sensor reading"],
    ["a value that is not a bool", (rec: Recorder) => (rec.gateReadings = { allowed: "yes" }), "maintenance_allowed_key allowed is not a bool value"],
    ["a read that takes longer than the timeout", (rec: Recorder) => { rec.gateHangMs = 200; rec.gateReadings = { allowed: true }; }, "error reading maintenance sensor readings. context deadline exceeded"],
  ] as const) {
    it(`blocks on ${what}`, async () => {
      const rec = new Recorder();
      rec.gateReadings = { allowed: true };
      const { m, r, lines, deferred, next } = await setup(rec);
      arrange(rec);
      const a = instance(m, "a");
      await r.submit(next);
      assert.deepEqual(deferred, [`failed to check maintenance sensor readings: ${text}`]);
      assert.ok(lines.some((l) => l.includes("Reconfigure NOT allowed due to error") && l.includes(text)));
      assert.equal(instance(m, "a"), a);
      r.close();
      await m.close();
    });
  }

  for (const [what, sensorName, text] of [
    ["a sensor that is not on the machine", "rdk:component:sensor/nope", 'could not find sensor named rdk:component:sensor/nope: resource "rdk:component:sensor/nope" not found'],
    ["a sensor name that does not parse", "gate", "sensor_name gate in maintenance config is not in a supported format"],
  ] as const) {
    it(`allows with ${what}`, async () => {
      const rec = new Recorder();
      const extra = { maintenance: { sensor_name: sensorName, maintenance_allowed_key: "allowed" } };
      const { m, r, lines, deferred, next } = await setup(rec, extra);
      const a = instance(m, "a");
      await r.submit(next);
      assert.deepEqual(deferred, []);
      assert.notEqual(instance(m, "a"), a);
      const logged = JSON.stringify(text).slice(1, -1); // the text as it sits in the line's JSON fields
      assert.ok(lines.some((l) => l.includes("Reconfigure allowed despite error while checking") && l.includes(logged)));
      r.close();
      await m.close();
    });
  }

  it("defers a change to the watched file until the sensor allows it", async () => {
    const rec = new Recorder();
    rec.gateReadings = { allowed: false };
    const h = await fileHost([gate, ...chain()], { extra: maintenance, rec });
    const b = instance(h.host.machine, "b");
    const deferred = once(h.host.reconfigurer, "deferred");
    await h.saveAtomically(h.text([gate, ...chain(2)]));
    await deferred;
    assert.equal(instance(h.host.machine, "b"), b);
    const applied = once(h.host.reconfigurer, "applied");
    rec.gateReadings = { allowed: true };
    await applied; // re-checked every second
    assert.notEqual(instance(h.host.machine, "b"), b);
  });
});

describe("machine status and shutdown over gRPC", () => {
  async function freePort(): Promise<number> {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    const { port } = s.address() as { port: number };
    await new Promise((resolve) => s.close(resolve));
    return port;
  }

  it("shows INITIALIZING then RUNNING, each resource's state, error and revision", async () => {
    const rec = new Recorder();
    const port = await freePort();
    const client = createClient(RobotService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
    const components = [probe("gated", { wait_gate: true }), probe("broken", { fail: "no device" }), probe("fine")];
    const starting = startFileHost(components, { bind: `127.0.0.1:${port}`, extra: { revision: "rev-1" }, rec });
    let early: Awaited<ReturnType<typeof client.getMachineStatus>> | undefined;
    for (let i = 0; i < 500 && early === undefined; i++) {
      early = await client.getMachineStatus({}).catch(() => undefined);
      if (early === undefined) await sleep(10);
    }
    assert.ok(early, "GetMachineStatus answered while the first build ran");
    assert.equal(early.state, GetMachineStatusResponse_State.INITIALIZING);
    const gatedEarly = early.resources.find((r) => r.name?.name === "gated")!;
    assert.equal(gatedEarly.state, ResourceStatus_State.CONFIGURING);
    rec.openGate();
    const h = await starting;
    hosts.push(h.host);
    const status = await client.getMachineStatus({});
    assert.equal(status.state, GetMachineStatusResponse_State.RUNNING);
    assert.equal(status.config?.revision, "rev-1");
    const byName = Object.fromEntries(status.resources.map((r) => [r.name!.name, r]));
    assert.equal(byName.gated!.state, ResourceStatus_State.READY);
    assert.equal(byName.gated!.revision, "rev-1");
    assert.equal(byName.gated!.error, "");
    assert.equal(byName.broken!.state, ResourceStatus_State.UNHEALTHY);
    assert.equal(byName.broken!.error, "resource build error: no device");
    assert.equal(byName.broken!.revision, "");
    assert.ok(timestampDate(byName.fine!.lastUpdated!).getTime() > 0);

    // A new revision: unchanged resources take it, the rebuilt one too.
    const applied = once(h.host.reconfigurer, "applied");
    await h.saveAtomically(h.text([probe("gated", { tag: 2 }), probe("broken", { fail: "no device" }), probe("fine")], { revision: "rev-2" }));
    await applied;
    const after = await client.getMachineStatus({});
    const revs = Object.fromEntries(after.resources.map((r) => [r.name!.name, r.revision]));
    assert.deepEqual(revs, { gated: "rev-2", broken: "", fine: "rev-2" });
    const names = await client.resourceNames({});
    assert.deepEqual(names.resources.map((r) => r.name).sort(), ["fine", "gated"]);
  });

  it("closes resources dependents first on RobotService.Shutdown", async () => {
    const rec = new Recorder();
    const path = join(dir, "shutdown.json");
    const text = JSON.stringify({ network: { bind_address: "127.0.0.1:0" }, components: [probe("top", { deps: ["mid"] }), probe("mid", { deps: ["base"] }), probe("base"), probe("side")] });
    await writeFile(path, text);
    let host: Host | undefined;
    const closed = new Promise<void>((resolve) => {
      void startHost({
        config: parseMachineConfig(text, path),
        registry: testRegistry(rec),
        logger: createLogger({ level: "error" }),
        onShutdownRequested: () => void host!.close().then(resolve),
      }).then((h) => {
        host = h;
      });
    });
    await eventually(() => host !== undefined, "host started");
    const client = createClient(RobotService, createGrpcTransport({ baseUrl: host!.url }));
    await client.shutdown({});
    await closed;
    const order = rec.closeOrder();
    assert.equal(order.length, 4);
    assert.ok(order.indexOf("top") < order.indexOf("mid") && order.indexOf("mid") < order.indexOf("base"));
    assert.ok(host!.machine.entries().every((e) => e.state === "removing"));
  });
});
