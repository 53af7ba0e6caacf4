// Small byte helpers shared by the image tools. Portable: runs in Node and in a browser page, so
// only Uint8Array, DataView, TextEncoder and TextDecoder (no Buffer, no node:*).

/** A malformed image or an input the image tools refuse; the message says what and where. */
export class ImageError extends Error {
  override name = "ImageError";
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes UTF-8, throwing on invalid sequences. */
export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** The text of a NUL-padded fixed-size field: the bytes up to the first NUL. */
export function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return fromUtf8(end < 0 ? bytes : bytes.subarray(0, end));
}

/** `0x1f` style hex, zero-padded to `digits`. */
export function hex(value: number, digits = 1): string {
  return `0x${value.toString(16).toUpperCase().padStart(digits, "0")}`;
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Sizes for messages: `4.2 MB`, `12.5 KB`, `300 bytes` (binary units, as flash sizes are). */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
