/**
 * Small dense linear algebra for the ACE basis reduction and the least-squares fit:
 * symmetric eigen-decomposition (cyclic Jacobi), a streaming Householder QR that
 * keeps only R and Qᵀb (rows are added block by block), and the SVD of a square
 * matrix (one-sided Jacobi). Row-major Float64Array throughout.
 */

/** Eigenvalues (descending) and eigenvectors (columns of V, row-major n×n) of a symmetric matrix. */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(a.subarray(0, n * n));
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, diag = 0;
    for (let i = 0; i < n; i++) {
      diag += A[i * n + i] * A[i * n + i];
      for (let j = i + 1; j < n; j++) off += A[i * n + j] * A[i * n + j];
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const app = A[p * n + p], aqq = A[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p], akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k], aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p], vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j] - A[i * n + i]);
  const values = new Float64Array(n), vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = A[src * n + src];
    for (let k = 0; k < n; k++) vectors[k * n + dst] = V[k * n + src];
  });
  return { values, vectors };
}

/**
 * Least squares by Householder QR, fed in row blocks: keeps the n×n upper-triangular
 * R and z = Qᵀb of everything added so far, so memory is O(n²) however many rows.
 * Each block is stacked under the current R and re-triangularised.
 */
export class StreamingQR {
  readonly n: number;
  /** Upper-triangular R, row-major n×n. */
  readonly R: Float64Array;
  /** First n entries of Qᵀb. */
  readonly z: Float64Array;
  /** Σ of squared residual parts of b orthogonal to range(A) (of the rows added). */
  residual2 = 0;
  rows = 0;

  constructor(n: number) {
    this.n = n;
    this.R = new Float64Array(n * n);
    this.z = new Float64Array(n);
  }

  private colBuf = new Float64Array(0);

  /** Adds m rows: A (row-major m×n) and b (m). b is overwritten. */
  addRows(A: Float64Array, b: Float64Array, m: number): void {
    const n = this.n;
    // Column-major copy of the block so that the inner loops run over contiguous rows.
    if (this.colBuf.length < m * n) this.colBuf = new Float64Array(m * n);
    const C = this.colBuf;
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) C[j * m + i] = A[i * n + j];
    this.addColumnMajor(C, b, m);
  }

  /** Adds m rows given column-major (C[j·m + i] = A_ij). C and b are overwritten. */
  addColumnMajor(C: Float64Array, b: Float64Array, m: number): void {
    this.householder(C, b, m, false);
  }

  /**
   * Householder sweep over the stacked [R; A] (A column-major, m rows). With
   * `upper`, A is upper triangular (m = n, as another factorisation's R): rows below
   * the diagonal are exact zeros that stay zero, so column k only involves rows 0..k;
   * the arithmetic is otherwise the same as the dense sweep (identical results).
   * Columns are updated four (then two) at a time (one pass over the reflector for
   * several dot products, one for their updates), each sum in the same order as one at a time.
   */
  private householder(C: Float64Array, b: Float64Array, m: number, upper: boolean): void {
    const n = this.n, R = this.R, z = this.z;
    // Column-wise Householder on the stacked [R; A]: for column k the active entries are R[k,k] and A[:,k].
    for (let k = 0; k < n; k++) {
      const ck = k * m, mk = upper ? Math.min(m, k + 1) : m;
      let norm2 = 0;
      for (let i = 0; i < mk; i++) { const v = C[ck + i]; norm2 += v * v; }
      // Entries this small (a column that vanishes up to round-off) would underflow the
      // reflector (β = 2/‖v‖² → ∞); they are dropped.
      if (!(norm2 > 1e-200)) {
        for (let i = 0; i < mk; i++) C[ck + i] = 0;
        continue;
      }
      const rkk = R[k * n + k];
      const alpha = -Math.sign(rkk || 1) * Math.sqrt(rkk * rkk + norm2);
      const v0 = rkk - alpha; // Householder vector: (v0, A[:,k])
      const beta = 2 / (v0 * v0 + norm2);
      // Apply H = I − β v vᵀ to remaining columns j > k and to (z, b).
      const rk = k * n;
      let j = k + 1;
      for (; j + 3 < n; j += 4) {
        const c0 = j * m, c1 = c0 + m, c2 = c1 + m, c3 = c2 + m;
        let s0 = v0 * R[rk + j], s1 = v0 * R[rk + j + 1], s2 = v0 * R[rk + j + 2], s3 = v0 * R[rk + j + 3];
        for (let i = 0; i < mk; i++) {
          const v = C[ck + i];
          s0 += v * C[c0 + i]; s1 += v * C[c1 + i]; s2 += v * C[c2 + i]; s3 += v * C[c3 + i];
        }
        s0 *= beta; s1 *= beta; s2 *= beta; s3 *= beta;
        R[rk + j] -= s0 * v0; R[rk + j + 1] -= s1 * v0; R[rk + j + 2] -= s2 * v0; R[rk + j + 3] -= s3 * v0;
        for (let i = 0; i < mk; i++) {
          const v = C[ck + i];
          C[c0 + i] -= s0 * v; C[c1 + i] -= s1 * v; C[c2 + i] -= s2 * v; C[c3 + i] -= s3 * v;
        }
      }
      for (; j + 1 < n; j += 2) {
        const cj = j * m, cj1 = cj + m;
        let s = v0 * R[rk + j], s1 = v0 * R[rk + j + 1];
        for (let i = 0; i < mk; i++) { const v = C[ck + i]; s += v * C[cj + i]; s1 += v * C[cj1 + i]; }
        s *= beta; s1 *= beta;
        if (s === 0 && s1 === 0) continue;
        R[rk + j] -= s * v0;
        R[rk + j + 1] -= s1 * v0;
        for (let i = 0; i < mk; i++) { const v = C[ck + i]; C[cj + i] -= s * v; C[cj1 + i] -= s1 * v; }
      }
      for (; j < n; j++) {
        const cj = j * m;
        let s = v0 * R[rk + j];
        for (let i = 0; i < mk; i++) s += C[ck + i] * C[cj + i];
        s *= beta;
        if (s === 0) continue;
        R[rk + j] -= s * v0;
        for (let i = 0; i < mk; i++) C[cj + i] -= s * C[ck + i];
      }
      {
        let s = v0 * z[k];
        for (let i = 0; i < mk; i++) s += C[ck + i] * b[i];
        s *= beta;
        z[k] -= s * v0;
        for (let i = 0; i < mk; i++) b[i] -= s * C[ck + i];
      }
      R[k * n + k] = alpha;
    }
    for (let i = 0; i < m; i++) this.residual2 += b[i] * b[i];
    this.rows += m;
  }

  /** Adds n rows forming an upper-triangular matrix T (row-major n×n) with right-hand side b (overwritten). */
  addUpperTriangular(T: Float64Array, b: Float64Array): void {
    const n = this.n;
    if (this.colBuf.length < n * n) this.colBuf = new Float64Array(n * n);
    const C = this.colBuf;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) C[j * n + i] = j >= i ? T[i * n + j] : 0;
    this.householder(C, b, n, true);
  }

  /** Adds another factorisation's rows (its R, z and residual) to this one. */
  merge(other: StreamingQR): void {
    const b = Float64Array.from(other.z);
    this.residual2 += other.residual2;
    const rows = this.rows + other.rows;
    this.addUpperTriangular(other.R, b);
    this.rows = rows;
  }

  clone(): StreamingQR {
    const q = new StreamingQR(this.n);
    q.R.set(this.R); q.z.set(this.z);
    q.residual2 = this.residual2; q.rows = this.rows;
    return q;
  }
}

/** SVD of a square n×n matrix M = U diag(s) Vᵀ by one-sided Jacobi (columns of U, V row-major). */
export function svdSquare(M: Float64Array, n: number): { U: Float64Array; s: Float64Array; V: Float64Array } {
  // Work on columns: W = M; rotate column pairs until orthogonal; V accumulates rotations.
  const W = Float64Array.from(M.subarray(0, n * n));
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  // Column-major copy for speed.
  const C = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) C[j * n + i] = W[i * n + j];
  const Vc = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Vc[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = 0;
    for (let p = 0; p < n - 1; p++) {
      const op = p * n;
      for (let q = p + 1; q < n; q++) {
        const oq = q * n;
        let alpha = 0, beta = 0, gamma = 0;
        for (let i = 0; i < n; i++) {
          const cp = C[op + i], cq = C[oq + i];
          alpha += cp * cp; beta += cq * cq; gamma += cp * cq;
        }
        if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta) || gamma === 0) continue;
        rotated++;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        for (let i = 0; i < n; i++) {
          const cp = C[op + i], cq = C[oq + i];
          C[op + i] = c * cp - s * cq;
          C[oq + i] = s * cp + c * cq;
          const vp = Vc[op + i], vq = Vc[oq + i];
          Vc[op + i] = c * vp - s * vq;
          Vc[oq + i] = s * vp + c * vq;
        }
      }
    }
    if (rotated === 0) break;
  }
  const s = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += C[j * n + i] * C[j * n + i];
    s[j] = Math.sqrt(ss);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => s[b] - s[a]);
  const U = new Float64Array(n * n), sOut = new Float64Array(n);
  order.forEach((src, dst) => {
    sOut[dst] = s[src];
    const inv = s[src] > 0 ? 1 / s[src] : 0;
    for (let i = 0; i < n; i++) {
      U[i * n + dst] = C[src * n + i] * inv;
      V[i * n + dst] = Vc[src * n + i];
    }
  });
  return { U, s: sOut, V };
}

/** Solves R x = z for upper-triangular R (n×n). */
export function backSubstitute(R: Float64Array, z: Float64Array, n: number): Float64Array {
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i];
    for (let j = i + 1; j < n; j++) s -= R[i * n + j] * x[j];
    x[i] = s / R[i * n + i];
  }
  return x;
}
