// Helpers the Node shims share to behave like Moddable's ESP32 builtins (modules/io/common).

/** XS's error for a host object used after close() (fxGetHostDataValidate). */
export function closedError(): SyntaxError {
  return new SyntaxError("C: xsGetHostData: invalid");
}

/** builtinGetPin: a pin number; undefined is refused as Moddable refuses it. */
export function pinNumber(value: unknown): number {
  if (value === undefined) throw new Error("invalid");
  const pin = Math.trunc(Number(value));
  if (pin < 0) throw new RangeError("negative");
  return pin;
}

/** builtinInitializeFormat: the `format` option must name the one format the class supports. */
export function checkFormat(options: { format?: unknown }, supported: string): void {
  if (options.format !== undefined && options.format !== null && options.format !== "" && options.format !== supported) {
    throw new RangeError("invalid format");
  }
}

/** Bytes of any ECMA-419 buffer argument (ArrayBuffer, typed array, DataView). */
export function bytesOf(buffer: unknown): Uint8Array {
  if (buffer instanceof ArrayBuffer || buffer instanceof SharedArrayBuffer) return new Uint8Array(buffer);
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  throw new TypeError("buffer required");
}
