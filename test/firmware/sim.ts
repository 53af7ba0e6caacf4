// Test support: loads the simulator's module hooks into this process (so dynamic imports of
// firmware/ modules get the embedded:* shims), and gives each test a fresh current World.
// Import this before any dynamic import of firmware; static imports of firmware would be resolved
// before the hooks exist.
import "../../tools/sim/register.js";
import { World, setWorld, type WorldOptions } from "../../tools/sim/world.js";
import type { I2CBus } from "../../tools/sim/i2c-bus.js";

export { World };

/** A new World, made current; dispose it (and unset it) with `end()`. */
export function freshWorld(options?: WorldOptions): World {
  const w = new World(options);
  setWorld(w);
  return w;
}

export function end(w: World): void {
  w.dispose();
  setWorld(undefined);
}

/** Reads a 16-bit big-endian register straight off the bus, as a logic analyser would see it. */
export function busWord(bus: I2CBus, address: number, register: number): number {
  const word = new Uint8Array(2);
  bus.write(address, Uint8Array.of(register), false);
  bus.read(address, word, true);
  return (word[0] << 8) | word[1];
}

/** Reads an 8-bit register straight off the bus. */
export function busByte(bus: I2CBus, address: number, register: number): number {
  const byte = new Uint8Array(1);
  bus.write(address, Uint8Array.of(register), false);
  bus.read(address, byte, true);
  return byte[0];
}
