// The CLI as a separate process on a pseudo-terminal (socat), against the simulator, a port held
// by another program, a pty nobody answers on and one that answers with garbage. Needs the Debian
// package socat; without it these tests are skipped with that message.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { SerialPort } from "serialport";
import { equalBytes } from "../../tools/image/bytes.js";
import type { AppBootInfo } from "../../tools/sim/esp32/boot.js";
import { Esp32Sim } from "../../tools/sim/esp32/esp32-sim.js";
import { PtyBridge, PtyPair, haveSocat } from "../../tools/sim/esp32/pty.js";
import { buildTestFirmware, writeBuildDir } from "./fixtures.js";

const cli = fileURLToPath(new URL("../../host/cli.js", import.meta.url));
const socat = await haveSocat();
const skip = socat ? false : "socat is not installed (Debian package socat: apt-get install socat); the pty tests need it";

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], timeoutMs = 30000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (t: string) => (stdout += t));
    child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`CLI timed out: ${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("CLI over a pseudo-terminal", { skip }, () => {
  let dir: string;
  let firmware: string;
  const fw = buildTestFirmware("ESP32", { appBytes: 100 * 1024, version: "3.1.4" });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sprocket-pty-"));
    firmware = await writeBuildDir(fw);
  });

  test("flash: no modem lines, so the SYNC starts download mode and silence afterwards boots the app", async () => {
    const sim = new Esp32Sim({ chip: "esp32", autoDownload: true, idleResetMs: 300 });
    const boots: AppBootInfo[] = [];
    sim.on("appBoot", (b) => boots.push(b));
    const bridge = await PtyBridge.start(sim, join(dir, "ttyESP"));
    try {
      const r = await runCli(["flash", "--port", bridge.path, "--firmware", firmware, "--wifi-ssid", "lab", "--host", "ws://10.1.2.3:8080"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /port without modem lines.*hold BOOT and press EN/);
      assert.match(r.stderr, /press EN \(RST\) on the board to run it/);
      assert.match(r.stderr, /xs_esp32\.bin\s+verified/);
      assert.ok(equalBytes(sim.flash.subarray(0x10000, 0x10000 + fw.app.length), fw.app));
      const deadline = Date.now() + 3000;
      while (boots.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(boots.length, 1, "the app booted after the idle time");
      assert.equal(boots[0]!.app.appDescription?.version, "3.1.4");
      assert.deepEqual(boots[0]!.provisioning, { wifiSsid: "lab", host: "ws://10.1.2.3:8080" });
    } finally {
      await bridge.close();
      sim.close();
    }
  });

  test("a port another program holds is reported busy, and nothing is written", async () => {
    const sim = new Esp32Sim({ chip: "esp32", autoDownload: true });
    const bridge = await PtyBridge.start(sim, join(dir, "ttyBusy"));
    const holder = new SerialPort({ path: bridge.path, baudRate: 115200, autoOpen: false, lock: true });
    await new Promise<void>((resolve, reject) => holder.open((err) => (err ? reject(err) : resolve())));
    const snapshot = sim.flash.slice();
    try {
      const r = await runCli(["flash", "--port", bridge.path, "--firmware", firmware]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /ttyBusy is busy: another program has it open/);
      assert.ok(equalBytes(sim.flash, snapshot));
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
      await bridge.close();
      sim.close();
    }
  });

  test("a pty nobody answers on: no answer from the bootloader", async () => {
    const pair = await PtyPair.create(join(dir, "ttySilent"));
    try {
      const r = await runCli(["flash", "--port", pair.path, "--firmware", firmware, "--attempts", "1"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`no answer from the bootloader on ${pair.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: hold BOOT, press EN, and retry`));
    } finally {
      await pair.close();
    }
  });

  test("a pty that answers with garbage: no answer from the bootloader", async () => {
    const pair = await PtyPair.create(join(dir, "ttyNoise"));
    const device = new SerialPort({ path: pair.devicePath, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => device.open((err) => (err ? reject(err) : resolve())));
    device.on("data", (chunk: Buffer) => device.write(Buffer.concat([randomBytes(chunk.length), Buffer.from([0xc0]), chunk.reverse()])));
    try {
      const r = await runCli(["flash", "--port", pair.path, "--firmware", firmware, "--attempts", "1"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no answer from the bootloader on .*: hold BOOT, press EN, and retry/);
    } finally {
      await new Promise<void>((resolve) => device.close(() => resolve()));
      await pair.close();
    }
  });

});

if (!socat) {
  // Say it where CI logs show it, too.
  console.log(`# ${skip}`);
}
