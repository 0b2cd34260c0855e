import { describe, expect, it } from 'vitest';
import { compilePolynomial } from '../potentials/trace/polygen.ts';
import { SphericalHarmonics } from '../potentials/trace/sph.ts';
import { Rng } from '../src/rng.ts';

// The compiled product-basis polynomial (polygen.ts) against the brute-force sum of
// monomials and its product-rule gradient, on random monomials of orders 1–4 with
// repeated factors, duplicated monomials and zero coefficients, two species blocks.

describe('compiled trace polynomial', () => {
  it('equals the monomial sum and its gradient', () => {
    const rng = new Rng(7), nA = 40, counts = [9, 150, 700, 300], S = 2;
    const start = new Int32Array(5);
    for (let nu = 1; nu <= 4; nu++) start[nu] = start[nu - 1] + counts[nu - 1];
    const nMono = start[4], idx = new Int32Array(4 * nMono).fill(-1);
    for (let nu = 1; nu <= 4; nu++) {
      for (let a = start[nu - 1]; a < start[nu]; a++) {
        // Small index range for the leading factors: many shared prefixes and repeats.
        for (let t = 0; t < nu; t++) idx[4 * a + t] = Math.floor(rng.uniform() * (t < 2 ? 12 : nA));
      }
    }
    const coef = new Float64Array(S * nMono);
    for (let k = 0; k < coef.length; k++) coef[k] = k % 17 === 0 ? 0 : rng.normal();
    const A = new Float64Array(nA);
    for (let v = 0; v < nA; v++) A[v] = rng.normal();
    for (let z = 0; z < S; z++) {
      const chunks = compilePolynomial(idx, start, coef, z * nMono);
      expect(chunks.length).toBeGreaterThan(1);
      const w = new Float64Array(nA);
      let e = 0;
      const part = new Float64Array(1);
      for (const f of chunks) { f(A, w, part); e += part[0]; }
      const wRef = new Float64Array(nA);
      let eRef = 0, scale = 0;
      for (let a = 0; a < nMono; a++) {
        const c = coef[z * nMono + a];
        let prod = c;
        for (let t = 0; t < 4 && idx[4 * a + t] >= 0; t++) prod *= A[idx[4 * a + t]];
        eRef += prod; scale += Math.abs(prod);
        for (let t = 0; t < 4 && idx[4 * a + t] >= 0; t++) {
          let d = c;
          for (let u = 0; u < 4 && idx[4 * a + u] >= 0; u++) if (u !== t) d *= A[idx[4 * a + u]];
          wRef[idx[4 * a + t]] += d;
        }
      }
      expect(Math.abs(e - eRef)).toBeLessThan(1e-13 * scale);
      const wScale = Math.max(...Array.from(wRef, Math.abs));
      for (let v = 0; v < nA; v++) expect(Math.abs(w[v] - wRef[v])).toBeLessThan(1e-12 * wScale);
    }
  });
});

// The compiled spherical harmonics (straight-line code) against the looped methods they
// unroll (themselves checked against closed forms, orthonormality and, through the
// forces, finite differences): the same operations in the same order, so equal bits.
describe('compiled spherical harmonics', () => {
  it('equal the looped values and polynomial gradients bit for bit', () => {
    const rng = new Rng(5);
    for (let L = 0; L <= 6; L++) {
      const sh = new SphericalHarmonics(L), n = sh.size, off = 3;
      for (let t = 0; t < 20; t++) {
        const v = [rng.normal(), rng.normal(), rng.normal()], r = Math.hypot(v[0], v[1], v[2]);
        const [x, y, z] = t === 0 ? [0, 0, 1] : [v[0] / r, v[1] / r, v[2] / r];
        const y1 = new Float64Array(n + off), g1 = new Float64Array(3 * (n + off)), y2 = new Float64Array(n + off), g2 = new Float64Array(3 * (n + off)), y3 = new Float64Array(n + off);
        sh.valuesAndPolyGradients(x, y, z, y1, g1, off);
        const u = Float64Array.of(9, x, y, z); // the vector at an offset, as the evaluator passes it
        sh.polyGradientsFast(u, 1, y2, g2, off);
        sh.valuesFast(u, 1, y3, off);
        expect(Array.from(y2)).toEqual(Array.from(y1));
        expect(Array.from(y3)).toEqual(Array.from(y1));
        expect(Array.from(g2)).toEqual(Array.from(g1));
        expect(y1[off]).toBeCloseTo(Math.sqrt(1 / (4 * Math.PI)), 15);
      }
    }
  });
});
