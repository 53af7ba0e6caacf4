// What the flasher page does with a port, without the DOM: the same steps, checks and messages
// as `sprocket flash` (tools/cli/flash.ts), on a Web Serial port. Check the firmware and the
// provisioning, connect (reset into the ROM loader, stub, baud change), lay the images out for the
// board's chip, write each with MD5 verification, and reset into the app with an explicit EN
// pulse. Portable: the page bundles it, and tests can run it in Node against the simulator.
import { ImageError, formatSize, hex } from "../../image/bytes.js";
import { configBlob, provisioningEntries, type ProvisioningValues } from "../../image/provisioning.js";
import { checkBeforeConnecting, nothingWritten, planForBoard } from "../../flash/flow.js";
import type { FirmwareSource } from "../../flash/plan.js";
import { FlashSession, type WriteImage } from "../../flash/session.js";
import type { WebSerialPortLike } from "../../sim/esp32/web-serial-port.js";

/** The provisioning form as typed: empty fields are not written. */
export interface ProvisioningForm {
  wifiSsid?: string;
  wifiPassword?: string;
  host?: string;
  partId?: string;
  partKey?: string;
  /** The part's machine config as JSON text (stored as the `config` blob). */
  config?: string;
}

/** Provisioning values from the form, checked as `sprocket flash`'s flags are (types, sizes, JSON). Throws ImageError. */
export function provisioningFromForm(form: ProvisioningForm): ProvisioningValues {
  const text = (v: string | undefined) => (v === undefined || v === "" ? undefined : v);
  const values: ProvisioningValues = {
    wifiSsid: text(form.wifiSsid),
    wifiPassword: text(form.wifiPassword),
    host: text(form.host?.trim()),
    partId: text(form.partId?.trim()),
    partKey: text(form.partKey),
  };
  const config = form.config?.trim();
  if (config) {
    try {
      values.config = configBlob(JSON.parse(config));
    } catch (err) {
      throw new ImageError(`the machine config is not valid JSON: ${(err as Error).message}`);
    }
  }
  provisioningEntries(values); // types and sizes, now
  return values;
}

/** The read buffer the page asks Web Serial for (the stub's replies and readFlash packets fit with room). */
export const WEB_SERIAL_BUFFER_BYTES = 16 * 1024;

export interface FlashRequest {
  source: FirmwareSource;
  provisioning: ProvisioningValues;
  /** Rate after the stub runs (default 921600). */
  baud?: number;
  /** Deflate images on the wire (default true). */
  compress?: boolean;
  /** Erase the whole flash first (default false). */
  eraseAll?: boolean;
  /** Connection attempts (default 7, as the CLI). */
  attempts?: number;
  /** esptool-js's own messages, for a verbose log. */
  debug?: (line: string) => void;
}

export interface FlashEvents {
  /** A line for the log: connecting, connected (chip, MAC, flash), writing, reset. */
  status?(line: string): void;
  /** The images about to be written, in order (before the first byte is written). */
  images?(images: readonly WriteImage[]): void;
  /** Bytes of `image` sent over the wire (compressed when compressing) of `total`. */
  progress?(image: WriteImage, sent: number, total: number): void;
  /** `image` was written and read back with the same MD5. */
  verified?(image: WriteImage, md5: string): void;
}

export interface FlashResult {
  chip: string;
  description: string;
  mac: string;
  images: { name: string; offset: number; size: number; md5: string }[];
  seconds: number;
}

/**
 * Flashes `request.source` with its provisioning through `port` (not open yet). Throws ImageError
 * (bad input, "(nothing was written)") or FlashError (the board or port failed); turn either into
 * the CLI's wording with failureMessage (tools/flash/flow.ts).
 */
export async function flashBoard(port: WebSerialPortLike, request: FlashRequest, events: FlashEvents = {}): Promise<FlashResult> {
  const { source, provisioning } = request;
  const baud = request.baud ?? 921600;
  const status = (line: string) => events.status?.(line);
  try {
    checkBeforeConnecting(source, provisioning);
  } catch (err) {
    throw nothingWritten(err);
  }
  const started = performance.now();
  status(`connecting (resetting the board into its bootloader)...`);
  const session = await FlashSession.connect(port, {
    baud,
    attempts: request.attempts ?? 7,
    portName: "the serial port",
    bufferSize: WEB_SERIAL_BUFFER_BYTES,
    ...(request.debug ? { debug: request.debug } : {}),
  });
  const verified: FlashResult["images"] = [];
  try {
    const size = session.flashSize;
    status(`connected: ${session.description}, MAC ${session.mac}, flash ${size === undefined ? `id ${hex(session.flashId)}` : formatSize(size)}, stub at ${baud} baud`);
    const { plan, images } = await planForBoard(session, source, provisioning);
    const desc = plan.app.appDescription;
    status(`writing ${desc ? `${desc.projectName} ${desc.version} ` : ""}for ${session.chip}${request.compress === false ? " (uncompressed)" : ""}:`);
    events.images?.(images);
    if (request.eraseAll) status(`erasing the whole flash...`);
    await session.write(images, {
      compress: request.compress ?? true,
      eraseAll: request.eraseAll ?? false,
      onProgress: (image, sent, total) => events.progress?.(image, sent, total),
      onVerified: (image, md5) => {
        verified.push({ name: image.name, offset: image.offset, size: image.bytes.length, md5 });
        status(`${image.name} verified (${formatSize(image.bytes.length)}, md5 ${md5})`);
        events.verified?.(image, md5);
      },
    });
    await session.resetIntoApp();
    status(`reset into the app`);
  } catch (err) {
    throw nothingWritten(err);
  } finally {
    await session.close();
  }
  return { chip: session.chip, description: session.description, mac: session.mac, images: verified, seconds: (performance.now() - started) / 1000 };
}
