/**
 * A general triclinic simulation cell: three row vectors a, b, c (ASE convention),
 * stored row-major in a Float64Array(9) so that h[3*i + k] is component k of
 * vector i, plus periodicity per axis. Cartesian r = s·h for fractional s.
 *
 * gl-matrix is column-major; a row-major h read as column-major is hᵀ, and since
 * (hᵀ)⁻¹ = (h⁻¹)ᵀ its inverse comes out row-major as h⁻¹ — so invert and
 * determinant can be used directly.
 */
import { mat3 } from 'gl-matrix';

export type Pbc = readonly [boolean, boolean, boolean];

export class Cell {
  /** Row vectors, row-major. Mutate only through setMatrix so caches stay valid. */
  readonly matrix = new Float64Array(9);
  /** Inverse of the matrix, row-major: s = r·inverse. */
  readonly inverse = new Float64Array(9);
  pbc: [boolean, boolean, boolean];

  constructor(matrix: ArrayLike<number>, pbc: Pbc | boolean = true) {
    this.pbc = typeof pbc === 'boolean' ? [pbc, pbc, pbc] : [pbc[0], pbc[1], pbc[2]];
    this.setMatrix(matrix);
  }

  /** Orthorhombic cell with edge lengths lx, ly, lz. */
  static orthorhombic(lx: number, ly: number, lz: number, pbc: Pbc | boolean = true): Cell {
    return new Cell([lx, 0, 0, 0, ly, 0, 0, 0, lz], pbc);
  }

  /**
   * Cell in LAMMPS's restricted triclinic form: a along x, b in the xy plane,
   * i.e. a = (lx,0,0), b = (xy,ly,0), c = (xz,yz,lz).
   */
  static lammps(lx: number, ly: number, lz: number, xy = 0, xz = 0, yz = 0, pbc: Pbc | boolean = true): Cell {
    return new Cell([lx, 0, 0, xy, ly, 0, xz, yz, lz], pbc);
  }

  /** A zero cell for an isolated, fully non-periodic system. */
  static none(): Cell {
    return new Cell(new Float64Array(9), false);
  }

  clone(): Cell {
    return new Cell(this.matrix, this.pbc);
  }

  setMatrix(matrix: ArrayLike<number>): void {
    if (matrix.length !== 9) throw new Error(`Cell: expected 9 numbers (three row vectors), got ${matrix.length}`);
    for (let k = 0; k < 9; k++) {
      const v = matrix[k];
      if (!Number.isFinite(v)) throw new Error(`Cell: matrix entry ${k} is ${v}`);
      this.matrix[k] = v;
    }
    const det = mat3.determinant(this.matrix as unknown as mat3);
    if (det !== 0) {
      mat3.invert(this.inverse as unknown as mat3, this.matrix as unknown as mat3);
    } else {
      if (this.pbc.some((p) => p)) {
        throw new Error('Cell: a periodic cell must have non-zero volume (its vectors are linearly dependent)');
      }
      this.inverse.fill(0);
    }
  }

  get volume(): number {
    return Math.abs(mat3.determinant(this.matrix as unknown as mat3));
  }

  get hasVolume(): boolean {
    return mat3.determinant(this.matrix as unknown as mat3) !== 0;
  }

  get anyPeriodic(): boolean {
    return this.pbc[0] || this.pbc[1] || this.pbc[2];
  }

  /** Lengths of the three cell vectors. */
  lengths(): [number, number, number] {
    const m = this.matrix;
    return [0, 1, 2].map((i) => Math.hypot(m[3 * i], m[3 * i + 1], m[3 * i + 2])) as [number, number, number];
  }

  /** Angles alpha (b,c), beta (a,c), gamma (a,b) in degrees. */
  angles(): [number, number, number] {
    const m = this.matrix;
    const dot = (i: number, j: number) => m[3 * i] * m[3 * j] + m[3 * i + 1] * m[3 * j + 1] + m[3 * i + 2] * m[3 * j + 2];
    const ang = (i: number, j: number) => (Math.acos(dot(i, j) / Math.sqrt(dot(i, i) * dot(j, j))) * 180) / Math.PI;
    return [ang(1, 2), ang(0, 2), ang(0, 1)];
  }

  /**
   * Perpendicular distances between opposite faces: heights[k] = V / |a_i × a_j|.
   * A sphere of radius r fits inside the cell only if r ≤ heights[k]/2 for all k.
   */
  heights(): [number, number, number] {
    const m = this.matrix;
    const v = this.volume;
    const out: [number, number, number] = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      const i = (k + 1) % 3;
      const j = (k + 2) % 3;
      const cx = m[3 * i + 1] * m[3 * j + 2] - m[3 * i + 2] * m[3 * j + 1];
      const cy = m[3 * i + 2] * m[3 * j] - m[3 * i] * m[3 * j + 2];
      const cz = m[3 * i] * m[3 * j + 1] - m[3 * i + 1] * m[3 * j];
      out[k] = v / Math.hypot(cx, cy, cz);
    }
    return out;
  }

  /** Fractional coordinates of Cartesian positions (3n arrays; out may alias r). */
  toFractional(r: ArrayLike<number>, out: Float64Array = new Float64Array(r.length)): Float64Array {
    const g = this.inverse;
    for (let p = 0; p < r.length; p += 3) {
      const x = r[p], y = r[p + 1], z = r[p + 2];
      out[p] = x * g[0] + y * g[3] + z * g[6];
      out[p + 1] = x * g[1] + y * g[4] + z * g[7];
      out[p + 2] = x * g[2] + y * g[5] + z * g[8];
    }
    return out;
  }

  /** Cartesian positions of fractional coordinates (3n arrays; out may alias s). */
  toCartesian(s: ArrayLike<number>, out: Float64Array = new Float64Array(s.length)): Float64Array {
    const h = this.matrix;
    for (let p = 0; p < s.length; p += 3) {
      const a = s[p], b = s[p + 1], c = s[p + 2];
      out[p] = a * h[0] + b * h[3] + c * h[6];
      out[p + 1] = a * h[1] + b * h[4] + c * h[7];
      out[p + 2] = a * h[2] + b * h[5] + c * h[8];
    }
    return out;
  }

  /** Wraps positions into the cell along periodic axes, in place. */
  wrap(positions: Float64Array): void {
    if (!this.anyPeriodic) return;
    const h = this.matrix, g = this.inverse;
    const [p0, p1, p2] = this.pbc;
    for (let p = 0; p < positions.length; p += 3) {
      const x = positions[p], y = positions[p + 1], z = positions[p + 2];
      let a = x * g[0] + y * g[3] + z * g[6];
      let b = x * g[1] + y * g[4] + z * g[7];
      let c = x * g[2] + y * g[5] + z * g[8];
      const da = p0 ? Math.floor(a) : 0;
      const db = p1 ? Math.floor(b) : 0;
      const dc = p2 ? Math.floor(c) : 0;
      if (da === 0 && db === 0 && dc === 0) continue;
      a = da; b = db; c = dc;
      positions[p] = x - (a * h[0] + b * h[3] + c * h[6]);
      positions[p + 1] = y - (a * h[1] + b * h[4] + c * h[7]);
      positions[p + 2] = z - (a * h[2] + b * h[5] + c * h[8]);
    }
  }

  /**
   * Shortest periodic image of the displacement d (3-vector, in place), correct for
   * any triclinic cell however skewed: rounding in fractional coordinates gives a
   * candidate of length L; any shorter image has |s_k + n_k|·heights[k] ≤ L along
   * each periodic axis k (a vector is at least as long as its projection on a face
   * normal), which bounds the integer shifts n_k searched. Returns the squared length.
   */
  minimumImage(d: Float64Array | number[]): number {
    if (!this.anyPeriodic) return d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    const h = this.matrix, g = this.inverse;
    const s = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      const f = d[0] * g[k] + d[1] * g[3 + k] + d[2] * g[6 + k];
      s[k] = this.pbc[k] ? f - Math.round(f) : f;
    }
    const x0 = s[0] * h[0] + s[1] * h[3] + s[2] * h[6];
    const y0 = s[0] * h[1] + s[1] * h[4] + s[2] * h[7];
    const z0 = s[0] * h[2] + s[1] * h[5] + s[2] * h[8];
    let best = x0 * x0 + y0 * y0 + z0 * z0, bx = x0, by = y0, bz = z0;
    const L = Math.sqrt(best);
    const heights = this.heights();
    const lo = [0, 0, 0], hi = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      if (!this.pbc[k]) continue;
      const reach = L / heights[k];
      lo[k] = Math.ceil(-s[k] - reach);
      hi[k] = Math.floor(-s[k] + reach);
    }
    for (let i = lo[0]; i <= hi[0]; i++) {
      for (let j = lo[1]; j <= hi[1]; j++) {
        for (let k = lo[2]; k <= hi[2]; k++) {
          const a = s[0] + i, b = s[1] + j, c = s[2] + k;
          const x = a * h[0] + b * h[3] + c * h[6];
          const y = a * h[1] + b * h[4] + c * h[7];
          const z = a * h[2] + b * h[5] + c * h[8];
          const r2len = x * x + y * y + z * z;
          if (r2len < best) { best = r2len; bx = x; by = y; bz = z; }
        }
      }
    }
    d[0] = bx; d[1] = by; d[2] = bz;
    return best;
  }
}
