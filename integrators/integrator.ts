/**
 * An integrator advances a System by one time step, using a ForceEvaluator as its
 * force provider (JAX-MD style: it is a function of the force provider, not a
 * subclass of it). Before the first step the simulation evaluates forces once; an
 * integrator keeps system.forces and its returned Evaluation consistent with the
 * positions it leaves behind.
 */
import type { Evaluation, ForceEvaluator } from '../src/forces.ts';
import type { System } from '../src/system.ts';

export interface Integrator {
  /** Name for logs, e.g. 'nve', 'langevin'. */
  readonly name: string;
  /** Time step, fs. */
  readonly dt: number;
  /**
   * Advances one step from a state whose forces are `current` (evaluated at the
   * present positions); returns the evaluation at the new positions.
   */
  step(system: System, forces: ForceEvaluator, current: Evaluation): Evaluation;
  /**
   * The quantity this integrator conserves (eV) given the potential energy, for
   * extended-system methods; NVE returns potential + kinetic. Undefined when none.
   */
  conservedEnergy?(system: System, potentialEnergy: number): number;
  /** Serialisable internal state (thermostat variables, RNG) for checkpoints. */
  getState?(): unknown;
  setState?(state: unknown): void;
}

/** Validates a positive, finite time-like parameter, naming it. */
export function requirePositive(owner: string, name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    throw new Error(`${owner}: ${name} must be a positive finite number, got ${value}`);
  }
  return value;
}
