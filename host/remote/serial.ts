// Micro parts on a serial line: `serial:///dev/ttyUSB0?baud=115200` in a remote's address. The host
// opens the port with node-serialport and speaks the part's UART framing (COBS + CRC-32 per frame,
// proto/channel/cobs.ts) to its RPC server (the config's `rpc_uart`, firmware/rpc/uart-server.ts);
// above the framing it is an ordinary MicroConnection (micro.ts): Authenticate with the remote's
// auth, then calls.
//
// A serial line has no connection of its own: the link is "up" while the port is open. A damaged
// frame is dropped by the decoder (and counted), never fatal; a part that stops answering is found
// by the manager's connection check, and a port that goes away (USB unplugged) closes the link.
import { SerialPort } from "serialport";
import { CobsDecoder, encodeCobsFrame } from "../../proto/channel/index.js";
import type { RemoteTransport } from "./connection.js";
import type { FrameLink, LinkOpener } from "./links.js";
import { MicroConnection } from "./micro.js";

/** The baud rate when the address names none: the firmware's usual `rpc_uart` rate. */
export const DEFAULT_SERIAL_BAUD = 115200;

export interface SerialAddress {
  readonly path: string;
  readonly baud: number;
}

/** Parses `serial:///dev/ttyX?baud=N` (or `serial:/dev/ttyX`, `serial://COM3`); throws on anything else. */
export function parseSerialAddress(address: string): SerialAddress {
  const m = /^serial:(?:\/\/)?([^?#]+)(?:\?([^#]*))?$/i.exec(address.trim());
  if (!m || m[1] === "") throw new Error(`"${address}" is not serial:///dev/ttyX?baud=N`);
  const path = decodeURIComponent(m[1]);
  let baud = DEFAULT_SERIAL_BAUD;
  for (const [key, value] of new URLSearchParams(m[2] ?? "")) {
    if (key !== "baud") throw new Error(`"${address}": unknown option "${key}" (only baud=N)`);
    baud = Number(value);
    if (!Number.isInteger(baud) || baud <= 0) throw new Error(`"${address}": baud must be a positive integer, not "${value}"`);
  }
  return { path, baud };
}

/** A serial port carrying COBS frames. */
export function serialLink(address: SerialAddress): LinkOpener {
  return (signal, handlers) =>
    new Promise<FrameLink>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      const port = new SerialPort({ path: address.path, baudRate: address.baud, autoOpen: false });
      let open = false;
      let closedHere = false;
      let reason: string | undefined;
      const decoder = new CobsDecoder({ onFrame: (frame) => handlers.onFrame(frame) });
      const onAbort = () => {
        closedHere = true;
        if (port.isOpen) port.close();
        reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      port.on("data", (chunk: Buffer) => decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
      port.on("error", (err: Error) => {
        reason ??= err.message;
      });
      port.on("close", () => {
        if (open && !closedHere) handlers.onClose(reason ?? `serial port ${address.path} closed`);
      });
      port.open((err) => {
        signal.removeEventListener("abort", onAbort);
        if (err) return reject(new Error(`cannot open ${address.path}: ${err.message}`));
        if (closedHere) {
          port.close();
          return;
        }
        open = true;
        resolve({
          send: (frame) => {
            if (port.isOpen) port.write(Buffer.from(encodeCobsFrame(frame)));
          },
          close: () => {
            closedHere = true;
            if (port.isOpen) port.close();
          },
        });
      });
    });
}

export const microSerialTransport: RemoteTransport = {
  schemes: ["serial"],
  create: ({ config, address, logger, callTimeoutMs }) =>
    new MicroConnection({ open: serialLink(parseSerialAddress(address.raw)), auth: config.auth, callTimeoutMs, logger }),
};
