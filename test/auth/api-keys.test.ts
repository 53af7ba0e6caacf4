import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiKeyStore } from "../../host/auth/api-keys.js";
import { parseMachineConfig } from "../../host/config/load.js";

describe("ApiKeyStore", () => {
  const store = new ApiKeyStore({ "key-id-1": "secret-1", "key-id-2": "a-much-longer-secret-value" });

  it("accepts the right secret for each key id", () => {
    assert.equal(store.check("key-id-1", "secret-1"), true);
    assert.equal(store.check("key-id-2", "a-much-longer-secret-value"), true);
  });

  it("refuses wrong secrets of any length", () => {
    for (const wrong of ["", "secret-", "secret-2", "secret-1 ", "SECRET-1", "a-much-longer-secret-value"]) {
      assert.equal(store.check("key-id-1", wrong), false, JSON.stringify(wrong));
    }
  });

  it("refuses unknown key ids, even with a secret that is valid elsewhere", () => {
    assert.equal(store.check("key-id-3", "secret-1"), false);
    assert.equal(store.check("", ""), false);
    assert.equal(store.check("secret-1", "key-id-1"), false);
  });

  it("reports its size and credential types", () => {
    assert.equal(store.size, 2);
    assert.deepEqual(store.credentialTypes, ["api-key"]);
    assert.equal(store.has("key-id-1"), true);
    const empty = new ApiKeyStore();
    assert.equal(empty.size, 0);
    assert.deepEqual(empty.credentialTypes, []);
    assert.equal(empty.check("key-id-1", "secret-1"), false);
  });

  it("accepts key pairs as an iterable", () => {
    const fromMap = new ApiKeyStore(new Map([["k", "v"]]));
    assert.equal(fromMap.check("k", "v"), true);
  });

  it("is built from the config's auth handlers, ignoring the legacy keys/key entries", () => {
    const cfg = parseMachineConfig(
      '{"auth": {"handlers": [{"type": "api-key", "config": {"keys": ["rover-key-1"], "key": "legacy", "rover-key-1": "change-me", "rover-key-2": "other"}}]}}',
      "machine.json",
    );
    const fromConfig = ApiKeyStore.fromConfig(cfg.auth);
    assert.equal(fromConfig.size, 2);
    assert.equal(fromConfig.check("rover-key-1", "change-me"), true);
    assert.equal(fromConfig.check("rover-key-2", "other"), true);
    assert.equal(fromConfig.check("keys", "rover-key-1"), false);
    assert.equal(fromConfig.check("key", "legacy"), false);
    assert.equal(ApiKeyStore.fromHandlers(cfg.auth.handlers).size, 2);
  });
});
