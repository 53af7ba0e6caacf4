import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CompactSign, decodeJwt, decodeProtectedHeader, generateKeyPair } from "jose";
import type { CryptoKey } from "jose";
import { AuthError } from "../../host/auth/errors.js";
import { TokenAuthority } from "../../host/auth/tokens.js";

const FQDN = "rover.local";

/** Asserts that verification fails with UNAUTHENTICATED and exactly this text. */
async function rejectsWith(authority: TokenAuthority, token: string, message: string): Promise<void> {
  await assert.rejects(authority.verify(token), (err: unknown) => {
    assert.ok(err instanceof AuthError, `expected AuthError, got ${String(err)}`);
    assert.equal(err.code, "UNAUTHENTICATED");
    assert.equal(err.message, message);
    return true;
  });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Signs arbitrary header/claims with a key pair (to build tokens the authority would not issue). */
async function sign(privateKey: CryptoKey, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: "EdDSA", ...header })
    .sign(privateKey);
}

describe("TokenAuthority", () => {
  it("issues tokens shaped like viam-server's and verifies them", async () => {
    const authority = await TokenAuthority.create({ audience: FQDN });
    const token = await authority.issue("key-id-1", "api-key");

    const header = decodeProtectedHeader(token);
    assert.equal(header.alg, "EdDSA");
    assert.equal(header.kid, await authority.keyId());
    assert.equal(Buffer.from(header.kid!, "base64url").length, 32);
    assert.match(header.kid!, /^[A-Za-z0-9_-]{43}$/);

    const claims = decodeJwt(token);
    assert.equal(claims.sub, "key-id-1");
    assert.deepEqual(claims.aud, [FQDN]);
    assert.equal(claims.iss, FQDN);
    assert.equal(typeof claims.iat, "number");
    assert.match(claims.jti!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(claims["rpc_creds_type"], "api-key");
    assert.equal(claims.exp, undefined);
    assert.equal(claims["rpc_auth_md"], undefined);

    assert.deepEqual(await authority.verify(token), { entity: "key-id-1", credsType: "api-key" });
  });

  it("gives every token its own jti", async () => {
    const authority = await TokenAuthority.create({ audience: FQDN });
    const a = decodeJwt(await authority.issue("e", "api-key"));
    const b = decodeJwt(await authority.issue("e", "api-key"));
    assert.notEqual(a.jti, b.jti);
  });

  it("uses a fresh key per authority", async () => {
    const a = await TokenAuthority.create({ audience: FQDN });
    const b = await TokenAuthority.create({ audience: FQDN });
    assert.notEqual(await a.keyId(), await b.keyId());
  });

  it("refuses a token from another authority (another key)", async () => {
    const mine = await TokenAuthority.create({ audience: FQDN });
    const other = await TokenAuthority.create({ audience: FQDN });
    const token = await other.issue("key-id-1", "api-key");
    await rejectsWith(mine, token, `unauthenticated: this server did not sign this JWT with kid "${await other.keyId()}"`);
  });

  it("refuses a token signed by another key that claims our kid", async () => {
    const mine = await TokenAuthority.create({ audience: FQDN });
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const forged = await sign(privateKey, { kid: await mine.keyId() }, { sub: "x", aud: [FQDN], rpc_creds_type: "api-key" });
    await rejectsWith(mine, forged, "unauthenticated: ed25519: verification error");
  });

  it("refuses a tampered token", async () => {
    const authority = await TokenAuthority.create({ audience: FQDN });
    const [header, payload, signature] = (await authority.issue("key-id-1", "api-key")).split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>;
    const tampered = `${header}.${b64({ ...claims, sub: "admin" })}.${signature}`;
    await rejectsWith(authority, tampered, "unauthenticated: ed25519: verification error");
    const flipped = `${header}.${payload}.${signature!.slice(0, -2)}${signature!.endsWith("AA") ? "BA" : "AA"}`;
    await rejectsWith(authority, flipped, "unauthenticated: ed25519: verification error");
  });

  it("refuses a token for another audience", async () => {
    const keyPair = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const robotA = await TokenAuthority.create({ audience: "robot-a.local", keyPair });
    const robotB = await TokenAuthority.create({ audience: ["robot-b.local", "robot-b"], keyPair });
    await rejectsWith(robotB, await robotA.issue("key-id-1", "api-key"), "invalid audience");
    // One matching audience out of several is enough.
    const shared = await TokenAuthority.create({ audience: ["robot-a.local", "robot-b"], keyPair });
    assert.equal((await robotB.verify(await shared.issue("k", "api-key"))).entity, "k");
  });

  it("refuses a token without a subject", async () => {
    const keyPair = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const authority = await TokenAuthority.create({ audience: FQDN, keyPair });
    const token = await sign(keyPair.privateKey, { kid: await authority.keyId() }, { aud: [FQDN], rpc_creds_type: "api-key" });
    await rejectsWith(authority, token, "expected entity (sub) in claims");
    const emptySub = await authority.issue("", "api-key");
    await rejectsWith(authority, emptySub, "expected entity (sub) in claims");
  });

  it("accepts a string aud as golang-jwt does", async () => {
    const keyPair = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const authority = await TokenAuthority.create({ audience: FQDN, keyPair });
    const token = await sign(keyPair.privateKey, { kid: await authority.keyId() }, { sub: "e", aud: FQDN, rpc_creds_type: "api-key" });
    assert.deepEqual(await authority.verify(token), { entity: "e", credsType: "api-key" });
  });

  it("refuses malformed tokens with golang-jwt's texts", async () => {
    const authority = await TokenAuthority.create({ audience: FQDN });
    const kid = await authority.keyId();
    await rejectsWith(authority, "", "unauthenticated: token contains an invalid number of segments");
    await rejectsWith(authority, "a.b", "unauthenticated: token contains an invalid number of segments");
    await rejectsWith(authority, "a.b.c.d", "unauthenticated: token contains an invalid number of segments");
    await rejectsWith(authority, "ab=c.e30.x", "unauthenticated: illegal base64 data at input byte 2");
    await rejectsWith(authority, `${b64({ kid })}.${b64({ sub: "e" })}.x`, "unauthenticated: signing method (alg) is unspecified.");
    await rejectsWith(authority, `${b64({ alg: "XYZ", kid })}.${b64({ sub: "e" })}.x`, "unauthenticated: signing method (alg) is unavailable.");
    await rejectsWith(authority, `${b64({ alg: "none", kid })}.${b64({ sub: "e", aud: [FQDN] })}.`, "unauthenticated: signing method none is invalid");
    await rejectsWith(
      authority,
      `${b64({ alg: "HS256", kid })}.${b64({ sub: "e", aud: [FQDN], rpc_creds_type: "api-key" })}.x`,
      'unauthenticated: unexpected signing method "HS256"',
    );
    await rejectsWith(
      authority,
      `${b64({ alg: "EdDSA" })}.${b64({ sub: "e", rpc_creds_type: "api-key" })}.x`,
      "unauthenticated: kid header not in token header",
    );
    await rejectsWith(
      authority,
      `${b64({ alg: "EdDSA", kid })}.${b64({ sub: "e", rpc_creds_type: "robot-secret" })}.x`,
      'unauthenticated: rpc error: code = InvalidArgument desc = do not know how to handle credential type "robot-secret"',
    );
    await rejectsWith(
      authority,
      `${b64({ alg: "EdDSA", kid })}.${b64({ sub: 5 })}.x`,
      "unauthenticated: json: cannot unmarshal number into Go struct field JWTClaims.sub of type string",
    );
  });

  it("sets and checks exp only when a ttl is given", async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const authority = await TokenAuthority.create({ audience: FQDN, ttlMs: 60_000, now: () => now });
    const token = await authority.issue("e", "api-key");
    const claims = decodeJwt(token);
    assert.equal(claims.exp, claims.iat! + 60);
    now += 59_000;
    assert.equal((await authority.verify(token)).entity, "e");
    now += 2_500;
    await rejectsWith(authority, token, "unauthenticated: token is expired by 1.5s");
  });

  it("refuses a token issued in the future", async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const authority = await TokenAuthority.create({ audience: FQDN, now: () => now });
    const token = await authority.issue("e", "api-key");
    now -= 5_000;
    await rejectsWith(authority, token, "unauthenticated: token used before issued");
  });

  it("carries auth metadata when given", async () => {
    const authority = await TokenAuthority.create({ audience: FQDN, credsTypes: ["api-key", "robot-location-secret"] });
    const token = await authority.issue("robot.local:8080", "robot-location-secret", { role: "owner" });
    assert.deepEqual(await authority.verify(token), {
      entity: "robot.local:8080",
      credsType: "robot-location-secret",
      metadata: { role: "owner" },
    });
  });
});
