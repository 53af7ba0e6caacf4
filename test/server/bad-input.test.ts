// Bad input on the one port: every malformed request gets a gRPC status (or a plain HTTP error for
// non-gRPC traffic), nothing crashes the process, and after each case a normal GetReadings still
// works on the same server, over both native gRPC (h2c) and gRPC-web (HTTP/1.1). The requests are
// built by hand on raw sockets and node:http/node:http2 clients so the bytes are exactly the bad ones.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { GetReadingsRequestSchema, GetReadingsResponseSchema } from "../../proto/gen/common/v1/common_pb.js";
import { AuthenticateRequestSchema, AuthenticateResponseSchema } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import type { Host } from "../../host/host.js";
import { maxMessageBytes } from "../../host/server/server.js";
import { allFakesConfig, startTestHost, testKeyId, testKeySecret, withApiKey } from "../support/host.js";

const sensorPath = "/viam.component.sensor.v1.SensorService/GetReadings";
const authPath = "/proto.rpc.v1.AuthService/Authenticate";
const grpcWebProto = "application/grpc-web+proto";
const MiB = 1024 * 1024;
/** gRPC status OK (connect's `Code` enum has only the error codes). */
const OK = 0;

/** A gRPC / gRPC-web envelope: flag(1) | length(4, BE) | payload; `declared` may lie about the length. */
function envelope(payload: Uint8Array, opts: { flag?: number; declared?: number } = {}): Buffer {
  const head = Buffer.alloc(5);
  head[0] = opts.flag ?? 0x00;
  head.writeUInt32BE(opts.declared ?? payload.length, 1);
  return Buffer.concat([head, payload]);
}

function getReadingsRequest(name = "sensor1", padBytes = 0): Buffer {
  // `extra` is free-form; the fake sensor ignores it, so it can carry padding.
  const extra = padBytes > 0 ? { fields: { pad: { kind: { case: "stringValue" as const, value: "x".repeat(padBytes) } } } } : undefined;
  return Buffer.from(toBinary(GetReadingsRequestSchema, create(GetReadingsRequestSchema, { name, extra })));
}

/**
 * A valid GetReadingsRequest{name: "sensor1"} of exactly `size` bytes: the name plus padding in an
 * unknown length-delimited field 100 (99 is `extra`), which parsers keep or skip.
 */
function paddedRequest(size: number): Buffer {
  const name = Buffer.from([0x0a, 0x07, ...Buffer.from("sensor1")]);
  const tag = Buffer.from([0xa2, 0x06]); // (100 << 3) | 2
  const padLen = size - name.length - tag.length - 4;
  assert.ok(padLen >= 1 << 21 && padLen < 1 << 28, "the length varint is 4 bytes");
  const len = Buffer.from([(padLen & 0x7f) | 0x80, ((padLen >> 7) & 0x7f) | 0x80, ((padLen >> 14) & 0x7f) | 0x80, padLen >> 21]);
  const out = Buffer.concat([name, tag, len, Buffer.alloc(padLen, 0x78)]);
  assert.equal(out.length, size);
  return out;
}

/** What came back for one gRPC or gRPC-web call. */
interface Reply {
  httpStatus: number;
  headers: Record<string, string | string[] | undefined>;
  /** grpc-status, from the trailers (trailer frame, HTTP/2 trailers) or a trailers-only header. */
  code?: number;
  /** grpc-message, percent-decoded. */
  message?: string;
  /** Where the status was found. */
  statusIn?: "headers" | "trailers";
  /** Payloads of the data frames. */
  messages: Buffer[];
  /** HTTP/2 RST_STREAM code, when the stream was reset. */
  rstCode?: number;
}

function parseEnvelopes(body: Buffer): { flag: number; payload: Buffer }[] {
  const out: { flag: number; payload: Buffer }[] = [];
  for (let at = 0; at < body.length; ) {
    assert.ok(body.length - at >= 5, `truncated envelope header in ${body.toString("hex")}`);
    const len = body.readUInt32BE(at + 1);
    assert.ok(body.length - at - 5 >= len, "truncated envelope payload");
    out.push({ flag: body[at]!, payload: body.subarray(at + 5, at + 5 + len) });
    at += 5 + len;
  }
  return out;
}

function statusFrom(target: Reply, fields: Record<string, string | string[] | undefined>, where: "headers" | "trailers"): void {
  const code = fields["grpc-status"];
  if (code === undefined) return;
  target.code = Number(code);
  const message = fields["grpc-message"];
  target.message = message === undefined ? undefined : decodeURIComponent(String(message));
  target.statusIn = where;
}

/** Long enough for a 33 MiB upload on a slow machine; a call that hangs fails well before the suite does. */
const callTimeoutMs = 15_000;

/** A gRPC-web request over HTTP/1.1 on its own connection. */
function webCall(opts: { body: Buffer; path?: string; contentType?: string; headers?: Record<string, string> }, host: Host): Promise<Reply> {
  const url = new URL(opts.path ?? sensorPath, host.url);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      url,
      { method: "POST", agent: false, headers: { "content-type": opts.contentType ?? grpcWebProto, "x-grpc-web": "1", ...opts.headers } },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const reply: Reply = { httpStatus: res.statusCode ?? 0, headers: res.headers, messages: [] };
          statusFrom(reply, res.headers, "headers");
          for (const { flag, payload } of parseEnvelopes(Buffer.concat(chunks))) {
            if (flag & 0x80) {
              const trailer: Record<string, string> = {};
              for (const line of payload.toString("latin1").split("\r\n")) {
                const i = line.indexOf(":");
                if (i > 0) trailer[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
              }
              statusFrom(reply, trailer, "trailers");
            } else reply.messages.push(payload);
          }
          resolve(reply);
        });
      },
    );
    req.setTimeout(callTimeoutMs, () => req.destroy(new Error(`no answer within ${callTimeoutMs} ms`)));
    // A server that answers before reading a huge body may close the connection under our write.
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    req.end(opts.body);
  });
}

/** A native gRPC request over h2c, on `session` or a connection of its own. */
function h2Call(
  opts: { body: Buffer; path?: string; headers?: Record<string, string>; session?: http2.ClientHttp2Session; sessionOptions?: http2.ClientSessionOptions },
  host: Host,
): Promise<Reply> {
  const session = opts.session ?? http2.connect(host.url, opts.sessionOptions);
  const own = opts.session === undefined;
  return new Promise((resolve, reject) => {
    const reply: Reply = { httpStatus: 0, headers: {}, messages: [] };
    const chunks: Buffer[] = [];
    session.once("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": opts.path ?? sensorPath,
      "content-type": "application/grpc",
      te: "trailers",
      ...opts.headers,
    });
    stream.on("response", (headers) => {
      reply.httpStatus = Number(headers[":status"]);
      reply.headers = headers;
      statusFrom(reply, headers, "headers");
    });
    stream.on("trailers", (trailers) => statusFrom(reply, trailers, "trailers"));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", () => {}); // a reset shows up as rstCode
    const timer = setTimeout(() => {
      reject(new Error(`no end of stream within ${callTimeoutMs} ms (status so far: ${String(reply.code)})`));
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }, callTimeoutMs);
    stream.on("close", () => {
      clearTimeout(timer);
      session.off("error", reject);
      if (own) session.close();
      reply.rstCode = stream.rstCode;
      for (const { payload } of parseEnvelopes(Buffer.concat(chunks))) reply.messages.push(payload);
      resolve(reply);
    });
    stream.end(opts.body);
  });
}

function assertStatus(reply: Reply, code: Code | typeof OK, message?: string | RegExp): void {
  const got = `${String(reply.code)} ${String(reply.message)} (HTTP ${reply.httpStatus}, rst ${String(reply.rstCode)})`;
  assert.equal(reply.httpStatus, 200, `HTTP status: ${got}`);
  assert.equal(reply.code, code, `expected ${code === OK ? "OK" : Code[code]}, got ${got}`);
  if (typeof message === "string") assert.equal(reply.message, message);
  else if (message) assert.match(String(reply.message), message);
  if (code !== OK) assert.equal(reply.messages.length, 0, "no message with an error status");
}

function assertReadings(reply: Reply): void {
  assertStatus(reply, OK);
  assert.equal(reply.messages.length, 1, "exactly one response message");
  const res = fromBinary(GetReadingsResponseSchema, reply.messages[0]!);
  assert.deepEqual(res.readings.a?.kind, { case: "numberValue", value: 1 });
}

/** The raw-socket outcome: what the server wrote before the connection ended. */
async function rawExchange(
  host: Host,
  data: Buffer | string,
  then: "wait" | "end" | "reset",
): Promise<{ reply: Buffer; closedByServer: boolean }> {
  const { hostname, port } = new URL(host.url);
  const socket = net.connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(data);
  if (then === "reset") {
    // Let the bytes reach the server first, then abort with a TCP RST.
    await new Promise((r) => setTimeout(r, 50));
    socket.resetAndDestroy();
    await closed;
    return { reply: Buffer.concat(chunks), closedByServer: false };
  }
  if (then === "end") socket.end();
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 3000).unref());
  const outcome = await Promise.race([closed.then(() => "closed" as const), timeout]);
  socket.destroy();
  return { reply: Buffer.concat(chunks), closedByServer: outcome === "closed" };
}

function rawRequest(host: Host, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, host.url), { method, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const h2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const emptySettingsFrame = Buffer.from("000000040000000000", "hex");

describe("bad input", { timeout: 60_000 }, () => {
  let host: Host;
  let token: string;
  const authed = (): Record<string, string> => ({ authorization: `Bearer ${token}` });

  /** The server still answers a normal GetReadings, on new connections over both transports. */
  async function assertServes(): Promise<void> {
    assertReadings(await h2Call({ body: envelope(getReadingsRequest()), headers: authed() }, host));
    assertReadings(await webCall({ body: envelope(getReadingsRequest()), headers: authed() }, host));
  }

  before(async () => {
    host = await startTestHost(withApiKey(allFakesConfig()));
    const req = create(AuthenticateRequestSchema, { entity: testKeyId, credentials: { type: "api-key", payload: testKeySecret } });
    const reply = await webCall({ path: authPath, body: envelope(toBinary(AuthenticateRequestSchema, req)) }, host);
    assertStatus(reply, OK);
    token = fromBinary(AuthenticateResponseSchema, reply.messages[0]!).accessToken;
    assert.ok(token.length > 0);
  });
  after(async () => {
    await host?.close();
  });

  it("serves normal calls to begin with", async () => {
    await assertServes();
  });

  describe("malformed gRPC-web frames", () => {
    it("a frame header declaring 100 bytes followed by 3: INVALID_ARGUMENT incomplete envelope", async () => {
      const reply = await webCall({ body: envelope(Buffer.from([1, 2, 3]), { declared: 100 }), headers: authed() }, host);
      assertStatus(reply, Code.InvalidArgument, "protocol error: incomplete envelope");
      assert.equal(reply.statusIn, "trailers", "status in a 0x80 trailer frame");
      await assertServes();
    });

    it("a flag byte of 0x7f (compressed bit set, no grpc-encoding): INTERNAL", async () => {
      const reply = await webCall({ body: envelope(getReadingsRequest(), { flag: 0x7f }), headers: authed() }, host);
      assertStatus(reply, Code.Internal, "received compressed envelope, but do not know how to decompress");
      await assertServes();
    });

    it("no frame at all, or only a trailer frame: UNIMPLEMENTED missing input message", async () => {
      for (const body of [Buffer.alloc(0), envelope(Buffer.from("grpc-status: 0\r\n"), { flag: 0x80 })]) {
        const reply = await webCall({ body, headers: authed() }, host);
        assertStatus(reply, Code.Unimplemented, "protocol error: missing input message for unary method");
      }
      await assertServes();
    });

    it("two messages for a unary method: UNIMPLEMENTED extra input message", async () => {
      const body = Buffer.concat([envelope(getReadingsRequest()), envelope(getReadingsRequest())]);
      const reply = await webCall({ body, headers: authed() }, host);
      assertStatus(reply, Code.Unimplemented, "protocol error: received extra input message for unary method");
      await assertServes();
    });

    it("garbage base64 as application/grpc-web-text: a trailers-only UNIMPLEMENTED (text mode is not served)", async () => {
      for (const contentType of ["application/grpc-web-text", "application/grpc-web-text+proto"]) {
        const garbage = await webCall({ contentType, body: Buffer.from("!!not*base64$$\x00\xff", "latin1"), headers: authed() }, host);
        assertStatus(garbage, Code.Unimplemented, "grpc-web-text is not supported; use application/grpc-web+proto");
        assert.equal(garbage.statusIn, "headers");
        // A well-formed text-mode request gets the same answer: the status is about the encoding.
        const valid = await webCall({ contentType, body: Buffer.from(envelope(getReadingsRequest()).toString("base64")), headers: authed() }, host);
        assertStatus(valid, Code.Unimplemented, /grpc-web-text is not supported/);
      }
      await assertServes();
    });
  });

  describe("broken HTTP/2 and TCP", () => {
    it("a native gRPC body whose prefix says 50 bytes but ends after 10: INVALID_ARGUMENT", async () => {
      const body = envelope(getReadingsRequest().subarray(0, 5), { declared: 50 });
      assert.equal(body.length, 10);
      const reply = await h2Call({ body, headers: authed() }, host);
      assertStatus(reply, Code.InvalidArgument, "protocol error: incomplete envelope");
      await assertServes();
    });

    it("an HTTP/2 stream reset mid-request; the same connection serves the next call", async () => {
      const session = http2.connect(host.url);
      try {
        const stream = session.request({ ":method": "POST", ":path": sensorPath, "content-type": "application/grpc", te: "trailers", ...authed() });
        stream.on("error", () => {});
        stream.write(envelope(getReadingsRequest().subarray(0, 3), { declared: 50 }));
        await new Promise((r) => setTimeout(r, 50));
        stream.close(http2.constants.NGHTTP2_CANCEL);
        await new Promise((r) => stream.once("close", r));
        assert.equal(stream.rstCode, http2.constants.NGHTTP2_CANCEL);
        assertReadings(await h2Call({ session, body: envelope(getReadingsRequest()), headers: authed() }, host));
      } finally {
        session.close();
      }
      await assertServes();
    });

    it("a TCP connection reset before its first byte (used to crash the process: ECONNRESET with no listener)", async () => {
      // The runner also catches an uncaught exception, but blames whichever hook started the server.
      const uncaught: unknown[] = [];
      const record = (err: unknown): void => void uncaught.push(err);
      process.on("uncaughtException", record);
      try {
        for (let i = 0; i < 3; i++) {
          const { hostname, port } = new URL(host.url);
          const socket = net.connect(Number(port), hostname);
          socket.on("error", () => {});
          await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
          socket.resetAndDestroy();
          await new Promise((r) => socket.once("close", r));
        }
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        process.off("uncaughtException", record);
      }
      assert.deepEqual(uncaught, []);
      await assertServes();
    });

    it("an HTTP/1.1 connection closed mid-headers: FIN gets 400 and a close; RST is absorbed", async () => {
      const partial = `POST ${sensorPath} HTTP/1.1\r\nHost: a\r\ncontent-type: application/grpc-web+pr`;
      const fin = await rawExchange(host, partial, "end");
      assert.ok(fin.closedByServer, "the server closed the connection");
      assert.match(fin.reply.toString("latin1"), /^HTTP\/1\.1 400 /);
      await rawExchange(host, partial, "reset");
      await assertServes();
    });

    it("an HTTP/2 connection closed mid-headers (half a HEADERS frame), by FIN and by RST", async () => {
      // A HEADERS frame (type 1, END_HEADERS, stream 1) declaring 64 bytes, of which 2 are sent.
      const halfHeaders = Buffer.from("000040010400000001" + "8386", "hex");
      const bytes = Buffer.concat([h2Preface, emptySettingsFrame, halfHeaders]);
      const fin = await rawExchange(host, bytes, "end");
      assert.ok(fin.closedByServer, "the server closed the connection");
      await rawExchange(host, bytes, "reset");
      await assertServes();
    });

    it("garbage after the HTTP/2 preface: GOAWAY INTERNAL_ERROR and a close", async () => {
      const { reply, closedByServer } = await rawExchange(host, Buffer.concat([h2Preface, Buffer.from("garbage garbage garbage")]), "wait");
      assert.ok(closedByServer, "the server closed the connection");
      const goaway = h2Frames(reply).find((f) => f.type === 0x07);
      assert.ok(goaway, `a GOAWAY frame in ${reply.toString("hex")}`);
      // nghttp2 rejects the frame; Node then destroys the session with an error, which it reports
      // to the peer as INTERNAL_ERROR (last stream id 0: nothing was processed).
      assert.equal(goaway.payload.readUInt32BE(0), 0);
      assert.equal(goaway.payload.readUInt32BE(4), http2.constants.NGHTTP2_INTERNAL_ERROR);
      await assertServes();
    });
  });

  describe("oversized messages (limit 32 MiB)", () => {
    it("a length prefix of 33 MiB: RESOURCE_EXHAUSTED, over gRPC and gRPC-web", async () => {
      const body = envelope(Buffer.alloc(10), { declared: 33 * MiB });
      const message = `message size ${33 * MiB} is larger than configured readMaxBytes ${maxMessageBytes}`;
      assertStatus(await h2Call({ body, headers: authed() }, host), Code.ResourceExhausted, message);
      assertStatus(await webCall({ body, headers: authed() }, host), Code.ResourceExhausted, message);
      await assertServes();
    });

    it("a real 33 MiB body: RESOURCE_EXHAUSTED, over gRPC and gRPC-web", async () => {
      const body = envelope(getReadingsRequest("sensor1", 33 * MiB));
      assert.ok(body.length > 33 * MiB);
      const message = `message size ${body.length - 5} is larger than configured readMaxBytes ${maxMessageBytes}`;
      // Node's HTTP/2 client counts its own unsent data against maxSessionMemory (10 MB by default)
      // and resets the stream itself (ENHANCE_YOUR_CALM) before the server can answer; raise it.
      assertStatus(await h2Call({ body, headers: authed(), sessionOptions: { maxSessionMemory: 128 } }, host), Code.ResourceExhausted, message);
      assertStatus(await webCall({ body, headers: authed() }, host), Code.ResourceExhausted, message);
      await assertServes();
    });

    it("a message of exactly 32 MiB is accepted; one byte more is not", async () => {
      assertReadings(await h2Call({ body: envelope(paddedRequest(maxMessageBytes)), headers: authed(), sessionOptions: { maxSessionMemory: 128 } }, host));
      const over = envelope(Buffer.alloc(10), { declared: maxMessageBytes + 1 });
      assertStatus(await h2Call({ body: over, headers: authed() }, host), Code.ResourceExhausted, /larger than configured readMaxBytes/);
      await assertServes();
    });

    it("a valid 1 MiB message works, over gRPC and gRPC-web", async () => {
      const body = envelope(getReadingsRequest("sensor1", MiB));
      assert.ok(body.length > MiB);
      assertReadings(await h2Call({ body, headers: authed() }, host));
      assertReadings(await webCall({ body, headers: authed() }, host));
      await assertServes();
    });
  });

  describe("invalid protobuf", () => {
    it("bytes ff ff ff: INTERNAL with the parse failure, over gRPC and gRPC-web", async () => {
      const body = envelope(Buffer.from([0xff, 0xff, 0xff]));
      for (const reply of [await h2Call({ body, headers: authed() }, host), await webCall({ body, headers: authed() }, host)]) {
        assertStatus(reply, Code.Internal, "parse binary: premature EOF");
      }
      await assertServes();
    });

    it("a string field that is not UTF-8: INTERNAL with the parse failure", async () => {
      const body = envelope(Buffer.from([0x0a, 0x02, 0xff, 0xfe]));
      assertStatus(await h2Call({ body, headers: authed() }, host), Code.Internal, /^parse binary: .*utf-8/);
      await assertServes();
    });
  });

  describe("auth on a server with api keys", () => {
    const body = envelope(getReadingsRequest());
    it("no authorization header: UNAUTHENTICATED `authentication required`", async () => {
      assertStatus(await h2Call({ body }, host), Code.Unauthenticated, "authentication required");
      assertStatus(await webCall({ body }, host), Code.Unauthenticated, "authentication required");
      await assertServes();
    });

    it("`authorization: Basic x`: UNAUTHENTICATED", async () => {
      const headers = { authorization: "Basic x" };
      const message = "expected authorization header with prefix: Bearer ";
      assertStatus(await h2Call({ body, headers }, host), Code.Unauthenticated, message);
      assertStatus(await webCall({ body, headers }, host), Code.Unauthenticated, message);
      await assertServes();
    });

    it("a garbage bearer token: UNAUTHENTICATED", async () => {
      for (const value of ["Bearer garbage", "Bearer a.b.c", `Bearer ${token}x`, `Bearer ${token.split(".").reverse().join(".")}`]) {
        const headers = { authorization: value };
        assertStatus(await h2Call({ body, headers }, host), Code.Unauthenticated, /^unauthenticated: /);
        assertStatus(await webCall({ body, headers }, host), Code.Unauthenticated, /^unauthenticated: /);
      }
      // "Bearer " with no token: HTTP/1.1 trims it to "Bearer" (no "Bearer " prefix); nghttp2 drops a
      // field value that ends in whitespace, so over HTTP/2 the header is simply missing.
      const empty = { authorization: "Bearer " };
      assertStatus(await h2Call({ body, headers: empty }, host), Code.Unauthenticated, "authentication required");
      assertStatus(await webCall({ body, headers: empty }, host), Code.Unauthenticated, "expected authorization header with prefix: Bearer ");
      await assertServes();
    });
  });

  describe("plain HTTP on the gRPC port", () => {
    it("a CORS preflight from an Origin: 204 with the allow and expose headers", async () => {
      const asked = "authorization,content-type,x-grpc-web,x-user-agent,grpc-timeout";
      const res = await rawRequest(host, "OPTIONS", sensorPath, {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": asked,
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers["access-control-allow-origin"], "https://app.example.com");
      assert.equal(res.headers["access-control-allow-headers"], asked);
      assert.match(String(res.headers["access-control-allow-methods"]), /\bPOST\b/);
      const exposed = String(res.headers["access-control-expose-headers"]).split(",").map((h) => h.trim().toLowerCase());
      assert.ok(exposed.includes("grpc-status") && exposed.includes("grpc-message"), `exposed: ${exposed.join(", ")}`);
      // The call that follows from that origin carries the same CORS headers with its status.
      const reply = await webCall({ body: envelope(getReadingsRequest()), headers: { origin: "https://app.example.com" } }, host);
      assertStatus(reply, Code.Unauthenticated, "authentication required");
      assert.equal(reply.headers["access-control-allow-origin"], "https://app.example.com");
      assert.match(String(reply.headers["access-control-expose-headers"]), /grpc-status/i);
      await assertServes();
    });

    it("GET / gets 200 text", async () => {
      const res = await rawRequest(host, "GET", "/", {});
      assert.equal(res.status, 200);
      assert.match(String(res.headers["content-type"]), /^text\/plain/);
      assert.match(res.body, /viam-server/);
      await assertServes();
    });

    it("POST /nope without a gRPC content-type gets 404", async () => {
      const res = await rawRequest(host, "POST", "/nope", { "content-type": "text/plain" }, "hello");
      assert.equal(res.status, 404);
      assert.equal(res.headers["grpc-status"], undefined);
      await assertServes();
    });

    it("an unknown method with a gRPC-web content-type: trailers-only UNIMPLEMENTED", async () => {
      const reply = await webCall({ path: "/made.up.v1.Nothing/Nope", body: envelope(getReadingsRequest()), headers: authed() }, host);
      assertStatus(reply, Code.Unimplemented, "unknown method /made.up.v1.Nothing/Nope");
      await assertServes();
    });

    it("junk bytes (a TLS-looking record) on the plain port: 400 or a closed socket", async () => {
      const { reply, closedByServer } = await rawExchange(host, Buffer.from("\x16\x03garbage\r\n\r\n", "latin1"), "wait");
      assert.ok(closedByServer, "the server closed the connection");
      if (reply.length > 0) assert.match(reply.toString("latin1"), /^HTTP\/1\.1 400 /);
      await assertServes();
    });
  });
});

/** HTTP/2 frames: length(3) | type(1) | flags(1) | stream(4) | payload. */
function h2Frames(bytes: Buffer): { type: number; payload: Buffer }[] {
  const frames: { type: number; payload: Buffer }[] = [];
  for (let at = 0; at + 9 <= bytes.length; ) {
    const len = bytes.readUIntBE(at, 3);
    frames.push({ type: bytes[at + 3]!, payload: bytes.subarray(at + 9, at + 9 + len) });
    at += 9 + len;
  }
  return frames;
}
