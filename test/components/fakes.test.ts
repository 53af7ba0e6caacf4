// The built-in fake models: state that round-trips, motion that integrates over time, clear errors.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { JsonObject } from "@bufbuild/protobuf";
import { pino } from "pino";
import { builtinModels } from "../../host/models.js";
import { apiString, componentApi, type Api } from "../../host/resource/name.js";
import type { Dependencies, Model } from "../../host/resource/registry.js";
import { internalCall, isActuator, type Resource } from "../../host/resource/resource.js";
import { fakeBoardModel } from "../../host/components/board/fake.js";
import type { Tick } from "../../host/components/board/board.js";
import { fakeEncoderModel, type FakeEncoder } from "../../host/components/encoder/fake.js";
import { encoderApi } from "../../host/components/encoder/encoder.js";
import { fakeGenericModel } from "../../host/components/generic/fake.js";
import { fakeMotorModel, PositionIntegrator, type FakeMotor } from "../../host/components/motor/fake.js";
import { fakeMovementSensorModel } from "../../host/components/movement_sensor/fake.js";
import { fakePowerSensorModel } from "../../host/components/power_sensor/fake.js";
import { fakeSensorModel } from "../../host/components/sensor/fake.js";
import { fakeServoModel } from "../../host/components/servo/fake.js";

const logger = pino({ level: "silent" });
const call = internalCall();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class MapDependencies implements Dependencies {
  readonly #byKey = new Map<string, Resource>();
  add(api: Api, r: Resource): this {
    this.#byKey.set(`${apiString(api)}/${r.name}`, r);
    return this;
  }
  get<R extends Resource>(api: Api, name: string): R {
    const r = this.find<R>(api, name);
    if (r === undefined) throw new Error(`missing dependency ${apiString(api)}/${name}`);
    return r;
  }
  find<R extends Resource>(api: Api, name: string): R | undefined {
    return this.#byKey.get(`${apiString(api)}/${name}`) as R | undefined;
  }
}

async function build<R extends Resource>(
  model: Model<R>,
  name: string,
  attributes: JsonObject = {},
  dependencies: Dependencies = new MapDependencies(),
): Promise<R> {
  model.validate?.(attributes);
  return model.build({ name, attributes, dependencies, logger });
}

/** Runs `fn` with a resource and always closes it, so no timer outlives a test. */
async function using<R extends Resource, T>(r: R, fn: (r: R) => Promise<T>): Promise<T> {
  try {
    return await fn(r);
  } finally {
    await r.close();
  }
}

describe("builtinModels", () => {
  it("registers a fake for each of the nine component APIs", () => {
    const registry = builtinModels();
    for (const subtype of ["sensor", "board", "motor", "encoder", "movement_sensor", "power_sensor", "servo", "generic", "base"]) {
      const model = registry.lookup(componentApi(subtype), "rdk:builtin:fake");
      assert.ok(model, `fake ${subtype}`);
      assert.equal(apiString(model.api), `rdk:component:${subtype}`);
    }
    assert.equal(registry.list().filter((m) => m.model === "rdk:builtin:fake").length, 9, "fakes, the base's included");
  });
});

describe("PositionIntegrator", () => {
  it("integrates velocity over time and stops at the target", () => {
    let now = 0;
    const p = new PositionIntegrator(() => now);
    p.setVelocity(60, 2); // one unit per second, stopping at 2
    now = 500;
    assert.equal(p.position(), 0.5);
    assert.equal(p.msToTarget(), 1500);
    now = 5000;
    assert.equal(p.position(), 2);
    assert.equal(p.velocity(), 0);
    p.setVelocity(-120);
    now = 6000;
    assert.equal(p.position(), 0);
    p.setPosition(10);
    now = 6500;
    assert.equal(p.position(), 9);
    p.stop();
    now = 9000;
    assert.equal(p.position(), 9);
  });

  it("keeps the remaining distance when the position is reset mid-move", () => {
    let now = 0;
    const p = new PositionIntegrator(() => now);
    p.setVelocity(60, 3);
    now = 1000;
    p.setPosition(0);
    assert.equal(p.target(), 2);
    p.finish();
    assert.equal(p.position(), 2);
  });
});

describe("fake sensor", () => {
  it("has fixed keys and readings that change over time", async () => {
    await using(await build(fakeSensorModel, "s1"), async (s) => {
      const first = await s.readings(call);
      await sleep(15);
      const second = await s.readings(call);
      assert.equal(first.a, 1);
      assert.equal(second.c, 3);
      assert.notEqual(first.count, second.count);
      assert.notEqual(first.sine, second.sine);
      assert.ok((second.uptime_s as number) > (first.uptime_s as number));
    });
  });

  it("echoes DoCommand", async () => {
    await using(await build(fakeSensorModel, "s1"), async (s) => {
      assert.deepEqual(await s.doCommand({ hello: ["world", 1] }, call), { hello: ["world", 1] });
    });
  });
});

describe("fake board", () => {
  const attributes: JsonObject = {
    analogs: [{ name: "a1", pin: "7" }],
    digital_interrupts: [
      { name: "di0", pin: "11" },
      { name: "di1", pin: "13" },
    ],
  };

  it("round-trips GPIO levels per pin", async () => {
    await using(await build(fakeBoardModel, "b"), async (b) => {
      assert.equal(await b.getGpio("8", call), false);
      await b.setGpio("8", true, call);
      await b.setGpio("9", false, call);
      assert.equal(await b.getGpio("8", call), true);
      assert.equal(await b.getGpio("9", call), false);
      await b.setGpio("8", false, call);
      assert.equal(await b.getGpio("8", call), false);
    });
  });

  it("round-trips PWM duty and frequency, and refuses bad values", async () => {
    await using(await build(fakeBoardModel, "b"), async (b) => {
      await b.setPwm("12", 0.25, call);
      await b.setPwmFrequency("12", 1000, call);
      assert.equal(await b.pwm("12", call), 0.25);
      assert.equal(await b.pwmFrequency("12", call), 1000);
      assert.equal(await b.pwm("13", call), 0);
      await assert.rejects(b.setPwm("12", 1.5, call), /between 0 and 1.*1\.5/);
      await assert.rejects(b.setPwm("12", -0.1, call), /between 0 and 1/);
      await assert.rejects(b.setPwm("12", Number.NaN, call), /between 0 and 1/);
      await assert.rejects(b.setPwmFrequency("12", -5, call), /frequency/);
      assert.equal(await b.pwm("12", call), 0.25, "a refused value leaves the duty cycle alone");
      // As rdk: a GPIO level turns PWM off.
      await b.setGpio("12", true, call);
      assert.equal(await b.pwm("12", call), 0);
    });
  });

  it("reads configured analog readers with changing values in range, and stores writes", async () => {
    await using(await build(fakeBoardModel, "b", attributes), async (b) => {
      const r1 = await b.readAnalog("a1", call);
      const r2 = await b.readAnalog("a1", call);
      assert.notEqual(r1.value, r2.value);
      for (const r of [r1, r2]) {
        assert.ok(r.value >= r.minRange && r.value <= r.maxRange);
        assert.equal(r.minRange, 0);
        assert.equal(r.maxRange, 1000);
        assert.equal(r.stepSize, 1);
      }
      await b.writeAnalog("a1", 321, call);
      assert.equal(b.analogWritten("a1"), 321);
      assert.equal((await b.readAnalog("a1", call)).value, 321);
      await b.writeAnalog("dac0", 5, call);
      assert.equal(b.analogWritten("dac0"), 5);
      await assert.rejects(b.readAnalog("nope", call), /nope/);
      await assert.rejects(b.writeAnalog("dac0", 1.5, call), /whole number/);
    });
  });

  it("counts interrupt ticks (rising edges) and rejects unknown interrupts", async () => {
    await using(await build(fakeBoardModel, "b", attributes), async (b) => {
      assert.equal(await b.digitalInterruptValue("di0", call), 0n);
      b.tick("di0", true);
      b.tick("di0", false);
      b.tick("di0", true);
      assert.equal(await b.digitalInterruptValue("di0", call), 2n);
      assert.equal(await b.digitalInterruptValue("di1", call), 0n);
      await assert.rejects(b.digitalInterruptValue("ghost", call), /ghost/);
      assert.throws(() => b.tick("ghost"), /ghost/);
    });
  });

  it("streams ticks of the named interrupts until the signal aborts", async () => {
    await using(await build(fakeBoardModel, "b", attributes), async (b) => {
      const ac = new AbortController();
      const stream = b.streamTicks(["di0"], internalCall(ac.signal));
      const got: Tick[] = [];
      const done = (async () => {
        for await (const t of stream) got.push(t);
      })();
      b.tick("di0", true, 100n);
      b.tick("di1", true, 150n); // not asked for
      await sleep(1);
      b.tick("di0", false, 200n);
      await sleep(1);
      ac.abort();
      await done;
      assert.deepEqual(got, [
        { pinName: "di0", high: true, timeNs: 100n },
        { pinName: "di0", high: false, timeNs: 200n },
      ]);
      assert.equal(b.openStreams(), 0);
    });
  });

  it("ends tick streams on close and rejects streams of unknown interrupts", async () => {
    const b = await build(fakeBoardModel, "b", attributes);
    const iterator = b.streamTicks(["di0", "di1"], call)[Symbol.asyncIterator]();
    const next = iterator.next();
    b.tick("di1");
    assert.equal((await next).value?.pinName, "di1");
    const pending = iterator.next();
    await b.close();
    assert.equal((await pending).done, true);
    const bad = b.streamTicks(["di0", "ghost"], call)[Symbol.asyncIterator]();
    await assert.rejects(bad.next(), /ghost/);
  });

  it("stores the power mode and returns to normal after the duration", async () => {
    await using(await build(fakeBoardModel, "b"), async (b) => {
      await b.setPowerMode("offline_deep", undefined, call);
      assert.equal(b.powerMode(), "offline_deep");
      await b.setPowerMode("normal", undefined, call);
      assert.equal(b.powerMode(), "normal");
      await b.setPowerMode("offline_deep", 20, call);
      assert.equal(b.powerMode(), "offline_deep");
      await sleep(40);
      assert.equal(b.powerMode(), "normal");
      await assert.rejects(b.setPowerMode("offline_deep", -1, call), /duration/);
    });
  });

  it("validates its attributes", () => {
    assert.throws(() => fakeBoardModel.validate?.({ digital_interrupts: [{ name: "d" }] }), /digital_interrupts\.0\.pin/);
    assert.throws(() => fakeBoardModel.validate?.({ analogs: [{ pin: "1" }] }), /analogs\.0\.name/);
    assert.throws(() => fakeBoardModel.validate?.({ analogs: "a1" }), /analogs/);
    assert.deepEqual(fakeBoardModel.validate?.(attributes), { required: [], optional: [] });
  });
});

describe("fake motor", () => {
  it("GoFor 2 revolutions at a high rpm moves the position by 2 and resolves", async () => {
    await using(await build(fakeMotorModel, "m", { max_rpm: 6000 }), async (m) => {
      await m.resetZeroPosition(-1, call); // start at 1
      assert.equal(await m.position(call), 1);
      const started = performance.now();
      await m.goFor(6000, 2, call); // 2 revolutions at 100 rev/s: 20 ms
      const elapsed = performance.now() - started;
      assert.ok(Math.abs((await m.position(call)) - 3) < 1e-6, `position ${await m.position(call)}`);
      assert.ok(elapsed >= 15 && elapsed < 500, `took ${elapsed} ms`);
      assert.equal(await m.isMoving(), false);
      assert.deepEqual(await m.isPowered(call), { isOn: false, powerPct: 0 });
      // Negative rpm (or negative revolutions) goes backwards.
      await m.goFor(-6000, 1, call);
      assert.ok(Math.abs((await m.position(call)) - 2) < 1e-6);
    });
  });

  it("is moving and powered during GoFor, which stop ends early", async () => {
    await using(await build(fakeMotorModel, "m", { max_rpm: 600 }), async (m) => {
      const move = m.goFor(60, 10, call); // 1 rev/s: would take 10 s
      await sleep(30);
      assert.equal(await m.isMoving(), true);
      const powered = await m.isPowered(call);
      assert.equal(powered.isOn, true);
      assert.ok(Math.abs(powered.powerPct - 0.1) < 1e-9);
      const midway = await m.position(call);
      assert.ok(midway > 0 && midway < 1, `position ${midway}`);
      await m.stop(call);
      await move; // resolves, as rdk's GoFor returns when superseded by Stop
      const stopped = await m.position(call);
      assert.ok(stopped >= midway && stopped < 0.5, `position ${stopped}`);
      assert.equal(await m.isMoving(), false);
      await sleep(10);
      assert.equal(await m.position(call), stopped);
    });
  });

  it("GoFor rejects and stops when its call is aborted", async () => {
    await using(await build(fakeMotorModel, "m"), async (m) => {
      const ac = new AbortController();
      const move = m.goFor(100, 50, internalCall(ac.signal));
      await sleep(10);
      ac.abort(new Error("client went away"));
      await assert.rejects(move, /client went away/);
      assert.equal(await m.isMoving(), false);
      const p = await m.position(call);
      assert.ok(p > 0 && p < 1, `position ${p}`);
      await assert.rejects(m.goFor(100, 1, internalCall(ac.signal)), /client went away/);
    });
  });

  it("SetPower makes the position grow over time and IsPowered reports it", async () => {
    await using(await build(fakeMotorModel, "m", { max_rpm: 600 }), async (m) => {
      await m.setPower(0.5, call); // 300 rpm = 5 rev/s
      assert.deepEqual(await m.isPowered(call), { isOn: true, powerPct: 0.5 });
      assert.equal(await m.isMoving(), true);
      await sleep(20);
      const p1 = await m.position(call);
      await sleep(20);
      const p2 = await m.position(call);
      assert.ok(p1 > 0.05 && p2 > p1, `positions ${p1}, ${p2}`);
      await m.setPower(-0.25, call);
      assert.deepEqual(await m.isPowered(call), { isOn: true, powerPct: -0.25 });
      await m.setPower(0, call);
      assert.deepEqual(await m.isPowered(call), { isOn: false, powerPct: 0 });
      assert.equal(await m.isMoving(), false);
    });
  });

  it("GoTo moves to a position and SetRpm runs until stopped", async () => {
    await using(await build(fakeMotorModel, "m", { max_rpm: 6000 }), async (m) => {
      await m.goTo(6000, -1.5, call);
      assert.ok(Math.abs((await m.position(call)) + 1.5) < 1e-6);
      await m.goTo(-6000, 0.5, call); // the sign of rpm does not matter for GoTo
      assert.ok(Math.abs((await m.position(call)) - 0.5) < 1e-6);
      await m.setRpm(-600, call);
      assert.deepEqual(await m.isPowered(call), { isOn: true, powerPct: -0.1 });
      await sleep(20);
      await m.stop(call);
      const p = await m.position(call);
      assert.ok(p < 0.5 - 0.1, `position ${p}`);
      assert.equal(await m.isMoving(), false);
    });
  });

  it("clamps rpm above max_rpm (default 100) and refuses zero rpm", async () => {
    await using(await build(fakeMotorModel, "m"), async (m) => {
      assert.equal(m.maxRpm, 100);
      await m.setRpm(1000, call);
      assert.deepEqual(await m.isPowered(call), { isOn: true, powerPct: 1 });
      await m.stop(call);
      await assert.rejects(m.goFor(0, 1, call), /RPM that is nearly 0/);
      await assert.rejects(m.setRpm(0, call), /RPM that is nearly 0/);
      await assert.rejects(m.goTo(0, 1, call), /RPM that is nearly 0/);
      await assert.rejects(m.goFor(Number.NaN, 1, call), /rpm/);
    });
    await using(await build(fakeMotorModel, "m", { max_rpm: 600 }), async (m) => {
      const started = performance.now();
      await m.goFor(60_000, 0.2, call); // clamped to 600 rpm: 20 ms rather than 0.2 ms
      assert.ok(performance.now() - started >= 15);
      assert.ok(Math.abs((await m.position(call)) - 0.2) < 1e-6);
    });
  });

  it("a new command supersedes a running GoFor", async () => {
    await using(await build(fakeMotorModel, "m"), async (m) => {
      const move = m.goFor(100, 10, call);
      await m.setPower(0.2, call);
      await move;
      assert.deepEqual(await m.isPowered(call), { isOn: true, powerPct: 0.2 });
    });
  });

  it("resets the zero position with an offset and reports position", async () => {
    await using(await build(fakeMotorModel, "m"), async (m) => {
      assert.deepEqual(await m.properties(call), { positionReporting: true });
      await m.setPower(1, call);
      await sleep(5);
      await m.resetZeroPosition(0.25, call);
      assert.equal(await m.isMoving(), false);
      assert.equal(await m.position(call), -0.25);
      assert.ok(isActuator(m));
    });
  });

  it("names its encoder as a required dependency and needs ticks_per_rotation with it", () => {
    assert.deepEqual(fakeMotorModel.validate?.({ encoder: "e1", ticks_per_rotation: 100 }), { required: ["e1"], optional: [] });
    assert.deepEqual(fakeMotorModel.validate?.({}), { required: [], optional: [] });
    assert.throws(() => fakeMotorModel.validate?.({ encoder: "e1" }), /ticks_per_rotation/);
    assert.throws(() => fakeMotorModel.validate?.({ max_rpm: "fast" }), /max_rpm/);
    assert.throws(() => fakeMotorModel.validate?.({ max_rpm: -3 }), /max_rpm/);
  });

  it("drives a fake encoder dependency", async () => {
    const encoder = await build(fakeEncoderModel, "e1");
    const deps = new MapDependencies().add(encoderApi, encoder);
    const m: FakeMotor = await build(fakeMotorModel, "m", { max_rpm: 6000, encoder: "e1", ticks_per_rotation: 100 }, deps);
    try {
      await m.goFor(6000, 2, call);
      assert.ok(Math.abs((await encoder.position("ticks", call)).value - 200) < 1e-6);
      assert.ok(Math.abs((await m.position(call)) - 2) < 1e-6);
      await encoder.resetPosition(call);
      assert.equal(await m.position(call), 0);
    } finally {
      await m.close();
      await encoder.close();
    }
    await assert.rejects(build(fakeMotorModel, "m2", { encoder: "e2", ticks_per_rotation: 1 }, deps), /e2/);
  });
});

describe("fake encoder", () => {
  it("integrates the speed set by DoCommand and resets", async () => {
    await using(await build(fakeEncoderModel, "e", { ticks_per_rotation: 4 }), async (e: FakeEncoder) => {
      assert.deepEqual(await e.position("unspecified", call), { value: 0, type: "ticks" });
      await e.doCommand({ set_speed: 60_000 }, call); // 1000 ticks per second
      await sleep(20);
      const { value } = await e.position("ticks", call);
      assert.ok(value >= 15 && value < 200, `ticks ${value}`);
      await e.doCommand({ set_speed: 0, set_position: 6 }, call);
      assert.deepEqual(await e.position("ticks", call), { value: 6, type: "ticks" });
      assert.deepEqual(await e.position("degrees", call), { value: 540, type: "degrees" });
      await e.resetPosition(call);
      assert.equal((await e.position("ticks", call)).value, 0);
      assert.deepEqual(await e.properties(call), { ticksCountSupported: true, angleDegreesSupported: true });
      await assert.rejects(e.doCommand({ set_speed: "fast" }, call), /set_speed/);
      await assert.rejects(e.doCommand({ jump: 1 }, call), /not supported/);
    });
  });

  it("has no degrees without ticks_per_rotation", async () => {
    await using(await build(fakeEncoderModel, "e"), async (e) => {
      assert.deepEqual(await e.properties(call), { ticksCountSupported: true, angleDegreesSupported: false });
      await assert.rejects(e.position("degrees", call), /degrees/);
      e.setSpeed(-600);
      await sleep(10);
      assert.ok((await e.position("ticks", call)).value < 0);
    });
    assert.throws(() => fakeEncoderModel.validate?.({ ticks_per_rotation: 0 }), /ticks_per_rotation/);
  });
});

describe("fake movement sensor", () => {
  it("supports every property and reports rdk's fake values, in readings too", async () => {
    await using(await build(fakeMovementSensorModel, "ms"), async (ms) => {
      const props = await ms.properties(call);
      assert.ok(Object.values(props).every((v) => v === true));
      assert.equal(Object.keys(props).length, 6);
      const pos = await ms.position(call);
      assert.deepEqual(pos, { latitude: 40.7, longitude: -73.98, altitudeM: 50.5 });
      assert.equal(await ms.compassHeading(call), 25);
      assert.deepEqual(await ms.linearVelocity(call), { x: 0, y: 5.4, z: 0 });
      assert.deepEqual(await ms.angularVelocity(call), { x: 0, y: 0, z: 1 });
      assert.deepEqual(await ms.orientation(call), { oX: 0, oY: 0, oZ: 1, theta: 0 });
      assert.equal((await ms.accuracy(call)).positionNmeaGgaFix, 4);
      const r = await ms.readings(call);
      assert.deepEqual(r.position, { lat: 40.7, lng: -73.98, _type: "geopoint" });
      assert.equal(r.altitude, 50.5);
      assert.equal(r.compass, 25);
      assert.deepEqual(r.linear_velocity, { x: 0, y: 5.4, z: 0, _type: "vector3" });
      assert.deepEqual(r.linear_acceleration, { x: 2.2, y: 4.5, z: 2, _type: "vector3" });
      assert.deepEqual(r.angular_velocity, { x: 0, y: 0, z: 1, _type: "angular_velocity" });
      assert.deepEqual(r.orientation, { ox: 0, oy: 0, oz: 1, theta: 0, _type: "orientation_vector_degrees" });
    });
  });
});

describe("fake power sensor", () => {
  it("reports consistent values that change over time", async () => {
    await using(await build(fakePowerSensorModel, "ps"), async (ps) => {
      const r1 = await ps.readings(call);
      await sleep(15);
      const r2 = await ps.readings(call);
      for (const r of [r1, r2]) {
        assert.ok(Math.abs((r.volts as number) * (r.amps as number) - (r.watts as number)) < 1e-9);
        assert.ok(Math.abs((r.volts as number) - 12) < 0.5);
        assert.equal(r.is_ac, false);
      }
      assert.notEqual(r1.watts, r2.watts);
      const { volts } = await ps.voltage(call);
      const { amperes } = await ps.current(call);
      const watts = await ps.power(call);
      assert.ok(Math.abs(volts * amperes - watts) < 0.05);
    });
  });
});

describe("fake servo", () => {
  it("moves to an angle that position then reports", async () => {
    await using(await build(fakeServoModel, "sv"), async (sv) => {
      assert.equal(await sv.position(call), 0);
      await sv.move(90, call);
      assert.equal(await sv.position(call), 90);
      await sv.move(180, call);
      assert.equal(await sv.position(call), 180);
      assert.equal(await sv.isMoving(), false);
      await sv.stop(call);
      assert.equal(await sv.position(call), 180);
    });
  });

  it("refuses angles outside 0..180 and leaves the angle alone", async () => {
    await using(await build(fakeServoModel, "sv"), async (sv) => {
      await sv.move(45, call);
      await assert.rejects(sv.move(181, call), /0 to 180.*181/);
      await assert.rejects(sv.move(-1, call), /0 to 180/);
      await assert.rejects(sv.move(12.5, call), /whole number/);
      assert.equal(await sv.position(call), 45);
    });
  });
});

describe("fake generic", () => {
  it("echoes DoCommand", async () => {
    await using(await build(fakeGenericModel, "g"), async (g) => {
      const cmd = { a: 1, nested: { b: [true, null, "x"] } };
      assert.deepEqual(await g.doCommand(cmd, call), cmd);
    });
  });
});
