/**
 * A custom potential written as a plugin module: Buckingham,
 * E(r) = A·exp(−r/ρ) − C/r⁶ for r < rc, shifted to zero at rc.
 *
 * A plugin is any module whose default export builds a Potential from a plain
 * spec object. Use it from a script with
 *   await loadPotential({ kind: 'module', module: 'examples/buckingham.ts', A: …, rho: …, C: …, cutoff: … })
 * or from a CLI input file with `potential: { kind: module, module: examples/buckingham.ts, … }`.
 * Because the spec is plain data, the same module is rebuilt inside worker threads.
 */
import type { ComputeOutput, Neighborhood, Potential, PotentialSpec } from '../potentials/potential.ts';

interface BuckinghamSpec extends PotentialSpec {
  module: string;
  /** Repulsion prefactor, eV. */
  A: number;
  /** Repulsion range, Å. */
  rho: number;
  /** Dispersion coefficient, eV·Å⁶. */
  C: number;
  cutoff: number;
}

class Buckingham implements Potential {
  readonly kind = 'module';
  readonly neighborList = 'half';
  readonly elements = null;
  readonly cutoff: number;
  private readonly shift: number;

  constructor(private readonly p: BuckinghamSpec) {
    for (const key of ['A', 'rho', 'C', 'cutoff'] as const) {
      if (typeof p[key] !== 'number' || !Number.isFinite(p[key]) || p[key] < 0) {
        throw new Error(`buckingham plugin: '${key}' must be a non-negative number, got ${JSON.stringify(p[key])}`);
      }
    }
    this.cutoff = p.cutoff;
    this.shift = p.A * Math.exp(-p.cutoff / p.rho) - p.C / p.cutoff ** 6;
  }

  bind(): void {}

  compute(atoms: Neighborhood, out: ComputeOutput): void {
    const x = atoms.positions, f = out.forces, e = out.atomEnergies;
    const { offsets, neighbors } = atoms.half!;
    const { A, rho, C } = this.p;
    const rc2 = this.cutoff * this.cutoff;
    let energy = 0;
    for (let i = 0; i < atoms.nLocal; i++) {
      for (let p = offsets[i]; p < offsets[i + 1]; p++) {
        const j = neighbors[p];
        const dx = x[3 * j] - x[3 * i], dy = x[3 * j + 1] - x[3 * i + 1], dz = x[3 * j + 2] - x[3 * i + 2];
        const r2 = dx * dx + dy * dy + dz * dz;
        if (r2 >= rc2) continue;
        const r = Math.sqrt(r2);
        const rep = A * Math.exp(-r / rho);
        const r6 = r2 * r2 * r2;
        const eij = rep - C / r6 - this.shift;
        // fpair = −(dE/dr)/r; force on i is −fpair·(xj − xi)
        const fpair = (rep / rho - (6 * C) / (r6 * r)) / r;
        energy += eij;
        f[3 * i] -= fpair * dx; f[3 * i + 1] -= fpair * dy; f[3 * i + 2] -= fpair * dz;
        f[3 * j] += fpair * dx; f[3 * j + 1] += fpair * dy; f[3 * j + 2] += fpair * dz;
        if (e) { e[i] += 0.5 * eij; e[j] += 0.5 * eij; }
      }
    }
    out.energy += energy;
  }

  spec(): PotentialSpec {
    return { ...this.p };
  }
}

export default function createPotential(spec: PotentialSpec): Potential {
  return new Buckingham(spec as BuckinghamSpec);
}
