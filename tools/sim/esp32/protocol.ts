// The ESP serial bootloader protocol (ROM loader and flasher stub): command codes, status and
// error codes, and packet helpers. Portable.
//
// Request:  u8 0x00, u8 command, u16 payload length, u32 checksum (only *_DATA commands), payload.
// Response: u8 0x01, u8 command, u16 payload length, u32 value (READ_REG result, SYNC constant), payload
//           = response data, then status bytes: ROM 4 bytes [status, error, 0, 0]; stub 2 bytes, a
//           16-bit code written big-endian (so the first byte is non-zero on failure).
import { view } from "../../image/bytes.js";

export const Command = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  READ_FLASH_SLOW: 0x0e,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
  READ_FLASH: 0xd2,
  RUN_USER_CODE: 0xd3,
} as const;

export function commandName(op: number): string {
  return Object.entries(Command).find(([, v]) => v === op)?.[0] ?? `0x${op.toString(16).padStart(2, "0")}`;
}

/** ROM error byte (status byte = 1). */
export const RomError = {
  INVALID_MESSAGE: 0x05,
  BAD_RESULT: 0x06,
  CHECKSUM: 0x07,
  FLASH_WRITE: 0x08,
  FLASH_READ: 0x09,
  READ_LENGTH: 0x0a,
  INFLATE: 0x0b,
  ADLER32: 0x0c,
  DEFLATE_PARAM: 0x0d,
  BAD_RAM_SIZE: 0x0e,
  BAD_RAM_ADDRESS: 0x0f,
  INVALID_PARAMETER: 0x64,
  INVALID_FORMAT: 0x65,
  DESCRIPTION_TOO_LONG: 0x66,
  BAD_ENCODING: 0x67,
  INSUFFICIENT_STORAGE: 0x69,
} as const;

/** Stub response codes (16 bits, sent big-endian in the two status bytes). */
export const StubError = {
  BAD_DATA_LEN: 0xc000,
  BAD_DATA_CHECKSUM: 0xc100,
  BAD_BLOCKSIZE: 0xc200,
  INVALID_COMMAND: 0xc300,
  FAILED_SPI_OP: 0xc400,
  FAILED_SPI_UNLOCK: 0xc500,
  NOT_IN_FLASH_MODE: 0xc600,
  INFLATE_ERROR: 0xc700,
  NOT_ENOUGH_DATA: 0xc800,
  TOO_MUCH_DATA: 0xc900,
  CMD_NOT_IMPLEMENTED: 0xff00,
} as const;

/** SYNC payload: 07 07 12 20 and 32 × 0x55. */
export const SYNC_PAYLOAD = Uint8Array.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);
/** SYNC reply value of the ROM (the stub answers 0). */
export const ROM_SYNC_VALUE = 0x20120707;
export const CHECKSUM_SEED = 0xef;
/** `*_DATA` sub-header: u32 data length, u32 sequence number, two reserved words. */
export const DATA_HEADER_LENGTH = 16;

export function checksum(data: Uint8Array, seed = CHECKSUM_SEED): number {
  let c = seed;
  for (const b of data) c ^= b;
  return c;
}

export interface Request {
  command: number;
  checksum: number;
  payload: Uint8Array;
  /** The declared payload length (may disagree with the bytes received). */
  declaredLength: number;
  direction: number;
}

/** Splits a de-SLIPped request; undefined when it is too short to have a header. */
export function parseRequest(frame: Uint8Array): Request | undefined {
  if (frame.length < 8) return undefined;
  const dv = view(frame);
  return {
    direction: frame[0]!,
    command: frame[1]!,
    declaredLength: dv.getUint16(2, true),
    checksum: dv.getUint32(4, true),
    payload: frame.subarray(8),
  };
}

export function encodeRequest(command: number, payload: Uint8Array = new Uint8Array(0), chk = 0): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  const dv = view(out);
  out[0] = 0x00;
  out[1] = command;
  dv.setUint16(2, payload.length, true);
  dv.setUint32(4, chk >>> 0, true);
  out.set(payload, 8);
  return out;
}

export function encodeResponse(command: number, value: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  const dv = view(out);
  out[0] = 0x01;
  out[1] = command;
  dv.setUint16(2, data.length, true);
  dv.setUint32(4, value >>> 0, true);
  out.set(data, 8);
  return out;
}

export interface Response {
  command: number;
  value: number;
  data: Uint8Array;
}

export function parseResponse(frame: Uint8Array): Response | undefined {
  if (frame.length < 8 || frame[0] !== 0x01) return undefined;
  return { command: frame[1]!, value: view(frame).getUint32(4, true), data: frame.subarray(8) };
}

/** Little-endian u32 words of a payload. */
export function words(payload: Uint8Array, count: number): number[] {
  const dv = view(payload);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(dv.getUint32(i * 4, true));
  return out;
}

export function u32le(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = view(out);
  values.forEach((v, i) => dv.setUint32(i * 4, v >>> 0, true));
  return out;
}
