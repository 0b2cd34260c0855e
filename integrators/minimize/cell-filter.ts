/**
 * Relaxes the cell together with the atoms, in the manner of ASE's UnitCellFilter
 * (Tadmor et al., Phys. Rev. B 59, 235 (1999); ASE ase/filters.py): the generalised
 * coordinates are the atoms' positions in the reference (starting) cell, r̃ = r·F⁻ᵀ,
 * and the deformation gradient F of the cell relative to it, h = h₀·Fᵀ, r = r̃·Fᵀ
 * (row vectors). F is scaled by `factor` (default the number of atoms) so that cell
 * and atom coordinates have comparable stiffness.
 *
 * Generalised forces (exact derivatives of the objective H = E − V·tr(σₜ)/3):
 *   atoms:  f̃ = f·F
 *   cell:   −∂H/∂F = −V (σ − σₜ) F⁻ᵀ,  divided by `factor`,
 * with σ = −W/V the static stress (W = Σ r⊗f, ASE sign: positive under tension)
 * and σₜ the target stress (−P·I for a target pressure P). At a stationary point
 * the atomic forces vanish and σ = σₜ. For a non-hydrostatic target only its
 * hydrostatic part enters the objective (as in ASE); the gradient still drives the
 * stress to the full target, which FIRE and the force-based L-BFGS need.
 */
import type { Evaluation, ForceEvaluator } from '../../src/forces.ts';
import type { System } from '../../src/system.ts';
import { EV_PER_A3_TO_GPA, GPA_TO_EV_PER_A3 } from '../../src/units.ts';
import { maxAtomForce, type MinimizeTarget } from './target.ts';

export interface CellFilterOptions {
  /** Target pressure, GPa (default 0). Ignored when `stress` is given. */
  pressure?: number;
  /** Target stress, GPa, Voigt xx yy zz yz xz xy, positive under tension (ASE sign). */
  stress?: ArrayLike<number>;
  /** Keep the cell shape, relax only the volume (like LAMMPS fix box/relax iso). */
  hydrostatic?: boolean;
  /** Scale of the deformation-gradient coordinates (default number of atoms). */
  factor?: number;
}

/** Voigt (xx yy zz yz xz xy) → full 3×3 row-major. */
const VOIGT_INDEX = [0, 5, 4, 5, 1, 3, 4, 3, 2];

export class CellFilter implements MinimizeTarget {
  readonly system: System;
  readonly forces: ForceEvaluator;
  readonly size: number;
  readonly factor: number;
  readonly hydrostatic: boolean;
  /** Target stress, eV/Å³, full 3×3 row-major. */
  readonly targetStress = new Float64Array(9);
  /** Reference cell h₀ (row vectors). */
  readonly referenceCell: Float64Array;
  /** Current deformation gradient F, row-major. */
  readonly deformation = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
  energy = NaN;
  fmax = NaN;
  smax = NaN;
  readonly stress = new Float64Array(6);
  evaluation: Evaluation | null = null;
  private readonly fInv = new Float64Array(9);
  private readonly h = new Float64Array(9);
  private readonly sigma = new Float64Array(9);
  private readonly g = new Float64Array(9);

  constructor(system: System, forces: ForceEvaluator, options: CellFilterOptions = {}) {
    const cell = system.cell;
    if (!(cell.pbc[0] && cell.pbc[1] && cell.pbc[2]) || !(cell.volume > 0)) {
      throw new Error('CellFilter: the cell must be periodic along all three axes with non-zero volume');
    }
    this.system = system;
    this.forces = forces;
    this.size = 3 * system.n + 9;
    this.factor = options.factor ?? system.n;
    if (!(this.factor > 0) || !Number.isFinite(this.factor)) throw new Error(`CellFilter: factor must be positive, got ${this.factor}`);
    this.hydrostatic = options.hydrostatic ?? false;
    if (options.stress !== undefined) {
      if (options.stress.length !== 6) throw new Error(`CellFilter: stress must have 6 Voigt components (xx yy zz yz xz xy), got ${options.stress.length}`);
      for (let k = 0; k < 9; k++) this.targetStress[k] = requireFinite('stress', options.stress[VOIGT_INDEX[k]]) * GPA_TO_EV_PER_A3;
    } else {
      const p = requireFinite('pressure', options.pressure ?? 0) * GPA_TO_EV_PER_A3;
      this.targetStress[0] = this.targetStress[4] = this.targetStress[8] = -p;
    }
    this.referenceCell = Float64Array.from(cell.matrix);
  }

  getX(out: Float64Array): void {
    const n = this.system.n, r = this.system.positions, F = this.deformation, Fi = this.fInv;
    invert3(F, Fi);
    // r̃_b = Σ_c r_c (F⁻¹)_{bc}
    for (let i = 0; i < n; i++) {
      const x = r[3 * i], y = r[3 * i + 1], z = r[3 * i + 2];
      for (let b = 0; b < 3; b++) out[3 * i + b] = x * Fi[3 * b] + y * Fi[3 * b + 1] + z * Fi[3 * b + 2];
    }
    for (let k = 0; k < 9; k++) out[3 * n + k] = F[k] * this.factor;
  }

  setX(x: Float64Array): void {
    const n = this.system.n, r = this.system.positions, F = this.deformation, h0 = this.referenceCell, h = this.h;
    for (let k = 0; k < 9; k++) F[k] = x[3 * n + k] / this.factor;
    // h_{ab} = Σ_c h0_{ac} F_{bc};  r_b = Σ_c r̃_c F_{bc}
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++) h[3 * a + b] = h0[3 * a] * F[3 * b] + h0[3 * a + 1] * F[3 * b + 1] + h0[3 * a + 2] * F[3 * b + 2];
    this.system.cell.setMatrix(h);
    for (let i = 0; i < n; i++) {
      const u = x[3 * i], v = x[3 * i + 1], w = x[3 * i + 2];
      for (let b = 0; b < 3; b++) r[3 * i + b] = u * F[3 * b] + v * F[3 * b + 1] + w * F[3 * b + 2];
    }
  }

  evaluate(out: Float64Array): number {
    const system = this.system, n = system.n, F = this.deformation, Fi = this.fInv;
    const ev = this.forces.evaluate(system);
    this.evaluation = ev;
    const f = system.forces;
    // f̃_b = Σ_c f_c F_{cb}
    for (let i = 0; i < n; i++) {
      const x = f[3 * i], y = f[3 * i + 1], z = f[3 * i + 2];
      for (let b = 0; b < 3; b++) out[3 * i + b] = x * F[b] + y * F[3 + b] + z * F[6 + b];
    }
    const V = system.cell.volume, W = ev.virial, sigma = this.sigma, st = this.targetStress, g = this.g;
    for (let k = 0; k < 9; k++) sigma[k] = -W[VOIGT_INDEX[k]] / V;
    // g = −V (σ − σₜ) F⁻ᵀ:  g_{ab} = −V Σ_c (σ − σₜ)_{ac} (F⁻¹)_{bc}
    invert3(F, Fi);
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++) {
        let s = 0;
        for (let c = 0; c < 3; c++) s += (sigma[3 * a + c] - st[3 * a + c]) * Fi[3 * b + c];
        g[3 * a + b] = -V * s;
      }
    if (this.hydrostatic) {
      const t = (g[0] + g[4] + g[8]) / 3;
      g.fill(0);
      g[0] = g[4] = g[8] = t;
    }
    for (let k = 0; k < 9; k++) out[3 * n + k] = g[k] / this.factor;

    this.energy = ev.energy;
    this.fmax = maxAtomForce(f, n);
    let smax = 0;
    if (this.hydrostatic) {
      smax = Math.abs(sigma[0] + sigma[4] + sigma[8] - st[0] - st[4] - st[8]) / 3;
    } else {
      for (let k = 0; k < 9; k++) smax = Math.max(smax, Math.abs(sigma[k] - st[k]));
    }
    this.smax = smax * EV_PER_A3_TO_GPA;
    for (let v = 0; v < 6; v++) this.stress[v] = sigma[VOIGT_INDEX.indexOf(v)] * EV_PER_A3_TO_GPA;
    return ev.energy - (V * (st[0] + st[4] + st[8])) / 3;
  }
}

function requireFinite(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`CellFilter: ${name} must be finite numbers (GPa), got ${v}`);
  return v;
}

/** Inverse of a row-major 3×3 matrix. */
function invert3(m: Float64Array, out: Float64Array): void {
  const a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7], i = m[8];
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (det === 0 || !Number.isFinite(det)) throw new Error('CellFilter: the deformation gradient became singular');
  const s = 1 / det;
  out[0] = A * s; out[1] = -(b * i - c * h) * s; out[2] = (b * f - c * e) * s;
  out[3] = B * s; out[4] = (a * i - c * g) * s; out[5] = -(a * f - c * d) * s;
  out[6] = C * s; out[7] = -(a * h - b * g) * s; out[8] = (a * e - b * d) * s;
}
