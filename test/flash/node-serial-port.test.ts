// The serialport → Web Serial adapter, on node-serialport's mock binding: both modem lines on
// every set() whatever esptool-js changes, in-place baud changes, data both ways, a port without
// modem lines, and the messages for open failures.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Transport } from "esptool-js";
import { SerialPortMock } from "serialport";
import { NodeSerialPort, describeOpenError, type NodePortOptions, type NodePortStream } from "../../tools/flash/node-serial-port.js";

let counter = 0;

function mockPort(options: { failSet?: boolean } = {}) {
  const path = `/dev/mock${counter++}`;
  SerialPortMock.binding.createPort(path, { echo: false, record: true });
  let stream: SerialPortMock | undefined;
  const sets: unknown[] = [];
  const updates: number[] = [];
  const warnings: string[] = [];
  const adapter = new NodeSerialPort(path, {
    listPorts: async () => [{ path, vendorId: "10c4", productId: "ea60" }],
    onNoModemLines: (m) => warnings.push(m),
    createPort: (o: NodePortOptions) => {
      stream = new SerialPortMock({ path: o.path, baudRate: o.baudRate, autoOpen: false, hupcl: o.hupcl });
      const set = stream.set.bind(stream);
      stream.set = ((opts: object, cb: (err: Error | null) => void) => {
        sets.push(opts);
        if (options.failSet) cb(new Error("Inappropriate ioctl for device, cannot set"));
        else set(opts, cb);
      }) as typeof stream.set;
      const update = stream.update.bind(stream);
      stream.update = ((opts: { baudRate: number }, cb: (err: Error | null) => void) => {
        updates.push(opts.baudRate);
        update(opts, cb);
      }) as typeof stream.update;
      return stream as unknown as NodePortStream;
    },
  });
  return { adapter, sets, updates, warnings, stream: () => stream! };
}

describe("NodeSerialPort", () => {
  test("passes DTR and RTS together on every set(), tracking what esptool-js changed", async () => {
    const { adapter, sets } = mockPort();
    await adapter.open({ baudRate: 115200 });
    assert.deepEqual(adapter.getInfo(), { usbVendorId: 0x10c4, usbProductId: 0xea60 });
    const transport = new Transport(adapter as unknown as ConstructorParameters<typeof Transport>[0]);
    // esptool-js's ClassicReset, then its HardReset (single-line calls).
    await transport.setSignals(false, true);
    await transport.setSignals(true, false);
    await transport.setSignals(false, false);
    await transport.setRTS(true);
    await transport.setRTS(false);
    assert.deepEqual(sets, [
      { dtr: false, rts: true, brk: false },
      { dtr: true, rts: false, brk: false },
      { dtr: false, rts: false, brk: false },
      { dtr: false, rts: true, brk: false }, // setRTS(true)...
      { dtr: true, rts: true, brk: false }, // ...then setDTR(_DTR_state), which esptool-js left at true
      { dtr: true, rts: false, brk: false },
      { dtr: true, rts: false, brk: false },
    ]);
    for (const s of sets) assert.deepEqual(Object.keys(s as object).sort(), ["brk", "dtr", "rts"]);
    await adapter.close();
  });

  test("moves bytes both ways and changes the baud rate in place", async () => {
    const { adapter, updates, stream } = mockPort();
    await adapter.open({ baudRate: 115200 });
    const writer = adapter.writable!.getWriter();
    await writer.write(Uint8Array.from([0xc0, 0x01, 0xc0]));
    writer.releaseLock();
    assert.deepEqual([...stream().port!.recording], [0xc0, 0x01, 0xc0]);
    const reader = adapter.readable!.getReader();
    stream().port!.emitData(Buffer.from([1, 2, 3]));
    assert.deepEqual([...(await reader.read()).value!], [1, 2, 3]);
    reader.releaseLock();
    await adapter.setBaudRate(921600);
    assert.deepEqual(updates, [921600]);
    await adapter.close();
    assert.equal(adapter.readable, null);
  });

  test("a port without modem lines: one warning, then set() is no longer tried", async () => {
    const { adapter, sets, warnings } = mockPort({ failSet: true });
    await adapter.open({ baudRate: 115200 });
    await adapter.setSignals({ dataTerminalReady: false, requestToSend: true });
    await adapter.setSignals({ dataTerminalReady: true, requestToSend: false });
    assert.equal(adapter.modemLines, false);
    assert.equal(sets.length, 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /port without modem lines.*hold BOOT and press EN/);
    await adapter.close();
  });

  test("open failures say what to do", () => {
    assert.match(describeOpenError("/dev/ttyUSB0", new Error("Error Resource temporarily unavailable Cannot lock port")).message, /\/dev\/ttyUSB0 is busy: another program has it open/);
    assert.match(describeOpenError("/dev/ttyUSB0", Object.assign(new Error("x"), { code: "EBUSY" })).message, /is busy/);
    assert.match(describeOpenError("/dev/ttyUSB9", new Error("Error: No such file or directory, cannot open /dev/ttyUSB9")).message, /no serial port at \/dev\/ttyUSB9/);
    assert.match(describeOpenError("/dev/ttyUSB0", new Error("Error: Permission denied, cannot open")).message, /dialout/);
  });
});
