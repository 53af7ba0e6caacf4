// The pieces of host/remote that need no network: address schemes, the request field that names the
// resource (from descriptors), and the machine's remote nodes (states, dependents, names).
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { BoardService } from "../../proto/gen/component/board/v1/board_pb.js";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import { builtinModels } from "../../host/models.js";
import { createLogger } from "../../host/log/logger.js";
import { Machine } from "../../host/machine/machine.js";
import { parseRemoteAddress } from "../../host/remote/connection.js";
import { resourceNameField } from "../../host/remote/names.js";
import { defaultRemoteTransports } from "../../host/remote/transports.js";
import { Listeners, RemoteTransportRegistry, type RemoteConnection, type RemoteConnectionEvents } from "../../host/remote/connection.js";
import { RemoteManager } from "../../host/remote/manager.js";
import { failedCall } from "../../host/remote/typed.js";
import { parseMachineConfig } from "../../host/config/load.js";
import type { ResourceName } from "../../host/resource/name.js";
import { boardApi } from "../../host/components/board/board.js";
import type { Resource } from "../../host/resource/resource.js";

/** A logger whose lines go nowhere (build errors are expected here). */
const quietLogger = () => createLogger({ level: "error", out: new Writable({ write: (_chunk, _enc, done) => done() }) });

describe("remote addresses", () => {
  it("split into scheme and address", () => {
    const cases: [string, string][] = [
      ["tcp://10.0.0.5:8081", "tcp"],
      ["ws://esp.local:80/rpc", "ws"],
      ["WSS://x:443/rpc", "wss"],
      ["http://127.0.0.1:8080", "http"],
      ["https://pi.local:8080", "https"],
      ["pi.local:8080", ""],
      ["[::1]:8080", ""],
      ["serial:///dev/ttyUSB0", "serial"],
      ["sim:standard", "sim"],
      ["dial-in", "dial-in"],
    ];
    for (const [address, scheme] of cases) assert.equal(parseRemoteAddress(address).scheme, scheme, address);
  });

  it("the default registry knows tcp, ws, wss, http, https and host:port, and names them for the rest", () => {
    const r = defaultRemoteTransports();
    for (const a of ["tcp://h:1", "ws://h:1/p", "wss://h:1/p", "http://h:1", "https://h:1", "h:1"]) assert.ok(!(r.lookup(a) instanceof Error), a);
    const err = r.lookup("serial:///dev/ttyUSB0");
    assert.ok(err instanceof Error);
    assert.match(err.message, /no transport for "serial".*tcp:\/\//);
  });
});

describe("the resource-name field of a request", () => {
  it("is `name` (field 1) for resource APIs and `board_name` for the two board calls that have it", () => {
    assert.equal(resourceNameField(MotorService.method.setPower.input)?.name, "name");
    assert.equal(resourceNameField(BoardService.method.streamTicks.input)?.name, "name");
    assert.equal(resourceNameField(BoardService.method.readAnalogReader.input)?.name, "board_name");
    assert.equal(resourceNameField(BoardService.method.getDigitalInterruptValue.input)?.name, "board_name");
    for (const m of BoardService.methods) assert.notEqual(resourceNameField(m.input), undefined, m.name);
  });

  it("is absent for machine-wide and auth calls, which are never forwarded", () => {
    assert.equal(resourceNameField(RobotService.method.resourceNames.input), undefined);
    assert.equal(resourceNameField(RobotService.method.getMachineStatus.input), undefined);
    assert.equal(resourceNameField(AuthService.method.authenticate.input), undefined);
  });
});

describe("remote nodes in the machine", () => {
  const board = (name: string): Resource => ({ name, doCommand: async () => ({}), close: async () => {} });
  const self: Resource = { name: "esp", doCommand: async () => ({}), close: async () => {} };
  const boardName = { ...boardApi, name: "esp:board" };

  it("a dependent waits for the remote resource, builds once it is up, goes unhealthy when it drops, and recovers", async () => {
    const machine = new Machine(builtinModels(), quietLogger(), { retryIntervalMs: 60_000 });
    try {
      await machine.start([
        { name: "m", api: { namespace: "rdk", type: "component", subtype: "motor" }, model: "rdk:builtin:fake", attributes: {}, dependsOn: ["esp:board"] },
      ]);
      const state = (n: string) => machine.entries().find((e) => e.name.name === n)?.state;
      assert.equal(state("m"), "unhealthy");
      assert.match(machine.entries().find((e) => e.name.name === "m")?.error ?? "", /unresolved dependencies/);

      await machine.updateRemote({ remote: "esp", resource: self, resources: [{ name: boardName, aliases: ["board"], resource: board("esp:board") }] });
      assert.equal(state("esp"), "ready");
      assert.equal(state("esp:board"), "ready");
      assert.equal(state("m"), "ready");
      assert.equal(machine.get(boardApi, "board").name, "esp:board", "an alias finds the remote resource");

      await machine.updateRemote({ remote: "esp", error: "link lost", resources: [{ name: boardName, aliases: ["board"] }] });
      assert.equal(state("esp:board"), "unhealthy");
      assert.equal(machine.entries().find((e) => e.name.name === "esp:board")?.error, "link lost");
      assert.equal(state("m"), "unhealthy");
      assert.match(machine.entries().find((e) => e.name.name === "m")?.error ?? "", /esp:board is not ready yet.*link lost/);

      await machine.updateRemote({ remote: "esp", resource: self, resources: [{ name: boardName, aliases: ["board"], resource: board("esp:board") }] });
      assert.equal(state("m"), "ready");

      await machine.removeRemote("esp");
      assert.equal(state("esp:board"), undefined);
      assert.equal(state("m"), "unhealthy");
    } finally {
      await machine.close();
    }
  });

  it("a local config change leaves remote nodes alone", async () => {
    const machine = new Machine(builtinModels(), quietLogger());
    try {
      await machine.start([]);
      await machine.updateRemote({ remote: "esp", resource: self, resources: [{ name: boardName, aliases: [], resource: board("esp:board") }] });
      await machine.reconfigure([{ name: "s", api: { namespace: "rdk", type: "component", subtype: "sensor" }, model: "rdk:builtin:fake", attributes: {}, dependsOn: [] }]);
      assert.deepEqual(
        machine.entries().map((e) => `${e.name.name}:${e.state}`).sort(),
        ["esp:board:ready", "esp:ready", "s:ready"],
      );
    } finally {
      await machine.close();
    }
  });
});

/** A part that is always reachable and has the given resources; calls fail (nothing is forwarded here). */
class FakeConnection implements RemoteConnection {
  readonly kind = "fake";
  connected = false;
  readonly #events = new Listeners<RemoteConnectionEvents>();
  constructor(private readonly names: ResourceName[]) {}
  async connect(): Promise<void> {
    this.connected = true;
  }
  async close(): Promise<void> {
    this.connected = false;
  }
  call() {
    return failedCall(12, "fake");
  }
  async resourceNames(): Promise<ResourceName[]> {
    return this.names;
  }
  async resourceRpcSubtypes() {
    return [];
  }
  on<E extends keyof RemoteConnectionEvents>(event: E, listener: RemoteConnectionEvents[E]): () => void {
    return this.#events.on(event, listener);
  }
}

describe("the remote manager's names", () => {
  const sensor = (name: string): ResourceName => ({ namespace: "rdk", type: "component", subtype: "sensor", name });
  const sensorService = "viam.component.sensor.v1.SensorService";
  const remotes = (list: object[]) => parseMachineConfig(JSON.stringify({ remotes: list }), "t.json").remotes;

  it("shows remote:name, or prefix+name under a prefix; resolves the shown name, remote:name and a unique bare name", async () => {
    const machine = new Machine(builtinModels(), quietLogger());
    const transports = new RemoteTransportRegistry().register({ schemes: ["fake"], create: () => new FakeConnection([sensor("s1"), sensor("s2")]) });
    const manager = new RemoteManager({ machine, logger: quietLogger(), transports });
    try {
      await machine.start([]);
      await manager.apply(remotes([{ name: "esp", address: "fake:a" }, { name: "pico", address: "fake:b", prefix: "p-" }]));
      const names = machine.entries().map((e) => `${e.name.namespace}:${e.name.subtype}/${e.name.name}:${e.state}`).sort();
      assert.deepEqual(names, [
        "rdk-internal:/esp:ready",
        "rdk-internal:/pico:ready",
        "rdk:sensor/esp:s1:ready",
        "rdk:sensor/esp:s2:ready",
        "rdk:sensor/p-s1:ready",
        "rdk:sensor/p-s2:ready",
      ]);
      assert.equal(manager.resolve(sensorService, "esp:s1")?.remoteName, "s1");
      assert.equal(manager.resolve(sensorService, "p-s2")?.part.name, "pico");
      assert.equal(manager.resolve(sensorService, "pico:s2")?.name.name, "p-s2", "remote:name also means a prefixed resource");
      assert.equal(manager.resolve(sensorService, "s1"), undefined, "a bare name two remotes have is ambiguous");
      assert.equal(manager.resolve("viam.component.motor.v1.MotorService", "esp:s1"), undefined, "another API");

      // Removing a remote from the config removes its nodes.
      await manager.apply(remotes([{ name: "pico", address: "fake:b", prefix: "p-" }]));
      assert.equal(machine.entries().some((e) => e.name.name.startsWith("esp")), false);
      assert.equal(manager.resolve(sensorService, "s1")?.name.name, "p-s1", "now unique");
    } finally {
      await manager.close();
      await machine.close();
    }
  });
});
