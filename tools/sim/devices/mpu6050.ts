// A simulated InvenSense MPU-6050 (register map RM-MPU-6000A-00 rev 4.2): every register resets to
// 0 except PWR_MGMT_1 (0x40, asleep) and WHO_AM_I (0x68); DEVICE_RESET (PWR_MGMT_1 bit 7) restores
// that state. Awake, the output registers 0x3B-0x48 hold acceleration (16384/8192/4096/2048 LSB/g
// by AFS_SEL), temperature (/340 + 36.53 °C) and rotation (131/65.5/32.8/16.4 LSB per °/s by
// FS_SEL), big-endian, latched when a read starts; asleep they keep their last values. Bursts
// auto-increment in both directions. Read-only and undocumented registers ignore writes; the
// undocumented ones read 0. Sample rate, filters, FIFO, interrupts and self-test are not modelled.
import { ByteRegisterDevice } from "./register-device.js";
import { AT_REST, STANDARD_GRAVITY, clampInt16, mergeMotion, specificForce, type Motion } from "./motion.js";

const REG_ACCEL_CONFIG = 0x1c;
const REG_GYRO_CONFIG = 0x1b;
const REG_OUT = 0x3b; // through 0x48
const REG_PWR_MGMT_1 = 0x6b;
const REG_WHO_AM_I = 0x75;

const ACCEL_LSB_PER_G = [16384, 8192, 4096, 2048];
const GYRO_LSB_PER_DPS = [131, 65.5, 32.8, 16.4];

/** Registers a write may change (the map's R/W and W entries). */
const WRITABLE = new Set<number>([
  0x0d, 0x0e, 0x0f, 0x10, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x23,
  ...Array.from({ length: 0x36 - 0x24 + 1 }, (_, i) => 0x24 + i), // I2C master
  0x37, 0x38, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x6a, 0x6b, 0x6c, 0x72, 0x73, 0x74,
]);

export interface MPU6050ModelOptions {
  motion?: Partial<Motion>;
  /** Die temperature, °C. */
  temperature?: number;
}

export class MPU6050Model extends ByteRegisterDevice {
  readonly #registers = new Uint8Array(256);
  #motion: Motion = AT_REST;
  #temperature = 25;

  constructor(options: MPU6050ModelOptions = {}) {
    super("sequential");
    this.#reset();
    this.setMotion(options.motion ?? {});
    if (options.temperature !== undefined) this.#temperature = options.temperature;
  }

  setMotion(change: Partial<Motion>): void {
    this.#motion = mergeMotion(this.#motion, change);
  }

  setTemperature(celsius: number): void {
    this.#temperature = celsius;
  }

  #reset(): void {
    this.#registers.fill(0);
    this.#registers[REG_PWR_MGMT_1] = 0x40;
    this.#registers[REG_WHO_AM_I] = 0x68;
  }

  protected override beginRead(): void {
    const r = this.#registers;
    if (r[REG_PWR_MGMT_1] & 0x40) return; // asleep: outputs hold
    const force = specificForce(this.#motion);
    const perG = ACCEL_LSB_PER_G[(r[REG_ACCEL_CONFIG] >> 3) & 3];
    const perDps = GYRO_LSB_PER_DPS[(r[REG_GYRO_CONFIG] >> 3) & 3];
    const rate = this.#motion.angularVelocity;
    const words = [
      (force.x / STANDARD_GRAVITY) * perG,
      (force.y / STANDARD_GRAVITY) * perG,
      (force.z / STANDARD_GRAVITY) * perG,
      (this.#temperature - 36.53) * 340,
      rate.x * perDps,
      rate.y * perDps,
      rate.z * perDps,
    ];
    const view = new DataView(r.buffer);
    words.forEach((word, i) => view.setInt16(REG_OUT + i * 2, clampInt16(word)));
  }

  protected override readRegister(register: number): number {
    return this.#registers[register];
  }

  protected override writeRegister(register: number, value: number): void {
    if (!WRITABLE.has(register)) return;
    if (register === REG_PWR_MGMT_1 && value & 0x80) {
      this.#reset(); // DEVICE_RESET clears itself
      return;
    }
    this.#registers[register] = value;
  }
}
