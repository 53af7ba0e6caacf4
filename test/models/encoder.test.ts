// The incremental (quadrature) and single encoders over a fake board's digital interrupts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { boardApi } from "../../host/components/board/board.js";
import { fakeBoardModel, type FakeBoard } from "../../host/components/board/fake.js";
import { incrementalEncoderModel, QuadratureDecoder, type IncrementalEncoder } from "../../host/components/encoder/incremental.js";
import { singleEncoderModel, type SingleEncoder } from "../../host/components/encoder/single.js";
import { NotSupportedError } from "../../host/resource/resource.js";
import { build, call, MapDependencies, quadratureEdges, waitFor } from "./support.js";

async function boardWith(interrupts: { name?: string; pin: string | number }[]): Promise<FakeBoard> {
  return build(fakeBoardModel, "b", { digital_interrupts: interrupts });
}

/** Lets the board's tick stream deliver what is queued (it runs on promise jobs, before the next turn). */
async function drain(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function ticks(e: { position: IncrementalEncoder["position"] }): Promise<number> {
  return (await e.position("ticks", call)).value;
}

describe("QuadratureDecoder (rdk's state table)", () => {
  /** Feeds a sequence like "b+ a+ b- a-". */
  function feed(d: QuadratureDecoder, seq: string): void {
    for (const step of seq.split(" ").filter(Boolean)) d.update(step[0] as "a" | "b", step[1] === "+");
  }

  it("counts up with B leading A: two ticks per full cycle of four edges", () => {
    const d = new QuadratureDecoder();
    feed(d, "b+ a+ b- a-");
    assert.equal(d.raw(), 4);
    assert.equal(d.position(), 2);
    feed(d, "b+ a+ b- a- b+ a+ b- a-");
    assert.equal(d.position(), 6);
  });

  it("counts down with A leading B", () => {
    const d = new QuadratureDecoder();
    feed(d, "a+ b+ a- b-");
    assert.equal(d.position(), -2);
    feed(d, "a+ b+ a- b- a+");
    assert.equal(d.raw(), -9);
    assert.equal(d.position(), -5, "the half-tick count halves rounding down, as Go's >> 1");
  });

  it("reverses mid-cycle", () => {
    const d = new QuadratureDecoder();
    feed(d, "b+ a+ b- a- b+ a+");
    assert.equal(d.raw(), 6);
    feed(d, "a- b- a+ b+ a- b-"); // back the same way
    assert.equal(d.raw(), 0);
  });

  it("ignores bounce: a line chattering up and down cancels out, and a repeated level is no step", () => {
    const d = new QuadratureDecoder();
    feed(d, "b+ b- b+ b- b+");
    assert.equal(d.raw(), 1);
    feed(d, "b+ b+ a- b+");
    assert.equal(d.raw(), 1, "levels that did not change are no transition");
    feed(d, "a+ a- a+");
    assert.equal(d.raw(), 2);
  });

  it("reset zeroes the position but keeps the half-tick phase (rdk keeps the low bit)", () => {
    const d = new QuadratureDecoder();
    feed(d, "b+ a+ b-");
    assert.equal(d.position(), 1);
    d.reset();
    assert.equal(d.position(), 0);
    assert.equal(d.raw(), 1);
    feed(d, "a-");
    assert.equal(d.position(), 1);
    const back = new QuadratureDecoder();
    feed(back, "a+ b+ a-");
    assert.equal(back.raw(), -3);
    back.reset();
    assert.equal(back.raw(), 1, "-3 & 1 = 1, as two's complement");
    assert.equal(back.position(), 0);
  });
});

describe("incremental encoder", () => {
  it("decodes the board's interrupt ticks forwards and backwards", async () => {
    const board = await boardWith([{ name: "ea", pin: "31" }, { name: "eb", pin: "33" }]);
    const deps = new MapDependencies().add(boardApi, board);
    const enc = await build(incrementalEncoderModel, "enc", { board: "b", pins: { a: "ea", b: "eb" } }, deps);
    try {
      assert.equal(board.openStreams(), 1);
      let k = quadratureEdges(board, "ea", "eb", 0, 40);
      await waitFor("20 ticks", async () => (await ticks(enc)) === 20);
      k = quadratureEdges(board, "ea", "eb", k, -60);
      await waitFor("-10 ticks", async () => (await ticks(enc)) === -10);
      assert.deepEqual(await enc.position("unspecified", call), { value: -10, type: "ticks" });
      await enc.resetPosition(call);
      assert.equal(await ticks(enc), 0);
      quadratureEdges(board, "ea", "eb", k, 8);
      await waitFor("4 ticks after reset", async () => (await ticks(enc)) === 4);
    } finally {
      await enc.close();
      await board.close();
    }
    assert.equal(board.openStreams(), 0, "close ends the tick stream");
  });

  it("ignores bounce on the board's interrupts", async () => {
    const board = await boardWith([{ pin: 4 }, { pin: 5 }]);
    const enc = await build(incrementalEncoderModel, "enc", { board: "b", pins: { a: 4, b: 5 } }, new MapDependencies().add(boardApi, board));
    try {
      // B rises with chatter, then A rises with chatter: two half-ticks forward, one tick.
      for (const high of [true, false, true, false, true]) board.tick("5", high);
      for (const high of [true, true, false, true]) board.tick("4", high);
      board.tick("5", true); // repeated level
      await waitFor("the ticks to be decoded", () => enc.rawPosition() === 2);
      assert.equal(await ticks(enc), 1);
    } finally {
      await enc.close();
      await board.close();
    }
  });

  it("reports ticks only: degrees are not supported", async () => {
    const board = await boardWith([{ name: "ea", pin: "1" }, { name: "eb", pin: "2" }]);
    const enc = await build(incrementalEncoderModel, "enc", { board: "b", pins: { a: "ea", b: "eb" } }, new MapDependencies().add(boardApi, board));
    try {
      assert.deepEqual(await enc.properties(call), { ticksCountSupported: true, angleDegreesSupported: false });
      await assert.rejects(enc.position("degrees", call), NotSupportedError);
      await assert.rejects(enc.doCommand(), NotSupportedError);
    } finally {
      await enc.close();
    }
  });

  it("names what is wrong in its attributes and pins", async () => {
    const v = (attributes: object) => () => incrementalEncoderModel.validate!(attributes as never);
    assert.throws(v({ pins: { a: "x", b: "y" } }), /attribute board is required/);
    assert.throws(v({ board: "b", pins: { a: "x" } }), /attribute pins\.b is required/);
    assert.throws(v({ board: "b" }), /attribute pins\.a is required/);
    assert.throws(v({ board: "b", pins: { a: "x", b: "x" } }), /two different interrupts/);
    assert.throws(v({ board: "b", pins: { a: true, b: "x" } }), /attribute pins\.a must be a pin name or number/);
    assert.deepEqual(incrementalEncoderModel.validate!({ board: "b", pins: { a: "x", b: "y" } }), { required: ["b"], optional: [] });
    const board = await boardWith([{ name: "ea", pin: "1" }]);
    await assert.rejects(
      build(incrementalEncoderModel, "enc", { board: "b", pins: { a: "ea", b: "nope" } }, new MapDependencies().add(boardApi, board)),
      /cannot find pin \(nope\) for incremental encoder: can't find DigitalInterrupt \(nope\)/,
    );
    assert.equal(board.openStreams(), 0);
  });
});

describe("single encoder", () => {
  it("counts every tick up without a motor, and in the attached motor's direction with one", async () => {
    const board = await boardWith([{ name: "i", pin: "7" }]);
    const enc: SingleEncoder = await build(singleEncoderModel, "s", { board: "b", pins: { i: "i" } }, new MapDependencies().add(boardApi, board));
    try {
      board.tick("i", true);
      board.tick("i", false);
      board.tick("i", true);
      await waitFor("3 ticks", async () => (await ticks(enc)) === 3);
      let direction = -1;
      enc.attachDirection(() => direction);
      board.tick("i", true);
      board.tick("i", true);
      await waitFor("1 tick", async () => (await ticks(enc)) === 1);
      direction = 0;
      board.tick("i", true);
      await drain(); // the tick is decoded while the motor is off
      direction = 1;
      board.tick("i", true);
      await waitFor("2 ticks", async () => (await ticks(enc)) === 2);
      await enc.resetPosition(call);
      assert.equal(await ticks(enc), 0);
      await assert.rejects(enc.position("degrees", call), NotSupportedError);
    } finally {
      await enc.close();
    }
    assert.equal(board.openStreams(), 0);
  });

  it("names a missing pin and an unknown interrupt", async () => {
    assert.throws(() => singleEncoderModel.validate!({ board: "b" }), /attribute pins\.i is required/);
    assert.throws(() => singleEncoderModel.validate!({ pins: { i: "1" } }), /attribute board is required/);
    const board = await boardWith([]);
    await assert.rejects(
      build(singleEncoderModel, "s", { board: "b", pins: { i: "x" } }, new MapDependencies().add(boardApi, board)),
      /cannot find pin \(x\) for single encoder/,
    );
  });
});
