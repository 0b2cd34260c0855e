/**
 * Defaults and sanity checks shared by the thermostats (and reusable by barostats):
 * a damping time of 100 time steps unless given, a one-time warning when the
 * damping is shorter than 10 time steps (the thermostat then fights the dynamics
 * and, for Nosé–Hoover, integrates its own fast oscillation poorly), and clear
 * errors for non-positive or non-finite values.
 */
import { requirePositive } from './integrator.ts';

/** Default damping, in time steps (LAMMPS's documentation recommends ~100 steps for Tdamp). */
export const DEFAULT_DAMPING_STEPS = 100;
/** Shorter dampings than this many time steps are warned about. */
export const MIN_SAFE_DAMPING_STEPS = 10;

const warned = new Set<string>();

/** Emits console.warn once per distinct message for the process lifetime. */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(message);
}

/**
 * The damping time (fs) to use: the given one, or DEFAULT_DAMPING_STEPS·dt.
 * Throws on a non-positive or non-finite value; warns once if it is shorter than
 * MIN_SAFE_DAMPING_STEPS·dt.
 */
export function resolveDamping(owner: string, dt: number, damping: number | undefined, name = 'damping'): number {
  requirePositive(owner, 'dt', dt);
  const tau = damping === undefined ? DEFAULT_DAMPING_STEPS * dt : requirePositive(owner, name, damping);
  if (tau < MIN_SAFE_DAMPING_STEPS * dt) {
    warnOnce(
      `${owner}: ${name} ${tau} fs is shorter than ${MIN_SAFE_DAMPING_STEPS} time steps (dt = ${dt} fs); ` +
        `this is unsafe — use about ${DEFAULT_DAMPING_STEPS}·dt = ${DEFAULT_DAMPING_STEPS * dt} fs`,
    );
  }
  return tau;
}

/** Validates a thermostat target temperature: positive and finite, K. */
export function requireTemperature(owner: string, T: number): number {
  if (typeof T !== 'number' || !Number.isFinite(T) || !(T > 0)) {
    throw new Error(`${owner}: temperature must be a positive finite number of K, got ${T}`);
  }
  return T;
}
