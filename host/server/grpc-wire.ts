// gRPC's HTTP framing as both the data-channel transport (serving the router) and the gRPC remote
// client (calling another host) read and write it: 5-byte envelopes, and status and metadata in
// headers or trailers.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { Code, type Metadata, type Status } from "../../proto/channel/index.js";
import { StatusSchema } from "../../proto/gen/google/rpc/status_pb.js";

/** Header/trailer keys that are gRPC framing, not metadata for the other side. */
const framingKeys = new Set([
  "content-type",
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
  "grpc-encoding",
  "grpc-accept-encoding",
]);

/** One message as a gRPC envelope: flag 0 (uncompressed), big-endian length, the bytes. */
export function envelope(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.byteLength);
  new DataView(out.buffer).setUint32(1, data.byteLength, false);
  out.set(data, 5);
  return out;
}

/** gRPC envelopes out of a byte stream that arrives in arbitrary chunks. */
export class EnvelopeReader {
  #buf: Uint8Array = new Uint8Array(0);

  /** True while part of an envelope is waiting for more bytes. */
  get pending(): boolean {
    return this.#buf.byteLength > 0;
  }

  *push(chunk: Uint8Array): Generator<{ flags: number; data: Uint8Array }> {
    let buf = chunk;
    if (this.#buf.byteLength > 0) {
      buf = new Uint8Array(this.#buf.byteLength + chunk.byteLength);
      buf.set(this.#buf);
      buf.set(chunk, this.#buf.byteLength);
    }
    let off = 0;
    while (buf.byteLength - off >= 5) {
      const len = new DataView(buf.buffer, buf.byteOffset + off + 1, 4).getUint32(0, false);
      if (buf.byteLength - off - 5 < len) break;
      yield { flags: buf[off]!, data: buf.subarray(off + 5, off + 5 + len) };
      off += 5 + len;
    }
    this.#buf = buf.subarray(off);
  }
}

/** The metadata in headers or trailers. `Headers` joins repeated values with ", " and values may
 * contain commas, so they stay joined as one value. */
export function metadataFromHeaders(header: Headers): Metadata {
  const md: Metadata = {};
  header.forEach((value, key) => {
    if (!framingKeys.has(key)) md[key] = [value];
  });
  return md;
}

/** The gRPC status in headers or trailers; `missing` is the message when there is none. */
export function statusFromHeaders(header: Headers, missing: string): Status {
  const raw = header.get("grpc-status");
  if (raw === null) return { code: Code.UNKNOWN, message: missing };
  const code = Number.parseInt(raw, 10);
  if (!Number.isInteger(code) || code < 0) return { code: Code.UNKNOWN, message: `invalid grpc-status ${raw}` };
  let message = header.get("grpc-message") ?? "";
  try {
    message = decodeURIComponent(message);
  } catch {
    // Not percent-encoded after all; keep it as sent.
  }
  const status: Status = { code, message };
  const details = header.get("grpc-status-details-bin");
  if (details) {
    try {
      const decoded = fromBinary(StatusSchema, Buffer.from(details, "base64"));
      if (decoded.details.length > 0) status.details = decoded.details.map((d) => toBinary(AnySchema, d));
    } catch {
      // Undecodable details are dropped; code and message still get through.
    }
  }
  return status;
}
