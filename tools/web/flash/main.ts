// The flasher page (served by the host at /flash, built by `npm run build:web` into
// dist/web/flash/): Web Serial + esptool-js through flasher.ts, with the CLI's image tools, checks
// and messages. The firmware comes from picked files (a Moddable build's, or a manifest.json with
// its parts) or a manifest URL; the form's provisioning becomes the NVS image.
//
// The project compiles this file with Node's libs only (no DOM lib), so the few browser globals it
// touches are typed here by hand (as test/browser/page/main.ts does).
import { ImageError } from "../../image/bytes.js";
import { buildFromModdable } from "../../image/manifest.js";
import { failureMessage, nothingWritten } from "../../flash/flow.js";
import { manifestUrlSource, pickedFilesSource, type PickedFile } from "../../flash/firmware-source.js";
import type { FirmwareSource } from "../../flash/plan.js";
import type { WriteImage } from "../../flash/session.js";
import type { WebSerialPortLike } from "../../sim/esp32/web-serial-port.js";
import { formatSize, hex } from "../../image/bytes.js";
import { flashBoard, provisioningFromForm, type FlashResult } from "./flasher.js";

interface Node_ {
  textContent: string | null;
}
interface Element_ extends Node_ {
  hidden: boolean;
  title: string;
  className: string;
  dataset: Record<string, string | undefined>;
  append(...nodes: (Element_ | string)[]): void;
  replaceChildren(...nodes: (Element_ | string)[]): void;
  addEventListener(type: string, listener: (event: { preventDefault(): void }) => void): void;
}
interface FileLike {
  readonly name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}
interface Input extends Element_ {
  value: string;
  checked: boolean;
  disabled: boolean;
  readonly files: ArrayLike<FileLike> | null;
}
interface Progress extends Element_ {
  value: number;
  max: number;
}
interface Serial {
  requestPort(options?: { filters?: { usbVendorId?: number; usbProductId?: number }[] }): Promise<WebSerialPortLike>;
}
interface BrowserGlobals {
  document: {
    readyState: string;
    getElementById(id: string): Element_ | null;
    createElement(tag: string): Element_;
    addEventListener(type: string, listener: () => void): void;
  };
  navigator: { serial?: Serial };
  location: { search: string; href: string };
  fetch(url: string): Promise<{ ok: boolean; status: number; statusText: string; arrayBuffer(): Promise<ArrayBuffer> }>;
}

const browser = globalThis as unknown as BrowserGlobals;

function element<T extends Element_ = Element_>(id: string): T {
  const el = browser.document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
}

function make<T extends Element_ = Element_>(tag: string, className?: string, text?: string): T {
  const el = browser.document.createElement(tag) as T;
  if (className !== undefined) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

async function pickedFiles(): Promise<PickedFile[]> {
  const files = Array.from(element<Input>("files").files ?? []);
  return Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await browser.fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`);
  return new Uint8Array(await response.arrayBuffer());
}

const fromUrl = () => element<Input>("source-url").checked;

/** The firmware chosen in the form (a URL is fetched: call after requesting the port). */
async function loadSource(): Promise<FirmwareSource> {
  if (fromUrl()) {
    const url = element<Input>("manifest-url").value.trim();
    if (url === "") throw new ImageError(`no manifest URL given`);
    return manifestUrlSource(new URL(url, browser.location.href).href, fetchBytes);
  }
  return pickedFilesSource(await pickedFiles());
}

function describeSource(source: FirmwareSource): string {
  if (source.kind === "build") {
    const build = buildFromModdable(source.build);
    const desc = build.app.appDescription;
    return `${desc ? `${desc.projectName} ${desc.version}` : "a Moddable build"} for ${build.chip}: ${build.parts.map((p) => `${p.path} @${hex(p.offset)}`).join(", ")}`;
  }
  return `${source.manifest.name} ${source.manifest.version} (${source.name}) for ${source.manifest.builds.map((b) => b.chipFamily).join(", ")}`;
}

async function showFirmwareSummary(): Promise<void> {
  const summary = element("firmware-summary");
  summary.textContent = "";
  delete summary.dataset.state;
  if (fromUrl() || (element<Input>("files").files?.length ?? 0) === 0) return;
  try {
    summary.textContent = describeSource(await pickedFilesSource(await pickedFiles()));
    summary.dataset.state = "ok";
  } catch (err) {
    summary.textContent = err instanceof ImageError ? err.message : String(err);
    summary.dataset.state = "error";
  }
}

function log(line: string): void {
  const el = element("log");
  el.append(`${line}\n`);
}

/** A row per image with a progress bar, filled as esptool-js reports. */
function progressRows(images: readonly WriteImage[]): Map<WriteImage, { row: Element_; bar: Progress; state: Element_ }> {
  const list = element("images");
  list.replaceChildren();
  const rows = new Map<WriteImage, { row: Element_; bar: Progress; state: Element_ }>();
  for (const image of images) {
    const row = make("li");
    row.dataset.image = image.name;
    row.dataset.state = "waiting";
    const bar = make<Progress>("progress");
    bar.max = 1;
    bar.value = 0;
    const state = make("span", "state", "waiting");
    row.append(make("span", "name", `${image.name} @${hex(image.offset, 5)} (${formatSize(image.bytes.length)})`), bar, state);
    list.append(row);
    rows.set(image, { row, bar, state });
  }
  return rows;
}

function setBusy(busy: boolean): void {
  element<Input>("flash").disabled = busy;
  element("form").dataset.busy = busy ? "true" : "false";
}

function showResult(state: "done" | "error" | "working", text: string): void {
  const result = element("result");
  result.dataset.state = state;
  result.textContent = text;
}

let busy = false;

async function onFlash(): Promise<void> {
  if (busy) return;
  busy = true;
  setBusy(true);
  element("log").replaceChildren();
  element("images").replaceChildren();
  showResult("working", "choose the board's serial port...");
  try {
    const serial = browser.navigator.serial;
    if (serial === undefined) throw new ImageError(`this browser has no Web Serial: use Chrome, Edge or Opera`);
    // Everything local is checked before the port picker opens.
    let provisioning;
    let picked: FirmwareSource | undefined;
    try {
      provisioning = provisioningFromForm({
        wifiSsid: element<Input>("wifi-ssid").value,
        wifiPassword: element<Input>("wifi-password").value,
        host: element<Input>("host").value,
        partId: element<Input>("part-id").value,
        partKey: element<Input>("part-key").value,
        config: element<Input>("config").value,
      });
      if (!fromUrl()) picked = await loadSource();
    } catch (err) {
      throw nothingWritten(err);
    }
    let port: WebSerialPortLike;
    try {
      port = await serial.requestPort();
    } catch (err) {
      const name = (err as { name?: string }).name;
      showResult("error", name === "NotFoundError" ? "no serial port was chosen (nothing was written)" : `cannot use the serial port: ${(err as Error).message}`);
      return;
    }
    showResult("working", "flashing...");
    let source = picked;
    if (source === undefined) {
      try {
        source = await loadSource();
      } catch (err) {
        throw nothingWritten(err);
      }
    }
    log(`firmware: ${describeSource(source)}`);
    let rows = new Map<WriteImage, { row: Element_; bar: Progress; state: Element_ }>();
    const verbose = element<Input>("verbose").checked;
    const result: FlashResult = await flashBoard(
      port,
      {
        source,
        provisioning,
        baud: Number(element<Input>("baud").value),
        compress: element<Input>("compress").checked,
        eraseAll: element<Input>("erase").checked,
        ...(verbose ? { debug: (line: string) => log(`  esptool: ${line}`) } : {}),
      },
      {
        status: log,
        images: (images) => (rows = progressRows(images)),
        progress: (image, sent, total) => {
          const r = rows.get(image);
          if (r === undefined) return;
          const fraction = total === 0 ? 1 : Math.min(1, sent / total);
          r.bar.value = fraction;
          r.row.dataset.state = "writing";
          r.state.textContent = `${Math.floor(fraction * 100)}%`;
        },
        verified: (image, md5) => {
          const r = rows.get(image);
          if (r === undefined) return;
          r.bar.value = 1;
          r.row.dataset.state = "verified";
          r.row.dataset.md5 = md5;
          r.state.textContent = "verified";
          r.state.title = `md5 ${md5}`;
        },
      },
    );
    showResult("done", `flashed ${result.description} in ${result.seconds.toFixed(1)} s, verified ${result.images.length} images, and reset it into the app`);
  } catch (err) {
    const message = failureMessage(err);
    log(`error: ${message}`);
    showResult("error", message);
  } finally {
    busy = false;
    setBusy(false);
  }
}

function init(): void {
  if (browser.navigator.serial === undefined) {
    element("support").hidden = false;
    element<Input>("flash").disabled = true;
  }
  const manifest = new URLSearchParams(browser.location.search).get("manifest");
  if (manifest !== null) {
    element<Input>("manifest-url").value = manifest;
    element<Input>("source-url").checked = true;
  }
  element("files").addEventListener("change", () => {
    element<Input>("source-files").checked = true;
    void showFirmwareSummary();
  });
  element("manifest-url").addEventListener("input", () => {
    element<Input>("source-url").checked = true;
    void showFirmwareSummary();
  });
  element("form").addEventListener("submit", (event) => {
    event.preventDefault();
    void onFlash();
  });
  element("form").dataset.ready = "true";
}

if (browser.document.readyState === "loading") browser.document.addEventListener("DOMContentLoaded", init);
else init();
