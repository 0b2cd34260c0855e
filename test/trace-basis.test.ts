import { describe, expect, it } from 'vitest';
import { SphericalHarmonics } from '../potentials/trace/sph.ts';
import { clebschGordan, realCouplings } from '../potentials/trace/clebsch.ts';
import { AceBasis, type BasisSpec } from '../potentials/trace/basis.ts';
import { AceEvaluator } from '../potentials/trace/evaluator.ts';
import { NeighborList } from '../src/neighbors.ts';
import { System } from '../src/system.ts';
import { Cell } from '../src/cell.ts';
import { lattice, supercell } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { svdSquare } from '../potentials/trace/linalg.ts';

/** Gauss–Legendre nodes and weights on [−1, 1]. */
function gaussLegendre(n: number): { x: number[]; w: number[] } {
  const x: number[] = [], w: number[] = [];
  for (let i = 1; i <= n; i++) {
    let z = Math.cos((Math.PI * (i - 0.25)) / (n + 0.5)), dp = 1;
    for (let it = 0; it < 100; it++) {
      let p0 = 1, p1 = z;
      for (let k = 2; k <= n; k++) { const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k; p0 = p1; p1 = p2; }
      dp = (n * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    x.push(z);
    w.push(2 / ((1 - z * z) * dp * dp));
  }
  return { x, w };
}

describe('real spherical harmonics', () => {
  const L = 6, sh = new SphericalHarmonics(L), n = sh.size;

  it('are orthonormal on the sphere (Gauss–Legendre × trapezoid quadrature, exact for these degrees)', () => {
    const { x, w } = gaussLegendre(20), nph = 40;
    const G = new Float64Array(n * n), y = new Float64Array(n);
    for (let a = 0; a < x.length; a++) {
      for (let b = 0; b < nph; b++) {
        const z = x[a], ph = (2 * Math.PI * b) / nph, s = Math.sqrt(1 - z * z);
        sh.values(s * Math.cos(ph), s * Math.sin(ph), z, y);
        const wt = (w[a] * 2 * Math.PI) / nph;
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) G[i * n + j] += wt * y[i] * y[j];
      }
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(Math.abs(G[i * n + j] - (i === j ? 1 : 0))).toBeLessThan(1e-12);
  });

  it('match closed forms for l ≤ 2', () => {
    const y = new Float64Array(n);
    const [ux, uy, uz] = [0.36, -0.48, 0.8];
    sh.values(ux, uy, uz, y);
    const c0 = Math.sqrt(1 / (4 * Math.PI)), c1 = Math.sqrt(3 / (4 * Math.PI)), c2 = Math.sqrt(15 / (4 * Math.PI));
    expect(y[0]).toBeCloseTo(c0, 14);
    expect(y[1]).toBeCloseTo(c1 * uy, 14); // l=1, m=−1
    expect(y[2]).toBeCloseTo(c1 * uz, 14);
    expect(y[3]).toBeCloseTo(c1 * ux, 14);
    expect(y[4]).toBeCloseTo(c2 * ux * uy, 14); // l=2, m=−2
    expect(y[6]).toBeCloseTo(Math.sqrt(5 / (16 * Math.PI)) * (3 * uz * uz - 1), 14);
    expect(y[8]).toBeCloseTo(0.5 * c2 * (ux * ux - uy * uy), 14);
  });

  it('gradients match central finite differences', () => {
    const y = new Float64Array(n), g = new Float64Array(3 * n), yp = new Float64Array(n), ym = new Float64Array(n), scratch = new Float64Array(3 * n);
    const rng = new Rng(7);
    for (let trial = 0; trial < 5; trial++) {
      const r = [rng.normal(), rng.normal(), rng.normal()].map((v) => v * 1.7);
      const at = (v: number[], out: Float64Array, grad: Float64Array): void => {
        const rr = Math.hypot(v[0], v[1], v[2]);
        sh.valuesAndGradients(v[0] / rr, v[1] / rr, v[2] / rr, 1 / rr, out, grad);
      };
      at(r, y, g);
      for (let a = 0; a < 3; a++) {
        const h = 1e-6, rp = r.slice(), rm = r.slice();
        rp[a] += h; rm[a] -= h;
        at(rp, yp, scratch); at(rm, ym, scratch);
        for (let i = 0; i < n; i++) expect(Math.abs((yp[i] - ym[i]) / (2 * h) - g[3 * i + a])).toBeLessThan(1e-8);
      }
    }
  });
});

describe('Clebsch–Gordan coefficients', () => {
  it('equal exact rational values', () => {
    const cases: [number, number, number, number, number, number, number][] = [
      [1, 1, 1, -1, 0, 0, Math.sqrt(1 / 3)],
      [1, 0, 1, 0, 0, 0, -Math.sqrt(1 / 3)],
      [1, 0, 1, 0, 2, 0, Math.sqrt(2 / 3)],
      [1, 1, 1, 0, 2, 1, Math.sqrt(1 / 2)],
      [1, 1, 1, 0, 1, 1, Math.sqrt(1 / 2)],
      [1, 0, 1, 1, 1, 1, -Math.sqrt(1 / 2)],
      [2, 1, 1, -1, 1, 0, Math.sqrt(3 / 10)],
      [2, 0, 2, 0, 0, 0, Math.sqrt(1 / 5)],
      [2, 2, 1, -1, 3, 1, Math.sqrt(1 / 15)],
      [1, 1, 1, 1, 2, 2, 1],
      [2, 1, 2, -1, 2, 0, Math.sqrt(1 / 14)], // values cross-checked with sympy.physics.quantum.cg
    ];
    for (const [l1, m1, l2, m2, L, M, v] of cases) expect(clebschGordan(l1, m1, l2, m2, L, M)).toBeCloseTo(v, 14);
    expect(clebschGordan(1, 1, 1, 1, 1, 1)).toBe(0); // M ≠ m1 + m2
    expect(clebschGordan(1, 0, 1, 0, 3, 0)).toBe(0); // triangle
  });

  it('are orthonormal in (m1, m2) for fixed (L, M)', () => {
    for (const [l1, l2] of [[2, 3], [1, 4]]) {
      for (let L = Math.abs(l1 - l2); L <= l1 + l2; L++) {
        for (let L2 = Math.abs(l1 - l2); L2 <= l1 + l2; L2++) {
          let s = 0;
          for (let m1 = -l1; m1 <= l1; m1++) for (let m2 = -l2; m2 <= l2; m2++) s += clebschGordan(l1, m1, l2, m2, L, m1 + m2) * clebschGordan(l1, m1, l2, m2, L2, m1 + m2);
          expect(s).toBeCloseTo(L === L2 ? 2 * L + 1 : 0, 12);
        }
      }
    }
  });

  it('give real couplings that are invariant under rotation (checked on harmonics of random directions)', () => {
    const sh = new SphericalHarmonics(3), rng = new Rng(11);
    const Q = randomRotation(rng);
    for (const ls of [[1, 1], [1, 1, 2], [2, 2, 2], [1, 2, 3], [1, 1, 1, 1], [2, 1, 2, 3]]) {
      const Us = realCouplings(ls);
      expect(Us.length).toBeGreaterThan(0);
      const dirs = ls.map(() => unit([rng.normal(), rng.normal(), rng.normal()]));
      const value = (ds: number[][]): number[] => {
        const ys = ds.map((d) => { const y = new Float64Array(16); sh.values(d[0], d[1], d[2], y); return y; });
        return Us.map((U) => {
          let s = 0;
          const dims = ls.map((l) => 2 * l + 1);
          for (let f = 0; f < U.length; f++) {
            if (U[f] === 0) continue;
            let rem = f, p = U[f];
            for (let t = ls.length - 1; t >= 0; t--) { const m = (rem % dims[t]) - ls[t]; rem = Math.floor(rem / dims[t]); p *= ys[t][ls[t] * ls[t] + ls[t] + m]; }
            s += p;
          }
          return s;
        });
      };
      const v0 = value(dirs), v1 = value(dirs.map((d) => rotate(Q, d)));
      v0.forEach((v, k) => expect(Math.abs(v - v1[k])).toBeLessThan(1e-13));
      expect(Math.max(...v0.map(Math.abs))).toBeGreaterThan(1e-4);
    }
  });
});

function unit(v: number[]): number[] {
  const r = Math.hypot(v[0], v[1], v[2]);
  return v.map((c) => c / r);
}

/** Random proper rotation from a normalised random quaternion. */
function randomRotation(rng: Rng): number[] {
  const q = unit4([rng.normal(), rng.normal(), rng.normal(), rng.normal()]);
  const [w, x, y, z] = q;
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}
function unit4(v: number[]): number[] {
  const r = Math.hypot(...v);
  return v.map((c) => c / r);
}
function rotate(Q: number[], v: number[]): number[] {
  return [0, 1, 2].map((a) => Q[3 * a] * v[0] + Q[3 * a + 1] * v[1] + Q[3 * a + 2] * v[2]);
}

function descriptors(basis: AceBasis, system: System): Float64Array {
  const nl = new NeighborList({ cutoff: basis.radial.cutoff, skin: 0, full: true });
  nl.update(system);
  const ev = new AceEvaluator(basis);
  ev.bind(system.elements);
  return ev.descriptors(nl);
}

const SPECS: Record<string, BasisSpec> = {
  'full ACE, 2 elements, order 4': {
    elements: ['Ti', 'Al'], radial: { kind: 'chebexpcos', n: 5, cutoff: 4.2 }, order: 4, maxDegree: [5, 6, 6, 6],
  },
  'species-mixed TRACE': {
    elements: ['Ti', 'Al'], radial: { kind: 'poly', n: 5, cutoff: 4.2 }, order: 4, maxDegree: [5, 6, 6, 6], channels: { kind: 'species', K: 2 },
  },
  'radial+species-mixed TRACE': {
    elements: ['Ti', 'Al'], radial: { kind: 'poly', n: 6, cutoff: 4.2 }, order: 3, maxDegree: [4, 6, 6], channels: { kind: 'radial-species', K: 2, Q: 3 },
  },
};

describe('ACE descriptor invariance', () => {
  const rng = new Rng(5);
  // A random cluster of 9 atoms, two elements, all within each other's cutoff.
  const n = 9, symbols = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 'Al' : 'Ti'));
  const pos: number[] = [];
  for (let i = 0; i < n; i++) pos.push(rng.uniform() * 4, rng.uniform() * 4, rng.uniform() * 4);

  for (const [name, spec] of Object.entries(SPECS)) {
    it(`${name}: rotation, inversion, translation, permutation (1e-12)`, () => {
      const basis = new AceBasis(spec);
      const F = basis.nFunctions;
      const B0 = descriptors(basis, new System({ symbols, positions: pos }));
      const scale = Math.max(...B0.map(Math.abs));
      expect(scale).toBeGreaterThan(1e-3);
      const Q = randomRotation(rng);
      const transforms: Record<string, (p: number[]) => number[]> = {
        rotation: (p) => rotate(Q, p),
        inversion: (p) => p.map((c) => -c),
        translation: (p) => [p[0] + 3.3, p[1] - 1.2, p[2] + 0.7],
      };
      for (const [tname, T] of Object.entries(transforms)) {
        const moved: number[] = [];
        for (let i = 0; i < n; i++) moved.push(...T(pos.slice(3 * i, 3 * i + 3)));
        const B1 = descriptors(basis, new System({ symbols, positions: moved }));
        for (let k = 0; k < B0.length; k++) expect(Math.abs(B1[k] - B0[k]), `${tname} entry ${k}`).toBeLessThan(1e-12 * scale);
      }
      const perm = [4, 2, 7, 0, 8, 1, 3, 6, 5];
      const pp: number[] = [], ps: string[] = [];
      for (const i of perm) { pp.push(...pos.slice(3 * i, 3 * i + 3)); ps.push(symbols[i]); }
      const B2 = descriptors(basis, new System({ symbols: ps, positions: pp }));
      perm.forEach((i, k) => {
        for (let b = 0; b < F; b++) expect(Math.abs(B2[k * F + b] - B0[i * F + b])).toBeLessThan(1e-12 * scale);
      });
    });
  }

  it('are the same in a supercell of a periodic crystal', () => {
    const basis = new AceBasis(SPECS['full ACE, 2 elements, order 4']);
    const s1 = lattice('fcc', { element: ['Ti', 'Al', 'Al', 'Al'], a: 4.05, repeat: 1 });
    for (let k = 0; k < s1.positions.length; k++) s1.positions[k] += 0.15 * rng.normal();
    s1.cell = new Cell([4.05, 0, 0, 0.4, 4.05, 0, 0.3, -0.2, 4.05]);
    const s2 = supercell(s1, [2, 1, 3]);
    const B1 = descriptors(basis, s1), B2 = descriptors(basis, s2), F = basis.nFunctions;
    const scale = Math.max(...B1.map(Math.abs));
    // Match each supercell atom to its original by position modulo the primitive cell.
    for (let i = 0; i < s2.n; i++) {
      const frac = s1.cell.toFractional(s2.positions.slice(3 * i, 3 * i + 3));
      let match = -1;
      for (let j = 0; j < s1.n; j++) {
        const fj = s1.cell.toFractional(s1.positions.slice(3 * j, 3 * j + 3));
        const d = [0, 1, 2].map((a) => { const x = frac[a] - fj[a]; return Math.abs(x - Math.round(x)); });
        if (Math.max(...d) < 1e-8) match = j;
      }
      expect(match).toBeGreaterThanOrEqual(0);
      for (let b = 0; b < F; b++) expect(Math.abs(B2[i * F + b] - B1[match * F + b])).toBeLessThan(1e-12 * scale);
    }
  });
});

describe('ACE basis reduction', () => {
  it('leaves linearly independent functions (full column rank over random environments), order 4', () => {
    const basis = new AceBasis({ elements: ['Si'], radial: { kind: 'chebexpcos', n: 4, cutoff: 5 }, order: 4, maxDegree: [4, 6, 7, 8] });
    const F = basis.nFunctions;
    expect(basis.countsByOrder()[3]).toBeGreaterThan(0);
    const rng = new Rng(2);
    const rows: Float64Array[] = [];
    while (rows.length < 4 * F) {
      const n = 12, pos: number[] = [];
      for (let i = 0; i < n; i++) pos.push(rng.uniform() * 5, rng.uniform() * 5, rng.uniform() * 5);
      const B = descriptors(basis, new System({ symbols: Array(n).fill('Si'), positions: pos }));
      for (let i = 0; i < n; i++) rows.push(B.slice(i * F, (i + 1) * F));
    }
    // Gram matrix of normalised columns; its smallest singular value must stay away from zero.
    const norms = new Float64Array(F);
    for (const r of rows) for (let b = 0; b < F; b++) norms[b] += r[b] * r[b];
    const G = new Float64Array(F * F);
    for (const r of rows) for (let a = 0; a < F; a++) for (let b = 0; b < F; b++) G[a * F + b] += (r[a] * r[b]) / Math.sqrt(norms[a] * norms[b]);
    const { s } = svdSquare(G, F);
    expect(s[F - 1] / s[0]).toBeGreaterThan(1e-12);
  });

  it('descriptor length of TRACE does not depend on the number of elements', () => {
    const base = { radial: { kind: 'chebexpcos' as const, n: 8, cutoff: 5 }, order: 3, maxDegree: [8, 8, 7] };
    const counts = [['Ti'], ['Ti', 'Al'], ['Ti', 'Al', 'Ni', 'Cu']].map((elements) => new AceBasis({ ...base, elements, channels: { kind: 'species', K: 3 } }).nFunctions);
    expect(new Set(counts).size).toBe(1);
    const one = new AceBasis({ ...base, elements: ['Ti'] }).nFunctions;
    expect(counts[0]).toBe(3 * one);
    const full = [['Ti'], ['Ti', 'Al']].map((elements) => new AceBasis({ ...base, elements }).nFunctions);
    expect(full[1]).toBeGreaterThan(3 * full[0]);
  });
});
