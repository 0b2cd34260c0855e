/**
 * Real, orthonormal spherical harmonics Y_lm(r̂) and their Cartesian gradients
 * with respect to the (unnormalised) vector r.
 *
 * Convention (no Condon–Shortley phase; index lm = l² + l + m):
 *   Y_l0     = K_l^0 P̄_l^0(z)
 *   Y_l,m>0  = √2 K_l^m P̄_l^m(z) C_m(x, y)      C_m = Re (x + iy)^m
 *   Y_l,−m   = √2 K_l^m P̄_l^m(z) S_m(x, y)      S_m = Im (x + iy)^m
 * with K_l^m = √((2l+1)/(4π) (l−m)!/(l+m)!) and P̄_l^m = d^m P_l / dz^m, so that on
 * the unit sphere P̄_l^m(z)·(1−z²)^{m/2} cos mφ = P̄_l^m(z) C_m(x, y).
 *
 * Gradient: Y(r) = G(r/|r|) for the polynomial extension G(x, y, z) written above,
 * so ∇_r Y = (I − r̂ r̂ᵀ) ∇G(r̂) / r, with ∂P̄_l^m/∂z = P̄_l^{m+1},
 * ∂C_m/∂x = m C_{m−1}, ∂C_m/∂y = −m S_{m−1}, ∂S_m/∂x = m S_{m−1}, ∂S_m/∂y = m C_{m−1}.
 */

import { WasmFunction } from './wasm.ts';

export function lmIndex(l: number, m: number): number {
  return l * l + l + m;
}

/**
 * Y_lm at the unit vector (u[uo], u[uo+1], u[uo+2]) into out[offset + lm] (compiled form
 * of SphericalHarmonics.values). The vector comes in an array, not as three numbers: a
 * call V8 does not inline boxes each double argument, an allocation per neighbour.
 */
export type ShValues = (u: Float64Array, uo: number, out: Float64Array, offset: number) => void;
/** Y_lm and ∇G_lm at the unit vector u[uo..uo+3) (compiled form of SphericalHarmonics.valuesAndPolyGradients). */
export type ShPolyGradients = (u: Float64Array, uo: number, out: Float64Array, grad: Float64Array, offset: number) => void;

export class SphericalHarmonics {
  readonly lmax: number;
  /** Number of (l, m) entries: (lmax+1)². */
  readonly size: number;
  /** Normalisation per (l, m ≥ 0), index l(l+1)/2 + m, including the √2 for m > 0. */
  private readonly norm: Float64Array;
  /** P̄_l^m(z) for 0 ≤ m ≤ l+1 (m = l+1 is zero), index l(lmax+2) + m. */
  private readonly p: Float64Array;
  private readonly c: Float64Array;
  private readonly s: Float64Array;
  /** Recursion P̄_l^m = α z P̄_{l−1}^m − β P̄_{l−2}^m: α = (2l−1)/(l−m), β = (l+m−1)/(l−m) at l(lmax+2)+m; P̄_m^m = (2m−1)!!. */
  private readonly alpha: Float64Array;
  private readonly beta: Float64Array;
  private readonly pmm: Float64Array;
  /**
   * `values` and `valuesAndPolyGradients` compiled at construction to straight-line code
   * for this lmax (recursion unrolled into locals, constants as literals, same operations
   * in the same order, so the same bits): the MD hot path calls these.
   */
  readonly valuesFast: ShValues;
  readonly polyGradientsFast: ShPolyGradients;

  constructor(lmax: number) {
    if (!Number.isInteger(lmax) || lmax < 0 || lmax > 20) throw new Error(`spherical harmonics: lmax must be an integer in 0..20, got ${lmax}`);
    this.lmax = lmax;
    this.size = (lmax + 1) * (lmax + 1);
    this.norm = new Float64Array(((lmax + 1) * (lmax + 2)) / 2);
    for (let l = 0; l <= lmax; l++) {
      for (let m = 0; m <= l; m++) {
        let ratio = 1; // (l−m)!/(l+m)!
        for (let k = l - m + 1; k <= l + m; k++) ratio /= k;
        const k = Math.sqrt(((2 * l + 1) / (4 * Math.PI)) * ratio);
        this.norm[(l * (l + 1)) / 2 + m] = m === 0 ? k : Math.SQRT2 * k;
      }
    }
    this.p = new Float64Array((lmax + 1) * (lmax + 2) + 2);
    this.c = new Float64Array(lmax + 1);
    this.s = new Float64Array(lmax + 1);
    const w = lmax + 2;
    this.alpha = new Float64Array((lmax + 1) * w);
    this.beta = new Float64Array((lmax + 1) * w);
    this.pmm = new Float64Array(lmax + 1);
    let dfact = 1;
    for (let m = 0; m <= lmax; m++) {
      if (m > 0) dfact *= 2 * m - 1;
      this.pmm[m] = dfact;
      for (let l = m + 2; l <= lmax; l++) {
        this.alpha[l * w + m] = (2 * l - 1) / (l - m);
        this.beta[l * w + m] = (l + m - 1) / (l - m);
      }
    }
    this.valuesFast = new Function('u', 'uo', 'out', 'offset', this.source(false).join('\n')) as ShValues;
    this.polyGradientsFast = new Function('u', 'uo', 'out', 'grad', 'offset', this.source(true).join('\n')) as ShPolyGradients;
  }

  /** Straight-line source of `values` (grad false) or `valuesAndPolyGradients` (grad true). */
  private source(grad: boolean): string[] {
    const L = this.lmax, w = L + 2, lit = (v: number): string => `(${String(v)})`;
    const src = [`'use strict';`, 'const x = u[uo], y = u[uo + 1], z = u[uo + 2];', 'const c0 = 1, s0 = 0;'];
    for (let m = 1; m <= L; m++) src.push(`const c${m} = x * c${m - 1} - y * s${m - 1}, s${m} = x * s${m - 1} + y * c${m - 1};`);
    for (let m = 0; m <= L; m++) {
      src.push(`const p${m}_${m} = ${lit(this.pmm[m])};`);
      if (m + 1 <= L) src.push(`const p${m + 1}_${m} = ${2 * m + 1} * z * p${m}_${m};`);
      for (let l = m + 2; l <= L; l++) {
        const q = l * w + m;
        src.push(`const p${l}_${m} = ${lit(this.alpha[q])} * z * p${l - 1}_${m} - ${lit(this.beta[q])} * p${l - 2}_${m};`);
      }
    }
    src.push('let a = 0, am = 0, az = 0;');
    for (let l = 0; l <= L; l++) {
      const nb = (l * (l + 1)) >> 1, base = l * l + l;
      const pz = (m: number): string => (m + 1 <= l ? `p${l}_${m + 1}` : '0');
      src.push(`out[offset + ${base}] = ${lit(this.norm[nb])} * p${l}_0;`);
      if (grad) src.push(`grad[3 * offset + ${3 * base}] = 0; grad[3 * offset + ${3 * base + 1}] = 0; grad[3 * offset + ${3 * base + 2}] = ${lit(this.norm[nb])} * ${pz(0)};`);
      for (let m = 1; m <= l; m++) {
        const nm = lit(this.norm[nb + m]);
        src.push(`a = ${nm} * p${l}_${m};`);
        src.push(`out[offset + ${base + m}] = a * c${m}; out[offset + ${base - m}] = a * s${m};`);
        if (grad) {
          src.push(`am = a * ${m}; az = ${nm} * ${pz(m)};`);
          src.push(`grad[3 * offset + ${3 * (base + m)}] = am * c${m - 1}; grad[3 * offset + ${3 * (base + m) + 1}] = -am * s${m - 1}; grad[3 * offset + ${3 * (base + m) + 2}] = az * c${m};`);
          src.push(`grad[3 * offset + ${3 * (base - m)}] = am * s${m - 1}; grad[3 * offset + ${3 * (base - m) + 1}] = am * c${m - 1}; grad[3 * offset + ${3 * (base - m) + 2}] = az * s${m};`);
        }
      }
    }
    return src;
  }

  /**
   * `values` (grad false) or `valuesAndPolyGradients` (grad true) of two unit vectors at
   * once as a WebAssembly function of byte addresses (see wasm.ts): parameters ua, ub
   * (the vectors, 3 f64 each), ya, yb (their Y rows) and, with grad, ga, gb (their ∇G
   * rows). Each lane of an f64x2 one vector, with the operations of `source` in its
   * order: the same bits as polyGradientsFast and valuesFast.
   */
  wasmKernel(grad: boolean, exportName: string): WasmFunction {
    const L = this.lmax, w = L + 2;
    const f = new WasmFunction(exportName, grad ? 6 : 4);
    const UA = 0, UB = 1, YA = 2, YB = 3, GA = 4, GB = 5;
    const vec = (): number => f.v128();
    const load = (component: number): number => {
      const v = vec();
      f.get(UA).loadF64(8 * component).splatF64x2().get(UB).loadF64(8 * component).replaceLane(1).set(v);
      return v;
    };
    const x = load(0), y = load(1), z = load(2);
    const c: number[] = [vec()], s: number[] = [vec()];
    f.constF64x2(1).set(c[0]).constF64x2(0).set(s[0]);
    for (let m = 1; m <= L; m++) {
      c.push(vec()); s.push(vec());
      f.get(x).get(c[m - 1]).mulF64x2().get(y).get(s[m - 1]).mulF64x2().subF64x2().set(c[m]);
      f.get(x).get(s[m - 1]).mulF64x2().get(y).get(c[m - 1]).mulF64x2().addF64x2().set(s[m]);
    }
    const p: number[][] = Array.from({ length: L + 1 }, () => []);
    for (let m = 0; m <= L; m++) {
      p[m][m] = vec();
      f.constF64x2(this.pmm[m]).set(p[m][m]);
      if (m + 1 <= L) {
        p[m + 1][m] = vec();
        f.constF64x2(2 * m + 1).get(z).mulF64x2().get(p[m][m]).mulF64x2().set(p[m + 1][m]);
      }
      for (let l = m + 2; l <= L; l++) {
        const q = l * w + m;
        p[l][m] = vec();
        f.constF64x2(this.alpha[q]).get(z).mulF64x2().get(p[l - 1][m]).mulF64x2();
        f.constF64x2(this.beta[q]).get(p[l - 2][m]).mulF64x2().subF64x2().set(p[l][m]);
      }
    }
    // Stores lane 0 at (a + offset) and lane 1 at (b + offset) of the value in local v.
    const store = (a: number, b: number, offset: number, v: number): void => {
      f.get(a).get(v).extractLane(0).storeF64(offset).get(b).get(v).extractLane(1).storeF64(offset);
    };
    const t = vec(), a = vec(), am = vec(), az = vec(), neg = vec(), zero = vec();
    f.constF64x2(0).set(zero);
    // nrm · P̄_l^{m+1} (the z derivative), a literal 0 times nrm where m + 1 > l, as in `source`.
    const pz = (l: number, m: number, nrm: number): void => {
      f.constF64x2(nrm);
      if (m + 1 <= l) f.get(p[l][m + 1]); else f.constF64x2(0);
      f.mulF64x2();
    };
    for (let l = 0; l <= L; l++) {
      const nb = (l * (l + 1)) >> 1, base = l * l + l;
      f.constF64x2(this.norm[nb]).get(p[l][0]).mulF64x2().set(t);
      store(YA, YB, 8 * base, t);
      if (grad) {
        store(GA, GB, 8 * 3 * base, zero);
        store(GA, GB, 8 * (3 * base + 1), zero);
        pz(l, 0, this.norm[nb]); f.set(t);
        store(GA, GB, 8 * (3 * base + 2), t);
      }
      for (let m = 1; m <= l; m++) {
        const nm = this.norm[nb + m];
        f.constF64x2(nm).get(p[l][m]).mulF64x2().set(a);
        f.get(a).get(c[m]).mulF64x2().set(t); store(YA, YB, 8 * (base + m), t);
        f.get(a).get(s[m]).mulF64x2().set(t); store(YA, YB, 8 * (base - m), t);
        if (!grad) continue;
        f.get(a).constF64x2(m).mulF64x2().set(am);
        pz(l, m, nm); f.set(az);
        f.get(am).negF64x2().set(neg);
        f.get(am).get(c[m - 1]).mulF64x2().set(t); store(GA, GB, 8 * 3 * (base + m), t);
        f.get(neg).get(s[m - 1]).mulF64x2().set(t); store(GA, GB, 8 * (3 * (base + m) + 1), t);
        f.get(az).get(c[m]).mulF64x2().set(t); store(GA, GB, 8 * (3 * (base + m) + 2), t);
        f.get(am).get(s[m - 1]).mulF64x2().set(t); store(GA, GB, 8 * 3 * (base - m), t);
        f.get(am).get(c[m - 1]).mulF64x2().set(t); store(GA, GB, 8 * (3 * (base - m) + 1), t);
        f.get(az).get(s[m]).mulF64x2().set(t); store(GA, GB, 8 * (3 * (base - m) + 2), t);
      }
    }
    return f;
  }

  /** Fills P̄_l^m(z), C_m, S_m for the unit vector (x, y, z). */
  private tables(x: number, y: number, z: number): void {
    const L = this.lmax, w = L + 2, p = this.p, c = this.c, s = this.s;
    c[0] = 1; s[0] = 0;
    for (let m = 1; m <= L; m++) {
      c[m] = x * c[m - 1] - y * s[m - 1];
      s[m] = x * s[m - 1] + y * c[m - 1];
    }
    // P̄_m^m = (2m−1)!!, P̄_{m+1}^m = (2m+1) z P̄_m^m, then the three-term recursion in l.
    const al = this.alpha, be = this.beta, pmm = this.pmm;
    // The recursion runs in registers (a store-to-load chain through p is slow).
    for (let m = 0; m <= L; m++) {
      let p2 = pmm[m];
      p[m * w + m] = p2;
      if (m + 1 > L) continue;
      let p1 = (2 * m + 1) * z * p2;
      p[(m + 1) * w + m] = p1;
      for (let l = m + 2; l <= L; l++) {
        const q = l * w + m, pn = al[q] * z * p1 - be[q] * p2;
        p[q] = pn; p2 = p1; p1 = pn;
      }
    }
    // p[l·w + l + 1] (P̄_l^{l+1} = 0) is never written: zero since construction.
  }

  /** Y_lm at the unit vector (x, y, z), written into out[offset..offset+size). */
  values(x: number, y: number, z: number, out: Float64Array, offset = 0): void {
    const L = this.lmax, w = L + 2, c = this.c, s = this.s, nrm = this.norm, al = this.alpha, be = this.beta, pmm = this.pmm;
    c[0] = 1; s[0] = 0;
    for (let m = 1; m <= L; m++) {
      c[m] = x * c[m - 1] - y * s[m - 1];
      s[m] = x * s[m - 1] + y * c[m - 1];
    }
    // Column m of P̄_l^m by the recursion in l (in registers), written straight out.
    for (let m = 0; m <= L; m++) {
      const cm = c[m], sm = s[m];
      let p2 = pmm[m], p1 = 0;
      for (let l = m; l <= L; l++) {
        let pl: number;
        if (l === m) pl = p2;
        else if (l === m + 1) { p1 = (2 * m + 1) * z * p2; pl = p1; }
        else { const q = l * w + m; pl = al[q] * z * p1 - be[q] * p2; p2 = p1; p1 = pl; }
        const a = nrm[((l * (l + 1)) >> 1) + m] * pl, base = offset + l * l + l;
        if (m === 0) out[base] = a;
        else { out[base + m] = a * cm; out[base - m] = a * sm; }
      }
    }
  }

  /**
   * Y_lm at the unit vector r̂ = (x, y, z) and the gradient ∇G_lm(r̂) of the polynomial
   * extension G (not projected), written as out[offset + lm] and grad[3·(offset + lm) + α].
   * The MD evaluator contracts these first and projects once: Σ t_lm ∇_r Y_lm =
   * (I − r̂ r̂ᵀ)(Σ t_lm ∇G_lm)/r.
   */
  valuesAndPolyGradients(x: number, y: number, z: number, out: Float64Array, grad: Float64Array, offset: number): void {
    this.tables(x, y, z);
    const L = this.lmax, w = L + 2, p = this.p, c = this.c, s = this.s, nrm = this.norm;
    for (let l = 0; l <= L; l++) {
      const base = offset + l * l + l, nb = (l * (l + 1)) >> 1, row = l * w;
      const n0 = nrm[nb];
      out[base] = n0 * p[row];
      let q = 3 * base;
      grad[q] = 0; grad[q + 1] = 0; grad[q + 2] = n0 * p[row + 1];
      for (let m = 1; m <= l; m++) {
        const nm = nrm[nb + m], a = nm * p[row + m], am = a * m, az = nm * p[row + m + 1];
        const cm = c[m], sm = s[m], cm1 = c[m - 1], sm1 = s[m - 1];
        out[base + m] = a * cm;
        q = 3 * (base + m);
        grad[q] = am * cm1; grad[q + 1] = -am * sm1; grad[q + 2] = az * cm;
        out[base - m] = a * sm;
        q = 3 * (base - m);
        grad[q] = am * sm1; grad[q + 1] = am * cm1; grad[q + 2] = az * sm;
      }
    }
  }

  /**
   * Y_lm at r̂ = (x, y, z) (a unit vector) and ∇_r Y_lm for |r| = 1/invR, written as
   * out[lm] and grad[3·lm + α].
   */
  valuesAndGradients(x: number, y: number, z: number, invR: number, out: Float64Array, grad: Float64Array, offset = 0): void {
    this.tables(x, y, z);
    const L = this.lmax, w = L + 2, p = this.p, c = this.c, s = this.s, nrm = this.norm;
    for (let l = 0; l <= L; l++) {
      const base = l * l + l, nb = (l * (l + 1)) >> 1;
      const row = l * w;
      // m = 0: G = N P̄_l^0; ∇G = (0, 0, N P̄_l^1).
      {
        const n0 = nrm[nb];
        out[offset + base] = n0 * p[row];
        const gz = n0 * p[row + 1];
        const dot = z * gz;
        const q = 3 * (offset + base);
        grad[q] = -x * dot * invR;
        grad[q + 1] = -y * dot * invR;
        grad[q + 2] = (gz - z * dot) * invR;
      }
      for (let m = 1; m <= l; m++) {
        const nm = nrm[nb + m], pm = p[row + m], pm1 = p[row + m + 1];
        const a = nm * pm, am = a * m, az = nm * pm1;
        // cos type
        {
          out[offset + base + m] = a * c[m];
          const gx = am * c[m - 1], gy = -am * s[m - 1], gz = az * c[m];
          const dot = x * gx + y * gy + z * gz;
          const q = 3 * (offset + base + m);
          grad[q] = (gx - x * dot) * invR;
          grad[q + 1] = (gy - y * dot) * invR;
          grad[q + 2] = (gz - z * dot) * invR;
        }
        // sin type
        {
          out[offset + base - m] = a * s[m];
          const gx = am * s[m - 1], gy = am * c[m - 1], gz = az * s[m];
          const dot = x * gx + y * gy + z * gz;
          const q = 3 * (offset + base - m);
          grad[q] = (gx - x * dot) * invR;
          grad[q + 1] = (gy - y * dot) * invR;
          grad[q + 2] = (gz - z * dot) * invR;
        }
      }
    }
  }
}
