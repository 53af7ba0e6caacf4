// What changed between the running config and a new one (rdk `config/diff.go`, `DiffConfigs`).
// Resources are matched by full name (API and name); a resource whose entry differs in anything
// but its place in the file (attributes, model, depends_on, frame, service_configs,
// log_configuration) is modified, and a modified resource is rebuilt. A changed API is a
// different resource: the old one is removed and the new one added.
import { apiString, type Api } from "../resource/name.js";
import type { MachineConfig, ResourceConfig } from "./schema.js";

export interface ResourceDiff<T> {
  added: T[];
  modified: T[];
  removed: T[];
  unmodified: T[];
}

export interface ConfigDiff {
  /** Components and services together. */
  resources: ResourceDiff<ResourceConfig>;
  resourcesEqual: boolean;
  /** `network` (listener, TLS, sessions) and `auth` are the same. */
  networkEqual: boolean;
  /** `log`, `debug` and `disable_log_deduplication` are the same. */
  loggingEqual: boolean;
  remotesEqual: boolean;
  modulesEqual: boolean;
  revisionEqual: boolean;
  maintenanceEqual: boolean;
}

/** Deep equality of JSON-like values: objects by keys regardless of order, arrays in order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]));
}

/** Two resource entries configure the same thing (where they sit in the file does not count). */
export function resourceConfigEqual(a: ResourceConfig, b: ResourceConfig): boolean {
  const { origin: _a, ...left } = a;
  const { origin: _b, ...right } = b;
  return jsonEqual(left, right);
}

/** Matches entries of two lists by API and name and sorts them into added, modified, removed and unmodified. */
export function diffResources<T extends { readonly name: string; readonly api: Api }>(
  left: readonly T[],
  right: readonly T[],
  equal: (a: T, b: T) => boolean = jsonEqual,
): ResourceDiff<T> {
  const key = (r: T) => `${apiString(r.api)}/${r.name}`;
  const before = new Map(left.map((r) => [key(r), r]));
  const diff: ResourceDiff<T> = { added: [], modified: [], removed: [], unmodified: [] };
  for (const r of right) {
    const old = before.get(key(r));
    before.delete(key(r));
    if (old === undefined) diff.added.push(r);
    else if (equal(old, r)) diff.unmodified.push(r);
    else diff.modified.push(r);
  }
  diff.removed.push(...before.values());
  return diff;
}

const withoutOrigin = <T extends { origin?: unknown }>(list: readonly T[]) =>
  list.map(({ origin: _o, ...rest }) => rest);

export function diffConfigs(left: MachineConfig, right: MachineConfig): ConfigDiff {
  const resources = diffResources(
    [...left.components, ...left.services],
    [...right.components, ...right.services],
    resourceConfigEqual,
  );
  return {
    resources,
    resourcesEqual: resources.added.length + resources.modified.length + resources.removed.length === 0,
    networkEqual: jsonEqual(left.network, right.network) && jsonEqual(left.auth, right.auth),
    loggingEqual:
      jsonEqual(left.log, right.log) &&
      left.debug === right.debug &&
      left.disableLogDeduplication === right.disableLogDeduplication,
    remotesEqual: jsonEqual(withoutOrigin(left.remotes), withoutOrigin(right.remotes)),
    modulesEqual: jsonEqual(withoutOrigin(left.modules), withoutOrigin(right.modules)),
    revisionEqual: left.revision === right.revision,
    maintenanceEqual: jsonEqual(left.maintenance, right.maintenance),
  };
}
