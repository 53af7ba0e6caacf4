// `sprocket micro-sim` as a child process, as a user runs it: spawned from the built CLI at the
// repository root, ready once its banner says so, with its output kept for failure messages.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../host/cli.js", import.meta.url));
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface MicroSimProcess {
  readonly child: ChildProcess;
  /** The TCP port it serves RPC on. */
  readonly port: number;
  /** The pseudo-terminal it serves its UART on ("" without --serial). */
  readonly serial: string;
  output(): string;
  readonly exited: Promise<number | null>;
}

/** Spawns `sprocket micro-sim ARGS` and waits (up to a minute: XS builds its bundle) for its banner. */
export async function spawnMicroSim(args: readonly string[]): Promise<MicroSimProcess> {
  const child = spawn(process.execPath, [CLI, "micro-sim", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (t: string) => (stdout += t));
  child.stderr?.setEncoding("utf8").on("data", (t: string) => (stderr += t));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const output = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  const deadline = Date.now() + 60_000;
  while (!/^Ctrl-C stops\.$/m.test(stdout) && child.exitCode === null && child.signalCode === null) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      assert.fail(`no micro-sim banner within a minute\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  if (child.exitCode !== null || child.signalCode !== null) assert.fail(`micro-sim exited with ${child.exitCode ?? child.signalCode}\n${output()}`);
  const port = Number(/^listening on tcp:\/\/127\.0\.0\.1:(\d+)$/m.exec(stdout)?.[1]);
  const serial = /^serial on (.+)$/m.exec(stdout)?.[1] ?? "";
  assert.ok(port > 0, output());
  return { child, port, serial, output, exited };
}
