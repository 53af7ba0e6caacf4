// sprocket.micro.v1.ConfigService (proto/defs/sprocket/micro/v1/config.proto): replaces the part's
// machine config at run time, without a reboot. SetConfig parses and validates the JSON (an
// invalid config answers INVALID_ARGUMENT naming the problem, and the running config stays), stores
// it (RESOURCE_EXHAUSTED if it does not fit in flash; the stored config stays), then closes the
// old resources and builds the new ones. Resources that fail to build are reported by
// GetMachineStatus, as on viam-server; they do not fail the call. Network settings (the TCP port,
// rpc_uart) take effect at the next boot, except the session heartbeat window, which sessions started
// from then on get.
import {
  decodeGetConfigRequest,
  decodeSetConfigRequest,
  encodeGetConfigResponse,
  encodeSetConfigResponse,
} from "../../proto/micro/gen/sprocket/micro/v1/config_micro.js";
import { log } from "../log.js";
import type { ServiceDefinition } from "../rpc/dispatcher.js";
import { invalidArgument, resourceExhausted } from "../rpc/errors.js";
import { unary } from "../rpc/method.js";
import { validateConfig, type Machine } from "../runtime/machine.js";
import { ConfigError } from "./attributes.js";
import { parseConfig } from "./schema.js";
import { configRevision, writeConfigText } from "./store.js";

export interface ConfigHolder {
  /** The JSON text of the config in use ("{}" when none). */
  text: string;
}

export function configService(machine: Machine, holder: ConfigHolder, store: (text: string) => void = writeConfigText): ServiceDefinition {
  return {
    name: "sprocket.micro.v1.ConfigService",
    unary: {
      SetConfig: unary(decodeSetConfigRequest, encodeSetConfigResponse, (req) => {
        const text = req.configJson;
        let config;
        try {
          config = parseConfig(text);
          validateConfig(config, machine.models);
        } catch (error) {
          if (error instanceof ConfigError) throw invalidArgument(error.message);
          throw error;
        }
        try {
          store(text);
        } catch (error) {
          throw resourceExhausted(error instanceof Error ? error.message : String(error));
        }
        const revision = configRevision(text);
        machine.apply(config, revision);
        machine.safety.sessions.heartbeatWindowMs = config.heartbeatWindowMs;
        holder.text = text;
        log("info", "config " + revision + " applied: " + config.components.length + " component(s)");
        return { revision };
      }),
      GetConfig: unary(decodeGetConfigRequest, encodeGetConfigResponse, () => ({ configJson: holder.text, revision: machine.revision })),
    },
  };
}
