// The simulated bootloader at the protocol level: SLIP, the ROM's replies and error codes, the stub
// after MEM_END, the auto-reset circuit with its EN delay, baud-rate garbling, and garbage.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fromUtf8, toHex } from "../../tools/image/bytes.js";
import { Esp32Sim } from "../../tools/sim/esp32/esp32-sim.js";
import { Command, ROM_SYNC_VALUE, StubError, u32le } from "../../tools/sim/esp32/protocol.js";
import { SlipDecoder, slipEncode } from "../../tools/sim/esp32/slip.js";
import { md5 } from "@noble/hashes/legacy.js";
import { SimClient, tick } from "./sim-client.js";

const ESP32_STUB_TEXT = 0x400a8000;

/** Uploads a pretend stub (any bytes in IRAM) and returns the client in stub mode. */
async function stubClient(): Promise<SimClient> {
  const client = await SimClient.rom();
  const frames = await client.uploadAndRun(new Uint8Array(256).fill(0x11), ESP32_STUB_TEXT, ESP32_STUB_TEXT + 0x10);
  assert.ok(frames.some((f) => fromUtf8(f) === "OHAI"), "OHAI after MEM_END");
  assert.equal(client.sim.mode, "stub");
  return client;
}

describe("SLIP", () => {
  test("round-trips payloads with END and ESC bytes and ignores noise and idle ENDs", () => {
    const payload = Uint8Array.from([0x01, 0xc0, 0xdb, 0xdc, 0xdd, 0xc0]);
    const frame = slipEncode(payload);
    assert.deepEqual([...frame], [0xc0, 0x01, 0xdb, 0xdc, 0xdb, 0xdd, 0xdc, 0xdd, 0xdb, 0xdc, 0xc0]);
    const d = new SlipDecoder();
    const out = d.push(Uint8Array.from([0x41, 0x42, 0xc0, 0xc0, ...frame.subarray(1), 0xc0, 0xc0]));
    assert.deepEqual(out.map((f) => [...f]), [[...payload]]);
    assert.equal(d.noiseBytes, 2);
  });

  test("drops a frame with an invalid escape and resynchronises", () => {
    const d = new SlipDecoder();
    const out = d.push(Uint8Array.from([0xc0, 0x01, 0xdb, 0x00, 0x02, 0xc0, 0x03, 0xc0]));
    assert.deepEqual(out.map((f) => [...f]), [[0x03]]);
    assert.equal(d.droppedFrames, 1);
  });
});

describe("ROM loader", () => {
  test("SYNC gets eight replies with the ROM's value; a wrong pattern gets none", async () => {
    const c = await SimClient.rom();
    const replies = await c.sync();
    assert.equal(replies.length, 8);
    for (const r of replies) {
      assert.equal(r.command, Command.SYNC);
      assert.equal(r.value, ROM_SYNC_VALUE);
      assert.deepEqual([...r.data], [0, 0, 0, 0]);
    }
    const bad = new Uint8Array(36).fill(0x55);
    assert.equal((await c.request(Command.SYNC, bad)).length, 0);
    c.close();
  });

  test("chip magic, efuse MAC and UART divider per chip", async () => {
    for (const [chip, magic] of [["esp32", 0x00f01d83], ["esp32s3", 0x9], ["esp32c3", 0x1b31506f]] as const) {
      const c = await SimClient.rom({ chip });
      const [r] = await c.request(Command.READ_REG, u32le(0x40001000));
      assert.equal(r!.value, magic, chip);
      c.close();
    }
    const c = await SimClient.rom({ chip: "esp32" });
    assert.equal((await c.request(Command.READ_REG, u32le(0x3ff5a004)))[0]!.value, 0xc45e0001);
    assert.equal((await c.request(Command.READ_REG, u32le(0x3ff40014)))[0]!.value, Math.round(40e6 / 115200));
    c.close();
  });

  test("GET_SECURITY_INFO: unsupported on ESP32 (reply op differs, 8 times), chip id on S3 and C3", async () => {
    const esp32 = await SimClient.rom({ chip: "esp32" });
    const replies = await esp32.request(Command.GET_SECURITY_INFO);
    assert.equal(replies.length, 8);
    for (const r of replies) {
      assert.notEqual(r.command, Command.GET_SECURITY_INFO);
      assert.deepEqual([...r.data.subarray(0, 2)], [1, 0x05]);
    }
    esp32.close();
    for (const [chip, id] of [["esp32s3", 9], ["esp32c3", 5]] as const) {
      const c = await SimClient.rom({ chip });
      const [r] = await c.request(Command.GET_SECURITY_INFO);
      assert.equal(r!.command, Command.GET_SECURITY_INFO);
      assert.equal(r!.data.length, 24); // 20 bytes + 4 ROM status bytes
      assert.equal(new DataView(r!.data.buffer, r!.data.byteOffset).getUint32(12, true), id);
      c.close();
    }
  });

  test("JEDEC id through the SPI user-command registers", async () => {
    const c = await SimClient.rom({ chip: "esp32", flashSize: 8 * 1024 * 1024 });
    const base = 0x3ff42000;
    await c.request(Command.WRITE_REG, u32le(base + 0x24, (7 << 28) | 0x9f, 0xffffffff, 0));
    await c.request(Command.WRITE_REG, u32le(base, 1 << 18, 0xffffffff, 0));
    assert.equal((await c.request(Command.READ_REG, u32le(base)))[0]!.value & (1 << 18), 0);
    assert.equal((await c.request(Command.READ_REG, u32le(base + 0x80)))[0]!.value, 0x1740ef);
    c.close();
  });

  test("error codes: bad checksum, bad RAM address, flash before SPI_ATTACH, unknown command", async () => {
    const c = await SimClient.rom();
    const status = (rs: { data: Uint8Array }[]) => [...rs[0]!.data.subarray(-4, -2)];
    assert.deepEqual(status(await c.request(Command.MEM_BEGIN, u32le(16, 1, 16, 0x12345678))), [1, 0x0f]);
    await c.request(Command.MEM_BEGIN, u32le(16, 1, 16, ESP32_STUB_TEXT));
    const { payload } = SimClient.dataPacket(new Uint8Array(16).fill(3), 0);
    assert.deepEqual(status(await c.request(Command.MEM_DATA, payload, 0x00)), [1, 0x07]);
    assert.deepEqual(status(await c.request(Command.FLASH_BEGIN, u32le(0x1000, 1, 0x1000, 0x10000, 0))), [1, 0x06]);
    const unknown = await c.request(0x42);
    assert.equal(unknown.length, 8);
    assert.ok(unknown.every((r) => r.command === 0x00 && r.data[1] === 0x05));
    c.close();
  });

  test("ROM flash write after SPI_ATTACH, MD5 as 32 hex characters, READ_FLASH_SLOW", async () => {
    const c = await SimClient.rom();
    await c.request(Command.SPI_ATTACH, new Uint8Array(8));
    await c.request(Command.FLASH_BEGIN, u32le(0x1000, 1, 0x1000, 0x20000, 0));
    const data = Uint8Array.from({ length: 0x1000 }, (_, i) => (i * 31) & 0xff);
    const { payload, chk } = SimClient.dataPacket(data, 0);
    const [w] = await c.request(Command.FLASH_DATA, payload, chk);
    assert.deepEqual([...w!.data], [0, 0, 0, 0]);
    assert.deepEqual(c.sim.flash.subarray(0x20000, 0x21000), data);
    const [m] = await c.request(Command.SPI_FLASH_MD5, u32le(0x20000, 0x1000, 0, 0));
    assert.equal(fromUtf8(m!.data.subarray(0, 32)), toHex(md5(data)));
    const [r] = await c.request(Command.READ_FLASH_SLOW, u32le(0x20010, 8));
    assert.deepEqual([...r!.data.subarray(0, 8)], [...data.subarray(16, 24)]);
    c.close();
  });

  test("garbage, truncated frames and stub-only commands never break the loader", async () => {
    const c = await SimClient.rom();
    const noise = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) & 0xff);
    c.sendRaw(noise);
    c.sendRaw(Uint8Array.from([0xc0, 0x00, 0x08, 0xc0, 0xc0, 0xdb, 0x01, 0xc0]));
    await tick();
    assert.equal((await c.request(Command.ERASE_FLASH)).length, 8, "stub-only: unsupported in ROM");
    assert.equal((await c.sync()).length, 8, "still answers SYNC");
    c.close();
  });
});

describe("stub", () => {
  test("MEM_END into uploaded IRAM code starts the stub: OHAI, 2-byte status, SYNC value 0", async () => {
    const c = await stubClient();
    const syncs = await c.sync();
    assert.equal(syncs.length, 8);
    assert.ok(syncs.every((r) => r.value === 0 && r.data.length === 2));
    c.close();
  });

  test("MEM_END to an entry with no uploaded code: no OHAI, the chip stops", async () => {
    const c = await SimClient.rom();
    const frames = await c.uploadAndRun(new Uint8Array(64), ESP32_STUB_TEXT, ESP32_STUB_TEXT + 0x1000);
    assert.ok(!frames.some((f) => fromUtf8(f) === "OHAI"));
    assert.equal(c.sim.mode, "halted");
    assert.equal((await c.sync()).length, 0);
    c.close();
  });

  test("stub error codes are big-endian; a write error surfaces on the next command", async () => {
    const c = await stubClient();
    const code = (rs: { data: Uint8Array }[]) => (rs[0]!.data[rs[0]!.data.length - 2]! << 8) | rs[0]!.data[rs[0]!.data.length - 1]!;
    const { payload } = SimClient.dataPacket(new Uint8Array(64), 0);
    assert.equal(code(await c.request(Command.FLASH_DATA, payload, 0)), StubError.NOT_IN_FLASH_MODE);
    await c.request(Command.FLASH_BEGIN, u32le(64, 1, 64, 0x3ff000));
    assert.equal(code(await c.request(Command.FLASH_DATA, payload, 0x42)), StubError.BAD_DATA_CHECKSUM);
    assert.equal(code(await c.request(0x77)), StubError.INVALID_COMMAND);
    assert.equal(code(await c.request(Command.ERASE_REGION, u32le(0x1001, 0x1000))), StubError.BAD_DATA_LEN);
    // Deflate data that is not zlib: acknowledged, then the inflate error is reported on the next command.
    await c.request(Command.FLASH_DEFL_BEGIN, u32le(4096, 1, 0x4000, 0x100000));
    const junk = SimClient.dataPacket(new Uint8Array(32).fill(0xff), 0);
    assert.equal(code(await c.request(Command.FLASH_DEFL_DATA, junk.payload, junk.chk)), 0);
    assert.equal(code(await c.request(Command.READ_REG, u32le(0x40001000))), StubError.INFLATE_ERROR);
    assert.equal(code(await c.request(Command.READ_REG, u32le(0x40001000))), 0);
    c.close();
  });

  test("READ_FLASH sends packets one at a time against acknowledgements, then the MD5", async () => {
    const c = await stubClient();
    c.sim.flash.set(Uint8Array.from({ length: 0x2800 }, (_, i) => i & 0xff), 0x30000);
    await c.request(Command.READ_FLASH, u32le(0x30000, 0x2800, 0x1000, 64));
    assert.equal(c.frames.length, 2, "reply and the first packet only");
    const got: number[] = [...c.frames[1]!];
    for (let n = 0; n < 3; n++) {
      c.clear();
      c.sendRaw(slipEncode(u32le(got.length)));
      await tick();
      got.push(...(n < 2 ? c.frames[0]! : []));
      if (n === 2) assert.deepEqual([...c.frames[0]!], [...md5(c.sim.flash.subarray(0x30000, 0x32800))]);
    }
    assert.deepEqual(Uint8Array.from(got), c.sim.flash.subarray(0x30000, 0x32800));
    c.close();
  });
});

describe("auto-reset circuit", () => {
  const downloads = (sim: Esp32Sim) => sim.console.filter((l) => l === "waiting for download").length;

  test("the classic DTR/RTS sequence in separate calls lands in download mode thanks to the EN delay", async () => {
    const sim = new Esp32Sim();
    await tick(10);
    // esptool.py ClassicReset: D0 R1 W100 D1 R0 W50 D0 — "D1" leaves both asserted (EN high, IO0 high) for a moment.
    sim.setSignals({ dtr: false });
    sim.setSignals({ rts: true });
    await tick(20);
    sim.setSignals({ dtr: true });
    sim.setSignals({ rts: false });
    await tick(10);
    sim.setSignals({ dtr: false });
    assert.equal(sim.mode, "rom");
    assert.equal(downloads(sim), 1);
    sim.close();
  });

  test("IO0 is sampled when the delay has passed, and EN falling again cancels the start", async () => {
    const sim = new Esp32Sim({ enDelayMs: 150 });
    await tick(200);
    sim.setSignals({ dtr: false, rts: true });
    sim.setSignals({ dtr: false, rts: false }); // EN rises with IO0 high...
    sim.setSignals({ dtr: true, rts: false }); // ...and IO0 goes low 0 ms later: still download mode
    await tick(200);
    assert.equal(sim.mode, "rom");
    const banners = sim.console.length;
    sim.setSignals({ dtr: false, rts: true });
    sim.setSignals({ dtr: false, rts: false });
    await tick(5);
    sim.setSignals({ dtr: false, rts: true }); // EN low again within the delay: no start
    await tick(200);
    assert.equal(sim.mode, "reset");
    assert.equal(sim.console.length, banners, "nothing printed: the chip never left reset");
    sim.close();
  });

  test("both lines asserted keep the chip running", async () => {
    const c = await SimClient.rom();
    c.sim.setSignals({ dtr: true, rts: true });
    await tick();
    assert.equal(c.sim.mode, "rom");
    assert.equal((await c.sync()).length, 8);
    c.close();
  });
});

describe("baud rate", () => {
  test("after CHANGE_BAUDRATE the reply comes at the old rate; a host that stays behind gets garbage", async () => {
    const c = await SimClient.rom();
    const [reply] = await c.request(Command.CHANGE_BAUDRATE, u32le(921600, 0));
    assert.deepEqual([...reply!.data], [0, 0, 0, 0]);
    assert.equal(c.sim.deviceBaud, 921600);
    assert.equal((await c.sync()).length, 0, "host still at 115200");
    assert.ok(c.sim.toHost.garbledChunks + c.sim.toDevice.garbledChunks > 0);
    c.sim.hostBaud = 921600;
    assert.equal((await c.sync()).length, 8);
    c.close();
  });
});
