// What the simulated ROM loader of each chip looks like from the serial port: the chip-detect
// magic, GET_SECURITY_INFO, the registers esptool-js and esp-web-flasher read while connecting
// (efuses with the MAC and revision, UART clock divider, SPI "user command" registers for the
// JEDEC id), where RAM is for stub uploads, and the ROM's boot banners. Register addresses and
// bit positions are the ones the flashers read (esptool-js targets/*.js, esptool targets/*.py);
// values are plausible choices for a module of each kind, not dumps of a particular chip.
// Portable.
import type { ChipFamily } from "../../image/chips.js";

export type SimChipName = "esp32" | "esp32s3" | "esp32c3";

export interface SpiRegisters {
  base: number;
  usr: number;
  usr1: number;
  usr2: number;
  mosiDlen: number;
  misoDlen: number;
  w0: number;
}

export interface MemoryRegion {
  name: string;
  start: number;
  end: number;
  /** Code can run from here (an entry point must be in such a region). */
  executable: boolean;
}

export interface SimChip {
  name: SimChipName;
  family: ChipFamily;
  /** Value of the register at 0x40001000. */
  magic: number;
  /** Chip id of GET_SECURITY_INFO and of image headers. */
  chipId: number;
  /** The ROM answers GET_SECURITY_INFO (ESP32-S2 and later). */
  romSecurityInfo: boolean;
  bootloaderOffset: number;
  uartClkdivReg: number;
  /** Crystal in MHz, for the UART divider. */
  xtalMhz: number;
  spi: SpiRegisters;
  /** Registers with fixed contents (efuses, date registers); everything else reads 0 until written. */
  registers(mac: Uint8Array): Map<number, number>;
  ram: readonly MemoryRegion[];
  /** ROM banner lines before "waiting for download" / the flash boot. */
  romBanner(download: boolean): string[];
}

const ESP32_EFUSE = 0x3ff5a000;
const S3_EFUSE = 0x60007000;
const C3_EFUSE = 0x60008800;

/** MAC low word (bytes 2..5) and high half-word (bytes 0..1), as efuse blocks store them. */
function macWords(mac: Uint8Array): [number, number] {
  const low = ((mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0;
  const high = (mac[0]! << 8) | mac[1]!;
  return [low, high];
}

export const SIM_CHIPS: Record<SimChipName, SimChip> = {
  esp32: {
    name: "esp32",
    family: "ESP32",
    magic: 0x00f01d83,
    chipId: 0,
    romSecurityInfo: false,
    bootloaderOffset: 0x1000,
    uartClkdivReg: 0x3ff40014,
    xtalMhz: 40,
    spi: { base: 0x3ff42000, usr: 0x1c, usr1: 0x20, usr2: 0x24, mosiDlen: 0x28, misoDlen: 0x2c, w0: 0x80 },
    registers(mac) {
      const [low, high] = macWords(mac);
      return new Map([
        [ESP32_EFUSE + 0x04, low],
        [ESP32_EFUSE + 0x08, high],
        // word 3: package 1 (D0WD) in bits 9-11, revision bit 0 in bit 15; dual core, BT enabled
        [ESP32_EFUSE + 0x0c, (1 << 9) | (1 << 15)],
        // word 5: revision bit 1 in bit 20
        [ESP32_EFUSE + 0x14, 1 << 20],
        // APB_CTRL_DATE: revision bit 2 in bit 31 (all three: revision 3, "ESP32-D0WD-V3")
        [0x3ff6607c, 0x80000000],
        [0x60000078, 0x15122500], // UART_DATE
      ]);
    },
    ram: [
      { name: "DRAM", start: 0x3ffae000, end: 0x40000000, executable: false },
      { name: "IRAM", start: 0x40080000, end: 0x400c0000, executable: true },
    ],
    romBanner: (download) => [
      "ets Jul 29 2019 12:21:46",
      "",
      download ? "rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))" : "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)",
    ],
  },
  esp32s3: {
    name: "esp32s3",
    family: "ESP32-S3",
    magic: 0x00000009,
    chipId: 9,
    romSecurityInfo: true,
    bootloaderOffset: 0x0,
    uartClkdivReg: 0x60000014,
    xtalMhz: 40,
    spi: { base: 0x60002000, usr: 0x18, usr1: 0x1c, usr2: 0x20, mosiDlen: 0x24, misoDlen: 0x28, w0: 0x58 },
    registers(mac) {
      const [low, high] = macWords(mac);
      return new Map([
        [S3_EFUSE + 0x44, low],
        [S3_EFUSE + 0x48, high],
        // block 1 word 3: package 0 (QFN56) in bits 21-23, minor revision 2 in bits 18-20
        [S3_EFUSE + 0x50, 2 << 18],
        // block 1 word 5: major revision 0 in bits 24-25
        [S3_EFUSE + 0x58, 0],
        [0x60000080, 0x2010200], // UART_DATE
      ]);
    },
    ram: [
      { name: "DRAM", start: 0x3fc88000, end: 0x3fd00000, executable: false },
      { name: "IRAM", start: 0x40370000, end: 0x403e0000, executable: true },
    ],
    romBanner: (download) => [
      "ESP-ROM:esp32s3-20210327",
      "Build:Mar 27 2021",
      download ? "rst:0x1 (POWERON),boot:0x0 (DOWNLOAD(USB/UART0))" : "rst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)",
    ],
  },
  esp32c3: {
    name: "esp32c3",
    family: "ESP32-C3",
    // One of the C3 magics esptool-js and esp-web-flasher 5.1.5 both know.
    magic: 0x1b31506f,
    chipId: 5,
    romSecurityInfo: true,
    bootloaderOffset: 0x0,
    uartClkdivReg: 0x3ff40014,
    xtalMhz: 40,
    spi: { base: 0x60002000, usr: 0x18, usr1: 0x1c, usr2: 0x20, mosiDlen: 0x24, misoDlen: 0x28, w0: 0x58 },
    registers(mac) {
      const [low, high] = macWords(mac);
      return new Map([
        [C3_EFUSE + 0x44, low],
        [C3_EFUSE + 0x48, high],
        // block 1 word 3: package 0 (QFN32) in bits 21-23, minor revision 4 in bits 18-20
        [C3_EFUSE + 0x50, 4 << 18],
        [C3_EFUSE + 0x58, 0],
        [0x6000007c, 0x2007130], // UART_DATE
      ]);
    },
    ram: [
      { name: "DRAM", start: 0x3fc80000, end: 0x3fce0000, executable: false },
      { name: "IRAM", start: 0x4037c000, end: 0x403e0000, executable: true },
    ],
    romBanner: (download) => [
      "ESP-ROM:esp32c3-api1-20210207",
      "Build:Feb  7 2021",
      download ? "rst:0x1 (POWERON),boot:0x5 (DOWNLOAD(USB/UART1))" : "rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)",
    ],
  },
};

export const SIM_CHIP_NAMES = Object.keys(SIM_CHIPS) as SimChipName[];

export function simChip(name: string): SimChip | undefined {
  return (SIM_CHIPS as Record<string, SimChip | undefined>)[name];
}

/** JEDEC RDID value: manufacturer | memory type << 8 | capacity code << 16 (Winbond W25Q-style). */
export function jedecId(flashSize: number): number {
  const code = Math.log2(flashSize);
  if (!Number.isInteger(code)) throw new Error(`flash size ${flashSize} is not a power of two`);
  return 0xef | (0x40 << 8) | (code << 16);
}
