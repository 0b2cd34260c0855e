/**
 * Turns a Potential into forces on a System: keeps the neighbour list current,
 * runs the potential over the extended (local + ghost) atoms, computes the virial
 * as Σ x⊗f over the extended atoms, folds ghost forces into their owners and
 * refuses non-finite results.
 */
import { NeighborList, type RebuildPolicy } from './neighbors.ts';
import type { ComputeOutput, Potential } from '../potentials/potential.ts';
import type { System } from './system.ts';

export interface Evaluation {
  /** Potential energy, eV. */
  energy: number;
  /** W = Σ r⊗f, Voigt xx yy zz yz xz xy, eV (positive when repulsive). */
  virial: Float64Array;
  /** Per-atom energies (length n) when asked for, else null. */
  atomEnergies: Float64Array | null;
}

export interface ForceEvaluatorOptions {
  /** Verlet skin, Å (default 1). */
  skin?: number;
  /** Neighbour-list rebuild schedule (default: skin/2 check at every evaluation). */
  rebuild?: RebuildPolicy;
}

export class ForceEvaluator {
  readonly potential: Potential;
  readonly neighbors: NeighborList;
  /** Number of evaluations so far. */
  evaluations = 0;
  private readonly out: ComputeOutput;
  private boundElements: readonly string[] | null = null;
  private atomEnergies: Float64Array = new Float64Array(0);

  constructor(potential: Potential, options: ForceEvaluatorOptions = {}) {
    this.potential = potential;
    this.neighbors = new NeighborList({
      cutoff: potential.cutoff,
      skin: options.skin,
      rebuild: options.rebuild,
      half: potential.neighborList !== 'full',
      full: potential.neighborList !== 'half',
    });
    this.out = { energy: 0, forces: new Float64Array(0), atomEnergies: null, virial: new Float64Array(6) };
  }

  /** Checks the potential covers the system's elements (also done on first evaluate). */
  bind(system: System): void {
    if (this.boundElements === system.elements) return;
    this.potential.bind(system.elements);
    this.boundElements = system.elements;
    this.neighbors.invalidate();
  }

  /**
   * Computes energy, system.forces and the virial at the current positions.
   * With atomEnergies, per-atom energies too (they sum to the energy).
   */
  evaluate(system: System, options: { atomEnergies?: boolean } = {}): Evaluation {
    this.bind(system);
    const nl = this.neighbors;
    nl.update(system);
    const nTotal = nl.nTotal, n = system.n;
    const out = this.out;
    if (out.forces.length < 3 * nTotal) out.forces = new Float64Array(Math.ceil(3 * nTotal * 1.2));
    else out.forces.fill(0, 0, 3 * nTotal);
    if (options.atomEnergies) {
      if (this.atomEnergies.length < nTotal) this.atomEnergies = new Float64Array(Math.ceil(nTotal * 1.2));
      else this.atomEnergies.fill(0, 0, nTotal);
      out.atomEnergies = this.atomEnergies;
    } else {
      out.atomEnergies = null;
    }
    out.energy = 0;
    out.virial.fill(0);
    this.potential.compute(nl, out);
    this.evaluations++;

    const f = out.forces, owner = nl.owner, sf = system.forces;
    const virial = new Float64Array(6);
    // Ghost forces folded into their owners, the virial Σ x⊗f over extended atoms and
    // the sum of all forces (finite iff every force is) in one pass.
    let sum: number;
    if (this.potential.computesVirial) {
      virial.set(out.virial);
      sum = foldForces(n, nTotal, f, owner, sf);
    } else {
      sum = foldForcesVirial(n, nTotal, nl.positions, f, owner, sf, virial);
    }
    let atomEnergies: Float64Array | null = null;
    if (out.atomEnergies) {
      const e = out.atomEnergies;
      for (let k = n; k < nTotal; k++) e[owner[k]] += e[k];
      atomEnergies = e.slice(0, n);
    }
    if (!Number.isFinite(sum + out.energy)) checkFinite(system, out.energy);
    return { energy: out.energy, virial, atomEnergies };
  }
}

/** system forces = local forces + ghost forces folded into owners; returns the sum of all force components. */
function foldForces(n: number, nTotal: number, f: Float64Array, owner: Int32Array, sf: Float64Array): number {
  let sum = 0;
  for (let k = 0; k < 3 * n; k++) {
    const v = f[k];
    sf[k] = v;
    sum += v;
  }
  for (let k = n; k < nTotal; k++) {
    const o = 3 * owner[k];
    const fx = f[3 * k], fy = f[3 * k + 1], fz = f[3 * k + 2];
    sf[o] += fx; sf[o + 1] += fy; sf[o + 2] += fz;
    sum += fx + fy + fz;
  }
  return sum;
}

/** As foldForces, also writing the virial W = Σ x⊗f over the extended atoms (Voigt) into virial. */
function foldForcesVirial(n: number, nTotal: number, x: Float64Array, f: Float64Array, owner: Int32Array, sf: Float64Array, virial: Float64Array): number {
  let wxx = 0, wyy = 0, wzz = 0, wyz = 0, wxz = 0, wxy = 0, sum = 0;
  for (let k = 0; k < n; k++) {
    const fx = f[3 * k], fy = f[3 * k + 1], fz = f[3 * k + 2];
    const rx = x[3 * k], ry = x[3 * k + 1], rz = x[3 * k + 2];
    sf[3 * k] = fx; sf[3 * k + 1] = fy; sf[3 * k + 2] = fz;
    wxx += rx * fx; wyy += ry * fy; wzz += rz * fz;
    wyz += ry * fz; wxz += rx * fz; wxy += rx * fy;
    sum += fx + fy + fz;
  }
  for (let k = n; k < nTotal; k++) {
    const fx = f[3 * k], fy = f[3 * k + 1], fz = f[3 * k + 2];
    const rx = x[3 * k], ry = x[3 * k + 1], rz = x[3 * k + 2];
    const o = 3 * owner[k];
    sf[o] += fx; sf[o + 1] += fy; sf[o + 2] += fz;
    wxx += rx * fx; wyy += ry * fy; wzz += rz * fz;
    wyz += ry * fz; wxz += rx * fz; wxy += rx * fy;
    sum += fx + fy + fz;
  }
  virial[0] = wxx; virial[1] = wyy; virial[2] = wzz; virial[3] = wyz; virial[4] = wxz; virial[5] = wxy;
  return sum;
}

/** Throws NonFiniteForceError naming the first atom with a non-finite force (or a non-finite energy). */
export function checkFinite(system: System, energy: number): void {
  const f = system.forces;
  let sum = energy;
  for (let k = 0; k < f.length; k++) sum += f[k];
  if (Number.isFinite(sum)) return;
  if (!Number.isFinite(energy)) throw new NonFiniteForceError(`non-finite potential energy (${energy})`);
  for (let k = 0; k < f.length; k++) {
    if (!Number.isFinite(f[k])) {
      const i = Math.floor(k / 3);
      throw new NonFiniteForceError(
        `non-finite force on atom ${i} (${system.elements[system.species[i]]}), component ${'xyz'[k % 3]} = ${f[k]}`,
      );
    }
  }
}

export class NonFiniteForceError extends Error {
  override name = 'NonFiniteForceError';
}
