// The platform seam for memory figures: free heap bytes from Moddable's `instrumentation` module
// ("System Free Memory", i.e. esp_get_free_heap_size on ESP32; the simulator reports its world's
// value). Builds without instrumentation answer undefined instead of failing.
import Instrumentation from "instrumentation";

let index: number | undefined | null = null;

export function freeHeapBytes(): number | undefined {
  try {
    if (index === null) index = Instrumentation.map("System Free Memory");
    if (index === undefined) return undefined;
    const value = Instrumentation.get(index);
    return typeof value === "number" ? value : undefined;
  } catch {
    return undefined;
  }
}
