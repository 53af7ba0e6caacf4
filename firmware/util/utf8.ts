// UTF-8 without TextEncoder/TextDecoder (which XS on a board does not have). Lone surrogates encode
// as U+FFFD; decoding replaces malformed sequences with U+FFFD.

export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export function utf8Encode(s: string): Uint8Array {
  const out = new Uint8Array(utf8Length(s));
  let p = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && (next & 0xfc00) === 0xdc00) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[p++] = 0xf0 | (cp >> 18);
          out[p++] = 0x80 | ((cp >> 12) & 0x3f);
          out[p++] = 0x80 | ((cp >> 6) & 0x3f);
          out[p++] = 0x80 | (cp & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    }
  }
  return out;
}

export function utf8Decode(bytes: Uint8Array): string {
  let out = "";
  const units: number[] = [];
  const flush = () => {
    out += String.fromCharCode.apply(null, units);
    units.length = 0;
  };
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i++];
    let cp = 0xfffd;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b <= 0xdf && i < n && (bytes[i] & 0xc0) === 0x80) cp = ((b & 0x1f) << 6) | (bytes[i++] & 0x3f);
    else if (b >= 0xe0 && b <= 0xef && i + 1 < n && (bytes[i] & 0xc0) === 0x80 && (bytes[i + 1] & 0xc0) === 0x80) {
      const v = ((b & 0x0f) << 12) | ((bytes[i] & 0x3f) << 6) | (bytes[i + 1] & 0x3f);
      if (v >= 0x800 && (v < 0xd800 || v > 0xdfff)) {
        cp = v;
        i += 2;
      }
    } else if (b >= 0xf0 && b <= 0xf4 && i + 2 < n && (bytes[i] & 0xc0) === 0x80 && (bytes[i + 1] & 0xc0) === 0x80 && (bytes[i + 2] & 0xc0) === 0x80) {
      const v = ((b & 0x07) << 18) | ((bytes[i] & 0x3f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
      if (v >= 0x10000 && v <= 0x10ffff) {
        cp = v;
        i += 3;
      }
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else units.push(cp);
    // XS has a small argument stack: build the string 64 code units at a time.
    if (units.length >= 64) flush();
  }
  flush();
  return out;
}
