// The dial-in handshake, shared by the part (./dial-in.ts) and the host (host/remote/dial-in.ts):
// one definition of the path, header names and proof texts. Pure data and string building, no
// imports: the host imports this file as it is.
//
// A part behind NAT or DHCP cannot be dialled, so it dials out: a WebSocket to the URL in its
// `host` Preference key, on which it then SERVES its RPC (the host is the RPC client, exactly as
// over tcp://: length-prefixed frames, carried as a byte stream in binary messages). Both ends
// prove they know the part key, and neither ever sends it:
//
//   part → host   GET <path> (default DIAL_IN_PATH), Upgrade: websocket,
//                 Sec-WebSocket-Protocol: DIAL_IN_PROTOCOL,
//                 X-Sprocket-Part-Id: <part_id>, X-Sprocket-Nonce: <Np, 32 hex digits>
//   host          finds the remote whose address is "dial-in" and whose auth.entity is that part
//                 id; none: 403 "unknown part id" (and a log line), nothing else happens
//   host → part   101, X-Sprocket-Nonce: <Nh>, X-Sprocket-Proof: HMAC(key, proofText("host", …))
//   part          checks the host's proof; wrong: closes with 1008 (the host has another key for
//                 it, or is not its host) and tries again later
//   part → host   first message, text: HMAC(key, proofText("part", …))
//   host          checks it; wrong: closes with 1008 "wrong part key" (and a log line)
//   then          RPC, the host calling; the part counts the link as authenticated, so the key
//                 never crosses the wire (AuthService/Authenticate over the link works as well)
//
// HMAC is HMAC-SHA-256, written as lower-case hex. Each proof covers both fresh nonces, the part
// id and the role, so no proof can be replayed on another connection or reflected to the other
// side. Why not the simpler "the host calls Authenticate with the key": the host would hand the key
// to whoever claims a known part id, and part ids are not secret (mDNS TXT records carry them).
// What this does not give: secrecy or integrity of the traffic after the handshake (ws:// is
// plaintext, as tcp:// is); a wss:// link would add that.

/** Where the host accepts dial-in links when the part's URL names no path. */
export const DIAL_IN_PATH = "/micro/dial-in";
/** The WebSocket subprotocol of a dial-in link. */
export const DIAL_IN_PROTOCOL = "sprocket-micro.v1";
export const PART_ID_HEADER = "X-Sprocket-Part-Id";
export const NONCE_HEADER = "X-Sprocket-Nonce";
export const PROOF_HEADER = "X-Sprocket-Proof";
/** Hex digits of a nonce (16 random bytes). */
export const NONCE_HEX_DIGITS = 32;

/** The text each side HMACs with the part key. */
export function dialInProofText(role: "host" | "part", partId: string, partNonce: string, hostNonce: string): string {
  return "sprocket dial-in v1 " + role + " " + partId + " " + partNonce + " " + hostNonce;
}

export interface DialInUrl {
  /** The host as written in the URL: a name, an IPv4 address, or an IPv6 address without brackets. */
  readonly address: string;
  /**
   * Whether `address` is a name: the part resolves it before every dial (DNS, or mDNS for `.local`
   * names), so a host whose address DHCP changed is found again on the next reconnect. IP addresses
   * are dialled as they are.
   */
  readonly isName: boolean;
  readonly port: number;
  /** Request target. */
  readonly path: string;
  /** Host header value: the host as written in the URL (a name stays a name), with the port when given. */
  readonly host: string;
}

/**
 * Dotted-decimal IPv4, each part 0–255 without leading zeros (which lwIP, like inet_aton, would
 * read as octal).
 */
export function isIPv4Address(text: string): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    if (!/^(?:0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return false;
  }
  return true;
}

/** Letters, digits, `-` and `_` in dot-separated labels, a final dot allowed. */
const HOST_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$/;

/**
 * Parses the `host` Preference value: `ws://HOST[:PORT][/PATH]`, HOST a name, an IPv4 address or a
 * bracketed IPv6 address. No port means 80; no path (or "/") means DIAL_IN_PATH. Returns the
 * problem as a string when it is not such a URL.
 */
export function parseDialInUrl(url: string): DialInUrl | string {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(\[[^\]]+\]|[^/:?#]+)(?::(\d+))?([/?][^#]*)?$/.exec(url.trim());
  if (m === null) return "host " + JSON.stringify(url) + " is not a URL like ws://192.168.1.10:8080 or ws://robot-host.local:8080";
  const scheme = m[1].toLowerCase();
  if (scheme === "wss") return "host " + JSON.stringify(url) + ": wss:// (TLS) is not supported yet; use ws://";
  if (scheme !== "ws") return "host " + JSON.stringify(url) + ": the scheme must be ws://";
  const port = m[3] === undefined ? 80 : Number(m[3]);
  if (!(port >= 1 && port <= 65535)) return "host " + JSON.stringify(url) + ": port out of range";
  const ipv6 = m[2][0] === "[";
  const address = ipv6 ? m[2].slice(1, -1) : m[2];
  let isName = false;
  if (!ipv6 && !isIPv4Address(address)) {
    // Digits and dots only would be resolved as a name and fail later; say so now.
    if (/^[\d.]+$/.test(address)) return "host " + JSON.stringify(url) + ": " + address + " is not an IPv4 address";
    if (!HOST_NAME.test(address)) return "host " + JSON.stringify(url) + ": " + JSON.stringify(address) + " is not a host name";
    isName = true;
  }
  let path = m[4] ?? "";
  if (path === "" || path === "/") path = DIAL_IN_PATH;
  else if (path[0] === "?") path = DIAL_IN_PATH + path;
  return { address, isName, port, path, host: m[3] === undefined ? m[2] : m[2] + ":" + port };
}
