/**
 * Optional pair term of a trace model (spec §1, "+ an optional pair term"):
 *   E_pair = ½ Σ_i Σ_{j≠i} V_{z_i z_j}(r_ij),  V_{ab}(r) = Σ_n c_{ab,n} g_n(r),
 * with g_n a radial basis of radial.ts (smooth to zero at its own cutoff) and one
 * coefficient row per unordered species pair (a ≤ b), row index a·S − a(a−1)/2 + (b − a).
 * Model-file field: `pair: { radial: RadialSpec, coefficients: number[] }`; absent = no pair term.
 */
import type { Neighborhood } from '../potential.ts';
import { RadialBasis, type RadialSpec } from './radial.ts';

export interface PairSpec {
  radial: RadialSpec;
  /** c[row·N + n], rows over unordered species pairs (S(S+1)/2 of them). */
  coefficients: number[];
}

/** Row of the unordered species pair (a, b) among S species. */
export function pairRow(a: number, b: number, S: number): number {
  if (a > b) { const t = a; a = b; b = t; }
  return a * S - (a * (a - 1)) / 2 + (b - a);
}

/** Checks a pair spec for S species; `where` names the model in errors. */
export function validatePair(pair: unknown, S: number, where: string): PairSpec {
  if (typeof pair !== 'object' || pair === null) throw new Error(`trace model '${where}': field 'pair' must be an object { radial, coefficients }`);
  const p = pair as Record<string, unknown>;
  const radial = p.radial as RadialSpec;
  let basis: RadialBasis;
  try {
    basis = new RadialBasis(radial);
  } catch (err) {
    throw new Error(`trace model '${where}': field 'pair.radial': ${(err as Error).message}`);
  }
  if (!Array.isArray(p.coefficients) && !(p.coefficients instanceof Float64Array)) throw new Error(`trace model '${where}': field 'pair.coefficients' missing`);
  const c = Array.from(p.coefficients as ArrayLike<number>);
  const rows = (S * (S + 1)) / 2;
  if (c.length !== rows * basis.n) throw new Error(`trace model '${where}': 'pair.coefficients' has ${c.length} entries, expected ${rows} species pairs × ${basis.n} radial functions`);
  c.forEach((v, k) => { if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`trace model '${where}': pair.coefficients[${k}] is not a finite number`); });
  return { radial: basis.spec(), coefficients: c };
}

export class PairTerm {
  readonly radial: RadialBasis;
  readonly cutoff: number;
  private readonly nSpecies: number;
  private readonly coef: Float64Array;
  private readonly g: Float64Array;
  /** The distance evaluateAt reads. */
  private readonly rAt = new Float64Array(1);
  private readonly dg: Float64Array;

  constructor(spec: PairSpec, nSpecies: number) {
    this.radial = new RadialBasis(spec.radial);
    this.cutoff = this.radial.cutoff;
    this.nSpecies = nSpecies;
    this.coef = Float64Array.from(spec.coefficients);
    this.g = new Float64Array(this.radial.n);
    this.dg = new Float64Array(this.radial.n);
  }

  /**
   * Adds ½ V(r_ij) per (local i, neighbour j) of the full list to the energy (and to
   * atom i's energy), and the matching forces. `smap` maps system species to model species.
   */
  compute(atoms: Neighborhood, smap: Int32Array, forces: Float64Array, atomEnergies: Float64Array | null): number {
    const { offsets, neighbors } = atoms.full!;
    const x = atoms.positions, species = atoms.species, S = this.nSpecies, N = this.radial.n;
    const c = this.coef, g = this.g, dg = this.dg, rAt = this.rAt, rc2 = this.cutoff * this.cutoff;
    let total = 0;
    for (let i = atoms.rowStart ?? 0, rowEnd = atoms.rowEnd ?? atoms.nLocal; i < rowEnd; i++) {
      const zi = smap[species[i]];
      const xi = x[3 * i], yi = x[3 * i + 1], wi = x[3 * i + 2];
      let e = 0, fix = 0, fiy = 0, fiz = 0;
      for (let q = offsets[i]; q < offsets[i + 1]; q++) {
        const j = neighbors[q];
        const dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - wi;
        const r2 = dx * dx + dy * dy + dz * dz;
        if (r2 >= rc2 || r2 === 0) continue;
        const r = Math.sqrt(r2);
        rAt[0] = r; // read by evaluateAt: a double passed to a call V8 does not inline is boxed
        this.radial.evaluateAt(rAt, 0, g, dg, 0);
        const zj = smap[species[j]];
        const zlo = zi < zj ? zi : zj, zhi = zi < zj ? zj : zi;
        const cb = (zlo * S - (zlo * (zlo - 1)) / 2 + (zhi - zlo)) * N;
        let v = 0, dv = 0;
        for (let n = 0; n < N; n++) { v += c[cb + n] * g[n]; dv += c[cb + n] * dg[n]; }
        e += 0.5 * v;
        // g_ij = ∂(½V)/∂x_j = ½ V′ r̂;  F_j −= g, F_i += g.
        const s = (0.5 * dv) / r, gx = s * dx, gy = s * dy, gz = s * dz;
        forces[3 * j] -= gx; forces[3 * j + 1] -= gy; forces[3 * j + 2] -= gz;
        fix += gx; fiy += gy; fiz += gz;
      }
      forces[3 * i] += fix; forces[3 * i + 1] += fiy; forces[3 * i + 2] += fiz;
      total += e;
      if (atomEnergies !== null) atomEnergies[i] += e;
    }
    return total;
  }
}
