// The micro RPC server on a UART: COBS + CRC-32 frames over a simulated UART (115200 baud, 128-byte
// FIFOs, paced like the wire), the same authentication, and resynchronisation after line noise.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ChannelError, Code } from "../../proto/channel/frames.js";
import { encodeCobsFrame } from "../../proto/channel/cobs.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { ConfigService } from "../../proto/gen/sprocket/micro/v1/config_pb.js";
import { uart, type UartPort } from "../../tools/sim/uart.js";
import { MicroClient, connectAuthenticated, standardConfig, startMicro, type MicroSim } from "./harness.js";

const UART = { port: 2, receive: 16, transmit: 17, baud: 115200 };

let sim: MicroSim;
let port: UartPort;
let client: MicroClient;

before(async () => {
  sim = await startMicro({ config: { ...standardConfig(), rpc_uart: UART } });
  port = uart(sim.world, UART.port);
  client = MicroClient.uart(port).client;
});

after(async () => {
  client?.close();
  await sim?.stop();
});

test("the firmware opened the UART the config names", () => {
  assert.equal(port.baud, 115200);
  assert.equal(sim.world.pinOwner(UART.receive), "Serial");
  assert.equal(sim.world.pinOwner(UART.transmit), "Serial");
  assert.ok(sim.runtime.uart);
});

test("over the UART too, calls need Authenticate first", async () => {
  await assert.rejects(client.call(RobotService.method.getVersion, {}), (e: ChannelError) => e.code === Code.UNAUTHENTICATED && e.message === "authentication required");
  await assert.rejects(client.authenticate(undefined, "wrong"), (e: ChannelError) => e.message === "invalid credentials");
  await client.authenticate();
  assert.equal((await client.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
  const r = await client.call(SensorService.method.getReadings, { name: "env" });
  assert.ok(typeof r.readings.temperature.kind.value === "number");
});

test("line noise and corrupted frames are dropped and counted; the next call works", async () => {
  const cobs = sim.runtime.uart?.connection.cobs;
  assert.ok(cobs);
  const dropped = cobs.dropped;
  port.send(Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 1) & 0xff)); // boot-log-like noise
  const corrupted = encodeCobsFrame(Uint8Array.of(0x0a, 0x02, 0x08, 0x63, 0x12, 0x01, 0x00));
  corrupted[4] ^= 0x10;
  port.send(corrupted);
  assert.equal((await client.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
  assert.ok(cobs.dropped >= dropped + 2, `dropped ${cobs.dropped - dropped}`);
  assert.ok(cobs.crcErrors >= 1);
});

test("a 2 KB SetConfig crosses the paced 115200-baud link without FIFO overruns", async () => {
  const config = { ...standardConfig(), rpc_uart: UART, note: "n".repeat(2000) };
  const started = Date.now();
  const res = await client.call(ConfigService.method.setConfig, { configJson: JSON.stringify(config) }, { timeoutMs: 10_000 });
  const ms = Date.now() - started;
  assert.match(res.revision, /^[0-9a-f]{8}$/);
  assert.ok(ms >= 150, `2 KB at 11.5 bytes/ms takes ~180 ms, took ${ms} ms`);
  assert.equal(port.overruns, 0);
  // The UART connection survived the rebuild; TCP clients see the same machine.
  const tcp = await connectAuthenticated(sim);
  assert.equal((await tcp.call(ConfigService.method.getConfig, {})).revision, res.revision);
  tcp.close();
});

test("with real-time wire pacing a stalled firmware overruns the 128-byte FIFO; the frame is lost, the link recovers", async () => {
  port.maxStepMs = Infinity;
  const overruns = port.overruns;
  const config = { ...standardConfig(), rpc_uart: UART, note: "n".repeat(2000) };
  const lost = client.call(ConfigService.method.setConfig, { configJson: JSON.stringify(config) }, { timeoutMs: 1000 });
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60); // the whole process stalls 60 ms
  await assert.rejects(lost, (e: ChannelError) => e.code === Code.DEADLINE_EXCEEDED);
  assert.ok(port.overruns > overruns, "bytes were lost");
  port.maxStepMs = 5;
  assert.equal((await client.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
});
