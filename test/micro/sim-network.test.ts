// The simulator's networking and serial shims behave like Moddable's ESP32 modules where the
// firmware relies on them: posted callbacks, adoption with {from}, send-buffer limits, errors
// after the receive buffer drains, the lwIP socket budget, UART FIFOs; and boot brings up Wi-Fi and
// mDNS when provisioned.
import "../../tools/sim/register.js";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import Listener from "../../tools/sim/shims/listener.js";
import Serial from "../../tools/sim/shims/serial.js";
import TCP, { TCP_SND_BUF } from "../../tools/sim/shims/tcp.js";
import { MODDABLE_DEFAULT_MAX_SOCKETS, firmwareSdkconfig } from "../../tools/sim/sdkconfig.js";
import { network } from "../../tools/sim/network.js";
import { uart } from "../../tools/sim/uart.js";
import { World, setWorld } from "../../tools/sim/world.js";
import { PART_ID, startMicro, until } from "./harness.js";

function fresh(): World {
  const w = new World();
  setWorld(w);
  network(w).portOverride = 0;
  return w;
}

async function dial(port: number): Promise<Socket> {
  const s = connect({ host: "127.0.0.1", port });
  s.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    s.once("connect", resolve);
    s.once("error", reject);
  });
  return s;
}

test("the firmware's sdkconfig raises lwIP's socket budget from Moddable's 4", () => {
  assert.equal(MODDABLE_DEFAULT_MAX_SOCKETS, 4);
  assert.equal(firmwareSdkconfig().maxSockets, 8);
});

test("listener → read() → new TCP({from}): data buffered before adoption arrives; echo; onError after the peer leaves", async () => {
  const w = fresh();
  try {
    const accepted: TCP[] = [];
    const listener = new Listener({ port: 9999, onReadable: (n) => {
      for (let i = 0; i < n; i++) {
        const t = listener.read();
        if (t) accepted.push(t);
      }
    } });
    const port = await network(w).listening(9999);
    const client = await dial(port);
    client.write("hello");
    await until(() => accepted.length === 1, 2000, "accept");
    const events: string[] = [];
    let echoed = "";
    const t = new TCP({
      from: accepted[0],
      onReadable(count) {
        events.push("readable " + count);
        const bytes = new Uint8Array(this.read() as ArrayBuffer);
        echoed += new TextDecoder().decode(bytes);
        this.write(bytes);
      },
      onWritable(space) {
        events.push("writable " + space);
      },
      onError() {
        events.push("error");
      },
    });
    assert.throws(() => accepted[0].read(), /invalid/); // the old object is closed
    const back = new Promise<string>((resolve) => client.once("data", (d) => resolve(d.toString())));
    assert.equal(await back, "hello");
    assert.equal(echoed, "hello");
    assert.equal(events[0], "readable 5");
    assert.ok(events.some((e) => e.startsWith("writable ")));
    client.end();
    await until(() => events.includes("error"), 2000, "onError");
    t.close();
    listener.close();
  } finally {
    w.dispose();
  }
});

test("TCP write: more than the free send buffer throws \"would block\"; read(n) past the buffer throws", async () => {
  const w = fresh();
  try {
    let server: TCP | undefined;
    const listener = new Listener({ port: 9998, onReadable: () => {
      server = new TCP({ from: listener.read() as TCP });
    } });
    const client = await dial(await network(w).listening(9998));
    await until(() => server !== undefined, 2000, "accept");
    const s = server as TCP;
    assert.throws(() => s.write(new Uint8Array(TCP_SND_BUF + 1)), /would block/);
    const left = s.write(new Uint8Array(100));
    assert.equal(left, TCP_SND_BUF - 100);
    assert.equal(s.read(), undefined);
    client.write(Uint8Array.of(1, 2, 3));
    await until(() => {
      try {
        return s.read(4) !== undefined;
      } catch {
        return true; // 3 buffered, 4 asked
      }
    }, 2000, "data");
    assert.deepEqual([...new Uint8Array(s.read(3) as ArrayBuffer)], [1, 2, 3]);
    client.destroy();
    s.close();
    listener.close();
  } finally {
    w.dispose();
  }
});

test("TCP to a host name: looked up in the world's own name table, never by a real lookup", async () => {
  const w = fresh();
  try {
    let accepted = 0;
    const listener = new Listener({ port: 9997, onReadable: () => {
      listener.read();
      accepted++;
    } });
    const port = await network(w).listening(9997);
    network(w).hosts.set("part-host.lan", "127.0.0.1");
    const named = new TCP({ host: "part-host.lan", port });
    await until(() => accepted === 1, 2000, "the named connection accepted");
    assert.throws(() => new TCP({ host: "nobody.example", port }), /cannot resolve nobody\.example/);
    named.close();
    listener.close();
  } finally {
    w.dispose();
  }
});

test("with Moddable's default budget of 4 sockets, a listener takes one and the fourth client is reset", async () => {
  const w = fresh();
  network(w).maxSockets = MODDABLE_DEFAULT_MAX_SOCKETS;
  try {
    const accepted: TCP[] = [];
    const listener = new Listener({ port: 9997, onReadable: (n) => {
      for (let i = 0; i < n; i++) accepted.push(new TCP({ from: listener.read() as TCP }));
    } });
    const port = await network(w).listening(9997);
    const clients = [await dial(port), await dial(port), await dial(port)];
    await until(() => accepted.length === 3, 2000, "three accepted");
    // The kernel completes the handshake; the simulated lwIP then resets the connection at once.
    const fourth = connect({ host: "127.0.0.1", port });
    fourth.on("error", () => undefined);
    await new Promise<void>((resolve) => fourth.once("close", () => resolve()));
    assert.equal(network(w).refusedConnections, 1);
    assert.equal(network(w).openSockets, 4);
    for (const c of clients) c.destroy();
    await until(() => network(w).openSockets === 1, 2000, "sockets released");
    for (const t of accepted) t.close();
    listener.close();
    assert.equal(network(w).openSockets, 0);
  } finally {
    w.dispose();
  }
});

test("Serial: bytes from the outside arrive through onReadable; writes past the 128-byte TX FIFO throw \"output full\"", async () => {
  const w = fresh();
  try {
    const port = uart(w, 1);
    port.paced = false;
    const received: number[] = [];
    const serial = new Serial({
      port: 1,
      receive: 16,
      transmit: 17,
      baud: 115200,
      onReadable() {
        const buf = new Uint8Array(64);
        const n = this.read(buf) as number;
        received.push(...buf.subarray(0, n));
      },
    });
    assert.throws(() => new Serial({ port: 1, receive: 18, baud: 9600 }), /in use/);
    port.send(Uint8Array.of(9, 8, 7));
    await until(() => received.length === 3, 1000, "bytes");
    assert.deepEqual(received, [9, 8, 7]);
    const out: number[] = [];
    port.onTransmit((bytes) => out.push(...bytes));
    port.paced = true;
    serial.write(new Uint8Array(128));
    assert.throws(() => serial.write(Uint8Array.of(1)), /output full/);
    await until(() => out.length === 128, 2000, "transmitted at 115200 baud");
    serial.close();
    assert.equal(w.pinOwner(16), undefined);
  } finally {
    w.dispose();
  }
});

test("boot joins the provisioned Wi-Fi network and advertises the RPC port over mDNS", async () => {
  const sim = await startMicro({ wifi: { ssid: "workshop", password: "hunter22" }, config: "{}", wire: () => undefined });
  try {
    const n = network(sim.world);
    assert.deepEqual([n.wifi.mode, n.wifi.ssid, n.wifi.connected], [1, "workshop", true]);
    assert.ok(sim.world.wifiActive);
    await until(() => n.mdns.services.length === 1, 2000, "mDNS service");
    assert.equal(n.mdns.hostName, "sprocket-" + PART_ID);
    assert.deepEqual(n.mdns.services[0], { name: "sprocket", protocol: "tcp", port: 8081, txt: { part: PART_ID, version: "0.1.0" } });
  } finally {
    await sim.stop();
  }
});
