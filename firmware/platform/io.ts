// The platform seam for pins and buses: the ECMA-419 IO classes every model builds on. On a board
// they are Moddable's builtins; on Node the simulator maps the same module names to its shims;
// tests may hand models other classes through `IO`. Nothing else in firmware/ imports embedded:io.
import Analog from "embedded:io/analog";
import Digital from "embedded:io/digital";
import I2C from "embedded:io/i2c";
import PWM from "embedded:io/pwm";

export interface IO {
  readonly Digital: typeof Digital;
  readonly PWM: typeof PWM;
  readonly Analog: typeof Analog;
  readonly I2C: typeof I2C;
}

export const builtinIO: IO = { Digital, PWM, Analog, I2C };

export type { Analog, Digital, I2C, PWM };
