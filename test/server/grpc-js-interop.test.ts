// Interop with an independent gRPC implementation: @grpc/grpc-js (its own HTTP/2 client and framing)
// with stubs that @grpc/proto-loader builds from the .proto sources, over h2c and over TLS; plus
// gRPC-web over HTTPS/1.1 with a hand-framed `https.request`. Nothing here uses connect or the
// generated protobuf-es code, so both ends of the wire are checked against a second implementation.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { Host } from "../../host/host.js";
import { allFakesConfig, startTestHost, testKeyId, testKeySecret, withApiKey } from "../support/host.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const protoDefs = path.join(repoRoot, "proto/defs");
// proto-loader resolves google/protobuf/*.proto from the copies protobufjs (its parser) ships.
const protobufjsRoot = path.dirname(
  createRequire(createRequire(import.meta.url).resolve("@grpc/proto-loader")).resolve("protobufjs/package.json"),
);
const googleIncludes = protobufjsRoot; // holds google/protobuf/{descriptor,api,type,…}.proto

const getReadingsPath = "/viam.component.sensor.v1.SensorService/GetReadings";

/**
 * A google.protobuf.Value as proto-loader decodes it with `oneofs`. The well-known types come from
 * protobufjs' bundled descriptors, whose field names are camelCase whatever `keepCase` says.
 */
interface LoadedValue {
  kind?: string;
  numberValue?: number;
  stringValue?: string;
}
interface GetReadingsResponse {
  readings: Record<string, LoadedValue>;
}
interface AuthenticateResponse {
  access_token: string;
}

type Callback<T> = (err: grpc.ServiceError | null, res?: T) => void;
type UnaryMethod<T> = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<T>) => grpc.ClientUnaryCall;

interface Protos {
  SensorService: grpc.ServiceClientConstructor;
  AuthService: grpc.ServiceClientConstructor;
  /** proto-loader's (de)serializers of GetReadings, for hand-framed gRPC-web. */
  getReadings: protoLoader.MethodDefinition<object, GetReadingsResponse>;
}

function loadProtos(): Protos {
  const definition = protoLoader.loadSync(["component/sensor/v1/sensor.proto", "proto/rpc/v1/auth.proto"], {
    includeDirs: [protoDefs, googleIncludes],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const root = grpc.loadPackageDefinition(definition);
  const lookup = (name: string): grpc.ServiceClientConstructor => {
    let node: unknown = root;
    for (const part of name.split(".")) node = (node as Record<string, unknown>)[part];
    assert.equal(typeof node, "function", `${name} is not a service in the loaded protos`);
    return node as grpc.ServiceClientConstructor;
  };
  const sensorDef = definition["viam.component.sensor.v1.SensorService"] as protoLoader.ServiceDefinition;
  return {
    SensorService: lookup("viam.component.sensor.v1.SensorService"),
    AuthService: lookup("proto.rpc.v1.AuthService"),
    getReadings: sensorDef.GetReadings as unknown as protoLoader.MethodDefinition<object, GetReadingsResponse>,
  };
}

/** One unary call through a proto-loader stub, as a promise (rejects with the grpc-js ServiceError). */
function unary<T>(client: grpc.Client, method: string, req: object, md = new grpc.Metadata()): Promise<T> {
  const fn = (client as unknown as Record<string, UnaryMethod<T>>)[method];
  assert.equal(typeof fn, "function", `no method ${method} on the stub`);
  return new Promise((resolve, reject) => {
    fn.call(client, req, md, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res as T)));
  });
}

function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${token}`);
  return md;
}

/** Checks a rejection is a grpc-js ServiceError with this code (and details, when given). */
function grpcError(code: grpc.status, details?: string | RegExp) {
  return (err: unknown): boolean => {
    const e = err as Partial<grpc.ServiceError>;
    assert.equal(e.code, code, `expected ${grpc.status[code]}, got ${String(e.code)} ${String(e.details)}`);
    if (typeof details === "string") assert.equal(e.details, details);
    else if (details) assert.match(String(e.details), details);
    return true;
  };
}

function assertFakeReadings(res: GetReadingsResponse): void {
  // rdk's fake sensor readings {a: 1, b: 2, c: 3}, each a google.protobuf.Value.
  assert.ok(res.readings && typeof res.readings === "object", "readings is a map");
  for (const [key, want] of [["a", 1], ["b", 2], ["c", 3]] as const) {
    assert.equal(res.readings[key]?.kind, "numberValue", `readings.${key} is a number Value`);
    assert.equal(res.readings[key]?.numberValue, want);
  }
  assert.ok(Object.keys(res.readings).length >= 3);
}

const apiKeyRequest = { entity: testKeyId, credentials: { type: "api-key", payload: testKeySecret } };

describe("grpc-js interop over h2c", { timeout: 30_000 }, () => {
  const stubs = loadProtos();
  let host: Host;
  let sensor: grpc.Client;
  let auth: grpc.Client;
  let token: string;

  before(async () => {
    host = await startTestHost(withApiKey(allFakesConfig()));
    const target = new URL(host.url).host;
    sensor = new stubs.SensorService(target, grpc.credentials.createInsecure());
    auth = new stubs.AuthService(target, grpc.credentials.createInsecure());
    token = (await unary<AuthenticateResponse>(auth, "Authenticate", apiKeyRequest)).access_token;
  });
  after(async () => {
    sensor?.close();
    auth?.close();
    await host?.close();
  });

  it("authenticates with an api key and gets a token", () => {
    assert.equal(typeof token, "string");
    assert.ok(token.length > 0);
  });

  it("GetReadings with the Bearer token returns a map of Values", async () => {
    const res = await unary<GetReadingsResponse>(sensor, "GetReadings", { name: "sensor1" }, bearer(token));
    assertFakeReadings(res);
  });

  it("GetReadings without a token fails UNAUTHENTICATED `authentication required`", async () => {
    await assert.rejects(unary(sensor, "GetReadings", { name: "sensor1" }), grpcError(grpc.status.UNAUTHENTICATED, "authentication required"));
  });

  it("Authenticate with a wrong secret fails UNAUTHENTICATED `invalid credentials`", async () => {
    const req = { entity: testKeyId, credentials: { type: "api-key", payload: "wrong" } };
    await assert.rejects(unary(auth, "Authenticate", req), grpcError(grpc.status.UNAUTHENTICATED, "invalid credentials"));
  });

  it("an unknown sensor name fails NOT_FOUND", async () => {
    await assert.rejects(unary(sensor, "GetReadings", { name: "no-such-sensor" }, bearer(token)), grpcError(grpc.status.NOT_FOUND, /no-such-sensor/));
  });

  it("an unknown method path fails UNIMPLEMENTED", async () => {
    const call = (method: string) =>
      new Promise<Buffer>((resolve, reject) => {
        sensor.makeUnaryRequest(
          method,
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          bearer(token),
          { deadline: Date.now() + 10_000 },
          (err, res) => (err ? reject(err) : resolve(res as Buffer)),
        );
      });
    await assert.rejects(call("/viam.component.sensor.v1.SensorService/NoSuchMethod"), grpcError(grpc.status.UNIMPLEMENTED));
    await assert.rejects(call("/made.up.v1.NothingService/Anything"), grpcError(grpc.status.UNIMPLEMENTED, /made\.up\.v1\.NothingService/));
  });
});

/** A self-signed certificate for localhost and 127.0.0.1, or undefined when the openssl CLI is missing. */
function makeCert(dir: string): { certFile: string; keyFile: string; cert: Buffer } | undefined {
  const certFile = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  try {
    execFileSync(
      "openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
      ],
      { stdio: "pipe" },
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return { certFile, keyFile, cert: readFileSync(certFile) };
}

/** grpc-web framing: flag(1) | length(4, BE) | payload. */
function frame(flag: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

function parseFrames(body: Buffer): { flag: number; payload: Buffer }[] {
  const frames: { flag: number; payload: Buffer }[] = [];
  let at = 0;
  while (at < body.length) {
    assert.ok(body.length - at >= 5, "truncated frame header");
    const len = body.readUInt32BE(at + 1);
    assert.ok(body.length - at - 5 >= len, "truncated frame payload");
    frames.push({ flag: body[at]!, payload: body.subarray(at + 5, at + 5 + len) });
    at += 5 + len;
  }
  return frames;
}

describe("grpc-js and gRPC-web interop over TLS", { timeout: 30_000 }, () => {
  const stubs = loadProtos();
  const dir = mkdtempSync(path.join(tmpdir(), "sprocket-tls-"));
  const tls = makeCert(dir);
  let host: Host;
  let sensor: grpc.Client;
  let token: string;

  before(async () => {
    if (!tls) return;
    host = await startTestHost(withApiKey({ ...allFakesConfig(), network: { tls_cert_file: tls.certFile, tls_key_file: tls.keyFile } }));
    assert.ok(host.url.startsWith("https://"), host.url);
    const target = new URL(host.url).host;
    const creds = grpc.credentials.createSsl(tls.cert);
    // Dial the IP, verify the certificate's DNS name (SNI must not be an IP address, RFC 6066).
    const options = { "grpc.ssl_target_name_override": "localhost" };
    const auth = new stubs.AuthService(target, creds, options);
    token = (await unary<AuthenticateResponse>(auth, "Authenticate", apiKeyRequest)).access_token;
    auth.close();
    sensor = new stubs.SensorService(target, creds, options);
  });
  after(async () => {
    sensor?.close();
    await host?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("grpc-js GetReadings over TLS (h2 via ALPN)", async (t) => {
    if (!tls) return t.skip("openssl CLI not available to make a certificate");
    assertFakeReadings(await unary<GetReadingsResponse>(sensor, "GetReadings", { name: "sensor1" }, bearer(token)));
    await assert.rejects(unary(sensor, "GetReadings", { name: "sensor1" }), grpcError(grpc.status.UNAUTHENTICATED, "authentication required"));
  });

  it("gRPC-web GetReadings over HTTPS/1.1", async (t) => {
    if (!tls) return t.skip("openssl CLI not available to make a certificate");
    const url = new URL(getReadingsPath, host.url);
    const { status, httpVersion, headers, body } = await new Promise<{ status: number; httpVersion: string; headers: Record<string, unknown>; body: Buffer }>(
      (resolve, reject) => {
        const req = https.request(
          url,
          {
            method: "POST",
            ca: tls.cert,
            servername: "localhost",
            agent: false,
            headers: {
              "content-type": "application/grpc-web+proto",
              "x-grpc-web": "1",
              authorization: `Bearer ${token}`,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, httpVersion: res.httpVersion, headers: res.headers, body: Buffer.concat(chunks) }));
            res.on("error", reject);
          },
        );
        req.on("error", reject);
        req.end(frame(0x00, stubs.getReadings.requestSerialize({ name: "sensor1" })));
      },
    );
    assert.equal(status, 200);
    assert.equal(httpVersion, "1.1");
    assert.equal(headers["content-type"], "application/grpc-web+proto");
    const frames = parseFrames(body);
    assert.equal(frames.length, 2, "one data frame and one trailer frame");
    assert.equal(frames[0]!.flag, 0x00);
    assertFakeReadings(stubs.getReadings.responseDeserialize(frames[0]!.payload));
    assert.equal(frames[1]!.flag, 0x80);
    assert.match(frames[1]!.payload.toString("latin1"), /^grpc-status: 0\r$/m);
  });
});
