// The ESP32 family as the image tools see it: esptool-js / esp-web-tools chip names, the chip id
// in an image's extended header, and where the second-stage bootloader is flashed. Portable.

export const CHIPS = [
  { family: "ESP32", id: 0, bootloaderOffset: 0x1000 },
  { family: "ESP32-S2", id: 2, bootloaderOffset: 0x1000 },
  { family: "ESP32-C3", id: 5, bootloaderOffset: 0x0 },
  { family: "ESP32-S3", id: 9, bootloaderOffset: 0x0 },
  { family: "ESP32-C2", id: 12, bootloaderOffset: 0x0 },
  { family: "ESP32-C6", id: 13, bootloaderOffset: 0x0 },
  { family: "ESP32-H2", id: 16, bootloaderOffset: 0x0 },
  { family: "ESP32-P4", id: 18, bootloaderOffset: 0x2000 },
  { family: "ESP32-C61", id: 20, bootloaderOffset: 0x0 },
  { family: "ESP32-C5", id: 23, bootloaderOffset: 0x2000 },
] as const;

export type Chip = (typeof CHIPS)[number];
/** A chip name as esptool-js reports it (`CHIP_NAME`) and esp-web-tools manifests use it. */
export type ChipFamily = Chip["family"];

export function chipByFamily(family: string): Chip | undefined {
  return CHIPS.find((c) => c.family === family);
}

export function chipById(id: number): Chip | undefined {
  return CHIPS.find((c) => c.id === id);
}
