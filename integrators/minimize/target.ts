/**
 * What a minimiser works on: a flat vector x of generalised coordinates (grouped in
 * threes: atoms, and for a cell filter three rows of a deformation gradient), the
 * objective at x and the generalised forces −∂objective/∂x. FIRE and L-BFGS only
 * see this interface; the physics (positions only, or positions and cell) lives in
 * the targets.
 */
import type { Evaluation, ForceEvaluator } from '../../src/forces.ts';
import type { System } from '../../src/system.ts';

export interface MinimizeTarget {
  readonly system: System;
  /** Length of x (a multiple of 3). */
  readonly size: number;
  /** Copies the current coordinates into out. */
  getX(out: Float64Array): void;
  /** Moves the system to coordinates x. */
  setX(x: Float64Array): void;
  /** Evaluates at the current coordinates: returns the objective (eV) and writes −∂objective/∂x into forces. */
  evaluate(forces: Float64Array): number;
  /** After evaluate: potential energy, eV. */
  readonly energy: number;
  /** After evaluate: largest atomic force norm, eV/Å. */
  readonly fmax: number;
  /** After evaluate: largest deviation of the stress from its target, GPa (0 without a cell). */
  readonly smax: number;
  /** After evaluate: stress in GPa (Voigt xx yy zz yz xz xy, positive under tension), or null without a cell. */
  readonly stress: Float64Array | null;
  /** The last evaluation at the current coordinates. */
  readonly evaluation: Evaluation | null;
}

/** Largest per-atom norm of a 3n force vector. */
export function maxAtomForce(f: Float64Array, n: number): number {
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const a = f[3 * i], b = f[3 * i + 1], c = f[3 * i + 2];
    const s = a * a + b * b + c * c;
    if (s > m2) m2 = s;
  }
  return Math.sqrt(m2);
}

/** Atom positions only, fixed cell: x = positions, objective = potential energy. */
export class PositionTarget implements MinimizeTarget {
  readonly system: System;
  readonly forces: ForceEvaluator;
  readonly size: number;
  energy = NaN;
  fmax = NaN;
  readonly smax = 0;
  readonly stress = null;
  evaluation: Evaluation | null = null;

  constructor(system: System, forces: ForceEvaluator) {
    this.system = system;
    this.forces = forces;
    this.size = 3 * system.n;
  }

  getX(out: Float64Array): void {
    out.set(this.system.positions);
  }

  setX(x: Float64Array): void {
    this.system.positions.set(x);
  }

  evaluate(out: Float64Array): number {
    const ev = this.forces.evaluate(this.system);
    this.evaluation = ev;
    out.set(this.system.forces);
    this.energy = ev.energy;
    this.fmax = maxAtomForce(this.system.forces, this.system.n);
    return ev.energy;
  }
}

export interface MinimizeStepRecord {
  /** Potential energy, eV. */
  energy: number;
  /** Objective minimised (energy, or enthalpy E + PV with a cell filter), eV. */
  objective: number;
  /** Largest atomic force, eV/Å. */
  fmax: number;
  /** Largest stress deviation from the target, GPa (0 without a cell). */
  smax: number;
  /** Stress, GPa (Voigt, positive under tension), when the cell is relaxed. */
  stress?: number[];
}

export interface MinimizeResult {
  converged: boolean;
  /** Iterations taken (force evaluations minus one). */
  steps: number;
  energy: number;
  objective: number;
  fmax: number;
  smax: number;
  /** One record per evaluation, the starting point first. */
  path: MinimizeStepRecord[];
}

export interface MinimizeOptions {
  /** Converged when the largest atomic force is at most this, eV/Å (default 0.01). */
  fmax?: number;
  /** And (with a cell filter) the largest stress deviation at most this, GPa (default 0.01). */
  smax?: number;
  /** Give up after this many iterations (default 1000). */
  maxSteps?: number;
  /** Largest move of any atom (or cell row) per iteration, Å (default 0.2). */
  maxStep?: number;
}

export function resolveCriteria(owner: string, o: MinimizeOptions): { fmax: number; smax: number; maxSteps: number; maxStep: number } {
  const fmax = o.fmax ?? 0.01, smax = o.smax ?? 0.01, maxSteps = o.maxSteps ?? 1000, maxStep = o.maxStep ?? 0.2;
  for (const [name, v] of [['fmax', fmax], ['smax', smax], ['maxStep', maxStep]] as const) {
    if (!(v > 0) || !Number.isFinite(v)) throw new Error(`${owner}: ${name} must be a positive finite number, got ${v}`);
  }
  if (!Number.isInteger(maxSteps) || maxSteps < 0) throw new Error(`${owner}: maxSteps must be an integer ≥ 0, got ${maxSteps}`);
  return { fmax, smax, maxSteps, maxStep };
}

export function record(target: MinimizeTarget, objective: number): MinimizeStepRecord {
  const r: MinimizeStepRecord = { energy: target.energy, objective, fmax: target.fmax, smax: target.smax };
  if (target.stress) r.stress = Array.from(target.stress);
  return r;
}

/** Scales step in place so that no group of three moves further than maxStep. */
export function limitStep(step: Float64Array, maxStep: number): void {
  let m2 = 0;
  for (let k = 0; k < step.length; k += 3) {
    const s = step[k] * step[k] + step[k + 1] * step[k + 1] + step[k + 2] * step[k + 2];
    if (s > m2) m2 = s;
  }
  const m = Math.sqrt(m2);
  if (m > maxStep) {
    const c = maxStep / m;
    for (let k = 0; k < step.length; k++) step[k] *= c;
  }
}
