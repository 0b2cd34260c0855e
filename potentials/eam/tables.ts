/**
 * EAM tables on one common grid, splined as LAMMPS's pair_eam does (29 Sep 2021),
 * so that energies and forces agree with LAMMPS to round-off.
 *
 * Facts taken from LAMMPS's documentation and pair_eam source (own implementation):
 * - Every function lives on a grid of spacing dr (r) or drho (rho), point m ↔ (m−1)·Δ,
 *   m = 1..n. setfl/fs tables are used as read. funcfl files are resampled onto a
 *   grid with Δ = the largest file spacing and n = round(max (n_file−1)·Δ_file / Δ)
 *   by 4-point Lagrange interpolation of the file table (stencil k−1..k+2 with
 *   k clamped to 2..n_file−2, fractional offset capped at 2).
 * - funcfl pair term for files a, b: r·φ(r) = 27.2·0.529 · Z_a(r)·Z_b(r)
 *   (Hartree·Bohr in LAMMPS's rounded values; Z in units of e).
 * - Each table becomes 7 coefficients per grid point: c6 = f_m, c5 = Δ·f'_m from a
 *   5-point (interior) / 3-point / 2-point (ends) difference, c4, c3 the cubic
 *   Hermite terms on [m, m+1] (zero at the last point), and c2, c1, c0 the
 *   derivative coefficients c5/Δ, 2c4/Δ, 3c3/Δ. With p ∈ [0,1] the offset within
 *   interval m: f = ((c3 p + c4) p + c5) p + c6, f' = (c0 p + c1) p + c2.
 */
import type { FuncflFile, MultiElementFile } from './files.ts';

/** Coefficients per grid point. */
export const NCOEF = 7;

/** LAMMPS's conversion of Z_a·Z_b (e²) to eV·Å: 27.2 eV (Hartree) × 0.529 Å (Bohr), its rounded values. */
const ZZ_TO_EV_ANGSTROM = 27.2 * 0.529;

/**
 * Splines of every function of a potential in one Float64Array (good for the hot
 * loop): function t occupies [offset, offset + (n+1)·NCOEF), point m at offset + m·NCOEF.
 */
export interface EamTables {
  nr: number;
  dr: number;
  nrho: number;
  drho: number;
  /** Largest rho of the tables; F is extrapolated linearly beyond it. */
  rhomax: number;
  /** Pair cutoff, Å. */
  cut: number;
  /** Number of potential types (elements of the file, or funcfl files). */
  ntypes: number;
  coeffs: Float64Array;
  /** Offset of F for each type. */
  frho: Int32Array;
  /**
   * Offset of the density function giving the density AT an atom of type b due to
   * a neighbour of type a: rhor[a·ntypes + b].
   */
  rhor: Int32Array;
  /** Offset of r·φ for types a, b (symmetric): z2r[a·ntypes + b]. */
  z2r: Int32Array;
  /** Mass per type, amu (from the file). */
  masses: number[];
}

/** Builds the 7 spline coefficients of a 1-based table f[1..n] with spacing delta into out at offset. */
export function splineInto(n: number, delta: number, f: Float64Array, out: Float64Array, offset: number): void {
  const c = (m: number, k: number): number => offset + m * NCOEF + k;
  for (let m = 1; m <= n; m++) out[c(m, 6)] = f[m];
  out[c(1, 5)] = out[c(2, 6)] - out[c(1, 6)];
  out[c(2, 5)] = 0.5 * (out[c(3, 6)] - out[c(1, 6)]);
  out[c(n - 1, 5)] = 0.5 * (out[c(n, 6)] - out[c(n - 2, 6)]);
  out[c(n, 5)] = out[c(n, 6)] - out[c(n - 1, 6)];
  for (let m = 3; m <= n - 2; m++) {
    out[c(m, 5)] = ((out[c(m - 2, 6)] - out[c(m + 2, 6)]) + 8.0 * (out[c(m + 1, 6)] - out[c(m - 1, 6)])) / 12.0;
  }
  for (let m = 1; m <= n - 1; m++) {
    out[c(m, 4)] = 3.0 * (out[c(m + 1, 6)] - out[c(m, 6)]) - 2.0 * out[c(m, 5)] - out[c(m + 1, 5)];
    out[c(m, 3)] = out[c(m, 5)] + out[c(m + 1, 5)] - 2.0 * (out[c(m + 1, 6)] - out[c(m, 6)]);
  }
  out[c(n, 4)] = 0.0;
  out[c(n, 3)] = 0.0;
  for (let m = 1; m <= n; m++) {
    out[c(m, 2)] = out[c(m, 5)] / delta;
    out[c(m, 1)] = (2.0 * out[c(m, 4)]) / delta;
    out[c(m, 0)] = (3.0 * out[c(m, 3)]) / delta;
  }
}

/** Value at grid point m (spacing delta) of a 1-based file table, by 4-point Lagrange interpolation. */
function resample(table: Float64Array, nFile: number, deltaFile: number, x: number): number {
  let p = x / deltaFile + 1.0;
  let k = Math.trunc(p);
  k = Math.min(k, nFile - 2);
  k = Math.max(k, 2);
  p -= k;
  p = Math.min(p, 2.0);
  const sixth = 1.0 / 6.0;
  const cof1 = -sixth * p * (p - 1.0) * (p - 2.0);
  const cof2 = 0.5 * (p * p - 1.0) * (p - 2.0);
  const cof3 = -0.5 * p * (p + 1.0) * (p - 2.0);
  const cof4 = sixth * p * (p * p - 1.0);
  return cof1 * table[k - 1] + cof2 * table[k] + cof3 * table[k + 1] + cof4 * table[k + 2];
}

/** Lays out the splines of the given functions (1-based tables) in one array. */
function assemble(
  nrho: number, drho: number, nr: number, dr: number,
  frho: Float64Array[], rhor: Float64Array[], z2r: Float64Array[],
): { coeffs: Float64Array; frhoOff: number[]; rhorOff: number[]; z2rOff: number[] } {
  const sizeRho = (nrho + 1) * NCOEF, sizeR = (nr + 1) * NCOEF;
  const coeffs = new Float64Array(frho.length * sizeRho + (rhor.length + z2r.length) * sizeR);
  let off = 0;
  const frhoOff = frho.map((f) => { const o = off; splineInto(nrho, drho, f, coeffs, o); off += sizeRho; return o; });
  const rhorOff = rhor.map((f) => { const o = off; splineInto(nr, dr, f, coeffs, o); off += sizeR; return o; });
  const z2rOff = z2r.map((f) => { const o = off; splineInto(nr, dr, f, coeffs, o); off += sizeR; return o; });
  return { coeffs, frhoOff, rhorOff, z2rOff };
}

/** Index of the (a, b) pair among i ≥ j pairs listed row by row. */
function lowerIndex(a: number, b: number): number {
  const i = Math.max(a, b), j = Math.min(a, b);
  return (i * (i + 1)) / 2 + j;
}

/** Tables of several funcfl files (one per type), combined as LAMMPS's pair_style eam does. */
export function funcflTables(files: readonly FuncflFile[]): EamTables {
  let dr = 0, drho = 0, rmax = 0, rhomax = 0, cut = 0;
  for (const f of files) {
    dr = Math.max(dr, f.dr);
    drho = Math.max(drho, f.drho);
    rmax = Math.max(rmax, (f.nr - 1) * f.dr);
    rhomax = Math.max(rhomax, (f.nrho - 1) * f.drho);
    cut = Math.max(cut, f.cut);
  }
  // Grid sizes from the extents; the 0.5 absorbs round-off in the division (as LAMMPS).
  const nr = Math.trunc(rmax / dr + 0.5);
  const nrho = Math.trunc(rhomax / drho + 0.5);
  const frho = files.map((f) => {
    const t = new Float64Array(nrho + 1);
    for (let m = 1; m <= nrho; m++) t[m] = resample(f.frho, f.nrho, f.drho, (m - 1) * drho);
    return t;
  });
  const rhor = files.map((f) => {
    const t = new Float64Array(nr + 1);
    for (let m = 1; m <= nr; m++) t[m] = resample(f.rhor, f.nr, f.dr, (m - 1) * dr);
    return t;
  });
  const z2r: Float64Array[] = [];
  for (let i = 0; i < files.length; i++) {
    for (let j = 0; j <= i; j++) {
      const a = files[i], b = files[j];
      const t = new Float64Array(nr + 1);
      for (let m = 1; m <= nr; m++) {
        const r = (m - 1) * dr;
        const zi = resample(a.zr, a.nr, a.dr, r);
        const zj = resample(b.zr, b.nr, b.dr, r);
        t[m] = ZZ_TO_EV_ANGSTROM * zi * zj;
      }
      z2r.push(t);
    }
  }
  const nt = files.length;
  const { coeffs, frhoOff, rhorOff, z2rOff } = assemble(nrho, drho, nr, dr, frho, rhor, z2r);
  const rhorIdx = new Int32Array(nt * nt), z2rIdx = new Int32Array(nt * nt);
  for (let a = 0; a < nt; a++) {
    for (let b = 0; b < nt; b++) {
      rhorIdx[a * nt + b] = rhorOff[a]; // density due to a neighbour of type a: a's function
      z2rIdx[a * nt + b] = z2rOff[lowerIndex(a, b)];
    }
  }
  return {
    nr, dr, nrho, drho, rhomax, cut, ntypes: nt, coeffs,
    frho: Int32Array.from(frhoOff), rhor: rhorIdx, z2r: z2rIdx, masses: files.map((f) => f.mass),
  };
}

/** Tables of a setfl or Finnis–Sinclair file (its own grid). */
export function multiTables(file: MultiElementFile): EamTables {
  const { nrho, drho, nr, dr, cut } = file;
  const nt = file.elements.length;
  const { coeffs, frhoOff, rhorOff, z2rOff } = assemble(nrho, drho, nr, dr, file.frho, file.rhor, file.z2r);
  const rhorIdx = new Int32Array(nt * nt), z2rIdx = new Int32Array(nt * nt);
  for (let a = 0; a < nt; a++) {
    for (let b = 0; b < nt; b++) {
      // Density at b due to a: setfl uses a's function; fs the b-th function of a's block (LAMMPS's indexing).
      rhorIdx[a * nt + b] = file.format === 'setfl' ? rhorOff[a] : rhorOff[a * nt + b];
      z2rIdx[a * nt + b] = z2rOff[lowerIndex(a, b)];
    }
  }
  return {
    nr, dr, nrho, drho, rhomax: (nrho - 1) * drho, cut, ntypes: nt, coeffs,
    frho: Int32Array.from(frhoOff), rhor: rhorIdx, z2r: z2rIdx, masses: file.masses,
  };
}
