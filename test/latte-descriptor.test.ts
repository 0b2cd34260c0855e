import { describe, expect, it } from 'vitest';
import { WIDE_TRICLINIC, geSi, randomTriclinic } from './latte-fixtures.ts';
import { parseDescriptor, contractionPlan } from '../potentials/latte/pattern.ts';
import { LatteModel, type LatteConfig } from '../potentials/latte/model.ts';
import { LattePotential } from '../potentials/latte/potential.ts';
import { phi } from '../potentials/latte/radial.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { NeighborList } from '../src/neighbors.ts';
import { System } from '../src/system.ts';
import { Cell } from '../src/cell.ts';
import { supercell } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';

const PATTERN = '3,-:3,a,a:2,ab,ab:2,a,b,ab:2,ab,bc,ca:1,a,b,c,abc:1,abcd,abcd';

function smallModel(extra: Partial<LatteConfig> = {}, seed = 3): LatteModel {
  const model = new LatteModel({ elements: ['Si', 'Ge'], cutoff: 4.5, descriptor: PATTERN, width: 1.2, hidden: [8, 4], activation: 'gaussian', ...extra });
  model.initialise(seed);
  // Non-trivial standardisation and offsets so they are exercised too.
  const rng = new Rng(seed + 100);
  for (let k = 0; k < model.mean.length; k++) { model.mean[k] = 0.1 * rng.normal(); model.invStd[k] = 0.5 + rng.uniform(); }
  model.e0[0] = -1.5; model.e0[1] = -2.5;
  return model;
}

/** A 10-atom triclinic periodic Si/Ge structure with random positions. */
function randomStructure(seed = 7): System {
  return randomTriclinic(seed, 10, geSi, WIDE_TRICLINIC);
}

function descriptorsOf(model: LatteModel, system: System): { G: Float64Array; E: Float64Array } {
  const nl = new NeighborList({ cutoff: model.config.cutoff, skin: 0, full: true });
  nl.update(system);
  const typeMap = Int32Array.from(system.elements, (e) => model.config.elements.indexOf(e));
  const G = new Float64Array(system.n * model.nDescriptors);
  const E = new Float64Array(nl.nTotal);
  model.evaluate(nl, typeMap, { descriptors: G, atomEnergies: E });
  return { G, E: E.slice(0, system.n) };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]));
  return m;
}

describe('LATTE descriptor strings', () => {
  it('parses blocks, bodies and ranks', () => {
    const blocks = parseDescriptor('16,-:16,a,a:16,ab,ab:8,a,b,ab');
    expect(blocks.map((b) => b.n)).toEqual([16, 16, 16, 8]);
    expect(blocks.map((b) => b.bodies.map((x) => x.rank))).toEqual([[0], [1, 1], [2, 2], [1, 1, 2]]);
  });

  it('compact contraction plans count every full index assignment once', () => {
    // Σ of the multiplicities is 3^(number of letters).
    for (const [text, letters] of [['1,a,a', 1], ['1,ab,ab', 2], ['1,a,b,ab', 2], ['1,ab,bc,ca', 3], ['1,a,b,c,abc', 3], ['1,abcd,abcd', 4]] as const) {
      const plan = contractionPlan(parseDescriptor(text)[0]);
      expect(plan.coef.reduce((s, c) => s + c, 0)).toBe(3 ** letters);
    }
  });

  it.each([
    ['4,a,b', /block 1 \('4,a,b'\).*'a' appears once/],
    ['4,-:4,ab,a', /block 2 \('4,ab,a'\).*'b' appears once/],
    ['4,a,a,a', /block 1.*'a' appears 3 times/],
    ['4,-::4,a,a', /block 2 \(''\): empty block/],
    ['4', /block 1 \('4'\): empty block/],
    ['x,a,a', /block 1.*number of terms/],
    ['0,a,a', /block 1.*number of terms/],
    ['4,a,,a', /block 1.*body 2 is empty/],
    ['4,aa', /block 1.*repeated inside body 1/],
    ['4,A,A', /block 1.*lower-case/],
    ['2,a,b,c,d,abcd', /block 1.*6-body/],
    ['2,abcde,abcde', /block 1.*rank 5/],
    ['', /empty descriptor/],
  ])('rejects %j', (text, message) => {
    expect(() => parseDescriptor(text)).toThrow(message);
  });

  it('a model whose centre puts a radial function outside the cutoff is rejected naming the block', () => {
    const model = smallModel();
    const f = model.nFunctions - 1; // last block's last body
    model.theta[model.offCentres + f] = model.config.cutoff - 0.5 * model.config.width;
    expect(() => model.validate()).toThrow(/block 7 \('1,abcd,abcd'\) body 2 term 1, centre for Si.*outside \[0, cutoff 4.5\]/);
  });
});

describe('LATTE descriptor values', () => {
  it('match explicit many-body sums of the specification on an isolated cluster', () => {
    const model = new LatteModel({
      elements: ['Si', 'Ge'], cutoff: 4.0, width: 1.5, hidden: [2],
      descriptor: '2,-:2,a,a:2,ab,ab:1,a,b,ab:1,ab,bc,ca:1,a,b,c,abc',
    });
    model.initialise(11);
    const rng = new Rng(12);
    const n = 6;
    const pos: number[] = [];
    for (let k = 0; k < 3 * n; k++) pos.push(2.6 * rng.uniform());
    const symbols = ['Si', 'Ge', 'Si', 'Ge', 'Si', 'Si'];
    const system = new System({ symbols, positions: pos });
    const { G } = descriptorsOf(model, system);
    const F = model.nFunctions, th = model.theta, D = model.nDescriptors;
    const sp = (s: string): number => model.config.elements.indexOf(s);
    for (let i = 0; i < n; i++) {
      const ti = sp(symbols[i]);
      const nb: { r: number; u: number[]; t: number }[] = [];
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const d = [0, 1, 2].map((a) => pos[3 * j + a] - pos[3 * i + a]);
        const r = Math.hypot(d[0], d[1], d[2]);
        if (r < model.config.cutoff) nb.push({ r, u: d.map((v) => v / r), t: sp(symbols[j]) });
      }
      const R = (f: number, q: (typeof nb)[number]): number =>
        th[model.offWeights + (ti * 2 + q.t) * F + f] * phi(q.r, th[model.offCentres + ti * F + f], th[model.offWidths + f]);
      const dot = (a: number[], b: number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
      const expected: number[] = [];
      // Functions are numbered block by block, body by body, term by term.
      let f = 0;
      // '-'
      for (let u = 0; u < 2; u++) expected.push(nb.reduce((s, q) => s + R(f + u, q), 0));
      f += 2;
      // 'a,a': Σ_jk f1 f2 (u_j·u_k)
      for (let u = 0; u < 2; u++) {
        let s = 0;
        for (const j of nb) for (const k of nb) s += R(f + u, j) * R(f + 2 + u, k) * dot(j.u, k.u);
        expected.push(s);
      }
      f += 4;
      // 'ab,ab': Σ_jk f1 f2 (u_j·u_k)²
      for (let u = 0; u < 2; u++) {
        let s = 0;
        for (const j of nb) for (const k of nb) s += R(f + u, j) * R(f + 2 + u, k) * dot(j.u, k.u) ** 2;
        expected.push(s);
      }
      f += 4;
      // 'a,b,ab': Σ_jkl f1 f2 f3 (u_j·u_l)(u_k·u_l)
      {
        let s = 0;
        for (const j of nb) for (const k of nb) for (const l of nb) s += R(f, j) * R(f + 1, k) * R(f + 2, l) * dot(j.u, l.u) * dot(k.u, l.u);
        expected.push(s);
      }
      f += 3;
      // 'ab,bc,ca': Σ_jkl f1 f2 f3 (u_j·u_k)(u_k·u_l)(u_l·u_j)
      {
        let s = 0;
        for (const j of nb) for (const k of nb) for (const l of nb) s += R(f, j) * R(f + 1, k) * R(f + 2, l) * dot(j.u, k.u) * dot(k.u, l.u) * dot(l.u, j.u);
        expected.push(s);
      }
      f += 3;
      // 'a,b,c,abc': Σ_jklm f1 f2 f3 f4 (u_j·u_m)(u_k·u_m)(u_l·u_m)
      {
        let s = 0;
        for (const j of nb) for (const k of nb) for (const l of nb) for (const m of nb)
          s += R(f, j) * R(f + 1, k) * R(f + 2, l) * R(f + 3, m) * dot(j.u, m.u) * dot(k.u, m.u) * dot(l.u, m.u);
        expected.push(s);
      }
      const got = Array.from(G.subarray(i * D, (i + 1) * D));
      expect(maxAbs(expected)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(got, expected)).toBeLessThan(1e-12 * Math.max(1, maxAbs(expected)));
    }
  });
});

describe('LATTE invariances (per-atom descriptors and energies)', () => {
  const model = smallModel();
  const base = randomStructure();
  const ref = descriptorsOf(model, base);
  const scaleG = maxAbs(ref.G);
  const tol = 1e-12 * Math.max(1, scaleG);

  it('under a random rotation and an inversion', () => {
    const rng = new Rng(21);
    // Random rotation from a normalised random quaternion.
    let q = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
    const nq = Math.hypot(...q);
    q = q.map((v) => v / nq);
    const [w, x, y, z] = q;
    const Q = [
      1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
      2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
      2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ];
    for (const sign of [1, -1]) {
      const rot = (v: ArrayLike<number>): number[] => {
        const out: number[] = [];
        for (let k = 0; k < v.length; k += 3)
          for (let a = 0; a < 3; a++) out.push(sign * (Q[3 * a] * v[k] + Q[3 * a + 1] * v[k + 1] + Q[3 * a + 2] * v[k + 2]));
        return out;
      };
      const s2 = new System({ symbols: base.symbols, positions: rot(base.positions), cell: new Cell(rot(base.cell.matrix)) });
      const d = descriptorsOf(model, s2);
      expect(maxAbsDiff(d.G, ref.G)).toBeLessThan(tol);
      expect(maxAbsDiff(d.E, ref.E)).toBeLessThan(1e-12);
    }
  });

  it('under a translation', () => {
    const pos = Array.from(base.positions, (v, k) => v + [1.37, -2.11, 0.73][k % 3]);
    const d = descriptorsOf(model, new System({ symbols: base.symbols, positions: pos, cell: base.cell.clone() }));
    expect(maxAbsDiff(d.G, ref.G)).toBeLessThan(tol);
    expect(maxAbsDiff(d.E, ref.E)).toBeLessThan(1e-12);
  });

  it('under a permutation of the atoms', () => {
    const n = base.n;
    const perm = Array.from({ length: n }, (_, i) => (i * 7 + 3) % n);
    const sym = base.symbols;
    const pos: number[] = [];
    for (const p of perm) pos.push(base.positions[3 * p], base.positions[3 * p + 1], base.positions[3 * p + 2]);
    const d = descriptorsOf(model, new System({ symbols: perm.map((p) => sym[p]), positions: pos, cell: base.cell.clone() }));
    const D = model.nDescriptors;
    perm.forEach((p, i) => {
      expect(maxAbsDiff(d.G.subarray(i * D, (i + 1) * D), ref.G.subarray(p * D, (p + 1) * D))).toBeLessThan(tol);
      expect(Math.abs(d.E[i] - ref.E[p])).toBeLessThan(1e-12);
    });
  });

  it('under the choice of periodic cell (2×1×2 supercell)', () => {
    const big = supercell(base, [2, 1, 2]);
    const d = descriptorsOf(model, big);
    const D = model.nDescriptors, n = base.n;
    for (let i = 0; i < big.n; i++) {
      const p = i % n;
      expect(maxAbsDiff(d.G.subarray(i * D, (i + 1) * D), ref.G.subarray(p * D, (p + 1) * D))).toBeLessThan(tol);
      expect(Math.abs(d.E[i] - ref.E[p])).toBeLessThan(1e-12);
    }
  });
});

describe('LATTE forces, virial and smoothness', () => {
  it('forces equal central finite differences of the energy', () => {
    for (const activation of ['gaussian', 'tanh', 'silu'] as const) {
      const model = smallModel({ activation });
      const system = randomStructure(8);
      const ev = new ForceEvaluator(new LattePotential(model), { skin: 0.3 });
      ev.evaluate(system);
      const F = system.forces.slice();
      expect(maxAbs(F)).toBeGreaterThan(1e-3);
      const h = 1e-5;
      let err = 0;
      for (let k = 0; k < 3 * system.n; k++) {
        const x0 = system.positions[k];
        system.positions[k] = x0 + h;
        const ep = ev.evaluate(system).energy;
        system.positions[k] = x0 - h;
        const em = ev.evaluate(system).energy;
        system.positions[k] = x0;
        err = Math.max(err, Math.abs(-(ep - em) / (2 * h) - F[k]));
      }
      expect(err).toBeLessThan(1e-8 * Math.max(1, maxAbs(F)));
    }
  });

  it('virial equals minus the strain derivative of the energy', () => {
    const model = smallModel();
    const system = randomStructure(9);
    const ev = new ForceEvaluator(new LattePotential(model), { skin: 0.3 });
    const W = ev.evaluate(system).virial;
    const h0 = Float64Array.from(system.cell.matrix), x0 = Float64Array.from(system.positions);
    const energyAt = (eps: number[][]): number => {
      // x' = (I + ε)x for positions (column vectors) and cell rows.
      const def = (v: Float64Array, out: Float64Array): void => {
        for (let k = 0; k < v.length; k += 3)
          for (let a = 0; a < 3; a++) out[k + a] = v[k + a] + eps[a][0] * v[k] + eps[a][1] * v[k + 1] + eps[a][2] * v[k + 2];
      };
      const h = new Float64Array(9);
      def(h0, h);
      system.cell.setMatrix(h);
      def(x0, system.positions);
      const e = ev.evaluate(system).energy;
      system.cell.setMatrix(h0);
      system.positions.set(x0);
      return e;
    };
    const pairs = [[0, 0], [1, 1], [2, 2], [1, 2], [0, 2], [0, 1]];
    const d = 1e-6;
    pairs.forEach(([a, b], v) => {
      const eps = (s: number): number[][] => {
        const m = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
        m[a][b] += s; if (a !== b) m[b][a] += s; // symmetric strain
        return m;
      };
      const dE = (energyAt(eps(d)) - energyAt(eps(-d))) / (2 * d);
      const expected = a === b ? -dE : -dE / 2;
      expect(Math.abs(W[v] - expected)).toBeLessThan(1e-7 * Math.max(1, maxAbs(W)));
    });
    expect(maxAbs(W)).toBeGreaterThan(1e-3);
  });

  it('energy and forces are continuous as a neighbour crosses the cutoff', () => {
    const model = smallModel();
    const rc = model.config.cutoff, s = model.config.width, F = model.nFunctions;
    // Put every centre at its upper limit so the outermost functions are alive up to rc.
    for (let f = 0; f < F; f++) for (let t = 0; t < 2; t++) model.theta[model.offCentres + t * F + f] = rc - s;
    const pot = new LattePotential(model);
    const at = (r: number): { e: number; f: Float64Array } => {
      const system = new System({ symbols: ['Si', 'Ge', 'Si'], positions: [0, 0, 0, 2.3, 0.4, 0, 0.3, r, 0.2] });
      const ev = new ForceEvaluator(pot, { skin: 0.5 });
      const e = ev.evaluate(system).energy;
      return { e, f: system.forces.slice() };
    };
    // Third atom at distance ≈ r from atom 0 (and a bit more from atom 1): scan across rc.
    const rCross = Math.sqrt(rc * rc - 0.3 * 0.3 - 0.2 * 0.2);
    const inside = at(rCross - 1e-5), outside = at(rCross + 1e-5), far = at(rCross + 0.1);
    // C² radial functions: the energy jump is O(δ³), the force jump O(δ²).
    expect(Math.abs(inside.e - outside.e)).toBeLessThan(1e-10);
    expect(maxAbsDiff(inside.f, outside.f)).toBeLessThan(1e-7);
    // And the interaction really switches off: outside equals further out for atoms 0 and 2's pair.
    const mid = at(rCross - 0.05);
    expect(Math.abs(mid.e - far.e)).toBeGreaterThan(1e-7);
  });
});

describe('LATTE parameter gradients of the energy', () => {
  it('match central finite differences for centres, widths, species weights and MLP parameters', () => {
    const model = smallModel({ trainWidths: true, widthMin: 0.8, widthMax: 1.6 });
    const system = randomStructure(10);
    const nl = new NeighborList({ cutoff: model.config.cutoff, skin: 0, full: true });
    nl.update(system);
    const typeMap = Int32Array.from(system.elements, (e) => model.config.elements.indexOf(e));
    const grad = new Float64Array(model.nParameters);
    model.evaluate(nl, typeMap, { paramGrad: grad, gradScale: 1 });
    const rng = new Rng(33);
    const F = model.nFunctions;
    const picks = new Set<number>();
    for (let k = 0; k < 12; k++) picks.add(model.offCentres + Math.floor(rng.uniform() * 2 * F));
    for (let k = 0; k < 8; k++) picks.add(model.offWidths + Math.floor(rng.uniform() * F));
    for (let k = 0; k < 12; k++) picks.add(model.offWeights + Math.floor(rng.uniform() * 4 * F));
    for (let k = 0; k < 16; k++) picks.add(model.offMlp[0] + Math.floor(rng.uniform() * (model.nParameters - model.offMlp[0])));
    let nonzero = 0;
    for (const p of picks) {
      const t0 = model.theta[p], h = 1e-6;
      model.theta[p] = t0 + h;
      const ep = model.evaluate(nl, typeMap);
      model.theta[p] = t0 - h;
      const em = model.evaluate(nl, typeMap);
      model.theta[p] = t0;
      const fd = (ep - em) / (2 * h);
      if (Math.abs(fd) > 1e-6) nonzero++;
      expect(Math.abs(fd - grad[p])).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
    expect(nonzero).toBeGreaterThan(20);
  });
});
