/**
 * Morse: E(r) = D[e^{−2α(r−r0)} − 2e^{−α(r−r0)}] for r < rc (LAMMPS `pair_style
 * morse`), optionally shifted to zero at the cutoff. One parameter set for every element.
 */
import { registerPotential } from './registry.ts';
import { requireNumber, type ComputeOutput, type Neighborhood, type Potential, type PotentialSpec } from './potential.ts';

export interface MorseOptions {
  /** Well depth D, eV. */
  D: number;
  /** Stiffness α, 1/Å. */
  alpha: number;
  /** Equilibrium distance r0, Å. */
  r0: number;
  cutoff: number;
  shift?: boolean;
}

export class Morse implements Potential {
  readonly kind = 'morse';
  readonly neighborList = 'half';
  readonly elements = null;
  /** A sum over rows of the half list; compute() honours rowStart/rowEnd. */
  readonly parallel = 'rows';
  readonly D: number;
  readonly alpha: number;
  readonly r0: number;
  readonly cutoff: number;
  readonly shift: boolean;
  private readonly energyShift: number;

  constructor(options: MorseOptions) {
    this.D = requireNumber('morse', 'D', options.D, true);
    this.alpha = requireNumber('morse', 'alpha', options.alpha, true);
    this.r0 = requireNumber('morse', 'r0', options.r0, true);
    this.cutoff = requireNumber('morse', 'cutoff', options.cutoff, true);
    this.shift = options.shift ?? false;
    const e1 = Math.exp(-this.alpha * (this.cutoff - this.r0));
    this.energyShift = this.shift ? this.D * (e1 * e1 - 2 * e1) : 0;
  }

  bind(): void {}

  compute(atoms: Neighborhood, out: ComputeOutput): void {
    const x = atoms.positions, f = out.forces, eatom = out.atomEnergies;
    const { offsets, neighbors } = atoms.half!;
    const rc2 = this.cutoff * this.cutoff, D = this.D, alpha = this.alpha, r0 = this.r0, eshift = this.energyShift;
    let energy = 0;
    for (let i = atoms.rowStart ?? 0, rowEnd = atoms.rowEnd ?? atoms.nLocal; i < rowEnd; i++) {
      const xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2];
      let fxi = 0, fyi = 0, fzi = 0;
      const end = offsets[i + 1];
      for (let p = offsets[i]; p < end; p++) {
        const j = neighbors[p];
        const dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - zi;
        const r2 = dx * dx + dy * dy + dz * dz;
        if (r2 >= rc2) continue;
        const r = Math.sqrt(r2);
        const e1 = Math.exp(-alpha * (r - r0));
        const e = D * (e1 * e1 - 2 * e1) - eshift;
        // dE/dr = 2αD(e1 − e1²); force on i along −(xj − xi)/r.
        const fpair = (2 * alpha * D * (e1 * e1 - e1)) / r;
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
    return { kind: this.kind, D: this.D, alpha: this.alpha, r0: this.r0, cutoff: this.cutoff, shift: this.shift };
  }
}

registerPotential('morse', (spec) => new Morse(spec as unknown as MorseOptions));
