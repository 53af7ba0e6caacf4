// esp-web-tools manifests, and the flash layout of a Moddable build directory.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildAppDescription, buildAppImage } from "../../tools/image/app-image.js";
import { ImageError } from "../../tools/image/bytes.js";
import type { ChipFamily } from "../../tools/image/chips.js";
import { buildFromModdable, checkImageFits, parseManifest, selectBuild } from "../../tools/image/manifest.js";
import { readBuildDir, readModdableBuild } from "../../tools/image/node/read-build-dir.js";
import { MODDABLE_DEFAULT_PARTITIONS, buildPartitionTable, parsePartitionCsv } from "../../tools/image/partition-table.js";

function refused(fn: () => unknown, message: string) {
  assert.throws(fn, (err: Error) => {
    assert.ok(err instanceof ImageError, String(err));
    assert.equal(err.message, message);
    return true;
  });
}

function app(chip: ChipFamily, bytes = 2000) {
  const desc = buildAppDescription({ version: "0.3.0", projectName: "sprocket-micro" });
  return buildAppImage({ chip, segments: [{ loadAddress: 0x3f400020, data: desc }, { loadAddress: 0x400d0018, data: new Uint8Array(bytes) }] });
}

function bootloader(chip: ChipFamily, bytes = 20000) {
  return buildAppImage({ chip, segments: [{ loadAddress: 0x3fff0030, data: new Uint8Array(bytes).fill(7) }] });
}

function moddableBuild(chip: ChipFamily, extra: Record<string, Uint8Array> = {}) {
  return {
    files: new Map(
      Object.entries({
        "xs_esp32.bin": app(chip),
        "bootloader.bin": bootloader(chip),
        "partition-table.bin": buildPartitionTable(MODDABLE_DEFAULT_PARTITIONS),
        ...extra,
      }),
    ),
  };
}

for (const [chip, bootloaderOffset] of [["ESP32", 0x1000], ["ESP32-S3", 0x0], ["ESP32-C3", 0x0]] as [ChipFamily, number][]) {
  test(`a Moddable ${chip} build: bootloader at ${bootloaderOffset}, table at 0x8000, app at 0x10000`, () => {
    const build = buildFromModdable(moddableBuild(chip));
    assert.equal(build.chip, chip);
    assert.equal(build.appPartition.name, "factory");
    assert.deepEqual(build.manifest, {
      name: "sprocket-micro",
      version: "0.3.0",
      builds: [
        {
          chipFamily: chip,
          parts: [
            { path: "bootloader.bin", offset: bootloaderOffset },
            { path: "partition-table.bin", offset: 0x8000 },
            { path: "xs_esp32.bin", offset: 0x10000 },
          ],
        },
      ],
    });
    assert.deepEqual(parseManifest(JSON.stringify(build.manifest)), build.manifest);
    assert.deepEqual(
      build.parts.map((p) => [p.path, p.bytes.length]),
      build.manifest.builds[0]!.parts.map((p) => [p.path, moddableBuild(chip).files.get(p.path)!.length]),
    );
  });
}

test("an OTA build: app in ota_0, ota_data_initial.bin in otadata", () => {
  const table = parsePartitionCsv(`nvs, data, nvs, 0x9000, 0x4000
otadata, data, ota, 0xd000, 0x2000
phy_init, data, phy, 0xf000, 0x1000
ota_0, app, ota_0, 0x10000, 0x1F0000
ota_1, app, ota_1, 0x200000, 0x1F0000
`);
  const build = buildFromModdable(
    moddableBuild("ESP32", { "partition-table.bin": buildPartitionTable(table, { md5: true }), "ota_data_initial.bin": new Uint8Array(0x2000).fill(0xff) }),
    { name: "Sprocket", version: "1.0.0" },
  );
  assert.deepEqual(build.manifest.builds[0]!.parts, [
    { path: "bootloader.bin", offset: 0x1000 },
    { path: "partition-table.bin", offset: 0x8000 },
    { path: "ota_data_initial.bin", offset: 0xd000 },
    { path: "xs_esp32.bin", offset: 0x10000 },
  ]);
  assert.equal(build.appPartition.name, "ota_0");
  assert.equal(build.manifest.name, "Sprocket");
});

test("builds that cannot work are refused", () => {
  const big = buildFromModdable.bind(null, moddableBuild("ESP32", { "xs_esp32.bin": app("ESP32", 4_400_000) }));
  refused(big, `app image is 4.2 MB but partition "factory" holds 3.9 MB`);
  refused(() => checkImageFits(0x3f0001, MODDABLE_DEFAULT_PARTITIONS[2]!), `app image is 4128769 bytes but partition "factory" holds 4128768 bytes`);
  assert.doesNotThrow(() => checkImageFits(0x3f0000, MODDABLE_DEFAULT_PARTITIONS[2]!));

  refused(() => buildFromModdable(moddableBuild("ESP32", { "bootloader.bin": bootloader("ESP32-S3") })), `bootloader.bin is for ESP32-S3 but xs_esp32.bin is for ESP32`);
  refused(
    () => buildFromModdable(moddableBuild("ESP32", { "bootloader.bin": bootloader("ESP32", 0x7000) })),
    `bootloader.bin is 28.1 KB at 0x1000 and runs into the partition table at 0x8000`,
  );
  const files = moddableBuild("ESP32").files;
  files.delete("bootloader.bin");
  refused(() => buildFromModdable({ files }), `the build has no bootloader.bin (the bootloader)`);
  const corrupt = app("ESP32");
  corrupt[0] = 0;
  refused(() => buildFromModdable(moddableBuild("ESP32", { "xs_esp32.bin": corrupt })), `xs_esp32.bin: not an ESP app image: first byte is 0x00, expected 0xE9`);
  refused(
    () => buildFromModdable(moddableBuild("ESP32", { "ota_data_initial.bin": new Uint8Array(0x2000) })),
    `the build has ota_data_initial.bin but partition-table.bin has no otadata partition`,
  );
});

test("manifests are checked field by field", () => {
  const good = {
    name: "Sprocket",
    version: "1",
    new_install_prompt_erase: true,
    builds: [
      { chipFamily: "ESP32", parts: [{ path: "a.bin", offset: 4096 }] },
      { chipFamily: "ESP32-S3", serialType: "cdc", parts: [{ path: "b.bin", offset: 0 }] },
      { chipFamily: "ESP32-S3", serialType: "uart", parts: [{ path: "c.bin", offset: 0 }] },
    ],
  };
  const m = parseManifest(good);
  assert.equal(selectBuild(m, "ESP32").parts[0]!.path, "a.bin");
  assert.equal(selectBuild(m, "ESP32-S3", "uart").parts[0]!.path, "c.bin");
  assert.equal(selectBuild(m, "ESP32-S3").parts[0]!.path, "b.bin");
  refused(() => selectBuild(m, "ESP32-C3"), `manifest has no build for ESP32-C3 (it has ESP32, ESP32-S3, ESP32-S3)`);

  refused(() => parseManifest("{"), `manifest is not JSON: ${(() => { try { JSON.parse("{"); } catch (e) { return (e as Error).message; } })()}`);
  refused(() => parseManifest({ ...good, version: 1 }), `manifest "version" must be a string`);
  refused(() => parseManifest({ ...good, builds: [] }), `manifest "builds" must be a non-empty array`);
  refused(
    () => parseManifest({ ...good, builds: [{ chipFamily: "ESP8266", parts: [{ path: "a.bin", offset: 0 }] }] }),
    `manifest builds[0].chipFamily "ESP8266" is not one of ESP32, ESP32-S2, ESP32-C3, ESP32-S3, ESP32-C2, ESP32-C6, ESP32-H2, ESP32-P4, ESP32-C61, ESP32-C5`,
  );
  refused(() => parseManifest({ ...good, builds: [{ chipFamily: "ESP32", parts: [{ path: "a.bin", offset: -1 }] }] }), `manifest builds[0].parts[0].offset must be a non-negative integer`);
  refused(() => parseManifest({ ...good, builds: [{ chipFamily: "ESP32", parts: [{ offset: 0 }] }] }), `manifest builds[0].parts[0].path must be a non-empty string`);
});

test("the Node wrapper reads a build directory", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sprocket-build-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const build = moddableBuild("ESP32-C3");
  for (const [name, bytes] of build.files) await writeFile(join(dir, name), bytes);
  await writeFile(join(dir, "xs_esp32.elf"), "not flashed");
  const read = await readBuildDir(dir);
  assert.deepEqual([...read.files.keys()].sort(), ["bootloader.bin", "partition-table.bin", "xs_esp32.bin"]);
  assert.deepEqual((await readModdableBuild(dir)).manifest, buildFromModdable(build).manifest);
  await assert.rejects(readBuildDir(join(dir, "missing")), new ImageError(`${join(dir, "missing")} is not a directory`));
});
