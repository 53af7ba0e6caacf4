// Flash throughput: esptool-js writing a ~300 KB app through the simulator at 921600 baud,
// compressed and not, beside the bound the baud rate sets.
//
// The simulator runs in real-time mode: every chunk crosses the simulated UART at 10 bits per byte
// (8N1), so 921600 baud carries at most 92160 bytes/s in each direction, as a real USB-serial
// bridge would. The bound is therefore on *wire* bytes (SLIP-framed commands, including the
// 16 KB blocks, their headers and escapes): the "floor" columns are the time those wire bytes need
// at 92160 bytes/s. With compression fewer bytes cross the wire than the image holds, so the
// effective rate (image bytes per second) can exceed the wire bound; the log lines report both
// effective and wire throughput. "unpaced" rows run the same writes with pacing off: what
// esptool-js and the simulator cost in CPU, i.e. the ceiling the model itself imposes.
//
// Table columns for this benchmark: p50/p99 ms = time to write and MD5-verify the image (median
// and slowest of the rounds); calls/s = effective image bytes per second; floor = the same for
// the wire bound; ratio > 1 means slower than the wire allows.
import { FlashSession } from "../../tools/flash/session.js";
import { Esp32Sim } from "../../tools/sim/esp32/esp32-sim.js";
import { BITS_PER_BYTE } from "../../tools/sim/esp32/wire.js";
import { SimSerialPort } from "../../tools/sim/esp32/web-serial-port.js";
import { buildTestFirmware } from "../flash/fixtures.js";
import type { Benchmark, BenchOptions, BenchRow } from "./bench.js";

const BAUD = 921600;
const APP_BYTES = 300 * 1024;

interface Sample {
  ms: number;
  wireBytes: number;
}

async function measureCell(realtime: boolean, compress: boolean, rounds: number, log: (line: string) => void): Promise<{ samples: Sample[]; imageBytes: number }> {
  const sim = new Esp32Sim({ chip: "esp32", realtime });
  const session = await FlashSession.connect(new SimSerialPort(sim), { baud: BAUD, attempts: 3 });
  const app = buildTestFirmware("ESP32", { appBytes: APP_BYTES }).app;
  const samples: Sample[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const wireBefore = sim.toDevice.bytesSent + sim.toHost.bytesSent;
      const started = performance.now();
      await session.write([{ name: "app", offset: 0x10000, bytes: app }], { compress });
      samples.push({ ms: performance.now() - started, wireBytes: sim.toDevice.bytesSent + sim.toHost.bytesSent - wireBefore });
      log(`flash: ${realtime ? "realtime" : "unpaced"} ${compress ? "compressed" : "uncompressed"} round ${round + 1}/${rounds}: ${samples.at(-1)!.ms.toFixed(0)} ms`);
    }
  } finally {
    await session.close();
    sim.close();
  }
  return { samples, imageBytes: app.length };
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const flashBenchmark: Benchmark = {
  name: "flash",
  description: `esptool-js writing a ${APP_BYTES / 1024} KB app through the simulated UART at ${BAUD} baud vs the wire bound (${BAUD / BITS_PER_BYTE} B/s)`,
  async run(opts: BenchOptions): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const bound = BAUD / BITS_PER_BYTE;
    for (const realtime of [true, false]) {
      for (const compress of [true, false]) {
        const { samples, imageBytes } = await measureCell(realtime, compress, opts.rounds, opts.log);
        const ms = median(samples.map((s) => s.ms));
        const slowest = Math.max(...samples.map((s) => s.ms));
        const wire = median(samples.map((s) => s.wireBytes));
        const floorMs = (wire / bound) * 1000;
        const effective = imageBytes / (ms / 1000);
        const wireRate = wire / (ms / 1000);
        opts.log(
          `flash: ${realtime ? "realtime" : "unpaced"} ${compress ? "compressed" : "uncompressed"}: image ${imageBytes} B, wire ${Math.round(wire)} B; ` +
            `effective ${Math.round(effective)} B/s, wire ${Math.round(wireRate)} B/s = ${((wireRate / bound) * 100).toFixed(0)}% of the ${bound} B/s bound`,
        );
        rows.push({
          benchmark: "flash 300KB app",
          transport: `sim ${realtime ? "realtime" : "unpaced"} ${BAUD}, ${compress ? "compressed" : "uncompressed"}`,
          callers: 1,
          p50Ms: ms,
          p99Ms: slowest,
          callsPerSec: effective,
          floorP50Ms: floorMs,
          floorP99Ms: floorMs,
          floorCallsPerSec: imageBytes / (floorMs / 1000),
          ratioP50: ms / floorMs,
          ratioP99: slowest / floorMs,
          ratioCallsPerSec: effective / (imageBytes / (floorMs / 1000)),
        });
      }
    }
    return rows;
  },
};
