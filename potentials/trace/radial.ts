/**
 * Radial bases g_n(r), n = 0..N−1, that vanish with their first derivative at the
 * cutoff rc, evaluated with derivatives into caller-provided arrays.
 *
 * - 'poly': Legendre polynomials P_n(x) in x = 2(r/rc) − 1 times the envelope (1 − r/rc)²
 *   (ACEpotentials-style polynomial basis with a smooth cutoff envelope).
 * - 'chebexpcos' (PACE, Drautz 2019 / Lysogorskiy et al. 2021):
 *   x = 1 − 2(e^{−λ r/rc} − e^{−λ})/(1 − e^{−λ}), g_0 = 1, g_k = (1 − T_k(x))/2,
 *   all times (1 + cos(π r/rc))/2.
 * - 'agnesi' (distance-transformed polynomials, as ACE1.jl / ACEpotentials.jl build them;
 *   transform from their documentation: generalised Agnesi t(r) = 1/(1 + a s^q/(1 + s^{q−p})),
 *   s = r/r0, recommended p = 2, q = 4, default a = (−2q + p(4q − 2))/(p + p² + q + q²), which
 *   puts the steepest |t′| — the finest radial resolution — at the nearest-neighbour
 *   distance r0): u = (t(r) − t(rc))/(1 − t(rc)) ∈ [0, 1] (u(0) = 1, u(rc) = 0),
 *   x = 2u − 1, g_n = P_n(x) · u² (Legendre P_n; the envelope u² makes value and slope vanish at rc).
 */

export type RadialKind = 'poly' | 'chebexpcos' | 'agnesi';

export interface RadialSpec {
  kind: RadialKind;
  /** Number of radial functions N. */
  n: number;
  /** Cutoff, Å. */
  cutoff: number;
  /** chebexpcos: λ (default 5). */
  lambda?: number;
  /** agnesi: the distance of finest resolution r0, Å (required; 0 < r0 < cutoff). */
  r0?: number;
  /** agnesi: exponents p (default 2) and q (default 4), q ≥ p > 0. */
  p?: number;
  q?: number;
  /** agnesi: a > 0 (default (−2q + p(4q − 2))/(p + p² + q + q²)). */
  a?: number;
}

/** Default Agnesi a for exponents p, q (maximal |t′| at r = r0). */
export function agnesiDefaultA(p: number, q: number): number {
  return (-2 * q + p * (-2 + 4 * q)) / (p + p * p + q + q * q);
}

export class RadialBasis {
  readonly kind: RadialKind;
  readonly n: number;
  readonly cutoff: number;
  readonly lambda: number;
  private readonly code: number;
  private readonly t: Float64Array;
  /** r for values()/evaluate(), which run valuesAt/evaluateAt on it. */
  private readonly rBox = new Float64Array(1);
  private readonly dt: Float64Array;
  /** chebexpcos constants: e^{−λ}, 1/(1 − e^{−λ}), λ/rc, π/rc. */
  private readonly el: number;
  private readonly invOneMinusEl: number;
  private readonly lamOverRc: number;
  private readonly piOverRc: number;
  /** agnesi constants: r0, p, q, a, 1/r0, t(rc), 1/(1 − t(rc)). */
  readonly r0: number;
  readonly p: number;
  readonly q: number;
  readonly a: number;
  private readonly invR0: number;
  private readonly tc: number;
  private readonly invOneMinusTc: number;
  /** agnesi: q and q − p when small non-negative integers (else −1; q 0 never), for intPow. */
  private readonly qInt: number;
  private readonly qpInt: number;

  constructor(spec: RadialSpec) {
    if (spec.kind !== 'poly' && spec.kind !== 'chebexpcos' && spec.kind !== 'agnesi') throw new Error(`trace radial basis: unknown kind '${String(spec.kind)}' (poly, chebexpcos, agnesi)`);
    if (!Number.isInteger(spec.n) || spec.n < 1 || spec.n > 64) throw new Error(`trace radial basis: n must be an integer in 1..64, got ${spec.n}`);
    if (!(spec.cutoff > 0) || !Number.isFinite(spec.cutoff)) throw new Error(`trace radial basis: cutoff must be positive, got ${spec.cutoff}`);
    this.kind = spec.kind;
    this.n = spec.n;
    this.cutoff = spec.cutoff;
    this.lambda = spec.lambda ?? 5;
    if (!(this.lambda > 0)) throw new Error(`trace radial basis: lambda must be positive, got ${this.lambda}`);
    this.code = spec.kind === 'poly' ? 0 : spec.kind === 'chebexpcos' ? 1 : 2;
    this.r0 = this.p = this.q = this.a = this.invR0 = this.tc = 0;
    this.invOneMinusTc = 1;
    this.qInt = -1; this.qpInt = -1;
    if (this.code === 2) {
      const r0 = spec.r0, p = spec.p ?? 2, q = spec.q ?? 4;
      if (typeof r0 !== 'number' || !(r0 > 0 && r0 < spec.cutoff)) throw new Error(`trace radial basis: agnesi needs r0 with 0 < r0 < cutoff (${spec.cutoff}), got ${String(r0)}`);
      if (!(Number.isFinite(p) && Number.isFinite(q) && p > 0 && q >= p)) throw new Error(`trace radial basis: agnesi needs exponents q ≥ p > 0, got p = ${p}, q = ${q}`);
      const a = spec.a ?? agnesiDefaultA(p, q);
      if (!(a > 0 && Number.isFinite(a))) throw new Error(`trace radial basis: agnesi needs a > 0, got ${a}`);
      this.r0 = r0; this.p = p; this.q = q; this.a = a;
      this.invR0 = 1 / r0;
      const sc = spec.cutoff / r0;
      this.tc = 1 / (1 + (a * Math.pow(sc, q)) / (1 + Math.pow(sc, q - p)));
      this.invOneMinusTc = 1 / (1 - this.tc);
      const small = (k: number): number => (Number.isInteger(k) && k >= 0 && k <= 8 ? k : -1);
      this.qInt = small(q) > 0 ? q : -1;
      this.qpInt = small(q - p);
    }
    this.t = new Float64Array(spec.n + 1);
    this.dt = new Float64Array(spec.n + 1);
    this.el = Math.exp(-this.lambda);
    this.invOneMinusEl = 1 / (1 - this.el);
    this.lamOverRc = this.lambda / this.cutoff;
    this.piOverRc = Math.PI / this.cutoff;
  }

  spec(): RadialSpec {
    if (this.kind === 'chebexpcos') return { kind: this.kind, n: this.n, cutoff: this.cutoff, lambda: this.lambda };
    if (this.kind === 'agnesi') return { kind: this.kind, n: this.n, cutoff: this.cutoff, r0: this.r0, p: this.p, q: this.q, a: this.a };
    return { kind: this.kind, n: this.n, cutoff: this.cutoff };
  }

  /** agnesi: u(r) = (t(r) − t(rc))/(1 − t(rc)) and du/dr (r > 0). */
  private agnesiU(r: number, out: Float64Array): void {
    const s = r * this.invR0, p = this.p, q = this.q, a = this.a;
    // Integer exponents (the usual p, q) by multiplication, else Math.pow.
    const sq = this.qInt > 0 ? intPow(s, this.qInt) : Math.pow(s, q);
    const sd = this.qpInt >= 0 ? intPow(s, this.qpInt) : Math.pow(s, q - p), den = 1 + sd;
    const h = (a * sq) / den, t = 1 / (1 + h);
    // dh/ds = a s^{q−1} (q + p s^{q−p}) / (1 + s^{q−p})²;  dt/dr = −t² dh/ds / r0.
    const dh = s > 0 ? (a * (sq / s) * (q + p * sd)) / (den * den) : 0;
    out[0] = (t - this.tc) * this.invOneMinusTc;
    out[1] = -t * t * dh * this.invR0 * this.invOneMinusTc;
  }

  /** g_k = P_k(x)·env, k < n: Legendre polynomials times an envelope ('poly', 'agnesi'). */
  private legendreValues(x: number, env: number, g: Float64Array, off: number): void {
    const N = this.n;
    let t2 = 1, t1 = x;
    g[off] = env;
    if (N > 1) g[off + 1] = x * env;
    for (let k = 2; k < N; k++) {
      const tk = ((2 * k - 1) * x * t1 - (k - 1) * t2) / k;
      t2 = t1; t1 = tk;
      g[off + k] = tk * env;
    }
  }

  /** As legendreValues, with dg_k/dr from dx/dr and denv/dr (the recursion uses the t, dt scratch). */
  private legendreDerivatives(x: number, dxdr: number, env: number, denv: number, g: Float64Array, dg: Float64Array, off: number): void {
    const N = this.n, t = this.t, dt = this.dt;
    t[0] = 1; dt[0] = 0;
    if (N > 1) { t[1] = x; dt[1] = 1; }
    for (let k = 2; k < N; k++) {
      t[k] = ((2 * k - 1) * x * t[k - 1] - (k - 1) * t[k - 2]) / k;
      dt[k] = dt[k - 2] + (2 * k - 1) * t[k - 1];
    }
    for (let k = 0; k < N; k++) {
      g[off + k] = t[k] * env;
      dg[off + k] = dt[k] * dxdr * env + t[k] * denv;
    }
  }

  /** Writes g_n(r) (no derivatives) into g[off..off+n); zero beyond the cutoff. */
  values(r: number, g: Float64Array, off: number): void {
    this.rBox[0] = r;
    this.valuesAt(this.rBox, 0, g, off);
  }

  /**
   * values() at r = rs[k]: for per-neighbour loops, which keep the distances in an array
   * (a call V8 does not inline boxes a double argument, an allocation per neighbour).
   */
  valuesAt(rs: Float64Array, k: number, g: Float64Array, off: number): void {
    const r = rs[k], N = this.n, rc = this.cutoff;
    if (r >= rc) {
      for (let k = 0; k < N; k++) g[off + k] = 0;
      return;
    }
    if (this.code === 0) {
      const s = r / rc;
      this.legendreValues(2 * s - 1, (1 - s) * (1 - s), g, off);
      return;
    }
    if (this.code === 2) {
      const uu = this.t;
      this.agnesiU(r, uu);
      const u = uu[0];
      this.legendreValues(2 * u - 1, u * u, g, off);
      return;
    }
    const e = Math.exp(-this.lamOverRc * r);
    const x = 1 - 2 * (e - this.el) * this.invOneMinusEl;
    const env = 0.5 * (1 + Math.cos(this.piOverRc * r)), henv = 0.5 * env, x2 = 2 * x;
    g[off] = env;
    if (N === 1) return;
    let t2 = 1, t1 = x;
    g[off + 1] = henv - henv * t1;
    for (let k = 2; k < N; k++) {
      const tk = x2 * t1 - t2;
      t2 = t1; t1 = tk;
      g[off + k] = henv - henv * tk;
    }
  }

  /** Writes g_n(r) and dg_n/dr into g[off..off+n), dg[off..off+n); zero beyond the cutoff. */
  evaluate(r: number, g: Float64Array, dg: Float64Array, off: number): void {
    this.rBox[0] = r;
    this.evaluateAt(this.rBox, 0, g, dg, off);
  }

  /** evaluate() at r = rs[k] (see valuesAt). */
  evaluateAt(rs: Float64Array, k: number, g: Float64Array, dg: Float64Array, off: number): void {
    const r = rs[k], N = this.n, rc = this.cutoff;
    if (r >= rc) {
      for (let k = 0; k < N; k++) { g[off + k] = 0; dg[off + k] = 0; }
      return;
    }
    const t = this.t;
    if (this.code === 0) {
      const s = r / rc;
      this.legendreDerivatives(2 * s - 1, 2 / rc, (1 - s) * (1 - s), (-2 * (1 - s)) / rc, g, dg, off);
      return;
    }
    if (this.code === 2) {
      this.agnesiU(r, t);
      const u = t[0], dudr = t[1];
      this.legendreDerivatives(2 * u - 1, 2 * dudr, u * u, 2 * u * dudr, g, dg, off);
      return;
    }
    const el = this.el, inv = this.invOneMinusEl, lr = this.lamOverRc, pr = this.piOverRc;
    const e = Math.exp(-lr * r);
    const x = 1 - 2 * (e - el) * inv;
    const dxdr = 2 * lr * e * inv;
    const th = pr * r, c = Math.cos(th), env = 0.5 * (1 + c);
    const denv = -0.5 * pr * Math.sin(th);
    g[off] = env; dg[off] = denv;
    if (N === 1) return;
    // Chebyshev T_k and derivatives in x: T_k' = 2 T_{k−1} + 2x T_{k−1}' − T_{k−2}'.
    let t2 = 1, d2 = 0, t1 = x, d1 = 1;
    {
      const gk = 0.5 * (1 - t1), dgk = -0.5 * d1 * dxdr;
      g[off + 1] = gk * env;
      dg[off + 1] = dgk * env + gk * denv;
    }
    for (let k = 2; k < N; k++) {
      const tk = 2 * x * t1 - t2, dk = 2 * t1 + 2 * x * d1 - d2;
      t2 = t1; d2 = d1; t1 = tk; d1 = dk;
      const gk = 0.5 * (1 - tk), dgk = -0.5 * dk * dxdr;
      g[off + k] = gk * env;
      dg[off + k] = dgk * env + gk * denv;
    }
  }
}

/** s^k for a small non-negative integer k. */
function intPow(s: number, k: number): number {
  let v = 1;
  for (let i = 0; i < k; i++) v *= s;
  return v;
}
