// `sprocket nvs create` and `sprocket nvs dump`, through the real CLI entry and in-process.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { nvsCommand } from "../../tools/cli/nvs.js";
import { parseNvs } from "../../tools/image/nvs.js";
import { readProvisioning } from "../../tools/image/provisioning.js";

const cli = fileURLToPath(new URL("../../host/cli.js", import.meta.url));

function sprocket(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await nvsCommand(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

async function tempDir(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), "sprocket-nvs-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("create then dump, through `sprocket nvs`", async (t) => {
  const dir = await tempDir(t);
  const config = { components: [{ name: "imu", api: "rdk:component:movement_sensor", model: "gyro-mpu6050", attributes: { i2c_bus: "i2c0" } }] };
  await writeFile(join(dir, "micro.json"), JSON.stringify(config, null, 2));
  const out = join(dir, "nvs.bin");

  const created = sprocket(
    "nvs", "create", "--out", out, "--size", "0x6000",
    "--wifi-ssid", "MyNet", "--wifi-password", "hunter22", "--host", "ws://192.168.1.20:8080",
    "--part-id", "key-id-1", "--part-key", "s3cr3t", "--config", join(dir, "micro.json"),
  );
  assert.equal(created.stderr, "");
  assert.equal(created.code, 0);
  assert.equal(created.stdout, `wrote ${out} (0x6000 bytes, 1 of 6 pages used): wifi_ssid, wifi_pass, host, part_id, part_key, config\n`);

  const image = new Uint8Array(await readFile(out));
  assert.equal(image.length, 0x6000);
  const values = readProvisioning(parseNvs(image).entries);
  assert.deepEqual({ ...values, config: JSON.parse(new TextDecoder().decode(values.config)) }, {
    wifiSsid: "MyNet",
    wifiPassword: "hunter22",
    host: "ws://192.168.1.20:8080",
    partId: "key-id-1",
    partKey: "s3cr3t",
    config,
  });

  const dumped = sprocket("nvs", "dump", out);
  assert.equal(dumped.code, 0);
  const compact = JSON.stringify(config);
  assert.equal(
    dumped.stdout,
    [
      `${out}: 6 pages (1 active, 0 full, 5 empty), 1 namespace, 6 keys`,
      `namespace  key        type  value`,
      `sprocket   wifi_ssid  str   "MyNet"`,
      `sprocket   wifi_pass  str   ******** (8 bytes; --show-secrets prints it)`,
      `sprocket   host       str   "ws://192.168.1.20:8080"`,
      `sprocket   part_id    str   "key-id-1"`,
      `sprocket   part_key   str   ******** (6 bytes; --show-secrets prints it)`,
      `sprocket   config     blob  ${compact.length} bytes: ${compact}`,
      ``,
    ].join("\n"),
  );
  assert.doesNotMatch(dumped.stdout, /hunter22|s3cr3t/);

  const shown = sprocket("nvs", "dump", out, "--show-secrets");
  assert.match(shown.stdout, /^sprocket {3}wifi_pass {2}str {3}"hunter22"$/m);
  assert.match(shown.stdout, /^sprocket {3}part_key {3}str {3}"s3cr3t"$/m);

  const help = sprocket("--help");
  assert.match(help.stdout, /nvs create\|dump/);
});

test("an empty image and a blob shown as hex", async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, "empty.bin");
  const created = await run("create", "-o", out, "--size", "12K");
  assert.equal(created.code, 0, created.err);
  assert.equal(created.out, `wrote ${out} (0x3000 bytes, 1 of 3 pages used): no keys`);
  const dumped = await run("dump", out);
  assert.equal(dumped.out, `${out}: 3 pages (1 active, 0 full, 2 empty), 0 namespaces, 0 keys\nnamespace  key  type  value`);
});

test("bad input: a clear message and exit code 2", async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, "x.bin");
  const fails = async (args: string[], message: string) => {
    const r = await run(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.equal(r.err.split("\n")[0], `sprocket nvs: ${message}`);
  };
  await fails(["create"], `--out FILE is required`);
  await fails(["create", "--out", out, "--size", "0x3001"], `NVS partition size 0x3001 is not a multiple of 4096 (one page)`);
  await fails(["create", "--out", out, "--size", "lots"], `--size "lots" is not a number of bytes (e.g. 0x6000 or 24K)`);
  await fails(["create", "--out", out, "--wifi-ssid", "s".repeat(33)], `provisioning value "wifi_ssid" is 33 bytes; the limit is 32`);
  await fails(
    ["create", "--out", out, "--host", "h".repeat(4001)],
    `NVS string "host" is 4002 bytes with its terminating NUL; the limit is 4000 (store larger values as a blob)`,
  );
  await writeFile(join(dir, "bad.json"), "{ not json");
  const jsonError = (() => {
    try {
      JSON.parse("{ not json");
    } catch (e) {
      return (e as Error).message;
    }
  })();
  await fails(["create", "--out", out, "--config", join(dir, "bad.json")], `--config ${join(dir, "bad.json")} is not valid JSON: ${jsonError}`);
  await fails(["create", "--out", out, "--bogus"], `Unknown option '--bogus'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "--bogus"`);
  await fails(["frobnicate"], `unknown subcommand "frobnicate"`);
  await fails(["dump"], `dump takes one NVS image file`);

  const missing = join(dir, "missing.bin");
  const r = await run("dump", missing);
  assert.equal(r.code, 2);
  assert.match(r.err, new RegExp(`^sprocket nvs: cannot read NVS image ${missing}: ENOENT`));

  await run("create", "--out", out, "--wifi-ssid", "MyNet");
  const image = new Uint8Array(await readFile(out));
  image[64 + 32 + 8] ^= 0x20; // a key byte of entry 1
  await writeFile(out, image);
  const corrupt = await run("dump", out);
  assert.equal(corrupt.code, 2);
  assert.match(corrupt.err, /^sprocket nvs: NVS page 0 entry 1 \(key "Wifi_ssid"\): entry CRC is 0x[0-9A-F]{8}, computed 0x[0-9A-F]{8}$/);

  const viaCli = sprocket("nvs", "create", "--out", out, "--size", "0x1000");
  assert.equal(viaCli.code, 2);
  assert.equal(viaCli.stderr, `sprocket nvs: NVS partition size 0x1000 is too small: a read/write NVS partition needs at least 3 pages (0x3000)\n`);
});
