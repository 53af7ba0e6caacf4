// A synchronous driver for the `xsnap-worker` binary that `@agoric/xsnap` builds on install (XS
// 13.3 from the C sources the package ships).
//
// Why not the package's JavaScript API: it needs SES (`import "@endo/init"` locks down the whole
// Node realm, which the rest of the host and its libraries do not survive), and it is asynchronous,
// whereas the simulated peripherals answer synchronously. So this file speaks the worker's own
// protocol (xsnap-native/xsnap/sources/xsnap-worker.c), which is small:
//   - netstrings (`<length>:<bytes>,`) on the worker's fd 3 (to XS) and fd 4 (from XS);
//   - to XS: `e<script>` evaluates a script, `?<bytes>` calls the guest's global handleCommand(
//     ArrayBuffer), `w<path>` writes a snapshot, `q` quits;
//   - from XS: `.<meter JSON>\x01<reply>` done, `!<text>` uncaught exception, and `?<bytes>` when the
//     guest calls issueCommand(ArrayBuffer): XS then blocks until the parent answers `/<bytes>`.
// Both fds are named pipes opened with blocking I/O, so a request runs to completion inside one
// synchronous call, answering the guest's queries as they come; the Node event loop waits, as the
// firmware's one thread would. A small shell wrapper opens the pipes for the worker and, when it
// ends, writes its exit status as one more message (`X<status>`), so a crash is reported at once.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync, constants } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** xsnap-worker exit codes (@agoric/xsnap api.js ExitCode). */
const EXIT_MESSAGES: Record<number, string> = {
  1: "bad argument usage",
  2: "I/O error",
  11: "not enough memory",
  12: "stack overflow",
  15: "unhandled exception",
  16: "property (key) name space exhausted",
  17: "too much computation",
};

/** What the worker reports after each request (xsnap-worker.c fxWriteOkay). */
export interface XsnapMeter {
  /** Slots in use in the XS heap (live after a collection, plus garbage made since). */
  currentHeapCount: number;
  /** Metering units (roughly bytecodes and calls) the request took. */
  compute: number;
  /** Bytes the machine has allocated from the system for chunks and slots (grows, never shrinks). */
  allocate: number;
}

/** An exception that escaped the guest's script. */
export class XsnapError extends Error {}

/** The worker ended; `status` is its exit status. */
export class XsnapExit extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface XsnapOptions {
  /** Shown in errors and process lists. */
  name?: string;
  /** The debug build of the worker (slower, with assertions). */
  debug?: boolean;
  /** Metering units one request may use before XS stops with "too much computation" (default 1e8, as @agoric/xsnap). 0: unlimited. */
  meteringLimit?: number;
  /** The worker's stdout (xsnap's print()); ignored by default. */
  stdout?: "inherit" | "ignore";
  /** Answers the guest's issueCommand. Runs synchronously while XS waits. */
  onQuery?: (message: Uint8Array) => Uint8Array | ArrayBuffer;
}

/** The xsnap-worker binary installed with @agoric/xsnap. */
export function xsnapWorkerPath(debug = false): string {
  const platform = process.platform === "linux" ? "lin" : process.platform === "darwin" ? "mac" : undefined;
  if (platform === undefined) throw new Error("xsnap builds only on Linux and macOS, not " + process.platform);
  const main = import.meta.resolve("@agoric/xsnap");
  const path = fileURLToPath(new URL(`../xsnap-native/xsnap/build/bin/${platform}/${debug ? "debug" : "release"}/xsnap-worker`, main));
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: @agoric/xsnap's install script did not build it (needs gcc and make; run \`npm rebuild @agoric/xsnap\`)`);
  }
  return path;
}

// The wrapper the worker runs in: open the pipes as fds 3 and 4, run the worker with its stderr
// in a file, then report its exit status on fd 4. ($0 worker, $1 to-XS pipe, $2 from-XS pipe,
// $3 stderr file, then the worker's arguments.)
const WRAPPER = [
  'exec 3<"$1" 4>"$2"',
  'worker=$0 err=$3',
  "shift 3",
  '"$worker" "$@" 2>"$err"',
  "status=$?",
  "exec 3<&-",
  's="X$status"',
  `printf '%d:%s,' "\${#s}" "$s" >&4`,
].join("\n");

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Temporary directories of running workers, removed if the process exits without close(). */
const liveDirs = new Set<string>();
let exitHook = false;
function trackDir(dir: string): void {
  liveDirs.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
    });
  }
}
const OK = 0x2e; // .
const ERROR = 0x21; // !
const QUERY = 0x3f; // ?
const EXITED = 0x58; // X
const METER_SEPARATOR = 1;

export class XsnapWorker {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #dir: string;
  #toXs = -1;
  #fromXs = -1;
  readonly #chunk = Buffer.allocUnsafe(65536);
  #pending: Buffer = Buffer.alloc(0);
  #busy = false;
  #exit: XsnapExit | undefined;
  #meter: Uint8Array | undefined;
  onQuery: (message: Uint8Array) => Uint8Array | ArrayBuffer;

  constructor(options: XsnapOptions = {}) {
    this.name = options.name ?? "xsnap";
    this.onQuery = options.onQuery ?? (() => new Uint8Array(0));
    const worker = xsnapWorkerPath(options.debug);
    this.#dir = mkdtempSync(join(tmpdir(), "sprocket-xsnap-"));
    trackDir(this.#dir);
    const toPath = join(this.#dir, "to-xs");
    const fromPath = join(this.#dir, "from-xs");
    execFileSync("mkfifo", [toPath, fromPath]);
    const args = [this.name.replace(/^-+/, "")];
    const limit = options.meteringLimit ?? 1e8;
    if (limit > 0) args.push("-l", String(Math.min(Math.trunc(limit), 2 ** 31 - 1)));
    this.#child = spawn("/bin/sh", ["-c", WRAPPER, worker, toPath, fromPath, join(this.#dir, "stderr"), ...args], {
      stdio: ["ignore", options.stdout ?? "ignore", "ignore"],
      detached: true, // its own process group, so kill() ends the wrapper and the worker together
    });
    this.#child.unref();
    try {
      // The wrapper opens the to-XS pipe for reading first: poll until it has (ENXIO before).
      const started = Date.now();
      let probe: number | undefined;
      while (probe === undefined) {
        try {
          probe = openSync(toPath, constants.O_WRONLY | constants.O_NONBLOCK);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENXIO") throw error;
          if (Date.now() - started > 10_000) throw new Error("xsnap worker did not start: " + this.#stderr());
          Atomics.wait(sleeper, 0, 0, 2);
        }
      }
      this.#toXs = openSync(toPath, constants.O_WRONLY); // blocking writes from now on
      closeSync(probe);
      this.#fromXs = openSync(fromPath, constants.O_RDONLY); // meets the wrapper's open for writing
    } catch (error) {
      this.kill();
      throw error;
    }
  }

  /** Whether the worker is still running. */
  get alive(): boolean {
    return this.#exit === undefined;
  }

  /** How the worker ended, once it has. */
  get exit(): XsnapExit | undefined {
    return this.#exit;
  }

  /** The meter figures of the last request. */
  get meter(): XsnapMeter | undefined {
    if (this.#meter === undefined) return undefined;
    const info = JSON.parse(Buffer.from(this.#meter).toString("latin1")) as XsnapMeter;
    return { currentHeapCount: info.currentHeapCount, compute: info.compute, allocate: info.allocate };
  }

  /** Evaluates a script (global code, sloppy unless it says "use strict"). Throws XsnapError for an uncaught exception. */
  evaluate(script: string): void {
    this.#request(Buffer.concat([Buffer.from("e"), Buffer.from(script, "utf8")]));
  }

  /** Calls the guest's handleCommand(ArrayBuffer) and returns the ArrayBuffer it returned (empty for anything else). */
  command(message: Uint8Array | ArrayBuffer): Uint8Array {
    return this.#request(Buffer.concat([Buffer.from("?"), new Uint8Array(message)]));
  }

  /** Writes a snapshot of the machine (after a full collection) to `path`; returns its size in bytes. */
  snapshot(path: string): number {
    return Number(Buffer.from(this.#request(Buffer.from("w" + path, "utf8"))).toString("latin1"));
  }

  /** Quits the worker and cleans up; returns its exit status. */
  close(): number {
    if (this.#exit === undefined) {
      try {
        this.#send(Buffer.from("q"));
        for (;;) this.#receive(); // until the wrapper's exit message
      } catch (error) {
        if (!(error instanceof XsnapExit)) this.kill();
      }
    }
    this.#cleanup();
    return this.#exit?.status ?? -1;
  }

  /** Ends the worker at once. */
  kill(): void {
    if (this.#child.pid !== undefined && this.#child.exitCode === null) {
      try {
        process.kill(-this.#child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    this.#exit ??= new XsnapExit(-1, `${this.name} was killed`);
    this.#cleanup();
  }

  #cleanup(): void {
    for (const fd of [this.#toXs, this.#fromXs]) {
      if (fd >= 0) {
        try {
          closeSync(fd);
        } catch {
          // closed already
        }
      }
    }
    this.#toXs = this.#fromXs = -1;
    rmSync(this.#dir, { recursive: true, force: true });
    liveDirs.delete(this.#dir);
  }

  #stderr(): string {
    try {
      return readFileSync(join(this.#dir, "stderr"), "utf8").trim().slice(-2000);
    } catch {
      return "";
    }
  }

  #request(message: Buffer): Uint8Array {
    if (this.#exit !== undefined) throw this.#exit;
    if (this.#busy) throw new Error(`${this.name}: a request to XS was made while XS was waiting for the host`);
    this.#busy = true;
    try {
      this.#send(message);
      for (;;) {
        const reply = this.#receive();
        switch (reply[0]) {
          case QUERY: {
            let answer: Uint8Array;
            try {
              const result = this.onQuery(reply.subarray(1));
              answer = result instanceof Uint8Array ? result : new Uint8Array(result);
            } catch (error) {
              // Never leave XS waiting: it would read the next request as this reply.
              this.kill();
              throw error;
            }
            this.#send(Buffer.concat([Buffer.from("/"), answer]));
            break;
          }
          case OK: {
            const separator = reply.indexOf(METER_SEPARATOR, 1);
            this.#meter = separator < 0 ? undefined : Uint8Array.prototype.slice.call(reply, 1, separator);
            return reply.subarray(separator < 0 ? 1 : separator + 1);
          }
          case ERROR:
            throw new XsnapError(Buffer.from(reply.subarray(1)).toString("utf8").trim() || "uncaught exception in XS");
          default:
            this.kill();
            throw new Error(`${this.name}: unexpected message from xsnap: ${Buffer.from(reply.subarray(0, 40)).toString("latin1")}`);
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  #send(message: Uint8Array): void {
    if (this.#toXs < 0) throw this.#exit ?? new Error(`${this.name} is closed`);
    const frame = Buffer.concat([Buffer.from(message.length + ":"), message, Buffer.from(",")]);
    let offset = 0;
    try {
      while (offset < frame.length) offset += writeSync(this.#toXs, frame, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EPIPE") {
        for (;;) this.#receive(); // the worker died: report how
      }
      throw error;
    }
  }

  /** The next netstring from XS; throws XsnapExit when it is the wrapper's exit report or the pipe closed. */
  #receive(): Uint8Array {
    for (;;) {
      const colon = this.#pending.indexOf(0x3a);
      if (colon > 0) {
        const length = Number(this.#pending.subarray(0, colon).toString("latin1"));
        const end = colon + 1 + length;
        if (this.#pending.length > end) {
          const message = this.#pending.subarray(colon + 1, end);
          this.#pending = this.#pending.subarray(end + 1);
          if (message[0] === EXITED) this.#exited(Number(message.subarray(1).toString("latin1")));
          return message;
        }
      }
      const chunk = this.#chunk;
      let n = 0;
      try {
        n = this.#fromXs < 0 ? 0 : readSync(this.#fromXs, chunk, 0, chunk.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
        continue;
      }
      if (n === 0) this.#exited(-1);
      this.#pending = Buffer.concat([this.#pending, chunk.subarray(0, n)]); // a copy: the chunk is reused
    }
  }

  #exited(status: number): never {
    const stderr = this.#stderr();
    const reason = status === 0 ? "exited" : status > 128 ? `was killed by signal ${status - 128}` : `exited: ${EXIT_MESSAGES[status] ?? "status " + status}`;
    this.#exit = new XsnapExit(status, `${this.name} ${reason}${stderr ? " (" + stderr + ")" : ""}`);
    this.#cleanup();
    throw this.#exit;
  }
}
