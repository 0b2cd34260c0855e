/**
 * Lennard-Jones 12-6: E(r) = 4ε[(σ/r)¹² − (σ/r)⁶] for r < rc, optionally shifted
 * by E(rc) so the energy is continuous at the cutoff (forces are not shifted;
 * LAMMPS's `pair_modify shift yes`). One parameter set for every element.
 */
import { registerPotential } from './registry.ts';
import { requireNumber, type ComputeOutput, type Neighborhood, type Potential, type PotentialSpec } from './potential.ts';

export interface LennardJonesOptions {
  /** Well depth, eV. */
  epsilon: number;
  /** Zero-crossing distance, Å. */
  sigma: number;
  /** Cutoff, Å. */
  cutoff: number;
  /** Shift energies to zero at the cutoff (default false). */
  shift?: boolean;
}

export class LennardJones implements Potential {
  readonly kind = 'lj';
  readonly neighborList = 'half';
  readonly elements = null;
  readonly epsilon: number;
  readonly sigma: number;
  readonly cutoff: number;
  readonly shift: boolean;
  private readonly energyShift: number;

  constructor(options: LennardJonesOptions) {
    this.epsilon = requireNumber('lj', 'epsilon', options.epsilon, true);
    this.sigma = requireNumber('lj', 'sigma', options.sigma, true);
    this.cutoff = requireNumber('lj', 'cutoff', options.cutoff, true);
    this.shift = options.shift ?? false;
    const sr6 = (this.sigma / this.cutoff) ** 6;
    this.energyShift = this.shift ? 4 * this.epsilon * (sr6 * sr6 - sr6) : 0;
  }

  bind(): void {}

  compute(atoms: Neighborhood, out: ComputeOutput): void {
    const x = atoms.positions, f = out.forces, eatom = out.atomEnergies;
    const { offsets, neighbors } = atoms.half!;
    const rc2 = this.cutoff * this.cutoff, s2 = this.sigma * this.sigma;
    const eps4 = 4 * this.epsilon, eps24 = 24 * this.epsilon, eshift = this.energyShift;
    let energy = 0;
    for (let i = 0; i < atoms.nLocal; i++) {
      const xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2];
      let fxi = 0, fyi = 0, fzi = 0;
      const end = offsets[i + 1];
      for (let p = offsets[i]; p < end; p++) {
        const j = neighbors[p];
        const dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - zi;
        const r2 = dx * dx + dy * dy + dz * dz;
        if (r2 >= rc2) continue;
        const sr2 = s2 / r2;
        const sr6 = sr2 * sr2 * sr2;
        const fpair = (eps24 * sr6 * (2 * sr6 - 1)) / r2;
        const e = eps4 * sr6 * (sr6 - 1) - eshift;
        energy += e;
        fxi -= fpair * dx; fyi -= fpair * dy; fzi -= fpair * dz;
        f[3 * j] += fpair * dx; f[3 * j + 1] += fpair * dy; f[3 * j + 2] += fpair * dz;
        if (eatom !== null) { eatom[i] += 0.5 * e; eatom[j] += 0.5 * e; }
      }
      f[3 * i] += fxi; f[3 * i + 1] += fyi; f[3 * i + 2] += fzi;
    }
    out.energy += energy;
  }

  spec(): PotentialSpec {
    return { kind: this.kind, epsilon: this.epsilon, sigma: this.sigma, cutoff: this.cutoff, shift: this.shift };
  }
}

registerPotential('lj', (spec) => new LennardJones(spec as unknown as LennardJonesOptions));
