// AuthService/Authenticate on a micro part. Every connection must authenticate first, with the
// part's API key from Preference: entity = the key's id (part_id), credentials = {type: "api-key",
// payload: the secret (part_key)}. A wrong or missing key answers UNAUTHENTICATED "invalid
// credentials"; every other call before success answers UNAUTHENTICATED "authentication required"
// (firmware/rpc/dispatcher.ts). micro-rdk checks nothing here; this runtime does.
//
// The token returned is opaque and never checked: what is authenticated is the connection (a TCP
// socket, the UART link) that made the call, for as long as it stays open. Clients that send the
// token back as `authorization: Bearer …` metadata do no harm. A part with no key provisioned
// accepts no one.
import { decodeAuthenticateRequest, encodeAuthenticateResponse } from "../../proto/micro/gen/proto/rpc/v1/auth_micro.js";
import { log } from "../log.js";
import type { ServiceDefinition } from "./dispatcher.js";
import { unauthenticated } from "./errors.js";
import { unary } from "./method.js";

export const API_KEY_CREDENTIALS_TYPE = "api-key";

export interface PartKey {
  readonly id: string | undefined;
  readonly secret: string | undefined;
}

/**
 * Equality of two strings in time that depends on `expected`'s length only, not on where `given`
 * first differs (so response times do not reveal a secret's prefix). Portable: no crypto module.
 */
export function constantTimeEqual(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    // charCodeAt past the end is NaN, which | 0 turns into 0; the length check above already failed.
    diff |= (given.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  }
  return diff === 0;
}

let tokens = 0;

export function authService(key: () => PartKey): ServiceDefinition {
  return {
    name: "proto.rpc.v1.AuthService",
    unary: {
      Authenticate: unary(decodeAuthenticateRequest, encodeAuthenticateResponse, (req, ctx) => {
        const { id, secret } = key();
        const credentials = req.credentials;
        // Evaluate every comparison, whatever fails first.
        let ok = id !== undefined && secret !== undefined && secret !== "";
        ok = constantTimeEqual(req.entity, id ?? "") && ok;
        ok = constantTimeEqual(credentials?.type ?? "", API_KEY_CREDENTIALS_TYPE) && ok;
        ok = constantTimeEqual(credentials?.payload ?? "", secret ?? "") && ok;
        if (!ok) {
          log("warn", "authentication failed on " + ctx.connection.peer + (id === undefined || !secret ? " (no part key provisioned)" : ""));
          throw unauthenticated("invalid credentials");
        }
        ctx.connection.authenticated = true;
        tokens++;
        return { accessToken: "sprocket-micro-connection-" + ctx.connection.id + "-" + tokens };
      }),
    },
  };
}
