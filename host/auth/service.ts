// proto.rpc.v1.AuthService: api-key credentials in, a signed access token out.
import type { ServiceImpl } from "@connectrpc/connect";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import type { ApiKeyStore } from "./api-keys.js";
import { authenticate } from "./authenticate.js";
import { AUTHORIZATION_HEADER } from "./bearer.js";
import { AuthError } from "./errors.js";
import { authErrorToConnect } from "./interceptor.js";
import type { TokenAuthority } from "./tokens.js";

export function authService(store: ApiKeyStore, authority: TokenAuthority): ServiceImpl<typeof AuthService> {
  return {
    async authenticate(req, ctx) {
      try {
        const accessToken = await authenticate(store, authority, req, ctx.requestHeader.has(AUTHORIZATION_HEADER));
        return { accessToken };
      } catch (err) {
        throw err instanceof AuthError ? authErrorToConnect(err) : err;
      }
    },
  };
}

export { AuthService };
