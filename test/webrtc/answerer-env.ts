// `sprocket signaling` as a separate process for the answerer tests: started on a port (0 = any), its
// URL read from the "listening on" line it prints, stopped gracefully or killed outright.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../host/cli.js", import.meta.url));

export interface SignalingProcess {
  readonly proc: ChildProcess;
  /** e.g. `http://127.0.0.1:41805` */
  readonly url: string;
  readonly port: number;
  /** Everything it printed so far (for failure messages). */
  output(): string;
  /** SIGKILL: the server vanishes without closing anything. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

/** Runs `node dist/host/cli.js signaling --listen <listen> ...args` and waits until it serves. */
export async function startSignalingProcess(listen: string, args: readonly string[] = []): Promise<SignalingProcess> {
  const proc = spawn(process.execPath, [cli, "signaling", "--listen", listen, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.setEncoding("utf8");
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (d: string) => (out += d));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: string) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        proc.stdout.off("data", onData);
        proc.stdout.on("data", (more: string) => (out += more));
        resolve(m[1]!);
      }
    };
    proc.stdout.on("data", onData);
    proc.once("exit", (code) => reject(new Error(`sprocket signaling exited (${code}) before serving:\n${out}`)));
  });
  const end = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    proc,
    url,
    port: Number(new URL(url).port),
    output: () => out,
    kill: () => end("SIGKILL"),
    stop: () => end("SIGTERM"),
  };
}
