// The forwarder sits in the dispatcher, so a client on a WebRTC data channel reaches a micro part's
// resources through the host like any other: the official SDK over WebRTC (@roamhq/wrtc), with the
// host as its own signaler, reads the part's BME280 and moves one of its pins.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BoardClient, RobotClient, SensorClient } from "@viamrobotics/sdk";
import type { Host } from "../../host/host.js";
import { PINS, startMicro, type MicroSim } from "../micro/harness.js";
import { startTestHost, withApiKey } from "../support/host.js";
import { dialWebRtc, quietSdk, webrtcConf } from "../webrtc/wrtc-env.js";
import { microRemote } from "./support.js";

describe("a micro part's resources through the host over WebRTC", () => {
  let sim: MicroSim;
  let host: Host;
  let client: RobotClient;
  let restore: () => void;

  before(async () => {
    restore = quietSdk();
    sim = await startMicro();
    host = await startTestHost(withApiKey({ remotes: [microRemote("esp", `tcp://127.0.0.1:${sim.port}`)] }));
    client = await dialWebRtc(webrtcConf(host));
  });

  after(async () => {
    await client?.disconnect();
    await host?.close();
    await sim?.stop();
    restore?.();
  });

  it("dials over a data channel", () => {
    assert.equal(host.signaling.peerCount, 1);
  });

  it("reads the part's sensor and moves the part's pin", async () => {
    const r = await new SensorClient(client, "esp:env").getReadings();
    assert.ok(Math.abs((r.temperature as number) - 21.5) < 0.5, `temperature ${String(r.temperature)}`);
    const board = new BoardClient(client, "esp:board");
    await board.setGPIO(String(PINS.gpio), true);
    assert.equal(sim.world.gpio.level(PINS.gpio), 1);
    await board.setGPIO(String(PINS.gpio), false);
    assert.equal(sim.world.gpio.level(PINS.gpio), 0);
  });
});
