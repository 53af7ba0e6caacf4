// Micro parts that dial in to a host by NAME: the firmware resolves the name in its `host` URL
// before every attempt, so a host whose address DHCP changed is found again on the next reconnect.
// On both engines, with the simulated network's name table (tools/sim/network.ts `hosts`) standing
// for DNS: the part dials in to ws://sprocket-host.lan:PORT; the host comes back at another address
// (127.0.0.2, same port) and the part follows the name there by itself; a name nobody knows is
// logged and retried while the part's TCP server keeps serving. No real lookups happen.
import "../../tools/sim/register.js";
import assert from "node:assert/strict";
import { describe, it, test } from "node:test";
import type { Host } from "../../host/host.js";
import { sensorApi, type Sensor } from "../../host/components/sensor/sensor.js";
import { internalCall } from "../../host/resource/resource.js";
import { DIAL_IN_PATH, isIPv4Address, parseDialInUrl } from "../../firmware/rpc/dial-in-protocol.js";
import { network } from "../../tools/sim/network.js";
import { World } from "../../tools/sim/world.js";
import { startFirmware } from "../../tools/sim/xs/runner.js";
import { ENGINES, MicroClient, PART_ID, PART_KEY, startMicro, wireStandard, type MicroSim } from "../micro/harness.js";
import { startTestHost } from "../support/host.js";
import { eventually, stateOf } from "./support.js";

const HOST_NAME = "sprocket-host.lan";

const HOST_CONFIG = {
  components: [{ name: "local", api: "rdk:component:sensor", model: "fake" }],
  remotes: [
    {
      name: "esp",
      address: "dial-in",
      auth: { entity: PART_ID, credentials: { type: "api-key", payload: PART_KEY } },
      connection_check_interval: "500ms",
      reconnect_interval: "100ms",
    },
  ],
};

function startHostAt(bind: string): Promise<Host> {
  return startTestHost({ ...HOST_CONFIG, network: { bind_address: bind } });
}

function portOf(host: Host): number {
  return Number(new URL(host.url).port);
}

/** The part's sensor, read through the host. */
async function temperatureThrough(host: Host): Promise<number> {
  const readings = await host.machine.get<Sensor>(sensorApi, "esp:env").readings(internalCall());
  return readings.temperature as number;
}

/** Boots the firmware provisioned with `url`, `names` in its network's table before it dials. */
async function bootPart(engine: (typeof ENGINES)[number], url: string, names: Record<string, string>): Promise<MicroSim> {
  return startMicro({
    engine,
    hostUrl: url,
    dialIn: { initialBackoffMs: 50, maxBackoffMs: 400 },
    wire: (w) => {
      wireStandard(w);
      for (const [name, address] of Object.entries(names)) network(w).hosts.set(name, address);
    },
  });
}

describe("parseDialInUrl: names, IPv4 and IPv6 addresses", () => {
  it("a name is to be resolved; the Host header keeps the name", () => {
    assert.deepEqual(parseDialInUrl("ws://sprocket-host.lan:8080"), {
      address: "sprocket-host.lan",
      isName: true,
      port: 8080,
      path: DIAL_IN_PATH,
      host: "sprocket-host.lan:8080",
    });
    assert.deepEqual(parseDialInUrl("ws://robot-host.local/x?y=1"), { address: "robot-host.local", isName: true, port: 80, path: "/x?y=1", host: "robot-host.local" });
    for (const name of ["localhost", "host_1.example.com.", "a-b.c", "1host.lan", "10.0.0.1.nip"]) {
      const parsed = parseDialInUrl("ws://" + name + ":1");
      assert.ok(typeof parsed !== "string" && parsed.isName && parsed.address === name, name + ": " + JSON.stringify(parsed));
    }
  });

  it("IP addresses are dialled as written", () => {
    assert.deepEqual(parseDialInUrl("ws://192.168.1.10:8080"), { address: "192.168.1.10", isName: false, port: 8080, path: DIAL_IN_PATH, host: "192.168.1.10:8080" });
    assert.deepEqual(parseDialInUrl("ws://[fe80::1]:8080/"), { address: "fe80::1", isName: false, port: 8080, path: DIAL_IN_PATH, host: "[fe80::1]:8080" });
  });

  it("digits and dots that are no IPv4 address, and characters no host name has, are refused at once", () => {
    for (const [url, problem] of [
      ["ws://999.1.1.1:80", "999.1.1.1 is not an IPv4 address"],
      ["ws://10.0.0:80", "10.0.0 is not an IPv4 address"],
      ["ws://1.2.3.4.5", "1.2.3.4.5 is not an IPv4 address"],
      ["ws://192.168.1.010", "192.168.1.010 is not an IPv4 address"],
      ["ws://user@host.lan:80", '"user@host.lan" is not a host name'],
      ["ws://my host:80", '"my host" is not a host name'],
      ["ws://a..b:80", '"a..b" is not a host name'],
    ]) {
      const parsed = parseDialInUrl(url);
      assert.equal(typeof parsed, "string", url);
      assert.ok((parsed as string).endsWith(problem), `${url}: ${String(parsed)}`);
    }
  });

  it("isIPv4Address", () => {
    for (const yes of ["0.0.0.0", "127.0.0.2", "255.255.255.255", "10.0.100.9"]) assert.equal(isIPv4Address(yes), true, yes);
    // Leading zeros: octal to lwIP's inet_aton, so not taken as decimal here.
    for (const no of ["256.1.1.1", "1.2.3", "1.2.3.4.", "a.b.c.d", "1.2.3.-4", "", "1234.1.1.1", "192.168.001.010"]) assert.equal(isIPv4Address(no), false, no);
  });
});

test("the simulated network's names: localhost, the table (any case, final dot), IPv4 addresses as themselves, nothing else", () => {
  const n = network(new World());
  n.hosts.set(HOST_NAME, "127.0.0.2");
  assert.equal(n.resolve("localhost"), "127.0.0.1");
  assert.equal(n.resolve(HOST_NAME), "127.0.0.2");
  assert.equal(n.resolve("Sprocket-Host.LAN."), "127.0.0.2");
  assert.equal(n.resolve("10.1.2.3"), "10.1.2.3");
  assert.equal(n.resolve("example.com"), undefined);
  assert.equal(n.resolve("nowhere.lan"), undefined);
});

test("Net.resolve on XS answers from its own world's table", async () => {
  const answers: unknown[] = [];
  const sims = [];
  for (const address of ["127.0.0.5", "127.0.0.6"]) {
    const world = new World();
    network(world).hosts.set(HOST_NAME, address);
    sims.push({ world, fw: await startFirmware({ engine: "xs", world, expose: { Net: "net" } }) });
  }
  try {
    for (const { fw } of sims) {
      await fw.run(`modules.answer = []; modules.Net.default.resolve(${JSON.stringify(HOST_NAME)}, (name, address) => modules.answer.push(name, address));
        modules.Net.default.resolve("nowhere.lan", (name, address) => modules.answer.push(name, address));`);
    }
    for (const { fw } of sims) {
      await eventually("both answers", async () => (await fw.run<unknown[]>(`return modules.answer`)).length === 4, 5000);
      answers.push(await fw.run<unknown[]>(`return modules.answer`));
    }
    assert.deepEqual(answers, [
      [HOST_NAME, "127.0.0.5", "nowhere.lan", undefined],
      [HOST_NAME, "127.0.0.6", "nowhere.lan", undefined],
    ]);
  } finally {
    for (const { world, fw } of sims) {
      await fw.stop();
      world.dispose();
    }
  }
});

for (const engine of ENGINES) {
  describe(`a micro part (${engine}) dialling in to its host by name`, () => {
    it("dials in by name; when the host comes back at another address (same port), follows the name there", async () => {
      let host = await startHostAt("127.0.0.1:0");
      const port = portOf(host);
      let sim: MicroSim | undefined;
      try {
        sim = await bootPart(engine, `ws://${HOST_NAME}:${port}`, { [HOST_NAME]: "127.0.0.1" });
        await eventually("esp:env ready on the host", () => stateOf(host, "rdk:component:sensor/esp:env") === "ready", 20_000);
        assert.equal(await sim.run<string>("return runtime.dialIn.state"), "connected");
        assert.equal(await sim.run<string>("return runtime.dialIn.hostAddress"), "127.0.0.1");
        assert.ok(Math.abs((await temperatureThrough(host)) - 21.5) < 0.5);

        // DHCP gave the host a new address: it restarts there, and the name follows it.
        await host.close();
        host = await startHostAt(`127.0.0.2:${port}`);
        network(sim.world).hosts.set(HOST_NAME, "127.0.0.2");
        await eventually("esp:env ready on the host at 127.0.0.2", () => stateOf(host, "rdk:component:sensor/esp:env") === "ready", 20_000);
        assert.equal(await sim.run<string>("return runtime.dialIn.hostAddress"), "127.0.0.2");
        assert.ok((await sim.run<number>("return runtime.dialIn.connects")) >= 2);
        assert.ok(Math.abs((await temperatureThrough(host)) - 21.5) < 0.5);
      } finally {
        await host.close();
        await sim?.stop();
      }
    });

    it("a name nobody knows: warns, keeps retrying, and the TCP server still serves; dials in once the name is known", async () => {
      const host = await startHostAt("127.0.0.1:0");
      const lines: string[] = [];
      let untapLog: (() => void) | undefined;
      if (engine === "node") {
        // The firmware's log, as the Node engine runs it in this process (startMicro imports boot.js here).
        const { setLogSink } = await import("../../firmware/log.js");
        setLogSink((level, message) => lines.push(`${level}: ${message}`));
        untapLog = () => setLogSink(undefined);
      }
      let sim: MicroSim | undefined;
      try {
        sim = await bootPart(engine, `ws://nowhere.lan:${portOf(host)}`, {});
        const part = sim;
        await eventually("the part's lastError", async () => (await part.run<string | undefined>("return runtime.dialIn.lastError")) === "cannot resolve host nowhere.lan");
        if (engine === "node") {
          await eventually("two warnings (it retries)", () => lines.filter((l) => l.startsWith("warn: dial-in: cannot resolve host nowhere.lan")).length >= 2);
        }
        assert.notEqual(await sim.run<string>("return runtime.dialIn.state"), "connected");

        const client = await MicroClient.tcp(sim.port);
        try {
          assert.ok((await client.authenticate()).length > 0);
        } finally {
          client.close();
        }

        // Still retrying: once the network knows the name, the part dials in.
        network(sim.world).hosts.set("nowhere.lan", "127.0.0.1");
        await eventually("esp:env ready on the host", () => stateOf(host, "rdk:component:sensor/esp:env") === "ready", 20_000);
        assert.equal(await sim.run<string>("return runtime.dialIn.state"), "connected");
      } finally {
        untapLog?.();
        await host.close();
        await sim?.stop();
      }
    });
  });
}
