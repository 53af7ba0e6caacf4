// The ESP32 variants the simulated world can be, with the per-chip facts the shims rely on.
// GPIO lists from Espressif's datasheets; ADC pin maps, ADC resolution and the PWM minimum
// frequencies are the tables in Moddable's modules/io/analog/esp32/_analog.c and
// modules/io/pwm/esp32/_pwm.c (Moddable returns 10-bit readings on the classic ESP32, 12-bit on
// the S3 and C3, whatever the hardware could do).

export type ChipName = "esp32" | "esp32s3" | "esp32c3";

export interface ChipSpec {
  readonly name: ChipName;
  /** GPIO numbers that exist. */
  readonly gpio: ReadonlySet<number>;
  /** GPIOs without an output driver. */
  readonly inputOnly: ReadonlySet<number>;
  /** GPIO of each ADC1 channel, by channel. */
  readonly adc1: readonly number[];
  /** GPIO of each ADC2 channel, by channel (unusable while Wi-Fi runs). */
  readonly adc2: readonly number[];
  /** Bits of an `embedded:io/analog` reading. */
  readonly adcResolution: number;
  /** I2C controllers (I2C_NUM_MAX). */
  readonly i2cPorts: number;
  /** LEDC channels that exist, as a bit map. */
  readonly ledcChannels: number;
  /** LEDC timers (LEDC_TIMER_MAX). */
  readonly ledcTimers: number;
  /** LEDC_TIMER_BIT_MAX: resolutions must be below it. */
  readonly ledcBitMax: number;
  /** Moddable's measured lowest frequency for resolutions 8…14. */
  readonly pwmMinHz: readonly number[];
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let n = from; n <= to; n++) out.push(n);
  return out;
}

const CHIPS: Record<ChipName, ChipSpec> = {
  esp32: {
    name: "esp32",
    gpio: new Set([...range(0, 19), 21, 22, 23, 25, 26, 27, ...range(32, 39)]),
    inputOnly: new Set(range(34, 39)),
    adc1: [36, 37, 38, 39, 32, 33, 34, 35],
    adc2: [4, 0, 2, 15, 13, 12, 14, 27, 25, 26],
    adcResolution: 10,
    i2cPorts: 2,
    ledcChannels: 0xff,
    ledcTimers: 4,
    ledcBitMax: 20,
    pwmMinHz: [65, 33, 17, 9, 5, 3, 2],
  },
  esp32s3: {
    name: "esp32s3",
    gpio: new Set([...range(0, 21), ...range(26, 48)]),
    inputOnly: new Set(),
    adc1: range(1, 10),
    adc2: range(11, 20),
    adcResolution: 12,
    i2cPorts: 2,
    ledcChannels: 0xff,
    ledcTimers: 4,
    ledcBitMax: 14,
    pwmMinHz: [68, 34, 17, 9, 5, 3, 2],
  },
  esp32c3: {
    name: "esp32c3",
    gpio: new Set(range(0, 21)),
    inputOnly: new Set(),
    adc1: [0, 1, 2, 3, 4],
    adc2: [5],
    adcResolution: 12,
    i2cPorts: 1,
    ledcChannels: 0x3f,
    ledcTimers: 4,
    ledcBitMax: 14,
    pwmMinHz: [71, 36, 18, 9, 5, 3, 2],
  },
};

export function chipSpec(name: ChipName): ChipSpec {
  const spec = CHIPS[name];
  if (spec === undefined) throw new Error("unknown chip " + name);
  return spec;
}
