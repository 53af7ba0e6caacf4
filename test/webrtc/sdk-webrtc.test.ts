// The official Viam SDK driving a host over WebRTC (spec §1.2): Authenticate, OptionalWebRTCConfig,
// Call/CallUpdate on the host's own port, then every component API over the data channel.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  BoardClient,
  EncoderClient,
  GenericComponentClient,
  MotorClient,
  MovementSensorClient,
  PowerSensorClient,
  SensorClient,
  ServoClient,
  createRobotClient,
  RobotClient,
  type Tick,
} from "@viamrobotics/sdk";
import { boardApi } from "../../host/components/board/board.js";
import type { FakeBoard } from "../../host/components/board/fake.js";
import type { Host } from "../../host/host.js";
import { allFakesConfig, startTestHost, withApiKey } from "../support/host.js";
import { dialWebRtc, quietSdk, struct, waitFor, webrtcConf } from "./wrtc-env.js";

describe("the Viam SDK over WebRTC", () => {
  let host: Host;
  let client: RobotClient;
  let restore: () => void;

  before(async () => {
    restore = quietSdk();
    host = await startTestHost(withApiKey(allFakesConfig()));
    client = await dialWebRtc(webrtcConf(host));
  });

  after(async () => {
    await client?.disconnect();
    await host?.close();
    restore?.();
  });

  test("dials over a data channel, without an authorization header on it", () => {
    assert.equal(client.peerConnection?.connectionState, "connected");
    assert.equal(host.signaling.peerCount, 1);
  });

  test("sensor GetReadings", async () => {
    const readings = await new SensorClient(client, "sensor1").getReadings();
    assert.equal(typeof readings.sine, "number");
  });

  test("board GPIO set/get, analog read, interrupt value", async () => {
    const board = new BoardClient(client, "board1");
    await board.setGPIO("11", true);
    assert.equal(await board.getGPIO("11"), true);
    await board.setGPIO("11", false);
    assert.equal(await board.getGPIO("11"), false);
    const analog = await board.readAnalogReader("a1");
    assert.equal(typeof analog.value, "number");
    fakeBoard(host).tick("di1");
    assert.ok((await board.getDigitalInterruptValue("di1")) >= 1);
  });

  test("board StreamTicks streams ticks and stops on abort", async () => {
    const board = new BoardClient(client, "board1");
    const fake = fakeBoard(host);
    const ticks: Tick[] = [];
    const abort = new AbortController();
    const streaming = board.streamTicks(["di1"], ticks, {}, { signal: abort.signal });
    // The SDK ends its for-await quietly or with a cancel error, depending on timing: either is fine.
    const ended = streaming.then(
      () => "ended",
      () => "ended",
    );
    await waitFor("the tick stream to open", () => fake.openStreams() === 1);
    fake.tick("di1", true);
    fake.tick("di1", false);
    fake.tick("di1", true);
    await waitFor("three ticks", () => ticks.length === 3);
    assert.deepEqual(
      ticks.map((t) => [t.pinName, t.high]),
      [
        ["di1", true],
        ["di1", false],
        ["di1", true],
      ],
    );
    abort.abort();
    assert.equal(await ended, "ended");
    // rst_stream reached the host: the handler ended and the board forgot the stream.
    await waitFor("the host to end the stream", () => fake.openStreams() === 0);
  });

  test("motor setPower/isPowered, goFor, getPosition", async () => {
    const motor = new MotorClient(client, "motor1");
    await motor.setPower(0.5);
    const [powered, pct] = await motor.isPowered();
    assert.equal(powered, true);
    assert.equal(pct, 0.5);
    await motor.stop();
    await motor.resetZeroPosition(0);
    await motor.goFor(600, 0.5);
    const position = await motor.getPosition();
    assert.ok(Math.abs(position - 0.5) < 1e-6, `position ${position}`);
    assert.equal(await motor.isMoving(), false);
  });

  test("encoder getPosition/resetPosition/getProperties", async () => {
    const encoder = new EncoderClient(client, "encoder1");
    const [ticks] = await encoder.getPosition();
    assert.equal(typeof ticks, "number");
    await encoder.resetPosition();
    const [afterReset] = await encoder.getPosition();
    assert.equal(afterReset, 0);
    const props = await encoder.getProperties();
    assert.equal(props.ticksCountSupported, true);
  });

  test("movement sensor", async () => {
    const imu = new MovementSensorClient(client, "imu1");
    const props = await imu.getProperties();
    assert.equal(typeof props.linearVelocitySupported, "boolean");
    const readings = await imu.getReadings();
    assert.ok(Object.keys(readings).length > 0);
  });

  test("power sensor", async () => {
    const power = new PowerSensorClient(client, "power1");
    const [volts] = await power.getVoltage();
    const [amps] = await power.getCurrent();
    assert.equal(typeof volts, "number");
    assert.equal(typeof amps, "number");
    assert.equal(typeof (await power.getPower()), "number");
  });

  test("servo move/getPosition", async () => {
    const servo = new ServoClient(client, "servo1");
    await servo.move(42);
    assert.equal(await servo.getPosition(), 42);
  });

  test("generic DoCommand", async () => {
    const generic = new GenericComponentClient(client, "generic1");
    assert.deepEqual(await generic.doCommand(struct({ hello: "world", n: 3 })), { hello: "world", n: 3 });
  });

  test("a 200 kB request and a 200 kB response", async () => {
    const generic = new GenericComponentClient(client, "generic1");
    const big = "x".repeat(200_000);
    const echoed = (await generic.doCommand(struct({ big }))) as { big: string };
    assert.equal(echoed.big.length, big.length);
    assert.equal(echoed.big, big);
  });

  test("32 concurrent calls on one peer connection", async () => {
    const generic = new GenericComponentClient(client, "generic1");
    const sensor = new SensorClient(client, "sensor1");
    const results = await Promise.all(
      Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? generic.doCommand(struct({ i })) : sensor.getReadings().then(() => ({ i })))),
    );
    assert.deepEqual(
      results,
      Array.from({ length: 32 }, (_, i) => ({ i })),
    );
    assert.equal(host.signaling.peerCount, 1);
  });

  test("an unknown resource answers an error over the channel", async () => {
    await assert.rejects(new SensorClient(client, "nope").getReadings(), /nope/);
  });
});

describe("createRobotClient over WebRTC", () => {
  // createRobotClient(conf) is `new RobotClient().dial(conf)` followed by a check that
  // iceConnectionState is "connected". libwebrtc as the caller reads "completed" from when its first
  // pair is nominated until a second pair appears on the same network (a peer-reflexive one for its
  // loopback candidate, some 10-30 ms later), so when the data channel opens inside that window
  // createRobotClient throws "Failed to connect to robot" over a working connection (spec §6.7).
  // Here that happened in most attempts. So: up to 5 attempts; each failure must be exactly that race
  // (the client it dialed is connected and answers calls), and one success is reported when it comes.
  test("connects, or fails only by the SDK's iceConnectionState race", async (t) => {
    const restore = quietSdk();
    const host = await startTestHost(withApiKey(allFakesConfig()));
    const dial = Reflect.get(RobotClient.prototype, "dial") as (this: RobotClient, conf: unknown) => Promise<RobotClient>;
    const dialed: RobotClient[] = [];
    Reflect.set(RobotClient.prototype, "dial", function (this: RobotClient, conf: unknown) {
      dialed.push(this);
      return dial.call(this, conf);
    });
    try {
      let client: RobotClient | undefined;
      let raced = 0;
      for (let attempt = 0; attempt < 5 && !client; attempt++) {
        try {
          client = await createRobotClient(webrtcConf(host));
        } catch (err) {
          assert.match(String(err), /Failed to connect to robot/);
          const loser = dialed.at(-1)!;
          assert.equal(loser.peerConnection?.connectionState, "connected", "a failed createRobotClient must be the race");
          assert.equal(typeof (await new SensorClient(loser, "sensor1").getReadings()).sine, "number");
          raced++;
        }
      }
      if (client) {
        assert.equal(client.peerConnection?.iceConnectionState, "connected");
        assert.equal(typeof (await new SensorClient(client, "sensor1").getReadings()).sine, "number");
      }
      t.diagnostic(client ? `createRobotClient connected after ${raced} raced attempt(s)` : `createRobotClient lost the race ${raced} times`);
    } finally {
      Reflect.set(RobotClient.prototype, "dial", dial);
      for (const c of dialed) await c.disconnect();
      await host.close();
      restore();
    }
  });
});

describe("peer connection lifetime", () => {
  test("the host closes a peer when the client disconnects, and every peer when it closes", async () => {
    const restore = quietSdk();
    const host = await startTestHost(withApiKey(allFakesConfig()));
    try {
      const a = await dialWebRtc(webrtcConf(host));
      await a.disconnect();
      await waitFor("the host to drop the disconnected peer", () => host.signaling.peerCount === 0, 5000);

      const b = await dialWebRtc(webrtcConf(host));
      assert.equal(host.signaling.peerCount, 1);
      const pc = b.peerConnection!;
      await host.close();
      assert.equal(host.signaling.peerCount, 0);
      await waitFor("the client to see the connection close", () => pc.connectionState !== "connected", 10_000);
      await b.disconnect();
    } finally {
      await host.close();
      restore();
    }
  });
});

function fakeBoard(host: Host): FakeBoard {
  return host.machine.get<FakeBoard>(boardApi, "board1");
}

describe("a host without auth", () => {
  test("the SDK dials over WebRTC with no credentials", async () => {
    const restore = quietSdk();
    const host = await startTestHost(allFakesConfig());
    try {
      const client = await dialWebRtc({ ...webrtcConf(host), credentials: undefined } as unknown as ReturnType<typeof webrtcConf>);
      assert.equal(client.peerConnection?.connectionState, "connected");
      assert.equal(typeof (await new SensorClient(client, "sensor1").getReadings()).sine, "number");
      await client.disconnect();
    } finally {
      await host.close();
      restore();
    }
  });
});
