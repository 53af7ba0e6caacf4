import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiKeyStore } from "../../host/auth/api-keys.js";
import { authenticate } from "../../host/auth/authenticate.js";
import type { AuthenticateRequest } from "../../host/auth/authenticate.js";
import { AUTHORIZATION_HEADER, bearerToken, checkAuthorization, verifyAuthorization } from "../../host/auth/bearer.js";
import { AuthError } from "../../host/auth/errors.js";
import type { AuthErrorCode } from "../../host/auth/errors.js";
import { TokenAuthority } from "../../host/auth/tokens.js";
import { parseMachineConfig } from "../../host/config/load.js";

const FQDN = "rover.local";

function isAuthError(code: AuthErrorCode, message: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AuthError, `expected AuthError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    return true;
  };
}

async function setup() {
  const store = new ApiKeyStore({ "key-id-1": "secret-1" });
  const authority = await TokenAuthority.create({ audience: FQDN });
  return { store, authority };
}

const request = (credentials?: AuthenticateRequest["credentials"], entity = "key-id-1"): AuthenticateRequest =>
  credentials === undefined ? { entity } : { entity, credentials };

describe("authenticate", () => {
  it("returns a token for the entity on good credentials", async () => {
    const { store, authority } = await setup();
    const token = await authenticate(store, authority, request({ type: "api-key", payload: "secret-1" }), false);
    assert.deepEqual(await authority.verify(token), { entity: "key-id-1", credsType: "api-key" });
  });

  it("refuses to re-authenticate a request that already has an authorization header", async () => {
    const { store, authority } = await setup();
    await assert.rejects(
      authenticate(store, authority, request({ type: "api-key", payload: "secret-1" }), true),
      isAuthError("INVALID_ARGUMENT", "already authenticated; cannot re-authenticate"),
    );
    // The header check comes first, even without credentials.
    await assert.rejects(
      authenticate(store, authority, request(), true),
      isAuthError("INVALID_ARGUMENT", "already authenticated; cannot re-authenticate"),
    );
  });

  it("requires credentials", async () => {
    const { store, authority } = await setup();
    await assert.rejects(authenticate(store, authority, request(), false), isAuthError("INVALID_ARGUMENT", "credentials required"));
    await assert.rejects(authenticate(store, authority, request(null), false), isAuthError("INVALID_ARGUMENT", "credentials required"));
  });

  it("refuses credential types it has no handler for", async () => {
    const { store, authority } = await setup();
    await assert.rejects(
      authenticate(store, authority, request({ type: "robot-secret", payload: "x" }), false),
      isAuthError("INVALID_ARGUMENT", 'do not know how to handle credential type "robot-secret"'),
    );
    await assert.rejects(
      authenticate(store, authority, request({ type: "", payload: "x" }), false),
      isAuthError("INVALID_ARGUMENT", 'do not know how to handle credential type ""'),
    );
    // With no api-key handler configured there is no api-key handler either.
    await assert.rejects(
      authenticate(new ApiKeyStore(), authority, request({ type: "api-key", payload: "secret-1" }), false),
      isAuthError("INVALID_ARGUMENT", 'do not know how to handle credential type "api-key"'),
    );
  });

  it("refuses a wrong secret or an unknown key id", async () => {
    const { store, authority } = await setup();
    await assert.rejects(
      authenticate(store, authority, request({ type: "api-key", payload: "secret-2" }), false),
      isAuthError("UNAUTHENTICATED", "invalid credentials"),
    );
    await assert.rejects(
      authenticate(store, authority, request({ type: "api-key", payload: "secret-1" }, "key-id-2"), false),
      isAuthError("UNAUTHENTICATED", "invalid credentials"),
    );
  });
});

describe("checkAuthorization", () => {
  it("returns the entity of a valid bearer token", async () => {
    const { authority } = await setup();
    const token = await authority.issue("key-id-1", "api-key");
    assert.equal(await checkAuthorization([`Bearer ${token}`], authority), "key-id-1");
    assert.deepEqual(await verifyAuthorization([`Bearer ${token}`], authority), { entity: "key-id-1", credsType: "api-key" });
    assert.equal(AUTHORIZATION_HEADER, "authorization");
  });

  it("requires exactly one authorization header", async () => {
    const { authority } = await setup();
    const token = await authority.issue("key-id-1", "api-key");
    await assert.rejects(checkAuthorization([], authority), isAuthError("UNAUTHENTICATED", "authentication required"));
    await assert.rejects(
      checkAuthorization([`Bearer ${token}`, `Bearer ${token}`], authority),
      isAuthError("UNAUTHENTICATED", "authentication required"),
    );
  });

  it("requires the Bearer prefix", async () => {
    const { authority } = await setup();
    const token = await authority.issue("key-id-1", "api-key");
    for (const value of [token, `bearer ${token}`, `Basic ${token}`, "Bearer"]) {
      await assert.rejects(
        checkAuthorization([value], authority),
        isAuthError("UNAUTHENTICATED", "expected authorization header with prefix: Bearer "),
      );
    }
    assert.throws(() => bearerToken(["Token x"]), isAuthError("UNAUTHENTICATED", "expected authorization header with prefix: Bearer "));
  });

  it("refuses a bad token", async () => {
    const { authority } = await setup();
    await assert.rejects(
      checkAuthorization(["Bearer not-a-jwt"], authority),
      isAuthError("UNAUTHENTICATED", "unauthenticated: token contains an invalid number of segments"),
    );
    await assert.rejects(
      checkAuthorization(["Bearer "], authority),
      isAuthError("UNAUTHENTICATED", "unauthenticated: token contains an invalid number of segments"),
    );
    const other = await TokenAuthority.create({ audience: FQDN });
    await assert.rejects(
      checkAuthorization([`Bearer ${await other.issue("key-id-1", "api-key")}`], authority),
      isAuthError("UNAUTHENTICATED", `unauthenticated: this server did not sign this JWT with kid "${await other.keyId()}"`),
    );
  });

  it("works end to end from a config file's api keys", async () => {
    const cfg = parseMachineConfig(
      '{"network": {"fqdn": "rover.local"}, "auth": {"handlers": [{"type": "api-key", "config": {"keys": ["kid-1"], "kid-1": "s3cret"}}]}}',
      "machine.json",
    );
    const store = ApiKeyStore.fromConfig(cfg.auth);
    const authority = await TokenAuthority.create({ audience: cfg.network.fqdn });
    const token = await authenticate(store, authority, { entity: "kid-1", credentials: { type: "api-key", payload: "s3cret" } }, false);
    assert.equal(await checkAuthorization([`Bearer ${token}`], authority), "kid-1");
  });
});
