// The firmware's entry: the module manifest.json names as `creation.main`. Moddable runs it after
// the preloaded modules and calls its default export.
import { start } from "./runtime/boot.js";

export default function main(): void {
  start();
}
