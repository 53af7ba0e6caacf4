// API keys from the config's `auth.handlers` (type `api-key`, config `{ "<keyId>": "<secret>" }`).
// Checking compares SHA-256 digests with `timingSafeEqual`, so neither the secret's content nor
// its length shows in the timing, and an unknown key id still costs one comparison.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { API_KEY_CREDENTIALS_TYPE } from "../config/schema.js";
import type { AuthConfig, AuthHandlerConfig } from "../config/schema.js";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

export class ApiKeyStore {
  private readonly digests = new Map<string, Buffer>();
  /** Compared against when the key id is unknown, so that path does the same work. */
  private readonly dummy = digest(randomBytes(32).toString("hex"));

  /** `keys`: key id → secret. */
  constructor(keys: Iterable<readonly [string, string]> | Record<string, string> = {}) {
    const entries = Symbol.iterator in keys ? keys : Object.entries(keys);
    for (const [keyId, secret] of entries) this.digests.set(keyId, digest(secret));
  }

  /** Builds the store from normalized `auth.handlers` (only `api-key` handlers carry keys). */
  static fromHandlers(handlers: readonly AuthHandlerConfig[]): ApiKeyStore {
    const pairs: [string, string][] = [];
    for (const handler of handlers) {
      if (handler.type !== API_KEY_CREDENTIALS_TYPE) continue;
      pairs.push(...Object.entries(handler.apiKeys));
    }
    return new ApiKeyStore(pairs);
  }

  static fromConfig(auth: AuthConfig): ApiKeyStore {
    return ApiKeyStore.fromHandlers(auth.handlers);
  }

  /** Number of key ids. Zero means no `api-key` handler: the server runs unauthenticated. */
  get size(): number {
    return this.digests.size;
  }

  /** Credential types this store can check (`["api-key"]`, or none when empty). */
  get credentialTypes(): string[] {
    return this.digests.size > 0 ? [API_KEY_CREDENTIALS_TYPE] : [];
  }

  has(keyId: string): boolean {
    return this.digests.has(keyId);
  }

  /** True when `secret` is the key for key id `entity`. */
  check(entity: string, secret: string): boolean {
    const expected = this.digests.get(entity);
    const given = digest(secret);
    if (expected === undefined) {
      timingSafeEqual(this.dummy, given);
      return false;
    }
    return timingSafeEqual(expected, given);
  }
}
