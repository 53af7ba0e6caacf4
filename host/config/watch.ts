// Watches the config file (rdk `config/watcher.go`, fsnotify): events are debounced for 500 ms, a
// file whose bytes did not change is skipped, and editors' atomic saves work: the directory is
// watched, not the file, so a rename over the file or a delete followed by a create is seen like a
// write. A file missing at the moment of reading (between delete and create) is read again on the
// next event.
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import type { Logger } from "pino";

/** rdk's debounce for file events. */
export const CONFIG_WATCH_DEBOUNCE_MS = 500;

export interface ConfigWatchOptions {
  /** Called with the file's new text after it settled and changed. */
  onChange: (text: string) => void;
  /** The text the running config was read from; an event that leaves the file at these bytes is skipped. */
  initialText?: string;
  debounceMs?: number;
  logger?: Logger;
}

export interface ConfigWatcher {
  close(): void;
}

export function watchConfigFile(path: string, opts: ConfigWatchOptions): ConfigWatcher {
  const full = resolve(path);
  const dir = dirname(full);
  const name = basename(full);
  const debounceMs = opts.debounceMs ?? CONFIG_WATCH_DEBOUNCE_MS;
  let last: Buffer | undefined = opts.initialText === undefined ? undefined : Buffer.from(opts.initialText, "utf8");
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let reading = Promise.resolve();

  const check = async () => {
    let bytes: Buffer;
    try {
      bytes = await readFile(full);
    } catch (err) {
      // Deleted and not created again yet: the create is another event.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        opts.logger?.error({ path, error: (err as Error).message }, "error reading config file after change");
      }
      return;
    }
    if (closed || (last !== undefined && bytes.equals(last))) return;
    last = bytes;
    opts.onChange(bytes.toString("utf8"));
  };

  const onEvent = (_event: string, filename: string | Buffer | null) => {
    if (closed) return;
    // Some platforms do not name the file; then any event in the directory counts.
    if (filename !== null && filename.toString() !== name) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      reading = reading.then(check);
    }, debounceMs);
  };

  if (last === undefined) {
    // Take the current bytes as the baseline, so the first event compares against them.
    reading = readFile(full).then(
      (b) => {
        last ??= b;
      },
      () => undefined,
    );
  }
  const watcher: FSWatcher = watch(dir, { persistent: false }, onEvent);
  watcher.on("error", (err) => opts.logger?.error({ path, error: err.message }, "config file watcher failed"));
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}
