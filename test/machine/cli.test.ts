// `sprocket serve` as a process: the watched file applies live, and SIGINT/SIGTERM close resources
// dependents first and exit 0.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../host/cli.js", import.meta.url));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sprocket-cli-"));
});
after(() => rm(dir, { recursive: true, force: true }));

const components = [
  { name: "encoder1", api: "rdk:component:encoder", model: "fake", attributes: { ticks_per_rotation: 100 } },
  { name: "motor1", api: "rdk:component:motor", model: "fake", attributes: { encoder: "encoder1", ticks_per_rotation: 100 } },
  { name: "sensor1", api: "rdk:component:sensor", model: "fake" },
];
const fileText = (list: object[]) => JSON.stringify({ network: { bind_address: "127.0.0.1:0" }, components: list }, null, 2);

interface Served {
  child: ChildProcess;
  lines: string[];
  waitFor(match: (line: string) => boolean, what: string): Promise<string>;
  exited: Promise<number | null>;
}

function serve(path: string): Served {
  const child = spawn(process.execPath, [cli, "serve", "--config", path], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let buffered = "";
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor(match, what) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then(() => reject(new Error(`process exited before: ${what}\n${lines.join("\n")}`)));
      });
    },
  };
}

const removing = (name: string) => (l: string) => l.includes("Now removing resource") && l.includes(`/${name}"`);

describe("sprocket serve", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`closes resources dependents first on ${signal} and exits 0`, async () => {
      const path = join(dir, `${signal}.json`);
      await writeFile(path, fileText(components));
      const s = serve(path);
      try {
        await s.waitFor((l) => l.startsWith("Sprocket ") && l.includes(" serving "), "the start banner");
        s.child.kill(signal);
        assert.equal(await s.exited, 0);
        assert.ok(s.lines.some((l) => l.includes(`shutting down (${signal})`)));
        const motor = s.lines.findIndex(removing("motor1"));
        const encoder = s.lines.findIndex(removing("encoder1"));
        assert.ok(motor >= 0 && encoder > motor, `motor1 closes before encoder1:\n${s.lines.join("\n")}`);
      } finally {
        s.child.kill("SIGKILL");
      }
    });
  }

  it("applies an edit of the watched file while serving", async () => {
    const path = join(dir, "live.json");
    await writeFile(path, fileText(components));
    const s = serve(path);
    try {
      await s.waitFor((l) => l.startsWith("Sprocket ") && l.includes(" serving "), "the start banner");
      await writeFile(`${path}.tmp`, fileText([...components, { name: "sensor2", api: "rdk:component:sensor", model: "fake" }]));
      await rename(`${path}.tmp`, path);
      const line = await s.waitFor((l) => l.includes("Now constructing resource") && l.includes("rdk:component:sensor/sensor2"), "sensor2 built");
      assert.match(line, /\tINFO\trdk\.resource_manager\t/);
      // Nothing else was rebuilt.
      assert.equal(s.lines.filter((l) => l.includes("Now removing resource")).length, 0);
      s.child.kill("SIGTERM");
      assert.equal(await s.exited, 0);
    } finally {
      s.child.kill("SIGKILL");
    }
  });
});
