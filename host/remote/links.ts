// Frame links to micro parts: something that carries whole encoded Request frames to a part and
// whole Response frames back. Each opener does its own framing:
//
//   tcp://host:port        a TCP socket, 4-byte big-endian length prefix per frame
//   ws(s)://host:port/path a WebSocket of binary messages carrying the same length-prefixed byte
//                          stream (a message may hold several frames or part of one)
//
// A serial link (COBS + CRC-32, proto/channel/cobs.ts) or a link a part dials in on plugs in as
// another LinkOpener; MicroConnection (micro.ts) only sees FrameLink.
import { connect as netConnect, type Socket } from "node:net";
import WebSocket from "ws";
import { DEFAULT_MAX_FRAME_BYTES, encodeLengthPrefixed, LengthPrefixDecoder } from "../../proto/channel/index.js";

export interface FrameLink {
  /** Sends one encoded Request frame. */
  send(frame: Uint8Array): void;
  /** Closes the link; the onClose handler is not called for a close asked for here. */
  close(): void;
}

export interface FrameLinkHandlers {
  /** One whole encoded Response frame (owned by the callee). */
  onFrame(frame: Uint8Array): void;
  /** The link is gone (peer closed, I/O error, framing error), with why. Called at most once. */
  onClose(reason: string): void;
}

/** Opens a link; rejects (leaving nothing open) when it cannot, or when `signal` aborts first. */
export type LinkOpener = (signal: AbortSignal, handlers: FrameLinkHandlers) => Promise<FrameLink>;

/** Splits `host:port` (IPv6 hosts in brackets). */
export function splitHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:/]+)):(\d+)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not host:port`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new Error(`port ${port} is out of range`);
  return { host: m[1] ?? m[2], port };
}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error(typeof r === "string" ? r : "aborted");
}

/** `tcp://host:port`: a socket with length-prefixed frames. */
export function tcpLink(host: string, port: number, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): LinkOpener {
  return (signal, handlers) =>
    new Promise<FrameLink>((resolve, reject) => {
      if (signal.aborted) return reject(abortReason(signal));
      const socket: Socket = netConnect({ host, port, noDelay: true });
      let open = false;
      let closedHere = false;
      let reason: string | undefined;
      const onAbort = () => socket.destroy(abortReason(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      const decoder = new LengthPrefixDecoder({
        maxFrameBytes,
        onFrame: (frame) => handlers.onFrame(frame),
        onError: (err) => {
          reason = `framing error: ${err.message}`;
          socket.destroy();
        },
      });
      socket.on("data", (chunk: Buffer) => decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
      socket.on("error", (err) => {
        reason ??= err.message;
      });
      socket.once("connect", () => {
        signal.removeEventListener("abort", onAbort);
        open = true;
        resolve({
          send: (frame) => {
            if (!socket.destroyed) socket.write(encodeLengthPrefixed(frame, Number.MAX_SAFE_INTEGER));
          },
          close: () => {
            closedHere = true;
            socket.destroy();
          },
        });
      });
      socket.once("close", () => {
        signal.removeEventListener("abort", onAbort);
        if (!open) reject(new Error(reason ?? "connection closed before it opened"));
        else if (!closedHere) handlers.onClose(reason ?? "connection closed by the part");
      });
    });
}

/** `ws://host:port/path` (or wss): binary messages carrying length-prefixed frames. */
export function webSocketLink(url: string, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): LinkOpener {
  return (signal, handlers) =>
    new Promise<FrameLink>((resolve, reject) => {
      if (signal.aborted) return reject(abortReason(signal));
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.binaryType = "nodebuffer";
      let open = false;
      let closedHere = false;
      let reason: string | undefined;
      const onAbort = () => {
        reason = abortReason(signal).message;
        ws.terminate();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const decoder = new LengthPrefixDecoder({
        maxFrameBytes,
        onFrame: (frame) => handlers.onFrame(frame),
        onError: (err) => {
          reason = `framing error: ${err.message}`;
          ws.terminate();
        },
      });
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        if (!isBinary) {
          reason = "the part sent a text message";
          ws.terminate();
          return;
        }
        decoder.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      });
      ws.on("error", (err) => {
        reason ??= err.message;
      });
      ws.once("open", () => {
        signal.removeEventListener("abort", onAbort);
        open = true;
        resolve({
          send: (frame) => {
            if (ws.readyState === WebSocket.OPEN) ws.send(encodeLengthPrefixed(frame, Number.MAX_SAFE_INTEGER));
          },
          close: () => {
            closedHere = true;
            ws.terminate();
          },
        });
      });
      ws.once("close", (code: number) => {
        signal.removeEventListener("abort", onAbort);
        if (!open) reject(new Error(reason ?? `WebSocket closed before it opened (${code})`));
        else if (!closedHere) handlers.onClose(reason ?? `WebSocket closed by the part (${code})`);
      });
    });
}
