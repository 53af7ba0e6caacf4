// Resource names and API triplets in the string forms Viam uses on the wire and in configs:
// an API is `rdk:component:motor`, a resource name is `rdk:component:motor/m1`.

export interface Api {
  readonly namespace: string;
  readonly type: string;
  readonly subtype: string;
}

export interface ResourceName extends Api {
  readonly name: string;
}

export function apiString(api: Api): string {
  return `${api.namespace}:${api.type}:${api.subtype}`;
}

export function resourceNameString(rn: ResourceName): string {
  return `${apiString(rn)}/${rn.name}`;
}

export function componentApi(subtype: string): Api {
  return { namespace: "rdk", type: "component", subtype };
}

export function serviceApi(subtype: string): Api {
  return { namespace: "rdk", type: "service", subtype };
}

export function sameApi(a: Api, b: Api): boolean {
  return a.namespace === b.namespace && a.type === b.type && a.subtype === b.subtype;
}

/** Parses `ns:type:subtype/name`; returns undefined for anything else. */
export function parseResourceName(s: string): ResourceName | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const parts = s.slice(0, slash).split(":");
  const name = s.slice(slash + 1);
  if (parts.length !== 3 || parts.some((p) => p === "") || name === "") return undefined;
  return { namespace: parts[0], type: parts[1], subtype: parts[2], name };
}
