// The motion an inertial sensor undergoes: linear acceleration, rotation rate, and its tilt, which
// decides where gravity points in the sensor's frame. An accelerometer at rest, level, reads +1 g
// on z (it measures the support force, opposite to gravity).

export interface Vec3 {
  x: number;
  y: number;
  z: number;
}

export interface Motion {
  /** m/s², without gravity. */
  acceleration: Vec3;
  /** °/s about x, y, z. */
  angularVelocity: Vec3;
  /** Degrees about x (roll) and y (pitch); 0, 0 is level with z up. */
  roll: number;
  pitch: number;
}

export const STANDARD_GRAVITY = 9.80665;

export const AT_REST: Readonly<Motion> = Object.freeze({
  acceleration: { x: 0, y: 0, z: 0 },
  angularVelocity: { x: 0, y: 0, z: 0 },
  roll: 0,
  pitch: 0,
});

/** What an accelerometer measures in its own frame, m/s²: acceleration plus the reaction to gravity. */
export function specificForce(motion: Motion, gravity = STANDARD_GRAVITY): Vec3 {
  const roll = (motion.roll * Math.PI) / 180;
  const pitch = (motion.pitch * Math.PI) / 180;
  return {
    x: motion.acceleration.x - gravity * Math.sin(pitch),
    y: motion.acceleration.y + gravity * Math.sin(roll) * Math.cos(pitch),
    z: motion.acceleration.z + gravity * Math.cos(roll) * Math.cos(pitch),
  };
}

export function mergeMotion(motion: Motion, change: Partial<Motion>): Motion {
  return {
    acceleration: { ...(change.acceleration ?? motion.acceleration) },
    angularVelocity: { ...(change.angularVelocity ?? motion.angularVelocity) },
    roll: change.roll ?? motion.roll,
    pitch: change.pitch ?? motion.pitch,
  };
}

export function clampInt16(value: number): number {
  return Math.min(32767, Math.max(-32768, Math.round(value)));
}
