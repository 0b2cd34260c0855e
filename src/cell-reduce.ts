/**
 * Re-reduction of a skewed periodic cell to an equivalent, less skewed one.
 *
 * A barostat that lets the cell shear can drive the tilt of a cell vector far past
 * half the length of another; the cell then gets thin (small face heights) and the
 * neighbour search expensive, although the lattice it generates is unchanged. Like
 * LAMMPS's box flips (|xy| > lx/2 → xy −= lx, etc.), the cell vectors are replaced
 * by integer combinations of themselves with a unimodular matrix T (det T = +1):
 * new rows = T · old rows, so the lattice, the volume and the handedness are the
 * same, and every atom keeps its Cartesian position (it is wrapped into the new cell
 * at the next neighbour-list rebuild).
 *
 * The rule is the size reduction of the Lenstra–Lenstra–Lovász algorithm, done in
 * the order a, b, c: with a*, b* the Gram–Schmidt vectors of a, b, every coefficient
 * μ_ij = a_i·a*_j / |a*_j|² (j < i) is brought into [−½, ½] by subtracting round(μ_ij)
 * times a_j. For a cell in LAMMPS's restricted form (a along x, b in the xy plane)
 * μ_10 = xy/lx, μ_20 = xz/lx and μ_21 = yz/ly, so this is exactly the LAMMPS flip
 * condition and the reduced cell keeps the restricted form. Only periodic axes are
 * combined (a non-periodic vector is not a lattice vector).
 */
import type { Cell } from './cell.ts';

/** Default hysteresis: reduce only once some |μ_ij| exceeds ½ + this, so a cell at the boundary does not flip back and forth. */
export const DEFAULT_REDUCE_TOLERANCE = 0.01;

export interface CellReduction {
  /** Reduced cell, row vectors, row-major. */
  matrix: Float64Array;
  /** Unimodular integer matrix (row-major): reduced rows = transform · original rows. */
  transform: Int32Array;
  /** Whether any vector changed. */
  changed: boolean;
}

/**
 * Largest |μ_ij| (j < i, both axes periodic) of a cell: ½ or less means reduced.
 * Cheap enough to call every step.
 */
export function maxSkew(matrix: ArrayLike<number>, pbc: readonly boolean[] = [true, true, true]): number {
  const h = matrix;
  let worst = 0;
  // Gram–Schmidt vectors a* (= a), b* = b − μ10 a.
  const aa = h[0] * h[0] + h[1] * h[1] + h[2] * h[2];
  if (!(aa > 0)) return 0;
  const mu10 = (h[3] * h[0] + h[4] * h[1] + h[5] * h[2]) / aa;
  const bsx = h[3] - mu10 * h[0], bsy = h[4] - mu10 * h[1], bsz = h[5] - mu10 * h[2];
  const bb = bsx * bsx + bsy * bsy + bsz * bsz;
  if (pbc[0] && pbc[1]) worst = Math.max(worst, Math.abs(mu10));
  if (pbc[2]) {
    if (pbc[0]) worst = Math.max(worst, Math.abs((h[6] * h[0] + h[7] * h[1] + h[8] * h[2]) / aa));
    if (pbc[1] && bb > 0) worst = Math.max(worst, Math.abs((h[6] * bsx + h[7] * bsy + h[8] * bsz) / bb));
  }
  return worst;
}

/**
 * An equivalent cell whose Gram–Schmidt coefficients all lie in [−½, ½], if some
 * exceeds ½ + tolerance; otherwise the cell unchanged (changed = false).
 */
export function reduceCell(
  matrix: ArrayLike<number>,
  options: { pbc?: readonly boolean[]; tolerance?: number } = {},
): CellReduction {
  if (matrix.length !== 9) throw new Error(`reduceCell: expected 9 numbers (three row vectors), got ${matrix.length}`);
  const pbc = options.pbc ?? [true, true, true];
  const tol = options.tolerance ?? DEFAULT_REDUCE_TOLERANCE;
  if (!(tol >= 0) || !Number.isFinite(tol)) throw new Error(`reduceCell: tolerance must be a finite number ≥ 0, got ${tol}`);
  const h = Float64Array.from(matrix);
  const t = new Int32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  if (!(maxSkew(h, pbc) > 0.5 + tol)) return { matrix: h, transform: t, changed: false };

  // Gram–Schmidt vectors of a and b (c* is never needed); they do not change below.
  const gs = new Float64Array(6);
  gs.set(h.subarray(0, 3), 0);
  const aa = dot(h, 0, gs, 0);
  const mu10 = dot(h, 3, gs, 0) / aa;
  for (let k = 0; k < 3; k++) gs[3 + k] = h[3 + k] - mu10 * h[k];
  let changed = false;
  for (let i = 1; i < 3; i++) {
    if (!pbc[i]) continue;
    for (let j = i - 1; j >= 0; j--) {
      if (!pbc[j]) continue;
      const norm = dot(gs, 3 * j, gs, 3 * j);
      if (!(norm > 0)) continue;
      const mu = dot(h, 3 * i, gs, 3 * j) / norm;
      const m = Math.round(mu);
      if (m === 0) continue;
      for (let k = 0; k < 3; k++) {
        h[3 * i + k] -= m * h[3 * j + k];
        t[3 * i + k] -= m * t[3 * j + k];
      }
      changed = true;
    }
  }
  return { matrix: h, transform: t, changed };
}

/**
 * Reduces a cell in place (through setMatrix) when it is too skewed; returns true
 * if it changed, in which case the caller must invalidate its neighbour list.
 */
export function reduceCellInPlace(cell: Cell, tolerance = DEFAULT_REDUCE_TOLERANCE): boolean {
  if (!cell.hasVolume) return false;
  if (!(maxSkew(cell.matrix, cell.pbc) > 0.5 + tolerance)) return false;
  const r = reduceCell(cell.matrix, { pbc: cell.pbc, tolerance });
  if (r.changed) cell.setMatrix(r.matrix);
  return r.changed;
}

function dot(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  return a[i] * b[j] + a[i + 1] * b[j + 1] + a[i + 2] * b[j + 2];
}
