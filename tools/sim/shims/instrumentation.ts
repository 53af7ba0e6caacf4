// Moddable's `instrumentation` module for Node: Instrumentation.map(name) gives an index and
// get(index) its value. "System Free Memory" is the world's `freeHeap`; the sockets in use and the
// timers are the simulator's; the other counters read 0.
import { network } from "../network.js";
import { world } from "../world.js";

const NAMES = [
  "Pixels Drawn",
  "Frames Drawn",
  "Network Bytes Read",
  "Network Bytes Written",
  "Network Sockets",
  "Timers",
  "Files",
  "Poco Display List Used",
  "Piu Command List Used",
  "Turns",
  "CPU 0",
  "CPU 1",
  "System Free Memory",
  "XS Slot Heap Used",
  "XS Chunk Heap Used",
  "XS Keys Used",
  "XS Garbage Collection Count",
  "XS Modules Loaded",
  "XS Stack Used",
  "XS Promises Settled",
];

export default class Instrumentation {
  static map(name: string): number | undefined {
    const i = NAMES.indexOf(name);
    return i < 0 ? undefined : i + 1;
  }

  static name(index: number | undefined): string | undefined {
    return index === undefined ? undefined : NAMES[index - 1];
  }

  static get(index: number | undefined): number | undefined {
    const name = Instrumentation.name(index);
    if (name === undefined) return undefined;
    const w = world();
    switch (name) {
      case "System Free Memory":
        return w.freeHeap;
      case "Network Sockets":
        return network(w).openSockets;
      default:
        return 0;
    }
  }
}
