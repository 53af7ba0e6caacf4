// The XS bridge: timers, GPIO interrupts, PWM, ADC and Preference behave on XS as on Node (both
// engines run the same code against the same shims), guest exceptions are reported and the host
// goes on, the guest sees a board's globals, and values cross the bridge exactly.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ENGINES, IO, sleep, start } from "./engines.js";
import { World } from "../../tools/sim/world.js";
import { bundleFirmware } from "../../tools/sim/xs/bundle.js";
import { XsGuestError, XsHost } from "../../tools/sim/xs/host.js";
import { XsnapExit } from "../../tools/sim/xs/xsnap.js";
import { decode, encode, WireRef } from "../../tools/sim/xs/wire.js";
import type { RunningFirmware } from "../../tools/sim/xs/runner.js";

/** Polls `body` in the firmware until it returns true. */
async function eventually(fw: RunningFirmware, body: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fw.run<boolean>(body))) {
    if (Date.now() > end) throw new Error("timed out waiting for: " + body);
    await sleep(2);
  }
}

async function outcome(fw: RunningFirmware, body: string): Promise<unknown> {
  try {
    return { value: await fw.run(body) };
  } catch (error) {
    return { error: (error as Error).name + ": " + (error as Error).message };
  }
}

for (const engine of ENGINES) {
  describe(`IO and runtime modules on ${engine}`, () => {
    test("Timer: set fires once with the timer as argument; repeat until cleared; schedule from a callback", async () => {
      const fw = await start(engine, { expose: IO });
      try {
        await fw.run(`
          const Timer = modules.Timer.default;
          modules.log = [];
          const once = Timer.set((t) => modules.log.push(t === once ? "once" : "wrong timer"), 5);
          let n = 0;
          Timer.repeat((t) => { if (++n === 3) Timer.clear(t); modules.log.push("tick" + n); }, 3);
          let again = 0;
          Timer.set((t) => { if (++again < 3) Timer.schedule(t, 2); modules.log.push("again" + again); }, 1);`);
        await eventually(fw, `return modules.log.length >= 7`);
        await sleep(30);
        const log = await fw.run<string[]>(`return modules.log`);
        assert.deepEqual([...log].sort(), ["again1", "again2", "again3", "once", "tick1", "tick2", "tick3"]);
      } finally {
        await fw.stop();
      }
    });

    test("Timer: clearing a finished one-shot throws XS's host-data error; delay blocks", async () => {
      const fw = await start(engine, { expose: IO });
      try {
        await fw.run(`modules.done = false; modules.t = modules.Timer.default.set(() => { modules.done = true; }, 1);`);
        await eventually(fw, `return modules.done`);
        await assert.rejects(fw.run(`modules.Timer.default.clear(modules.t)`), { name: "SyntaxError", message: "C: xsGetHostData: invalid" });
        await assert.rejects(fw.run(`modules.Timer.default.schedule({}, 5)`), { name: "SyntaxError", message: "C: xsGetHostData: no host object" });
        await assert.rejects(fw.run(`modules.Timer.default.set(5, 5)`), { name: "TypeError", message: "callback is not a function" });
        const waited = await fw.run<number>(`const t0 = Date.now(); modules.Timer.default.delay(25); return Date.now() - t0;`);
        assert.ok(waited >= 24, `delay(25) took ${waited} ms`);
      } finally {
        await fw.stop();
      }
    });

    test("Digital: an edge on an input reaches onReadable (this = the Digital); outputs drive the pin", async () => {
      const world = new World();
      const fw = await start(engine, { world, expose: IO });
      try {
        await fw.run(`
          const Digital = modules.Digital.default;
          modules.edges = [];
          modules.button = new Digital({ pin: 4, mode: Digital.InputPullDown, edge: Digital.Rising, target: "t",
            onReadable(triggered) { modules.edges.push([triggered, this === modules.button, this.read(), this.target]); } });
          modules.led = new Digital({ pin: 2, mode: Digital.Output });
          modules.led.write(1);`);
        assert.equal(world.gpio.level(2), 1);
        world.gpio.drive(4, 1);
        await eventually(fw, `return modules.edges.length === 1`);
        assert.deepEqual(await fw.run(`return modules.edges[0]`), [1 << 4, true, 1, "t"]);
        world.gpio.drive(4, 0); // a falling edge: not asked for
        await sleep(10);
        assert.equal(await fw.run(`return modules.edges.length`), 1);
        await assert.rejects(fw.run(`modules.led.read()`), { message: "unimplemented" });
        await assert.rejects(fw.run(`new modules.Digital.default({ pin: 2, mode: 8 })`), { message: "in use" });
        await assert.rejects(fw.run(`new modules.Digital.default({ pin: 34, mode: 8 })`), { name: "RangeError", message: "invalid mode" });
        await fw.run(`modules.button.close(); modules.led.close();`);
        await assert.rejects(fw.run(`modules.led.write(0)`), { name: "SyntaxError", message: "C: xsGetHostData: invalid" });
        assert.ok(world.isPinFree(2) && world.isPinFree(4));
      } finally {
        await fw.stop();
      }
    });

    test("PWM and Analog: duty reaches the LEDC output; a voltage reads back in ADC counts", async () => {
      const world = new World();
      world.setVoltage(36, 1.65);
      const fw = await start(engine, { world, expose: IO });
      try {
        const r = await fw.run<number[]>(`
          const pwm = new modules.PWM.default({ pin: 5, hz: 5000 });
          pwm.write(256);
          const adc = new modules.Analog.default({ pin: 36 });
          return [pwm.hz, pwm.resolution, adc.resolution, adc.read()];`);
        assert.deepEqual(r, [5000, 10, 10, 511]);
        assert.equal(world.pwm(5)?.duty, 256);
        await assert.rejects(fw.run(`new modules.Analog.default({ pin: 17 })`), { name: "RangeError", message: "not analog pin" });
      } finally {
        await fw.stop();
      }
    });
  });
}

test("Preference: the same values and the same errors (key and value limits, floats) on XS as on Node", async () => {
  const operations = [
    `P.set("app", "flag", true); return P.get("app", "flag")`,
    `P.set("app", "count", -42); return P.get("app", "count")`,
    `P.set("app", "name", "héllo"); return P.get("app", "name")`,
    `P.set("app", "blob", Uint8Array.of(1, 2, 3).buffer); return new Uint8Array(P.get("app", "blob"))[2]`,
    `return P.get("app", "blob") instanceof ArrayBuffer`,
    `P.set("app", "fifteen_chars__", 1); return P.keys("app")`,
    `P.set("app", "sixteen_chars___", 1)`,
    `P.set("app", "float", 1.5)`,
    `P.set("app", "nan", NaN)`,
    `P.set("app", "big", 2 ** 31)`,
    `P.set("app", "str", "x".repeat(3999)); return P.get("app", "str").length`,
    `P.set("app", "str", "x".repeat(4000))`,
    `return P.get("app", "str")`,
    `P.set("a_namespace_too_long", "k", 1)`,
    `P.set("app", "obj", {})`,
    `return P.get("nowhere", "k")`,
    `P.delete("app", "count"); return [P.get("app", "count"), P.keys("app")]`,
  ];
  const results: Record<string, unknown[]> = {};
  for (const engine of ENGINES) {
    const fw = await start(engine, { expose: IO });
    try {
      results[engine] = [];
      for (const body of operations) results[engine].push(await outcome(fw, "const P = modules.Preference.default;\n" + body));
    } finally {
      await fw.stop();
    }
  }
  assert.deepEqual(results.xs, results.node);
  const xs = results.xs as { value?: unknown; error?: string }[];
  assert.deepEqual(xs.slice(0, 5), [{ value: true }, { value: -42 }, { value: "héllo" }, { value: 3 }, { value: true }]);
  assert.deepEqual(xs[6], { error: "Error: nvs set fail" }); // 16-character key
  assert.deepEqual(xs[7], { error: "Error: float unsupported" });
  assert.deepEqual(xs[8], { error: "Error: float unsupported" });
  assert.deepEqual(xs[9], { error: "Error: float unsupported" });
  assert.deepEqual(xs[10], { value: 3999 });
  assert.deepEqual(xs[11], { error: "Error: nvs set fail" }); // 4000 bytes + NUL
  assert.deepEqual(xs[12], { value: undefined }); // the failed set erased the key first, as on a board
  assert.deepEqual(xs[13], { error: "Error: nvs_open fail" });
  assert.deepEqual(xs[14], { error: "Error: unsupported type" });
});

describe("the XS host", () => {
  test("an exception in XS is reported with its class, message and XS stack; the host keeps working", async () => {
    const fw = await start("xs", { expose: IO });
    try {
      await assert.rejects(fw.run(`throw new RangeError("out of range: " + 7)`), (error: unknown) => {
        assert.ok(error instanceof XsGuestError);
        assert.equal(error.name, "RangeError");
        assert.equal(error.message, "out of range: 7");
        assert.match(error.guestStack, /^RangeError: out of range: 7\n at hostRun/);
        return true;
      });
      await assert.rejects(fw.run(`null.x`), { name: "TypeError", message: /cannot coerce null to object/ });
      await assert.rejects(fw.run(`throw "a string"`), { message: "uncaught a string" });
      await assert.rejects(fw.run(`return () => 1`), { message: "cannot marshal a function" });
      assert.equal(await fw.run(`return 6 * 7`), 42);
    } finally {
      await fw.stop();
    }
  });

  test("an exception in a timer or interrupt callback goes to onError; later callbacks still run", async () => {
    const world = new World();
    const errors: Error[] = [];
    const fw = await start("xs", { world, expose: IO, xs: { onError: (error) => errors.push(error) } });
    try {
      await fw.run(`
        modules.ticks = 0;
        modules.Timer.default.repeat(() => { if (++modules.ticks === 2) throw new Error("boom at tick 2"); }, 2);
        new modules.Digital.default({ pin: 4, mode: 0, edge: 1, onReadable() { null.read(); } });`);
      await eventually(fw, `return modules.ticks >= 4`);
      world.gpio.drive(4, 1);
      await sleep(10);
      assert.equal(errors.length, 2);
      const [timer, edge] = errors as XsGuestError[];
      assert.equal(timer.message, "boom at tick 2");
      assert.equal(timer.during, "timer");
      assert.equal(edge.name, "TypeError");
      assert.equal(edge.during, "onReadable");
      assert.deepEqual(fw.xs?.errors, errors);
    } finally {
      await fw.stop();
    }
  });

  test("a runaway loop stops the worker with XS's 'too much computation', reported as such", async () => {
    const fw = await start("xs", { expose: IO, xs: { meteringLimit: 1e6 } });
    try {
      await assert.rejects(fw.run(`for (;;) {}`), (error: unknown) => {
        assert.ok(error instanceof XsnapExit);
        assert.equal(error.status, 17);
        assert.match(error.message, /too much computation/);
        return true;
      });
      assert.equal(fw.xs?.alive, false);
    } finally {
      await fw.stop();
    }
  });

  test("the guest sees a board's globals: trace and Moddable's ArrayBuffer/String helpers, not xsnap's extras", async () => {
    const fw = await start("xs", { expose: IO });
    try {
      const r = await fw.run(`
        trace("hello ", 42, "\\n");
        return {
          hidden: ["issueCommand", "print", "gc", "performance", "setImmediate", "TextEncoder", "TextDecoder", "harden", "console", "setTimeout"]
            .filter((name) => name in globalThis),
          utf8: String.fromArrayBuffer(ArrayBuffer.fromString("héllo €")),
          bytes: ArrayBuffer.fromString("é").byteLength,
          idiv: Math.idiv(7, 2),
        };`);
      assert.deepEqual(r, { hidden: [], utf8: "héllo €", bytes: 2, idiv: 3 });
      assert.equal(fw.xs?.traced, "hello 42\n");
    } finally {
      await fw.stop();
    }
  });

  test("an IO object the firmware drops without close() is released when XS collects it", async () => {
    const world = new World();
    const fw = await start("xs", { world, expose: IO });
    try {
      await fw.run(`new modules.Digital.default({ pin: 5, mode: 8 }).write(1)`);
      // (XS may still hold the very last object it made; make another, which is kept.)
      await fw.run(`modules.kept = new modules.Digital.default({ pin: 12, mode: 8 })`);
      assert.equal(world.pinOwner(5), "Digital");
      fw.xs?.collectGarbage(); // XS's FinalizationRegistry tells the host, which closes the shim as a destructor would
      assert.ok(world.isPinFree(5));
      assert.equal(world.pinOwner(12), "Digital");
    } finally {
      await fw.stop();
    }
  });

  test("values cross the bridge exactly: -0, NaN, ±Infinity, int32 edges, UTF-8, bytes, nesting", async () => {
    const fw = await start("xs", { expose: IO });
    try {
      const r = await fw.run<unknown[]>(
        `return [-0, NaN, Infinity, -Infinity, 2147483647, -2147483648, 2 ** 31, 0.1, "é€😀\\u0000", Uint8Array.of(0, 255).buffer, { a: [null, undefined, true, false] }]`,
      );
      assert.ok(Object.is(r[0], -0));
      assert.deepEqual(r.slice(1, 9), [NaN, Infinity, -Infinity, 2147483647, -2147483648, 2 ** 31, 0.1, "é€😀\u0000"]);
      assert.deepEqual(new Uint8Array(r[9] as ArrayBuffer), Uint8Array.of(0, 255));
      assert.deepEqual(r[10], { a: [null, undefined, true, false] });
    } finally {
      await fw.stop();
    }
  });

  test("a module with no guest bridge fails the bundle with its name", async () => {
    await assert.rejects(bundleFirmware({ expose: { UDP: "embedded:io/socket/udp" } }), /"embedded:io\/socket\/udp" is not available on the XS engine/);
  });

  test("a bundle that throws while loading fails start() with the exception", async () => {
    await assert.rejects(XsHost.start({ world: new World(), bundle: `throw new TypeError("bad firmware")` }), /TypeError: bad firmware/);
  });
});

test("wire codec: round trips and compact encodings", () => {
  const values: unknown[] = [
    undefined, null, true, false, 0, 1, -1, 63, -64, 2147483647, -2147483648, 4294967296, 1.5, -0, NaN,
    "", "ascii", "é€😀", "\ud800", new Uint8Array([1, 2, 3]).buffer, [1, [2, [3]]], { k: "v", n: { m: [] } },
  ];
  for (const value of values) {
    const back = decode(encode(value));
    if (value instanceof ArrayBuffer) assert.deepEqual(new Uint8Array(back as ArrayBuffer), new Uint8Array(value));
    else if (value === "\ud800") assert.equal(back, "\ufffd");
    else assert.deepEqual(back, value);
  }
  assert.deepEqual(decode(encode(new Uint16Array([0x0102]))), Uint8Array.of(2, 1).buffer);
  const ref = decode(encode(new WireRef(300)));
  assert.ok(ref instanceof WireRef && ref.handle === 300);
  // An I2C register read as the guest sends it: [CALL, handle, "read", [buffer of 8], [0]].
  assert.equal(encode([2, 7, "read", [new Uint8Array(8)], [0]]).byteLength, 28);
  assert.throws(() => decode(Uint8Array.of(4, 0x80)), /truncated/);
  assert.throws(() => decode(Uint8Array.of(0, 0)), /trailing/);
  assert.throws(() => encode(Symbol("s")), /cannot marshal a symbol/);
});
