import { describe, expect, it } from 'vitest';
import { compilePolynomial, interleaveWasm, polynomialTable, polynomialTableWasm } from '../potentials/trace/polygen.ts';
import { WasmArena, instantiate } from '../potentials/trace/wasm.ts';
import { SphericalHarmonics } from '../potentials/trace/sph.ts';
import { Rng } from '../src/rng.ts';

// The compiled product-basis polynomial (polygen.ts) against the brute-force sum of
// monomials and its product-rule gradient, on random monomials of orders 1–4 with
// repeated factors, duplicated monomials and zero coefficients, two species blocks.

function randomPolynomial(seed: number) {
  const rng = new Rng(seed), nA = 40, counts = [9, 150, 700, 300], S = 2;
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
  return { rng, nA, S, start, nMono, idx, coef, A };
}

describe('compiled trace polynomial', () => {
  it('equals the monomial sum and its gradient', () => {
    const { nA, S, start, nMono, idx, coef, A } = randomPolynomial(7);
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

  it('in WebAssembly, two atoms at once from a table: each lane has the bits of the JavaScript chunks', () => {
    const { rng, nA, S, start, nMono, idx, coef, A } = randomPolynomial(11);
    const B = Float64Array.from(A, () => rng.normal());
    const tables = Array.from({ length: S }, (_, z) => polynomialTable(idx, start, coef, z * nMono));
    // The A and ω rows start 8 bytes into their regions (they need not be 16-byte aligned).
    const arena = new WasmArena();
    const [a2, a0r, a1r, w0r, w1r, e2, ...tableAt] = arena.layout([4 * nA, nA + 1, nA + 1, nA + 1, nA + 1, 2, ...tables.map((t) => t.length)]);
    const a0 = a0r.subarray(1), a1 = a1r.subarray(1), w0 = w0r.subarray(1), w1 = w1r.subarray(1);
    const k = instantiate([polynomialTableWasm(nA, 'poly'), interleaveWasm(nA, 'interleave')], arena.memory);
    a0.set(A); a1.set(B);
    k.interleave(a0.byteOffset, a1.byteOffset, a2.byteOffset);
    for (let v = 0; v < nA; v++) { expect(a2[2 * v]).toBe(A[v]); expect(a2[2 * v + 1]).toBe(B[v]); }
    for (let z = 0; z < S; z++) {
      tableAt[z].set(tables[z]);
      const chunks = compilePolynomial(idx, start, coef, z * nMono);
      expect(chunks.length).toBeGreaterThan(1);
      // Twice: the kernel must leave its scratch at zero for the next call.
      for (let call = 0; call < 2; call++) {
        w0.fill(0); w1.fill(0);
        e2[0] = -1.25; e2[1] = -1.25;
        k.poly(a2.byteOffset, tableAt[z].byteOffset, w0.byteOffset, w1.byteOffset, e2.byteOffset);
        for (const [lane, X, W] of [[0, A, w0], [1, B, w1]] as const) {
          const w = new Float64Array(nA), part = new Float64Array(1);
          let e = -1.25;
          for (const f of chunks) { f(X, w, part); e += part[0]; }
          expect(e2[lane]).toBe(e);
          expect(Array.from(W)).toEqual(Array.from(w));
        }
        for (let v = 0; v < 2 * nA; v++) expect(a2[2 * nA + v]).toBe(0);
      }
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

  it('in WebAssembly, two vectors at once: each lane has the bits of the compiled JavaScript', () => {
    const rng = new Rng(9);
    for (let L = 0; L <= 6; L++) {
      const sh = new SphericalHarmonics(L), n = sh.size, arena = new WasmArena();
      const { shGrad, shVal } = instantiate([sh.wasmKernel(true, 'shGrad'), sh.wasmKernel(false, 'shVal')], arena.memory);
      // Rows at 8-byte (not 16-byte) offsets, as a neighbour slot's rows may be.
      const [u, ya, yb, ga, gb, yc, yd] = arena.layout([7, n + 1, n + 1, 3 * n + 1, 3 * n + 1, n + 1, n + 1]);
      for (let t = 0; t < 20; t++) {
        const unit = (): number[] => { const v = [rng.normal(), rng.normal(), rng.normal()], r = Math.hypot(v[0], v[1], v[2]); return v.map((c) => c / r); };
        const a = t === 0 ? [0, 0, 1] : unit(), b = t === 1 ? [0, 0, -1] : unit();
        u.set([...a, ...b], 1);
        const at = (v: Float64Array, k = 1): number => v.byteOffset + 8 * k;
        shGrad(at(u), at(u, 4), at(ya), at(yb), at(ga), at(gb));
        shVal(at(u), at(u, 4), at(yc), at(yd));
        for (const [vec, Y, G, V] of [[a, ya, ga, yc], [b, yb, gb, yd]] as const) {
          const y1 = new Float64Array(n), g1 = new Float64Array(3 * n), y2 = new Float64Array(n);
          sh.polyGradientsFast(Float64Array.from(vec), 0, y1, g1, 0);
          sh.valuesFast(Float64Array.from(vec), 0, y2, 0);
          expect(Array.from(Y.subarray(1))).toEqual(Array.from(y1));
          expect(Array.from(G.subarray(1))).toEqual(Array.from(g1));
          expect(Array.from(V.subarray(1))).toEqual(Array.from(y2));
        }
      }
    }
  });
});
