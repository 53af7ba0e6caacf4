// The embedded:* / timer / preference shims behave like Moddable's ESP32 builtins, on the world.
import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { end, freshWorld, World } from "./sim.js";
import { setWorld } from "../../tools/sim/world.js";

const { default: Digital } = await import("embedded:io/digital");
const { default: PWM } = await import("embedded:io/pwm");
const { default: Analog } = await import("embedded:io/analog");
const { default: I2C } = await import("embedded:io/i2c");
const { default: Timer } = await import("timer");
const { default: Preference } = await import("preference");

let w: World;
beforeEach(() => {
  w = freshWorld();
});
afterEach(() => end(w));

/** Moddable's PWM and I2C have close(); the 5.6.0 typings leave it out. */
const close = (io: object) => (io as { close(): void }).close();
const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe("embedded:io/digital", () => {
  test("outputs drive the pin; inputs read what the world drives, with pulls", () => {
    const led = new Digital({ pin: 2, mode: Digital.Output });
    assert.equal(w.gpio.level(2), 0);
    led.write(1);
    assert.equal(w.gpio.level(2), 1);
    assert.throws(() => led.read(), { message: "unimplemented" }); // ESP32 outputs cannot be read back

    const button = new Digital({ pin: 4, mode: Digital.InputPullUp });
    assert.equal(button.read(), 1);
    w.gpio.drive(4, 0);
    assert.equal(button.read(), 0);
    assert.throws(() => button.write(1), { message: "unimplemented" });

    const floating = new Digital({ pin: 5, mode: Digital.Input });
    assert.equal(floating.read(), 0);
  });

  test("edge interrupts: asynchronous, filtered by edge, coalesced until delivered", async () => {
    const calls: number[] = [];
    const input = new Digital({
      pin: 13,
      mode: Digital.Input,
      edge: Digital.Rising,
      onReadable(this: unknown, ...args: unknown[]) {
        assert.equal(this, input);
        calls.push(args[0] as number);
      },
    });
    w.gpio.drive(13, 1);
    assert.deepEqual(calls, []); // not inside the edge
    await immediate();
    assert.deepEqual(calls, [1 << 13]);
    w.gpio.drive(13, 0); // falling: ignored
    await immediate();
    assert.equal(calls.length, 1);
    for (let i = 0; i < 3; i++) {
      w.gpio.drive(13, 1);
      w.gpio.drive(13, 0);
    }
    await immediate();
    assert.equal(calls.length, 2); // three rising edges, one message
    input.close();
    w.gpio.drive(13, 1);
    await immediate();
    assert.equal(calls.length, 2);
  });

  test("ESP32 rules: input-only pins, pins in use, onReadable needs an input and an edge, closed objects", () => {
    assert.throws(() => new Digital({ pin: 34, mode: Digital.Output }), { name: "RangeError", message: "invalid mode" });
    const a = new Digital({ pin: 12, mode: Digital.Output });
    assert.throws(() => new Digital({ pin: 12, mode: Digital.Input }), { message: "in use" });
    assert.throws(() => new Digital({ pin: 14, mode: Digital.Input, onReadable() {} } as never), { message: "invalid edges" });
    assert.throws(() => new Digital({ pin: 14, mode: Digital.Output, edge: Digital.Rising, onReadable() {} }), { message: "invalid mode" });
    assert.throws(() => new Digital({ pin: 24, mode: Digital.Input }), { name: "RangeError" }); // no GPIO24 on the ESP32
    a.close();
    assert.throws(() => a.write(1), { name: "SyntaxError", message: "C: xsGetHostData: invalid" });
    new Digital({ pin: 12, mode: Digital.Input }).close(); // the pin is free again
  });
});

describe("embedded:io/pwm", () => {
  test("defaults 1024 Hz, 10 bits; duty in counts, full scale always on", () => {
    const pwm = new PWM({ pin: 25 });
    assert.equal(pwm.hz, 1024);
    assert.equal(pwm.resolution, 10);
    pwm.write(256);
    assert.deepEqual(w.pwm(25), { hz: 1024, resolution: 10, duty: 256, dutyCycle: 0.25 });
    pwm.write(1023);
    assert.equal(w.pwm(25)?.dutyCycle, 1);
    assert.throws(() => pwm.write(1024), { name: "RangeError", message: "invalid value" });
    close(pwm);
    assert.equal(w.pwm(25), undefined);
  });

  test("frequency and resolution limits, LEDC channels 4-7 only", () => {
    assert.throws(() => new PWM({ pin: 25, hz: 10 } as never), { message: "invalid combination of hz and resolution" });
    const servo = new PWM({ pin: 26, hz: 50, resolution: 14 } as never);
    assert.equal(servo.resolution, 14);
    assert.throws(() => new PWM({ pin: 27, hz: 100_000, resolution: 12 } as never), { message: "configure ledc timer failed" });
    const more = [new PWM({ pin: 27 }), new PWM({ pin: 32 }), new PWM({ pin: 33 })];
    assert.throws(() => new PWM({ pin: 18 }), { message: "no ledc channel" });
    for (const pwm of [servo, ...more]) close(pwm);
    close(new PWM({ pin: 18 }));
  });
});

describe("embedded:io/analog", () => {
  test("ESP32: 10-bit readings of 0-3.3 V on ADC pins only; ADC2 fails while Wi-Fi runs", () => {
    const adc = new Analog({ pin: 36 });
    assert.equal(adc.resolution, 10);
    w.setVoltage(36, 1.65);
    assert.equal(adc.read(), 511); // 1650 mV × 1023 / 3300
    w.setVoltage(36, 5);
    assert.equal(adc.read(), 1023);
    assert.throws(() => new Analog({ pin: 23 }), { name: "RangeError", message: "not analog pin" });
    const adc2 = new Analog({ pin: 25 });
    w.setVoltage(25, 3.3);
    assert.equal(adc2.read(), 1023);
    w.wifiActive = true;
    assert.throws(() => adc2.read(), { message: "ADC2 read timed out" });
  });

  test("ESP32-S3 and C3 read 12 bits", () => {
    for (const chip of ["esp32s3", "esp32c3"] as const) {
      const other = new World({ chip });
      setWorld(other);
      const adc = new Analog({ pin: 1 });
      assert.equal(adc.resolution, 12);
      other.setVoltage(1, 1.65);
      assert.equal(adc.read(), 2047);
    }
    setWorld(w);
  });
});

describe("embedded:io/i2c", () => {
  test("no device at the address: writes and reads throw as Moddable's; an empty write probes", () => {
    const i2c = new I2C({ data: 21, clock: 22, hz: 100_000, address: 0x3c });
    assert.throws(() => i2c.write(Uint8Array.of(0)), { name: "Error", message: "write failed" });
    assert.throws(() => i2c.read(2), { name: "Error", message: "read failed" });
    assert.equal(i2c.write(new Uint8Array(0)), 1);
  });

  test("constructor checks: required options, hz range, duplicate address, shared pins", () => {
    assert.throws(() => new I2C({ clock: 22, hz: 100_000, address: 1 } as never), { name: "RangeError", message: "data required" });
    assert.throws(() => new I2C({ data: 21, clock: 22, address: 1 } as never), { name: "RangeError", message: "invalid hz" });
    assert.throws(() => new I2C({ data: 21, clock: 22, hz: 100_000, address: 128 }), { message: "invalid address" });
    const a = new I2C({ data: 21, clock: 22, hz: 100_000, address: 0x40 });
    assert.throws(() => new I2C({ data: 21, clock: 22, hz: 400_000, address: 0x40 }), { message: "duplicate address" });
    const b = new I2C({ data: 21, clock: 22, hz: 400_000, address: 0x41 }); // same pins, another address
    assert.throws(() => new Digital({ pin: 21, mode: Digital.Input }), { message: "in use" });
    close(a);
    close(b);
    new Digital({ pin: 21, mode: Digital.Input }).close();
  });

  test("read(n) returns a new ArrayBuffer, read(buffer) fills it; stop flags reach the bus", () => {
    const bus = w.i2c({ data: 21, clock: 22 });
    bus.attach(0x50, {
      write() {},
      read(into: Uint8Array) {
        into.forEach((_, i) => (into[i] = i + 1));
      },
    });
    bus.trace = [];
    const i2c = new I2C({ data: 21, clock: 22, hz: 100_000, address: 0x50 });
    i2c.write(Uint8Array.of(7), false);
    const got = i2c.read(3);
    assert.ok(got instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(got)], [1, 2, 3]);
    const into = new Uint8Array(2);
    i2c.read(into);
    assert.deepEqual([...into], [1, 2]);
    assert.deepEqual(bus.trace.map((t) => t.stop), [false, true, true]);
  });
});

describe("timer", () => {
  test("set fires once with the timer; repeat fires until cleared; a finished one-shot cannot be cleared", async () => {
    const fired: unknown[] = [];
    const once = Timer.set((t) => fired.push(t), 5);
    let count = 0;
    const every = Timer.repeat(() => count++, 4);
    await sleep(30);
    assert.deepEqual(fired, [once]);
    assert.ok(count >= 3, `repeat fired ${count} times`);
    Timer.clear(every);
    const after = count;
    await sleep(15);
    assert.equal(count, after);
    assert.throws(() => Timer.clear(once), { name: "SyntaxError" }); // host data gone, as on XS
    assert.throws(() => Timer.clear(every), { name: "SyntaxError" });
    Timer.clear(undefined); // allowed
  });

  test("schedule: without an interval it stops firing; rescheduled from its callback a one-shot lives on", async () => {
    let n = 0;
    const t = Timer.set(() => {
      n++;
      if (n < 3) Timer.schedule(t, 2);
    }, 2);
    await sleep(30);
    assert.equal(n, 3);
    const idle = Timer.repeat(() => n++, 2);
    Timer.schedule(idle);
    await sleep(10);
    assert.equal(n, 3);
    Timer.schedule(idle, 1, 0);
    await sleep(10);
    assert.equal(n, 4);
  });

  test("delay blocks; dispose stops the world's timers", async () => {
    const start = performance.now();
    Timer.delay(20);
    assert.ok(performance.now() - start >= 19);
    let fired = false;
    Timer.set(() => (fired = true), 5);
    w.dispose();
    await sleep(15);
    assert.equal(fired, false);
  });
});

describe("preference", () => {
  test("values round-trip with Moddable's types; booleans come back as booleans (u8)", () => {
    Preference.set("wifi", "ssid", "robot-lab");
    Preference.set("wifi", "channel", 11);
    Preference.set("wifi", "hidden", true);
    Preference.set("wifi", "blob", Uint8Array.of(1, 2, 3).buffer);
    assert.equal(Preference.get("wifi", "ssid"), "robot-lab");
    assert.equal(Preference.get("wifi", "channel"), 11);
    assert.equal(Preference.get("wifi", "hidden"), true);
    assert.deepEqual([...new Uint8Array(Preference.get("wifi", "blob") as ArrayBuffer)], [1, 2, 3]);
    assert.deepEqual(Preference.keys("wifi"), ["ssid", "channel", "hidden", "blob"]);
    assert.equal(Preference.get("wifi", "missing"), undefined);
    assert.equal(Preference.get("nowhere", "ssid"), undefined);
    Preference.delete("wifi", "ssid");
    assert.equal(Preference.get("wifi", "ssid"), undefined);
    assert.deepEqual(w.nvs.get("wifi", "hidden", "u8"), { type: "u8", value: 1 }); // stored as NVS u8
  });

  test("device limits: 15-character names, 4000-byte values, no floats", () => {
    Preference.set("config", "k".repeat(15), 1);
    assert.throws(() => Preference.set("config", "k".repeat(16), 1), { name: "Error", message: "nvs set fail" });
    assert.throws(() => Preference.get("config", "k".repeat(16)), { message: "nvs get fail" });
    assert.throws(() => Preference.set("d".repeat(16), "key", 1), { message: "nvs_open fail" });
    Preference.set("config", "text", "x".repeat(3999)); // 4000 bytes with the NUL
    assert.throws(() => Preference.set("config", "text", "x".repeat(4000)), { message: "nvs set fail" });
    assert.throws(() => Preference.set("config", "text", "x".repeat(4001)), { message: "nvs set fail" });
    assert.throws(() => Preference.set("config", "ratio", 0.5), { message: "float unsupported" });
    assert.throws(() => Preference.set("config", "big", 2 ** 31), { message: "float unsupported" });
    assert.throws(() => Preference.set("config", "typed", new Uint8Array(2) as never), { message: "unsupported type" });
    // Moddable erases the key before writing: a refused value leaves it gone.
    assert.equal(Preference.get("config", "text"), undefined);
    // Blobs span pages: up to (6 − 1) × 4000 bytes on Moddable's 0x6000 nvs partition.
    Preference.set("config", "cert", new ArrayBuffer(20000));
    assert.throws(() => Preference.set("config", "cert", new ArrayBuffer(20001)), { message: "nvs set fail" });
  });

  test("each world has its own NVS", () => {
    Preference.set("viam", "id", "abc");
    const other = freshWorld();
    assert.equal(Preference.get("viam", "id"), undefined);
    end(other);
    setWorld(w);
    assert.equal(Preference.get("viam", "id"), "abc");
  });
});

describe("node --import register.js", () => {
  test("a plain Node process runs firmware imports through the shims", () => {
    const register = fileURLToPath(new URL("../../tools/sim/register.js", import.meta.url));
    const worldModule = new URL("../../tools/sim/world.js", import.meta.url).href;
    const script = `
      const { World, setWorld } = await import(${JSON.stringify(worldModule)});
      setWorld(new World());
      const { default: Digital } = await import("embedded:io/digital");
      const { default: Preference } = await import("preference");
      const out = new Digital({ pin: 2, mode: Digital.Output });
      out.write(1);
      Preference.set("d", "k", 7);
      console.log(JSON.stringify([Digital.Output, Preference.get("d", "k")]));
    `;
    const result = spawnSync(process.execPath, ["--import", register, "--input-type=module", "-e", script], { encoding: "utf8" });
    assert.equal(result.stderr, "");
    assert.equal(result.stdout.trim(), "[8,7]");
  });
});
