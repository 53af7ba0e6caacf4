// The provisioning keys the firmware reads, written as Moddable's Preference would write them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PROVISIONING_DOMAIN, preferenceNvsType, provisioningKeys } from "../../firmware/provisioning/keys.js";
import { ImageError } from "../../tools/image/bytes.js";
import { NVS_MAX_KEY_LENGTH, NvsItemType, buildNvs, parseNvs } from "../../tools/image/nvs.js";
import { configBlob, provisioningEntries, provisioningKeyFor, readProvisioning } from "../../tools/image/provisioning.js";

test("key definitions: one domain, NVS-sized names, Moddable's types", () => {
  assert.ok(PROVISIONING_DOMAIN.length <= NVS_MAX_KEY_LENGTH);
  // modPreference.c: boolean → nvs_set_u8, integer → nvs_set_i32, string → nvs_set_str, ArrayBuffer → nvs_set_blob.
  assert.deepEqual(preferenceNvsType, { boolean: "u8", integer: "i32", string: "str", arraybuffer: "blob" });
  assert.equal(NvsItemType.u8, 0x01);
  assert.equal(NvsItemType.i32, 0x14);
  assert.equal(NvsItemType.str, 0x21);
  assert.deepEqual(
    Object.values(provisioningKeys).map((k) => [k.domain, k.key, k.type, k.secret]),
    [
      ["sprocket", "wifi_ssid", "string", false],
      ["sprocket", "wifi_pass", "string", true],
      ["sprocket", "host", "string", false],
      ["sprocket", "part_id", "string", false],
      ["sprocket", "part_key", "string", true],
      ["sprocket", "config", "arraybuffer", false],
    ],
  );
  for (const k of Object.values(provisioningKeys)) assert.ok(k.key.length <= NVS_MAX_KEY_LENGTH, k.key);
  assert.equal(provisioningKeyFor("sprocket", "part_key")?.secret, true);
  assert.equal(provisioningKeyFor("other", "part_key"), undefined);
});

test("values → NVS entries → image → values", () => {
  const config = { components: [{ name: "imu", api: "rdk:component:movement_sensor", model: "gyro-mpu6050" }], pad: "c".repeat(6000) };
  const values = {
    wifiSsid: "MyNet",
    wifiPassword: "hunter22",
    host: "ws://192.168.1.20:8080",
    partId: "0b5c4a1e-key-id",
    partKey: "s3cr3t",
    config: configBlob(config),
  };
  const entries = provisioningEntries(values);
  assert.deepEqual(
    entries.map((e) => [e.namespace, e.key, e.type]),
    [
      ["sprocket", "wifi_ssid", "str"],
      ["sprocket", "wifi_pass", "str"],
      ["sprocket", "host", "str"],
      ["sprocket", "part_id", "str"],
      ["sprocket", "part_key", "str"],
      ["sprocket", "config", "blob"],
    ],
  );
  const back = readProvisioning(parseNvs(buildNvs(entries)).entries);
  assert.deepEqual(back, values);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(back.config)), config);
  assert.deepEqual(provisioningEntries({ wifiSsid: "only" }).map((e) => e.key), ["wifi_ssid"]);
});

test("values the firmware could not use are refused", () => {
  assert.throws(() => provisioningEntries({ wifiSsid: "s".repeat(33) }), new ImageError(`provisioning value "wifi_ssid" is 33 bytes; the limit is 32`));
  const wrongType = [{ namespace: "sprocket", key: "config", type: "str" as const, value: "{}" }];
  assert.throws(() => readProvisioning(wrongType), new ImageError(`NVS key "config" is stored as str, but the firmware reads it as blob`));
});
