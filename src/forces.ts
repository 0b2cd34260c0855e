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

    const f = out.forces, x = nl.positions, owner = nl.owner;
    const virial = new Float64Array(6);
    if (this.potential.computesVirial) {
      virial.set(out.virial);
    } else {
      let wxx = 0, wyy = 0, wzz = 0, wyz = 0, wxz = 0, wxy = 0;
      for (let k = 0; k < nTotal; k++) {
        const fx = f[3 * k], fy = f[3 * k + 1], fz = f[3 * k + 2];
        const rx = x[3 * k], ry = x[3 * k + 1], rz = x[3 * k + 2];
        wxx += rx * fx; wyy += ry * fy; wzz += rz * fz;
        wyz += ry * fz; wxz += rx * fz; wxy += rx * fy;
      }
      virial[0] = wxx; virial[1] = wyy; virial[2] = wzz; virial[3] = wyz; virial[4] = wxz; virial[5] = wxy;
    }

    const sf = system.forces;
    sf.set(f.subarray(0, 3 * n));
    for (let k = n; k < nTotal; k++) {
      const o = 3 * owner[k];
      sf[o] += f[3 * k];
      sf[o + 1] += f[3 * k + 1];
      sf[o + 2] += f[3 * k + 2];
    }
    let atomEnergies: Float64Array | null = null;
    if (out.atomEnergies) {
      const e = out.atomEnergies;
      for (let k = n; k < nTotal; k++) e[owner[k]] += e[k];
      atomEnergies = e.slice(0, n);
    }
    checkFinite(system, out.energy);
    return { energy: out.energy, virial, atomEnergies };
  }
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
