// The BME280's trimming parameters and the datasheet's double-precision compensation (§8.1), used
// by the simulated chip to turn a set environment into the raw ADC values a real chip would report:
// the inverse is found by bisection over the ADC codes, since each formula is monotonic in its code.
// The firmware driver uses the integer formulas instead, so tests compare two implementations.

export interface BME280Trimming {
  T1: number; T2: number; T3: number;
  P1: number; P2: number; P3: number; P4: number; P5: number; P6: number; P7: number; P8: number; P9: number;
  H1: number; H2: number; H3: number; H4: number; H5: number; H6: number;
}

/**
 * Temperature and pressure trimming of Bosch's worked example (BMP280 datasheet §3.12, the same
 * formulas as the BME280's): adc_T 519888 gives 25.08 °C (t_fine 128422) and adc_P 415148 gives
 * 100653.27 Pa. Bosch publishes no humidity example; the humidity values are plausible trimming
 * of a production part, chosen for illustration.
 */
export const BOSCH_EXAMPLE_TRIMMING: Readonly<BME280Trimming> = Object.freeze({
  T1: 27504, T2: 26435, T3: -1000,
  P1: 36477, P2: -10685, P3: 3024, P4: 2855, P5: 140, P6: -7, P7: 15500, P8: -14600, P9: 6000,
  H1: 75, H2: 362, H3: 0, H4: 313, H5: 50, H6: 30,
});

export interface Environment {
  /** °C */
  temperature: number;
  /** Pa */
  pressure: number;
  /** %RH */
  humidity: number;
}

/** The calibration registers: 0x88-0xA1 (26 bytes) and 0xE1-0xE7 (7 bytes), per Table 16. */
export function trimmingRegisters(t: BME280Trimming): { low: Uint8Array; high: Uint8Array } {
  const low = new Uint8Array(26);
  const view = new DataView(low.buffer);
  const words = [t.T1, t.T2, t.T3, t.P1, t.P2, t.P3, t.P4, t.P5, t.P6, t.P7, t.P8, t.P9];
  words.forEach((word, i) => view.setUint16(i * 2, word & 0xffff, true));
  low[24] = 0; // 0xA0 reserved
  low[25] = t.H1 & 0xff;
  const high = new Uint8Array(7);
  high[0] = t.H2 & 0xff;
  high[1] = (t.H2 >> 8) & 0xff;
  high[2] = t.H3 & 0xff;
  high[3] = (t.H4 >> 4) & 0xff;
  high[4] = (t.H4 & 0x0f) | ((t.H5 & 0x0f) << 4);
  high[5] = (t.H5 >> 4) & 0xff;
  high[6] = t.H6 & 0xff;
  return { low, high };
}

/** §8.1 temperature: °C and t_fine as the datasheet's double code computes them. */
export function temperatureOf(t: BME280Trimming, adcT: number): { celsius: number; tFine: number } {
  const var1 = (adcT / 16384 - t.T1 / 1024) * t.T2;
  const d = adcT / 131072 - t.T1 / 8192;
  const var2 = d * d * t.T3;
  return { celsius: (var1 + var2) / 5120, tFine: Math.trunc(var1 + var2) };
}

/** §8.1 pressure in Pa for a t_fine. */
export function pressureOf(t: BME280Trimming, tFine: number, adcP: number): number {
  let var1 = tFine / 2 - 64000;
  let var2 = (var1 * var1 * t.P6) / 32768;
  var2 = var2 + var1 * t.P5 * 2;
  var2 = var2 / 4 + t.P4 * 65536;
  var1 = ((t.P3 * var1 * var1) / 524288 + t.P2 * var1) / 524288;
  var1 = (1 + var1 / 32768) * t.P1;
  if (var1 === 0) return 0;
  let p = 1048576 - adcP;
  p = ((p - var2 / 4096) * 6250) / var1;
  var1 = (t.P9 * p * p) / 2147483648;
  var2 = (p * t.P8) / 32768;
  return p + (var1 + var2 + t.P7) / 16;
}

/** §8.1 humidity in %RH for a t_fine. */
export function humidityOf(t: BME280Trimming, tFine: number, adcH: number): number {
  let h = tFine - 76800;
  h = (adcH - (t.H4 * 64 + (t.H5 / 16384) * h)) * ((t.H2 / 65536) * (1 + (t.H6 / 67108864) * h * (1 + (t.H3 / 67108864) * h)));
  h = h * (1 - (t.H1 * h) / 524288);
  return Math.min(100, Math.max(0, h));
}

/**
 * The code in [0, 2^bits) whose value, scaled to the register (code × step), `f` maps closest to
 * `target`; `f` is monotonic, increasing or decreasing.
 */
function nearestCode(bits: number, step: number, f: (adc: number) => number, target: number): number {
  const increasing = f((1 << bits) * step - step) > f(0);
  let lo = 0;
  let hi = (1 << bits) - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const value = f(mid * step);
    if (increasing ? value < target : value > target) lo = mid + 1;
    else hi = mid;
  }
  const below = Math.max(0, lo - 1);
  return Math.abs(f(below * step) - target) < Math.abs(f(lo * step) - target) ? below * step : lo * step;
}

/**
 * Raw ADC values for an environment, at the given resolutions (16 + oversampling bits for T and P,
 * 16 for H; §3.4-3.5). Returns the t_fine of the chosen temperature code too.
 */
export function rawFor(
  t: BME280Trimming,
  env: Environment,
  bits: { temperature: number; pressure: number },
): { adcT: number; adcP: number; adcH: number } {
  const adcT = nearestCode(bits.temperature, 1 << (20 - bits.temperature), (adc) => temperatureOf(t, adc).celsius, env.temperature);
  const tFine = temperatureOf(t, adcT).tFine;
  const adcP = nearestCode(bits.pressure, 1 << (20 - bits.pressure), (adc) => pressureOf(t, tFine, adc), env.pressure);
  const adcH = nearestCode(16, 1, (adc) => humidityOf(t, tFine, adc), env.humidity);
  return { adcT, adcP, adcH };
}
