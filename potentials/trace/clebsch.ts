/**
 * Clebsch–Gordan coefficients (Racah's formula, integer angular momenta) and
 * generalised rotation-invariant couplings of ν real spherical harmonics.
 *
 * The coupling of (l_1..l_ν) couples left to right through intermediate momenta
 * L_2..L_{ν−1} to total L = 0 in the complex (Condon–Shortley) basis, then maps
 * each factor to the real harmonics of sph.ts:
 *   Y^c_{l,m}  = (−1)^m (Y_m + i Y_{−m})/√2,   Y^c_{l,−m} = (Y_m − i Y_{−m})/√2   (m > 0).
 * For Σl even the result is real (Drautz 2019, PRB 99 014104; Dusson et al. 2022).
 */

const FACT: number[] = [1];
for (let k = 1; k <= 60; k++) FACT.push(FACT[k - 1] * k);

function fact(n: number): number {
  if (n < 0 || n > 60) throw new Error(`factorial argument ${n} out of range`);
  return FACT[n];
}

/** ⟨l1 m1 l2 m2 | L M⟩ for integer momenta. */
export function clebschGordan(l1: number, m1: number, l2: number, m2: number, L: number, M: number): number {
  if (m1 + m2 !== M) return 0;
  if (L < Math.abs(l1 - l2) || L > l1 + l2) return 0;
  if (Math.abs(m1) > l1 || Math.abs(m2) > l2 || Math.abs(M) > L) return 0;
  const pre = Math.sqrt(
    ((2 * L + 1) * fact(L + l1 - l2) * fact(L - l1 + l2) * fact(l1 + l2 - L)) / fact(l1 + l2 + L + 1),
  ) * Math.sqrt(fact(L + M) * fact(L - M) * fact(l1 - m1) * fact(l1 + m1) * fact(l2 - m2) * fact(l2 + m2));
  let sum = 0;
  const kmin = Math.max(0, l2 - L - m1, l1 - L + m2);
  const kmax = Math.min(l1 + l2 - L, l1 - m1, l2 + m2);
  for (let k = kmin; k <= kmax; k++) {
    const d = fact(k) * fact(l1 + l2 - L - k) * fact(l1 - m1 - k) * fact(l2 + m2 - k) * fact(L - l2 + m1 + k) * fact(L - l1 - m2 + k);
    sum += (k % 2 === 0 ? 1 : -1) / d;
  }
  return pre * sum;
}

/** Intermediate coupling paths [L_2..L_{ν−1}] for (l_1..l_ν) to total 0. */
export function couplingPaths(ls: readonly number[]): number[][] {
  const nu = ls.length;
  if (nu === 1) return ls[0] === 0 ? [[]] : [];
  const paths: number[][] = [];
  const walk = (t: number, prev: number, acc: number[]): void => {
    // prev = L_{t} (coupled momentum of the first t factors, t ≥ 1); next factor index t.
    if (t === nu - 1) {
      if (prev === ls[nu - 1]) paths.push(acc.slice());
      return;
    }
    const l = ls[t];
    for (let L = Math.abs(prev - l); L <= prev + l; L++) {
      acc.push(L);
      walk(t + 1, L, acc);
      acc.pop();
    }
  };
  walk(1, ls[0], []);
  return paths;
}

/**
 * Real coupling coefficients U[path][flat m-tuple] for the real harmonics, where the
 * flat index runs over m_1..m_ν (m_t + l_t in 0..2l_t, last index fastest).
 */
export function realCouplings(ls: readonly number[]): Float64Array[] {
  const nu = ls.length;
  const dims = ls.map((l) => 2 * l + 1);
  const size = dims.reduce((a, b) => a * b, 1);
  const out: Float64Array[] = [];
  const mu = new Array<number>(nu).fill(0);
  for (const path of couplingPaths(ls)) {
    // Complex coefficients over complex m-tuples.
    const Lchain = [ls[0], ...path, 0];
    const uc = new Float64Array(size);
    for (let f = 0; f < size; f++) {
      let rem = f;
      for (let t = nu - 1; t >= 0; t--) { mu[t] = (rem % dims[t]) - ls[t]; rem = Math.floor(rem / dims[t]); }
      let M = mu[0], v = 1;
      for (let t = 1; t < nu && v !== 0; t++) {
        const Mn = M + mu[t];
        v *= clebschGordan(Lchain[t - 1], M, ls[t], mu[t], Lchain[t], Mn);
        M = Mn;
      }
      uc[f] = M === 0 ? v : 0;
    }
    // Map each factor to the real basis: U^r_m = Σ_μ U^c_μ Π_t S_{μ_t m_t}.
    let re = uc, im = new Float64Array(size);
    let stride = size;
    for (let t = 0; t < nu; t++) {
      const d = dims[t], l = ls[t];
      stride /= d;
      const nre = new Float64Array(size), nim = new Float64Array(size);
      for (let f = 0; f < size; f++) {
        const vr = re[f], vi = im[f];
        if (vr === 0 && vi === 0) continue;
        const idx = Math.floor(f / stride) % d;
        const m = idx - l;
        const base = f - idx * stride;
        if (m === 0) { nre[f] += vr; nim[f] += vi; continue; }
        const am = Math.abs(m), sgn = am % 2 === 0 ? 1 : -1;
        const fp = base + (am + l) * stride, fn = base + (-am + l) * stride;
        // S_{μ, m}: μ = +am → (sgn/√2) at m = +am, (i sgn/√2) at m = −am;
        //           μ = −am → (1/√2) at +am, (−i/√2) at −am.
        const h = Math.SQRT1_2;
        if (m > 0) {
          nre[fp] += sgn * h * vr; nim[fp] += sgn * h * vi;
          nre[fn] += -sgn * h * vi; nim[fn] += sgn * h * vr;
        } else {
          nre[fp] += h * vr; nim[fp] += h * vi;
          nre[fn] += h * vi; nim[fn] += -h * vr;
        }
      }
      re = nre; im = nim;
    }
    let maxIm = 0, maxRe = 0;
    for (let f = 0; f < size; f++) { maxIm = Math.max(maxIm, Math.abs(im[f])); maxRe = Math.max(maxRe, Math.abs(re[f])); }
    if (maxIm > 1e-10 * Math.max(1, maxRe)) {
      if (maxRe > 1e-10) throw new Error(`coupling of l = (${ls.join(',')}) is neither real nor imaginary`);
      re = im; // a purely imaginary invariant: its imaginary part is the real invariant
    }
    for (let f = 0; f < size; f++) if (Math.abs(re[f]) < 1e-14) re[f] = 0;
    out.push(re);
  }
  return out;
}
