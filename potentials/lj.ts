/**
 * Lennard-Jones 12-6: E(r) = 4ε[(σ/r)¹² − (σ/r)⁶] for r < rc, optionally shifted
 * by E(rc) so the energy is continuous at the cutoff (forces are not shifted;
 * LAMMPS's `pair_modify shift yes`). One parameter set for every element.
 */
import { registerPotential } from './registry.ts';
import { requireNumber, type ComputeOutput, type Neighborhood, type Potential, type PotentialSpec } from './potential.ts';

/** Rows of the half list per kernel call. */
const ROW_CHUNK = 4096;

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
  /** Rows of the half list are independent (compute() honours rowStart/rowEnd). */
  readonly parallel = 'rows';
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
    // LAMMPS's arithmetic (pair_lj_cut.cpp): lj1 = 48εσ¹², lj2 = 24εσ⁶, lj3 = 4εσ¹², lj4 = 4εσ⁶.
    const s6 = this.sigma ** 6, s12 = s6 * s6, eps = this.epsilon;
    const lj1 = 48 * eps * s12, lj2 = 24 * eps * s6, lj3 = 4 * eps * s12, lj4 = 4 * eps * s6;
    const rc2 = this.cutoff * this.cutoff;
    const half = atoms.half!;
    const rowStart = atoms.rowStart ?? 0, rowEnd = atoms.rowEnd ?? atoms.nLocal;
    // Rows in chunks, so the kernel is compiled once as a whole during the first call
    // rather than on stack replacement first and again at the next call.
    let energy = 0;
    for (let i0 = rowStart; i0 < rowEnd; i0 += ROW_CHUNK) {
      const i1 = Math.min(rowEnd, i0 + ROW_CHUNK);
      energy += out.atomEnergies === null
        ? ljForces(i0, i1, atoms.positions, half.offsets, half.neighbors, out.forces, lj1, lj2, lj3, lj4, rc2, this.energyShift)
        : ljForcesAtomEnergies(i0, i1, atoms.positions, half.offsets, half.neighbors, out.forces, out.atomEnergies, lj1, lj2, lj3, lj4, rc2, this.energyShift);
    }
    out.energy += energy;
  }

  spec(): PotentialSpec {
    return { kind: this.kind, epsilon: this.epsilon, sigma: this.sigma, cutoff: this.cutoff, shift: this.shift };
  }
}

/**
 * The hot loop: forces and energy over rows i0 ≤ i < i1 of a half list (no per-atom energies). Returns
 * the energy. Forces use LAMMPS's arithmetic; the energy is summed as
 * lj3·Σr⁻¹² − lj4·Σr⁻⁶ − (pairs)·shift, which takes fewer operations per pair than
 * summing each pair's energy (−7 % time at in.lj) and differs only in rounding.
 *
 * No branch on the cutoff: a pair beyond it gets 1/r² = 0/r² = 0, hence zero force
 * and energy. Once the liquid is disordered, whether a listed pair lies inside the
 * cutoff is a coin toss (≈ 70 % are) that the branch predictor loses often enough
 * to cost more than the arithmetic on the ≈ 30 % of pairs beyond it (in.lj after
 * 100 steps: 22.1 → 20.0 ms; on a lattice, where the branch is predictable, 18.2 → 20.6).
 * Results are those of the branching loop, up to the sign of zero force components.
 */
function ljForces(
  i0: number, i1: number, x: Float64Array, offsets: Int32Array, neighbors: Int32Array, f: Float64Array,
  lj1: number, lj2: number, lj3: number, lj4: number, rc2: number, eshift: number,
): number {
  // Number arguments arrive boxed; converting them once here keeps the unboxing out of the inner loop (−9 %).
  const c1 = +lj1, c2 = +lj2, cut2 = +rc2;
  let sum12 = 0, sum6 = 0, pairs = 0;
  for (let i = i0; i < i1; i++) {
    const i3 = 3 * i;
    const xi = x[i3], yi = x[i3 + 1], zi = x[i3 + 2];
    let fxi = 0, fyi = 0, fzi = 0;
    const end = offsets[i + 1];
    let p = offsets[i];
    // Two pairs per iteration (j ≠ k within a row, so the same result as one by one):
    // half the loop overhead V8 puts around each iteration (−14 %).
    for (; p + 1 < end; p += 2) {
      const j3 = 3 * neighbors[p], k3 = 3 * neighbors[p + 1];
      const dx = x[j3] - xi, dy = x[j3 + 1] - yi, dz = x[j3 + 2] - zi;
      const ex = x[k3] - xi, ey = x[k3 + 1] - yi, ez = x[k3 + 2] - zi;
      const r2 = dx * dx + dy * dy + dz * dz, s2 = ex * ex + ey * ey + ez * ez;
      const inJ = +(r2 < cut2), inK = +(s2 < cut2); // 1 or 0, without a branch
      const r2inv = inJ / r2, s2inv = inK / s2;
      const r6inv = r2inv * r2inv * r2inv, s6inv = s2inv * s2inv * s2inv;
      const fpair = r6inv * (c1 * r6inv - c2) * r2inv, gpair = s6inv * (c1 * s6inv - c2) * s2inv;
      sum12 += r6inv * r6inv; sum6 += r6inv; pairs += inJ;
      sum12 += s6inv * s6inv; sum6 += s6inv; pairs += inK;
      const fx = fpair * dx, fy = fpair * dy, fz = fpair * dz;
      const gx = gpair * ex, gy = gpair * ey, gz = gpair * ez;
      fxi -= fx; fyi -= fy; fzi -= fz;
      fxi -= gx; fyi -= gy; fzi -= gz;
      f[j3] += fx; f[j3 + 1] += fy; f[j3 + 2] += fz;
      f[k3] += gx; f[k3 + 1] += gy; f[k3 + 2] += gz;
    }
    if (p < end) {
      const j3 = 3 * neighbors[p];
      const dx = x[j3] - xi, dy = x[j3 + 1] - yi, dz = x[j3 + 2] - zi;
      const r2 = dx * dx + dy * dy + dz * dz;
      const inside = +(r2 < cut2);
      const r2inv = inside / r2;
      const r6inv = r2inv * r2inv * r2inv;
      const fpair = r6inv * (c1 * r6inv - c2) * r2inv;
      sum12 += r6inv * r6inv;
      sum6 += r6inv;
      pairs += inside;
      const fx = fpair * dx, fy = fpair * dy, fz = fpair * dz;
      fxi -= fx; fyi -= fy; fzi -= fz;
      f[j3] += fx; f[j3 + 1] += fy; f[j3 + 2] += fz;
    }
    f[i3] += fxi; f[i3 + 1] += fyi; f[i3 + 2] += fzi;
  }
  return lj3 * sum12 - lj4 * sum6 - pairs * eshift;
}

/** As ljForces, also splitting each pair energy equally between its two atoms. */
function ljForcesAtomEnergies(
  i0: number, i1: number, x: Float64Array, offsets: Int32Array, neighbors: Int32Array, f: Float64Array, eatom: Float64Array,
  lj1: number, lj2: number, lj3: number, lj4: number, rc2: number, eshift: number,
): number {
  const c1 = +lj1, c2 = +lj2, c3 = +lj3, c4 = +lj4, cut2 = +rc2, shift = +eshift;
  let energy = 0;
  for (let i = i0; i < i1; i++) {
    const i3 = 3 * i;
    const xi = x[i3], yi = x[i3 + 1], zi = x[i3 + 2];
    let fxi = 0, fyi = 0, fzi = 0, ei = 0;
    const end = offsets[i + 1];
    for (let p = offsets[i]; p < end; p++) {
      const j = neighbors[p], j3 = 3 * j;
      const dx = x[j3] - xi, dy = x[j3 + 1] - yi, dz = x[j3 + 2] - zi;
      const r2 = dx * dx + dy * dy + dz * dz;
      if (r2 < cut2) {
        const r2inv = 1 / r2;
        const r6inv = r2inv * r2inv * r2inv;
        const fpair = r6inv * (c1 * r6inv - c2) * r2inv;
        const e = r6inv * (c3 * r6inv - c4) - shift;
        energy += e;
        ei += 0.5 * e;
        eatom[j] += 0.5 * e;
        const fx = fpair * dx, fy = fpair * dy, fz = fpair * dz;
        fxi -= fx; fyi -= fy; fzi -= fz;
        f[j3] += fx; f[j3 + 1] += fy; f[j3 + 2] += fz;
      }
    }
    f[i3] += fxi; f[i3 + 1] += fyi; f[i3 + 2] += fzi;
    eatom[i] += ei;
  }
  return energy;
}

registerPotential('lj', (spec) => new LennardJones(spec as unknown as LennardJonesOptions));
