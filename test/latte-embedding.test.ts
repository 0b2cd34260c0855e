/**
 * LATTE embedding mode (species weights w_f(A, B) = Σ_a C_fa zc_Aa zn_Ba from learned
 * element vectors): parameter count linear in the number of elements, equivalence
 * with the specific mode holding the same weights, invariances, forces and virial
 * against finite differences, parameter gradients of the energy and of the loss
 * against finite differences, model files, and a small 3-element training.
 */
import { describe, expect, it } from 'vitest';
import { WIDE_TRICLINIC, randomTriclinic } from './latte-fixtures.ts';
import { pack, unpack } from 'msgpackr';
import { LatteModel, type LatteConfig } from '../potentials/latte/model.ts';
import { LattePotential } from '../potentials/latte/potential.ts';
import { LossEvaluator, fitStatistics, prepareSystem, trainModel } from '../potentials/latte/train.ts';
import { decodeModel, encodeModel } from '../potentials/latte/io.ts';
import { createPotential } from '../potentials/registry.ts';
import '../potentials/eam/eam.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { NeighborList } from '../src/neighbors.ts';
import { System } from '../src/system.ts';
import { Cell } from '../src/cell.ts';
import { lattice, supercell } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';

const ELEMENTS = ['Ni', 'Al', 'H'];
const PATTERN = '3,-:3,a,a:2,ab,ab:2,a,b,ab:1,ab,bc,ca:1,a,b,c,abc';

function embeddingModel(extra: Partial<LatteConfig> = {}, seed = 3): LatteModel {
  const model = new LatteModel({
    elements: ELEMENTS, cutoff: 4.5, descriptor: PATTERN, width: 1.2, hidden: [8, 4], activation: 'gaussian',
    speciesMode: 'embedding', embeddingDim: 3, ...extra,
  });
  model.initialise(seed);
  // Non-trivial embeddings (beyond the near-uniform initial ones), standardisation and offsets.
  const rng = new Rng(seed + 100);
  for (let k = model.offWeights; k < model.offMlp[0]; k++) model.theta[k] += 0.3 * rng.normal();
  for (let k = 0; k < model.mean.length; k++) { model.mean[k] = 0.1 * rng.normal(); model.invStd[k] = 0.5 + rng.uniform(); }
  model.e0.set([-1.5, -2.5, -0.7]);
  return model;
}

/** A 12-atom triclinic periodic Ni/Al/H structure with random positions. */
function randomStructure(seed = 7): System {
  return randomTriclinic(seed, 12, (i) => ELEMENTS[i % 3], WIDE_TRICLINIC);
}

function evaluateModel(model: LatteModel, system: System, paramGrad: Float64Array | null = null): { G: Float64Array; E: Float64Array; energy: number } {
  const nl = new NeighborList({ cutoff: model.config.cutoff, skin: 0, full: true });
  nl.update(system);
  const typeMap = Int32Array.from(system.elements, (e) => model.config.elements.indexOf(e));
  const G = new Float64Array(system.n * model.nDescriptors);
  const E = new Float64Array(nl.nTotal);
  const energy = model.evaluate(nl, typeMap, { descriptors: G, atomEnergies: E, paramGrad, gradScale: 1 });
  return { G, E: E.slice(0, system.n), energy };
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

describe('LATTE embedding mode: parametrisation', () => {
  it('has a species-weight parameter count linear in the number of elements (F·K + 2·ns·K), not ns²·F', () => {
    const config = (elements: string[], speciesMode: 'specific' | 'embedding'): LatteConfig =>
      ({ elements, cutoff: 5, descriptor: '8,-:8,a,a:8,ab,ab:4,a,b,ab', width: 1.5, hidden: [16], speciesMode, embeddingDim: 4 });
    const many = ['H', 'He', 'Li', 'Be', 'B', 'C', 'N', 'O', 'F', 'Ne', 'Na', 'Mg', 'Al', 'Si', 'P', 'S', 'Cl', 'Ar', 'K', 'Ca'];
    const F = 8 + 16 + 16 + 12; // functions: one per body and term
    for (const ns of [1, 3, 10, 20]) {
      const els = many.slice(0, ns);
      const emb = new LatteModel(config(els, 'embedding'));
      const spec = new LatteModel(config(els, 'specific'));
      expect(emb.nFunctions).toBe(F);
      // centres ns·F, widths F, C F·K, zc and zn ns·K each, one MLP (D = 28 → 16 → 1) per element.
      expect(emb.nParameters).toBe(ns * F + F + F * 4 + 2 * ns * 4 + ns * (28 * 16 + 16 + 16 + 1));
      expect(spec.nParameters).toBe(ns * F + F + ns * ns * F + ns * (28 * 16 + 16 + 16 + 1));
    }
    expect(() => new LatteModel({ ...config(['Si'], 'embedding'), embeddingDim: 0 })).toThrow(/embedding dimension must be a positive integer/);
    expect(() => new LatteModel({ ...config(['Si'], 'embedding'), speciesMode: 'pairs' as never })).toThrow(/unknown species mode 'pairs'/);
  });

  it('gives the descriptors and energies of a specific-mode model holding the factorised weights', () => {
    const emb = embeddingModel();
    const spec = new LatteModel({ ...emb.config, speciesMode: 'specific' });
    const F = emb.nFunctions, ns = 3, K = emb.embeddingDim, th = emb.theta;
    // Same centres, widths, MLPs; weights w_f(A, B) = Σ_a C_fa zc_Aa zn_Ba written out here.
    spec.theta.set(th.subarray(0, emb.offWeights), 0);
    for (let A = 0; A < ns; A++)
      for (let B = 0; B < ns; B++)
        for (let f = 0; f < F; f++) {
          let w = 0;
          for (let a = 0; a < K; a++) w += th[emb.offWeights + f * K + a] * th[emb.offEmbCentral + A * K + a] * th[emb.offEmbNeighbour + B * K + a];
          spec.theta[spec.offWeights + (A * ns + B) * F + f] = w;
        }
    spec.theta.set(th.subarray(emb.offMlp[0]), spec.offMlp[0]);
    spec.mean.set(emb.mean); spec.invStd.set(emb.invStd); spec.e0.set(emb.e0); spec.outScale.set(emb.outScale);
    const s = randomStructure(5);
    const a = evaluateModel(emb, s), b = evaluateModel(spec, s);
    expect(maxAbs(a.G)).toBeGreaterThan(1e-2);
    expect(maxAbsDiff(a.G, b.G)).toBeLessThan(1e-12 * maxAbs(a.G));
    expect(maxAbsDiff(a.E, b.E)).toBeLessThan(1e-12);
    // Different elements really get different weights.
    const w = (A: number, B: number): number => spec.theta[spec.offWeights + (A * ns + B) * F];
    expect(Math.abs(w(0, 1) - w(0, 2))).toBeGreaterThan(1e-3);
    expect(Math.abs(w(1, 0) - w(2, 0))).toBeGreaterThan(1e-3);
  });
});

describe('LATTE embedding mode: invariances with three elements', () => {
  const model = embeddingModel();
  const base = randomStructure();
  const ref = evaluateModel(model, base);
  const tol = 1e-12 * Math.max(1, maxAbs(ref.G));

  it('under a random rotation, an inversion and a translation', () => {
    const rng = new Rng(21);
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
      const rot = (v: ArrayLike<number>, shift: number): number[] => {
        const out: number[] = [];
        for (let k = 0; k < v.length; k += 3)
          for (let a = 0; a < 3; a++) out.push(sign * (Q[3 * a] * v[k] + Q[3 * a + 1] * v[k + 1] + Q[3 * a + 2] * v[k + 2]) + shift * [1.37, -2.11, 0.73][a]);
        return out;
      };
      const d = evaluateModel(model, new System({ symbols: base.symbols, positions: rot(base.positions, 1), cell: new Cell(rot(base.cell.matrix, 0)) }));
      expect(maxAbsDiff(d.G, ref.G)).toBeLessThan(tol);
      expect(maxAbsDiff(d.E, ref.E)).toBeLessThan(1e-12);
    }
  });

  it('under a permutation of the atoms and the choice of periodic cell', () => {
    const n = base.n, D = model.nDescriptors;
    const perm = Array.from({ length: n }, (_, i) => (i * 5 + 7) % n);
    const pos: number[] = [];
    for (const p of perm) pos.push(base.positions[3 * p], base.positions[3 * p + 1], base.positions[3 * p + 2]);
    const d = evaluateModel(model, new System({ symbols: perm.map((p) => base.symbols[p]), positions: pos, cell: base.cell.clone() }));
    perm.forEach((p, i) => {
      expect(maxAbsDiff(d.G.subarray(i * D, (i + 1) * D), ref.G.subarray(p * D, (p + 1) * D))).toBeLessThan(tol);
      expect(Math.abs(d.E[i] - ref.E[p])).toBeLessThan(1e-12);
    });
    const big = supercell(base, [1, 2, 2]);
    const e = evaluateModel(model, big);
    for (let i = 0; i < big.n; i++) {
      const p = i % n;
      expect(maxAbsDiff(e.G.subarray(i * D, (i + 1) * D), ref.G.subarray(p * D, (p + 1) * D))).toBeLessThan(tol);
      expect(Math.abs(e.E[i] - ref.E[p])).toBeLessThan(1e-12);
    }
  });
});

describe('LATTE embedding mode: derivatives against finite differences', () => {
  it('forces are minus the central finite differences of the energy', () => {
    const model = embeddingModel({ activation: 'silu' });
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
  });

  it('the virial is minus the symmetric-strain derivative of the energy', () => {
    const model = embeddingModel();
    const system = randomStructure(9);
    const ev = new ForceEvaluator(new LattePotential(model), { skin: 0.3 });
    const W = ev.evaluate(system).virial;
    const h0 = Float64Array.from(system.cell.matrix), x0 = Float64Array.from(system.positions);
    const energyAt = (eps: number[][]): number => {
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
    const d = 1e-6;
    [[0, 0], [1, 1], [2, 2], [1, 2], [0, 2], [0, 1]].forEach(([a, b], v) => {
      const eps = (s: number): number[][] => {
        const m = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
        m[a][b] += s; if (a !== b) m[b][a] += s;
        return m;
      };
      const dE = (energyAt(eps(d)) - energyAt(eps(-d))) / (2 * d);
      expect(Math.abs(W[v] - (a === b ? -dE : -dE / 2))).toBeLessThan(1e-7 * Math.max(1, maxAbs(W)));
    });
    expect(maxAbs(W)).toBeGreaterThan(1e-3);
  });

  it('the energy gradient with respect to C, the embeddings, centres, widths and MLP parameters', () => {
    const model = embeddingModel({ trainWidths: true, widthMin: 0.8, widthMax: 1.6 });
    const system = randomStructure(10);
    const grad = new Float64Array(model.nParameters);
    evaluateModel(model, system, grad);
    const rng = new Rng(33);
    const F = model.nFunctions, K = model.embeddingDim;
    const picks = new Set<number>();
    for (let k = 0; k < 8; k++) picks.add(model.offCentres + Math.floor(rng.uniform() * 3 * F));
    for (let k = 0; k < 5; k++) picks.add(model.offWidths + Math.floor(rng.uniform() * F));
    for (let k = 0; k < 10; k++) picks.add(model.offWeights + Math.floor(rng.uniform() * F * K));
    for (let k = 0; k < 3 * K; k++) picks.add(model.offEmbCentral + k); // every zc
    for (let k = 0; k < 3 * K; k++) picks.add(model.offEmbNeighbour + k); // every zn
    for (let k = 0; k < 10; k++) picks.add(model.offMlp[0] + Math.floor(rng.uniform() * (model.nParameters - model.offMlp[0])));
    let nonzero = 0;
    for (const p of picks) {
      const t0 = model.theta[p], h = 1e-6;
      model.theta[p] = t0 + h;
      const ep = evaluateModel(model, system).energy;
      model.theta[p] = t0 - h;
      const em = evaluateModel(model, system).energy;
      model.theta[p] = t0;
      const fd = (ep - em) / (2 * h);
      if (Math.abs(fd) > 1e-6) nonzero++;
      expect(Math.abs(fd - grad[p])).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
    expect(nonzero).toBeGreaterThan(30);
  });

  it('the gradients of the force loss and of the combined loss', () => {
    const model = embeddingModel({ activation: 'tanh', hidden: [6], descriptor: '2,-:2,a,a:2,ab,ab:1,a,b,ab' });
    const rng = new Rng(99);
    const structures = [1, 2].map((seed) => {
      const s = randomStructure(seed);
      return prepareSystem(
        s, `s${seed}`,
        { energy: -3 * s.n + rng.normal(), forces: Array.from({ length: 3 * s.n }, () => 0.3 * rng.normal()), virial: Array.from({ length: 6 }, () => rng.normal()) },
        ELEMENTS, model.config.cutoff,
      );
    });
    fitStatistics(model, structures);
    const F = model.nFunctions, K = model.embeddingDim;
    for (const weights of [{ energy: 0, forces: 1, virial: 0 }, { energy: 10, forces: 1, virial: 0.1 }]) {
      const loss = new LossEvaluator(model, weights);
      const grad = new Float64Array(model.nParameters);
      const L0 = loss.batch(structures, grad).loss;
      const pick = new Rng(5);
      const candidates = [
        ...Array.from({ length: 6 }, () => model.offCentres + Math.floor(pick.uniform() * 3 * F)),
        ...Array.from({ length: 6 }, () => model.offWeights + Math.floor(pick.uniform() * F * K)),
        ...Array.from({ length: 2 * 3 * K }, (_, k) => model.offEmbCentral + k),
        ...Array.from({ length: 8 }, () => model.offMlp[0] + Math.floor(pick.uniform() * (model.nParameters - model.offMlp[0]))),
      ];
      let nonzero = 0;
      for (const p of candidates) {
        const t0 = model.theta[p], h = 1e-6 * Math.max(1, Math.abs(t0));
        model.theta[p] = t0 + h;
        const lp = loss.batch(structures, null).loss;
        model.theta[p] = t0 - h;
        const lm = loss.batch(structures, null).loss;
        model.theta[p] = t0;
        const fd = (lp - lm) / (2 * h);
        if (Math.abs(fd) > 1e-6 * L0) nonzero++;
        expect(Math.abs(fd - grad[p])).toBeLessThan(2e-6 * Math.max(Math.abs(fd), 1e-3 * L0));
      }
      expect(nonzero).toBeGreaterThan(25);
    }
  });
});

describe('LATTE embedding mode: model files', () => {
  it('round-trip as version 2; specific-mode models stay version 1 and old configs read as specific', () => {
    const model = embeddingModel();
    const bytes = encodeModel(model);
    expect((unpack(bytes) as { version: number }).version).toBe(2);
    const back = decodeModel(bytes, 'emb.msgpack').model;
    expect(back.config.speciesMode).toBe('embedding');
    expect(back.embeddingDim).toBe(3);
    expect(Array.from(back.theta)).toEqual(Array.from(model.theta));
    const s = randomStructure(4);
    expect(evaluateModel(back, s).energy).toBe(evaluateModel(model, s).energy);
    // A version-1 file written before the embedding mode existed: no speciesMode in its config.
    const spec = new LatteModel({ elements: ['Si', 'Ge'], cutoff: 4, descriptor: '2,-:2,a,a', width: 1.2, hidden: [3] });
    spec.initialise(1);
    const doc = unpack(encodeModel(spec)) as Record<string, unknown> & { config: Record<string, unknown> };
    expect(doc.version).toBe(1);
    delete doc.config.speciesMode;
    delete doc.config.embeddingDim;
    const old = decodeModel(pack(doc), 'old.msgpack').model;
    expect(old.config.speciesMode).toBe('specific');
    expect(Array.from(old.theta)).toEqual(Array.from(spec.theta));
    // An embedding config in a version-1 file is inconsistent.
    const bad = unpack(bytes) as Record<string, unknown>;
    bad.version = 1;
    expect(() => decodeModel(pack(bad), 'bad.msgpack')).toThrow(/bad\.msgpack: version 1 model files have specific species weights/);
  });
});

describe('LATTE embedding mode: training on a three-element EAM target', () => {
  it('drives the loss on Ni–Al–H (NiAlH_jea.eam.alloy) data down by over 20× and the force RMSE below a third of the reference RMS', () => {
    const eam = createPotential({ kind: 'eam/alloy', file: 'NiAlH_jea.eam.alloy' });
    const ev = new ForceEvaluator(eam, { skin: 0 });
    const rng = new Rng(1);
    const data = Array.from({ length: 12 }, () => {
      const base = lattice('fcc', { element: 'Ni', a: 3.52 * (0.97 + 0.06 * rng.uniform()), repeat: 2 });
      const symbols = Array.from({ length: base.n }, () => { const u = rng.uniform(); return u < 0.5 ? 'Ni' : u < 0.85 ? 'Al' : 'H'; });
      const s = new System({ symbols, positions: Array.from(base.positions, (v) => v + 0.08 * rng.normal()), cell: base.cell.clone() });
      const energy = ev.evaluate(s).energy;
      return { system: s, energy, forces: s.forces.slice() };
    });
    expect(new Set(data.flatMap((d) => d.system.symbols)).size).toBe(3);
    let refSq = 0, count = 0;
    for (const d of data) for (const f of d.forces) { refSq += f * f; count++; }
    const refRms = Math.sqrt(refSq / count);
    expect(refRms).toBeGreaterThan(0.5); // a non-trivial target (≈ 1.2 eV/Å)
    const model = new LatteModel({
      elements: ELEMENTS, cutoff: 4.5, width: 1.2, hidden: [8], activation: 'tanh', descriptor: '6,-:4,a,a',
      speciesMode: 'embedding', embeddingDim: 3,
    });
    model.initialise(2);
    const prep = data.map((d, k) => prepareSystem(d.system, `eam${k}`, d, ELEMENTS, 4.5));
    fitStatistics(model, prep);
    const weights = { energy: 100, forces: 100, virial: 0 };
    const initial = new LossEvaluator(model, weights).batch(prep, null);
    const train = prep.filter((_, k) => k % 4 !== 1), validation = prep.filter((_, k) => k % 4 === 1);
    trainModel(model, train, validation, { epochs: 40, batchSize: 2, learningRate: 0.02, decay: 0.97, weights, seed: 3 });
    const final = new LossEvaluator(model, weights).batch(prep, null);
    expect(final.loss).toBeLessThan(initial.loss / 20);
    // Stated level: force RMSE (validation structures included) under refRms/3 ≈ 0.40 eV/Å.
    expect(Math.sqrt(final.fSq / final.components)).toBeLessThan(refRms / 3);
  });
});
