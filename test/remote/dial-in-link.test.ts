// The pieces under a dial-in link, below the host: the firmware's portable SHA-1/SHA-256/HMAC/base64
// against node:crypto, and its RFC 6455 client (firmware/rpc/ws-client.ts, on the simulator's
// ECMA-419 TCP shim) against the `ws` package's server, a compliant one that refuses unmasked client
// frames: the handshake and its checks, masked binary and text messages both ways, fragmented
// messages, ping/pong, close from either side, refusals, protocol errors and the size limit.
import "../../tools/sim/register.js";
import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import WebSocket, { WebSocketServer } from "ws";
import { World, setWorld } from "../../tools/sim/world.js";
import { eventually } from "./support.js";

type WsClientModule = typeof import("../../firmware/rpc/ws-client.js");
type HashModule = typeof import("../../firmware/util/hash.js");

let wsc: WsClientModule;
let hash: HashModule;
let world: World;

before(async () => {
  world = new World();
  setWorld(world);
  wsc = await import("../../firmware/rpc/ws-client.js");
  hash = await import("../../firmware/util/hash.js");
});

after(() => {
  world.dispose();
});

describe("firmware hashes (firmware/util/hash.ts)", () => {
  it("SHA-1, SHA-256 and HMAC-SHA-256 match node:crypto for every length around the block edges", () => {
    for (let n = 0; n < 300; n++) {
      const data = new Uint8Array(randomBytes(n));
      assert.equal(hash.toHex(hash.sha1(data)), createHash("sha1").update(data).digest("hex"), `sha1 of ${n} bytes`);
      assert.equal(hash.toHex(hash.sha256(data)), createHash("sha256").update(data).digest("hex"), `sha256 of ${n} bytes`);
      const key = new Uint8Array(randomBytes(n % 100));
      assert.equal(hash.toHex(hash.hmacSha256(key, data)), createHmac("sha256", key).update(data).digest("hex"), `hmac of ${n} bytes`);
    }
    assert.equal(hash.toHex(hash.hmacSha256("part key ü", "text ✓")), createHmac("sha256", "part key ü").update("text ✓").digest("hex"));
  });

  it("base64 matches Buffer's, and the RFC 6455 example key gives its accept value", () => {
    for (let n = 0; n < 40; n++) {
      const data = new Uint8Array(randomBytes(n));
      assert.equal(hash.toBase64(data), Buffer.from(data).toString("base64"));
    }
    // RFC 6455 §1.3.
    assert.equal(hash.toBase64(hash.sha1("dGhlIHNhbXBsZSBub25jZQ==" + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });
});

interface Harness {
  server: Server;
  wss: WebSocketServer;
  port: number;
  /** Server-side sockets in connection order. */
  peers: WebSocket[];
  /** Raw upgrade requests' headers. */
  requests: Record<string, string | string[] | undefined>[];
  sockets: Set<Socket>;
}

async function startServer(opts: { refuse?: (socket: Socket) => boolean; protocols?: boolean } = {}): Promise<Harness> {
  const server = createServer();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: opts.protocols === false ? () => false : (set) => (set.has("test.v1") ? "test.v1" : false),
  });
  const h: Harness = { server, wss, port: 0, peers: [], requests: [], sockets: new Set() };
  server.on("upgrade", (req, socket, head) => {
    h.requests.push({ ...req.headers });
    h.sockets.add(socket as Socket);
    if (opts.refuse?.(socket as Socket)) return;
    wss.handleUpgrade(req, socket, head, (ws) => h.peers.push(ws));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  h.port = (server.address() as AddressInfo).port;
  return h;
}

async function stopServer(h: Harness): Promise<void> {
  for (const ws of h.wss.clients) ws.terminate();
  h.wss.close();
  // Upgraded sockets are no longer the HTTP server's: close() would wait for them.
  for (const s of h.sockets) s.destroy();
  await new Promise<void>((r) => h.server.close(() => r()));
}

interface ClientEvents {
  client: InstanceType<WsClientModule["WebSocketClient"]>;
  opened: Promise<Record<string, string>>;
  messages: { data: Uint8Array; binary: boolean }[];
  closed: Promise<{ reason: string; code: number | undefined }>;
}

function dial(port: number, extra: Partial<ConstructorParameters<WsClientModule["WebSocketClient"]>[0]> = {}): ClientEvents {
  let open!: (h: Record<string, string>) => void;
  let close!: (c: { reason: string; code: number | undefined }) => void;
  const messages: { data: Uint8Array; binary: boolean }[] = [];
  const opened = new Promise<Record<string, string>>((r) => (open = r));
  const closed = new Promise<{ reason: string; code: number | undefined }>((r) => (close = r));
  const client = new wsc.WebSocketClient({
    address: "127.0.0.1",
    port,
    path: "/x?y=1",
    protocol: "test.v1",
    headers: [["X-Test", "hello"]],
    onOpen: (res) => open({ ...res.headers }),
    onMessage: (data, binary) => messages.push({ data: data.slice(), binary }),
    onClose: (reason, code) => close({ reason, code }),
    ...extra,
  });
  return { client, opened, messages, closed };
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once("message", (data: Buffer, isBinary: boolean) => resolve({ data, isBinary })));
}

describe("firmware WebSocket client (firmware/rpc/ws-client.ts) against the ws package's server", () => {
  let h: Harness;

  before(async () => {
    h = await startServer();
  });

  after(async () => {
    await stopServer(h);
  });

  it("opens with the requested path, headers and subprotocol; masked binary and text messages of every length class reach the server", async () => {
    const c = dial(h.port);
    const headers = await c.opened;
    assert.equal(headers["sec-websocket-protocol"], "test.v1");
    const request = h.requests.at(-1)!;
    assert.equal(request["x-test"], "hello");
    assert.equal(request["sec-websocket-version"], "13");
    const peer = h.peers.at(-1)!;
    for (const n of [0, 1, 125, 126, 1000, 65535, 65536, 70_000]) {
      const data = new Uint8Array(randomBytes(n));
      const got = nextMessage(peer);
      await c.client.send(data);
      const m = await got;
      assert.equal(m.isBinary, true);
      assert.deepEqual(new Uint8Array(m.data), data, `binary message of ${n} bytes`);
    }
    const got = nextMessage(peer);
    await c.client.send(new TextEncoder().encode("proof ✓"), false);
    const m = await got;
    assert.equal(m.isBinary, false);
    assert.equal(m.data.toString("utf8"), "proof ✓");
    c.client.close();
  });

  it("receives binary and text messages, whole and fragmented, and answers pings with pongs", async () => {
    const c = dial(h.port, { maxMessageBytes: 100_000 });
    await c.opened;
    const peer = h.peers.at(-1)!;
    const big = randomBytes(70_000);
    peer.send(Buffer.from([1, 2, 3]));
    peer.send("text");
    peer.send(big);
    // A fragmented binary message with a ping between its fragments (RFC 6455 §5.4 allows it).
    peer.send(Buffer.from([9, 8]), { fin: false, binary: true });
    const pong = new Promise<Buffer>((r) => peer.once("pong", r));
    peer.ping(Buffer.from("are you there"));
    peer.send(Buffer.from([7]), { fin: true, binary: true });
    assert.equal((await pong).toString(), "are you there");
    await eventually("four messages", () => c.messages.length === 4);
    assert.deepEqual(c.messages[0], { data: Uint8Array.of(1, 2, 3), binary: true });
    assert.deepEqual(c.messages[1], { data: new TextEncoder().encode("text"), binary: false });
    assert.deepEqual(c.messages[2], { data: new Uint8Array(big), binary: true });
    assert.deepEqual(c.messages[3], { data: Uint8Array.of(9, 8, 7), binary: true });
    c.client.close();
  });

  it("a close from the server is answered and reported with its code and reason", async () => {
    const c = dial(h.port);
    await c.opened;
    const peer = h.peers.at(-1)!;
    const serverSaw = new Promise<number>((r) => peer.once("close", (code: number) => r(code)));
    peer.close(4001, "go away");
    const closed = await c.closed;
    assert.equal(closed.code, 4001);
    assert.match(closed.reason, /closed by the host \(4001 go away\)/);
    assert.equal(await serverSaw, 4001);
  });

  it("close() sends a close frame the server sees, and no onClose follows", async () => {
    let reported = false;
    const c = dial(h.port, { onClose: () => (reported = true) });
    await c.opened;
    const peer = h.peers.at(-1)!;
    const serverSaw = new Promise<{ code: number; reason: string }>((r) => peer.once("close", (code: number, reason: Buffer) => r({ code, reason: reason.toString() })));
    c.client.close(1000, "bye");
    assert.deepEqual(await serverSaw, { code: 1000, reason: "bye" });
    assert.equal(reported, false);
    assert.equal(c.client.open, false);
  });

  it("a message above maxMessageBytes closes with 1009", async () => {
    const c = dial(h.port, { maxMessageBytes: 1000 });
    await c.opened;
    const peer = h.peers.at(-1)!;
    const serverSaw = new Promise<number>((r) => peer.once("close", (code: number) => r(code)));
    peer.send(randomBytes(1001));
    const closed = await c.closed;
    assert.equal(closed.code, 1009);
    assert.equal(await serverSaw, 1009);
  });

  it("the server dropping the socket is reported", async () => {
    const c = dial(h.port);
    await c.opened;
    h.peers.at(-1)!.terminate();
    assert.match((await c.closed).reason, /connection lost/);
  });

  it("silence for two ping intervals ends the link (a host gone without a FIN)", async () => {
    const c = dial(h.port, { pingIntervalMs: 30 });
    await c.opened;
    // The server stops answering anything: its socket is paused, so no pong comes back.
    const peer = h.peers.at(-1)!;
    (peer as unknown as { _socket: Socket })._socket.pause();
    assert.match((await c.closed).reason, /host not answering/);
  });
});

describe("firmware WebSocket client: refusals and bad handshakes", () => {
  it("an HTTP refusal is reported with its status line", async () => {
    const h = await startServer({
      refuse: (socket) => {
        socket.end("HTTP/1.1 403 unknown part id\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return true;
      },
    });
    try {
      const c = dial(h.port);
      assert.match((await c.closed).reason, /host answered "HTTP\/1\.1 403 unknown part id"/);
    } finally {
      await stopServer(h);
    }
  });

  it("a server that does not select the subprotocol is refused by the client", async () => {
    const h = await startServer({ protocols: false });
    try {
      const c = dial(h.port);
      assert.match((await c.closed).reason, /subprotocol test\.v1 not selected/);
    } finally {
      await stopServer(h);
    }
  });

  it("a wrong Sec-WebSocket-Accept is refused", async () => {
    const h = await startServer({
      refuse: (socket) => {
        socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm90IHJpZ2h0\r\nSec-WebSocket-Protocol: test.v1\r\n\r\n");
        return true;
      },
    });
    try {
      const c = dial(h.port);
      assert.match((await c.closed).reason, /wrong Sec-WebSocket-Accept/);
    } finally {
      await stopServer(h);
    }
  });

  it("nobody listening is reported as a failed connect", async () => {
    const h = await startServer();
    const port = h.port;
    await stopServer(h);
    const c = dial(port);
    assert.match((await c.closed).reason, /cannot connect/);
  });

  it("frames are masked on the wire (RFC 6455 §5.3) with a fresh mask each", () => {
    const payload = Uint8Array.of(1, 2, 3, 4, 5);
    const a = wsc.encodeClientFrame(2, payload);
    const b = wsc.encodeClientFrame(2, payload);
    assert.equal(a[0], 0x82);
    assert.equal(a[1], 0x80 | 5);
    const mask = a.subarray(2, 6);
    assert.deepEqual(
      Uint8Array.from(a.subarray(6), (v, i) => v ^ mask[i & 3]!),
      payload,
    );
    assert.notDeepEqual(a.subarray(2, 6), b.subarray(2, 6));
  });
});
