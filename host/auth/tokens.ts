// Access tokens as viam-server issues them (goutils `rpc/server_auth.go`): a JWT signed with an
// Ed25519 key made fresh for each process, `kid` = base64url of the raw 32-byte public key, and
// claims sub/aud/iss/iat/jti/rpc_creds_type with no `exp`. Verification follows goutils'
// `ensureAuthed` step by step so failures carry the same texts (UNAUTHENTICATED).
import { randomUUID } from "node:crypto";
import { CompactSign, compactVerify, exportJWK, generateKeyPair } from "jose";
import type { CryptoKey } from "jose";
import { formatGoDuration, goQuote } from "../config/schema.js";
import { AuthError } from "./errors.js";

export interface TokenAuthorityOptions {
  /** Audiences written into `aud` and accepted on verification (viam-server: `[fqdn]`). */
  audience: string | readonly string[];
  /** `iss`; defaults to the first audience. */
  issuer?: string;
  /** Token lifetime in ms. Unset (the default) means no `exp`, as viam-server does. */
  ttlMs?: number;
  /** Credential types whose tokens are accepted; default `["api-key"]`. */
  credsTypes?: Iterable<string>;
  /** Clock in ms since the epoch (tests). */
  now?: () => number;
  /**
   * An existing Ed25519 key pair (e.g. to share one key between listeners, or in tests). By
   * default a fresh pair is generated, so tokens die with the process, as with viam-server.
   */
  keyPair?: { privateKey: CryptoKey; publicKey: CryptoKey };
}

export interface VerifiedToken {
  /** `sub`: the authenticated entity (the API key id for api-key logins). */
  entity: string;
  /** `rpc_creds_type` */
  credsType: string;
  /** `rpc_auth_md`, when present. */
  metadata?: Record<string, string>;
}

interface KeyMaterial {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  kid: string;
}

/** JWS algorithms goutils accepts (`validSigningMethods`). */
const VALID_SIGNING_METHODS = new Set([
  "ES256", "ES512", "HS512", "PS256", "RS512", "PS384", "PS512", "RS384", "ES384", "EdDSA", "HS256", "HS384", "RS256",
]);
/** Every algorithm golang-jwt knows, including `none`. */
const KNOWN_SIGNING_METHODS = new Set([...VALID_SIGNING_METHODS, "none"]);

const unauthenticated = (message: string) => new AuthError("UNAUTHENTICATED", message);
/** goutils wraps parse/signature/claims failures as `unauthenticated: <golang-jwt error>`. */
const jwtFailure = (detail: string) => unauthenticated(`unauthenticated: ${detail}`);

/** Decodes one JWT segment like golang-jwt v4's `DecodeSegment` (unpadded base64url). */
function decodeSegment(segment: string): Buffer {
  for (let i = 0; i < segment.length; i++) {
    if (!/[A-Za-z0-9_-]/.test(segment[i]!)) throw jwtFailure(`illegal base64 data at input byte ${i}`);
  }
  if (segment.length % 4 === 1) throw jwtFailure(`illegal base64 data at input byte ${segment.length - 1}`);
  return Buffer.from(segment, "base64url");
}

function goJsonKind(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "object") return "object";
  return typeof value;
}

function parseSegmentJson(segment: string): unknown {
  const text = decodeSegment(segment).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // Go's encoding/json words these differently; the gist is the same.
    throw jwtFailure(/end of JSON input/.test((err as Error).message) ? "unexpected end of JSON input" : `invalid character in JSON: ${(err as Error).message}`);
  }
}

/** Decodes the claims the way `json.Unmarshal` into goutils' `JWTClaims` would, with its type errors. */
function decodeClaims(value: unknown): Record<string, unknown> {
  if (value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw jwtFailure(`json: cannot unmarshal ${goJsonKind(value)} into Go value of type rpc.JWTClaims`);
  }
  const claims = value as Record<string, unknown>;
  for (const field of ["sub", "iss", "jti", "rpc_creds_type", "applicationId"]) {
    const v = claims[field];
    if (v !== undefined && v !== null && typeof v !== "string") {
      throw jwtFailure(`json: cannot unmarshal ${goJsonKind(v)} into Go struct field JWTClaims.${field} of type string`);
    }
  }
  const aud = claims["aud"];
  if (Array.isArray(aud)) {
    const bad = aud.find((a) => typeof a !== "string");
    if (bad !== undefined) throw jwtFailure(`json: unsupported type: ${typeof bad === "number" ? "float64" : goJsonKind(bad)}`);
  } else if (aud !== undefined && aud !== null && typeof aud !== "string") {
    throw jwtFailure(`json: unsupported type: ${typeof aud === "number" ? "float64" : goJsonKind(aud)}`);
  }
  for (const field of ["exp", "nbf", "iat"]) {
    const v = claims[field];
    if (v !== undefined && v !== null && typeof v !== "number") {
      throw jwtFailure(`could not parse NumericDate: json: cannot unmarshal ${goJsonKind(v)} into Go value of type float64`);
    }
  }
  const md = claims["rpc_auth_md"];
  if (md !== undefined && md !== null) {
    if (typeof md !== "object" || Array.isArray(md) || Object.values(md).some((v) => typeof v !== "string")) {
      throw jwtFailure("json: cannot unmarshal rpc_auth_md into Go struct field JWTClaims.rpc_auth_md of type map[string]string");
    }
  }
  return claims;
}

/** Issues and verifies this process's access tokens. */
export class TokenAuthority {
  readonly audience: readonly string[];
  readonly issuer: string;
  readonly ttlMs: number | undefined;
  readonly credsTypes: ReadonlySet<string>;
  private readonly now: () => number;
  private readonly keys: Promise<KeyMaterial>;

  constructor(options: TokenAuthorityOptions) {
    const audience = typeof options.audience === "string" ? [options.audience] : [...options.audience];
    if (audience.length === 0 || audience.some((a) => a === "")) throw new Error("TokenAuthority needs a non-empty audience");
    this.audience = Object.freeze(audience);
    this.issuer = options.issuer ?? audience[0]!;
    this.ttlMs = options.ttlMs;
    this.credsTypes = new Set(options.credsTypes ?? ["api-key"]);
    this.now = options.now ?? Date.now;
    const pair = options.keyPair ? Promise.resolve(options.keyPair) : generateKeyPair("EdDSA", { crv: "Ed25519" });
    this.keys = pair.then(async ({ privateKey, publicKey }) => {
      const jwk = await exportJWK(publicKey);
      return { privateKey, publicKey, kid: jwk.x! };
    });
    this.keys.catch(() => undefined); // surfaced by issue()/verify()
  }

  /** Creates an authority and waits for its key. */
  static async create(options: TokenAuthorityOptions): Promise<TokenAuthority> {
    const authority = new TokenAuthority(options);
    await authority.keys;
    return authority;
  }

  /** The `kid` of this process's key: base64url (no padding) of the raw Ed25519 public key. */
  async keyId(): Promise<string> {
    return (await this.keys).kid;
  }

  /** Signs a token for `entity` authenticated with credentials of type `credsType`. */
  async issue(entity: string, credsType: string, metadata?: Record<string, string>): Promise<string> {
    const { privateKey, kid } = await this.keys;
    const iat = Math.floor(this.now() / 1000);
    const claims: Record<string, unknown> = {
      aud: [...this.audience],
      iat,
      iss: this.issuer,
      jti: randomUUID(),
      sub: entity,
      rpc_creds_type: credsType,
    };
    if (this.ttlMs !== undefined) claims["exp"] = iat + Math.ceil(this.ttlMs / 1000);
    if (metadata && Object.keys(metadata).length > 0) claims["rpc_auth_md"] = { ...metadata };
    return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: "EdDSA", kid, typ: "JWT" })
      .sign(privateKey);
  }

  /**
   * Verifies a token this authority issued. Throws `AuthError` (UNAUTHENTICATED) with goutils'
   * text: `unauthenticated: <reason>`, `invalid audience` or `expected entity (sub) in claims`.
   */
  async verify(token: string): Promise<VerifiedToken> {
    const { publicKey, kid: ourKid } = await this.keys;

    // golang-jwt ParseUnverified: three segments, header JSON, claims JSON, then alg.
    const parts = token.split(".");
    if (parts.length !== 3) throw jwtFailure("token contains an invalid number of segments");
    const headerValue = parseSegmentJson(parts[0]!);
    if (headerValue !== null && (typeof headerValue !== "object" || Array.isArray(headerValue))) {
      throw jwtFailure(`json: cannot unmarshal ${goJsonKind(headerValue)} into Go value of type map[string]interface {}`);
    }
    const header = (headerValue ?? {}) as Record<string, unknown>;
    const claims = decodeClaims(parseSegmentJson(parts[1]!));
    const alg = header["alg"];
    if (typeof alg !== "string") throw jwtFailure("signing method (alg) is unspecified.");
    if (!KNOWN_SIGNING_METHODS.has(alg)) throw jwtFailure("signing method (alg) is unavailable.");
    if (!VALID_SIGNING_METHODS.has(alg)) throw jwtFailure(`signing method ${alg} is invalid`);

    // goutils key function: handler for the credential type, then our key by kid and method.
    const credsType = typeof claims["rpc_creds_type"] === "string" ? (claims["rpc_creds_type"] as string) : "";
    if (!this.credsTypes.has(credsType)) {
      throw jwtFailure(`rpc error: code = InvalidArgument desc = do not know how to handle credential type ${goQuote(credsType)}`);
    }
    const kid = header["kid"];
    if (typeof kid !== "string") throw jwtFailure("kid header not in token header");
    if (kid !== ourKid) throw jwtFailure(`this server did not sign this JWT with kid ${goQuote(kid)}`);
    if (alg !== "EdDSA") throw jwtFailure(`unexpected signing method ${goQuote(alg)}`);

    try {
      await compactVerify(token, publicKey, { algorithms: ["EdDSA"] });
    } catch (err) {
      throw new AuthError("UNAUTHENTICATED", "unauthenticated: ed25519: verification error", { cause: err });
    }

    // RegisteredClaims.Valid: exp, iat, nbf (no leeway); the last failure wins, as in golang-jwt v4.
    const nowMs = this.now();
    let timeProblem: string | undefined;
    const exp = claims["exp"];
    if (typeof exp === "number" && nowMs >= Math.trunc(exp) * 1000) {
      timeProblem = `token is expired by ${formatGoDuration(nowMs - Math.trunc(exp) * 1000)}`;
    }
    const iat = claims["iat"];
    if (typeof iat === "number" && nowMs < Math.trunc(iat) * 1000) timeProblem = "token used before issued";
    const nbf = claims["nbf"];
    if (typeof nbf === "number" && nowMs < Math.trunc(nbf) * 1000) timeProblem = "token is not valid yet";
    if (timeProblem) throw jwtFailure(timeProblem);

    // Audience: one of ours must appear in `aud` (a string or an array).
    const aud = claims["aud"];
    const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? (aud as string[]) : [];
    if (!this.audience.some((mine) => audiences.includes(mine))) throw unauthenticated("invalid audience");

    const entity = typeof claims["sub"] === "string" ? (claims["sub"] as string) : "";
    if (entity === "") throw unauthenticated("expected entity (sub) in claims");

    const result: VerifiedToken = { entity, credsType };
    const md = claims["rpc_auth_md"];
    if (md && typeof md === "object" && Object.keys(md).length > 0) result.metadata = { ...(md as Record<string, string>) };
    return result;
  }
}
