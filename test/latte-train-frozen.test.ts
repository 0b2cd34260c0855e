import { describe, expect, it } from 'vitest';
import { ljModel, ljStructures, noisyGeSiStructures } from './latte-fixtures.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../potentials/latte/io.ts';
import { trainCommand } from '../src/cli/train.ts';
import { formatExtxyz, systemToFrame } from '../src/io/extxyz.ts';
import { LatteModel, type Activation } from '../potentials/latte/model.ts';
import { LossEvaluator, fitStatistics, trainModel, widenHidden, type TrainingStructure } from '../potentials/latte/train.ts';
import { freezeStructures } from '../potentials/latte/freeze-parallel.ts';
import { FrozenLossEvaluator, freezeStructure, shareFrozen } from '../potentials/latte/train-frozen.ts';
import { ParallelLoss } from '../potentials/latte/train-parallel.ts';
import { LennardJones } from '../potentials/lj.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';


const DESCRIPTOR = '3,-:2,a,a:2,ab,ab:2,a,b,ab:1,ab,bc,ca';
/** With rank-3/4 bodies, whose Jacobian rows skip the functions a row does not touch. */
const DESCRIPTOR_HIGH = '3,-:2,a,a:2,ab,ab:2,abc,abc:1,abcd,abcd:1,ab,acd,bcd';

function model2(activation: Activation, hidden = [7, 5], descriptor = DESCRIPTOR): LatteModel {
  const m = new LatteModel({
    elements: ['Ge', 'Si'], cutoff: 4.2, width: 1.1, hidden, activation,
    descriptor, trainWidths: true, widthMin: 0.8, widthMax: 1.4,
  });
  m.initialise(4);
  return m;
}

/** Random targets (energies, forces, virials): the loss and its gradient are what is compared. */
const structures = (model: LatteModel): TrainingStructure[] => noisyGeSiStructures(model, [1, 2, 3], 99, true);

const relMax = (a: ArrayLike<number>, b: ArrayLike<number>, from = 0): number => {
  let d = 0, m = 0;
  for (let k = from; k < a.length; k++) { d = Math.max(d, Math.abs(a[k] - b[k])); m = Math.max(m, Math.abs(b[k])); }
  return d / m;
};

describe('LATTE frozen-descriptor training', () => {
  for (const activation of ['gaussian', 'tanh', 'silu'] as Activation[]) {
    it(`${activation}: loss equals the general path's; MLP gradient equals its central-difference gradient and finite differences of the frozen loss`, () => {
      const model = model2(activation);
      const prep = structures(model);
      fitStatistics(model, prep);
      const weights = { energy: 10, forces: 1, virial: 0.5 };
      const gFull = new Float64Array(model.nParameters), gFrozen = new Float64Array(model.nParameters);
      const full = new LossEvaluator(model, weights, 'central').batch(prep, gFull);
      const frozen = prep.map((s) => freezeStructure(model, s));
      const ev = new FrozenLossEvaluator(model, weights);
      const res = ev.batch(frozen, gFrozen);
      expect(Math.abs(res.loss - full.loss) / full.loss).toBeLessThan(1e-12);
      expect(Math.abs(res.fSq - full.fSq) / full.fSq).toBeLessThan(1e-12);
      expect(Math.abs(res.eSq - full.eSq) / full.eSq).toBeLessThan(1e-10);
      // Descriptor parameters: no gradient on the frozen path.
      for (let k = 0; k < model.offMlp[0]; k++) expect(gFrozen[k]).toBe(0);
      // The general path differences ∂E/∂θ at x ± h d (error O(h²)): agreement to ~1e-9 (observed), asserted 1e-7.
      expect(relMax(gFrozen, gFull, model.offMlp[0])).toBeLessThan(1e-7);
      // Central differences of the frozen loss in the MLP weights (step 1e-6; error O(h²) + rounding).
      const th = model.theta;
      const fd = new Float64Array(model.nParameters), an = new Float64Array(model.nParameters);
      for (let k = model.offMlp[0]; k < th.length; k += 3) {
        const t = th[k], h = 1e-6;
        th[k] = t + h; const lp = ev.batch(frozen, null).loss;
        th[k] = t - h; const lm = ev.batch(frozen, null).loss;
        th[k] = t;
        fd[k] = (lp - lm) / (2 * h);
        an[k] = gFrozen[k];
      }
      expect(relMax(an, fd, model.offMlp[0])).toBeLessThan(1e-7);
    });
  }

  for (const descriptor of [DESCRIPTOR, DESCRIPTOR_HIGH]) it(`${descriptor}: energy, forces and descriptors from the stored Jacobian equal evaluate() (ghost images folded into owners)`, () => {
    const model = model2('gaussian', [7, 5], descriptor);
    const prep = structures(model);
    fitStatistics(model, prep);
    const ev = new FrozenLossEvaluator(model, { energy: 1, forces: 1, virial: 0 });
    const identity = Int32Array.from([0, 1]);
    for (const s of prep) {
      const fs = freezeStructure(model, s);
      // Several images of one owner in a row are merged into one block.
      expect(fs.blockAtom.length).toBeLessThan(s.full.offsets[s.nLocal] + s.nLocal);
      const fext = new Float64Array(3 * s.nTotal), G = new Float64Array(s.nLocal * model.nDescriptors);
      const E = model.evaluate({ nLocal: s.nLocal, positions: s.positions, species: s.species, full: s.full }, identity, { forces: fext, descriptors: G });
      const f = fext.slice(0, 3 * s.nLocal);
      for (let g = s.nLocal; g < s.nTotal; g++) for (let a = 0; a < 3; a++) f[3 * s.owner[g] + a] += fext[3 * g + a];
      const p = ev.predict(fs);
      expect(Math.abs(p.energy - E)).toBeLessThan(1e-12 * Math.abs(E));
      expect(relMax(p.forces, f)).toBeLessThan(1e-12);
      expect(Array.from(fs.G)).toEqual(Array.from(G));
    }
  });

  it('a structure\'s loss weight multiplies its loss and gradient on the general and the frozen path (MAE figures unweighted); shareFrozen keeps it', () => {
    const model = model2('tanh');
    const prep = structures(model);
    fitStatistics(model, prep);
    const weights = { energy: 10, forces: 1, virial: 0.5 };
    const B = prep.length, Nf = prep.reduce((n, s) => n + 3 * s.nLocal, 0);
    const general = new LossEvaluator(model, weights, 'central'), frozen = new FrozenLossEvaluator(model, weights);
    const P = model.nParameters;
    for (const s of prep) {
      const fs = freezeStructure(model, s);
      for (const w of [2.5, 0]) {
        const ws = { ...s, weight: w };
        const fw = shareFrozen(freezeStructure(model, ws));
        expect(fw.source.weight).toBe(w);
        const cases = [
          { one: (slot: Float64Array, t: Float64Array) => general.structure(s, B, Nf, slot, t, 0), weighted: (slot: Float64Array, t: Float64Array) => general.structure(ws, B, Nf, slot, t, 0), tol: 1e-8 },
          { one: (slot: Float64Array, t: Float64Array) => frozen.structure(fs, B, Nf, slot, t, 0), weighted: (slot: Float64Array, t: Float64Array) => frozen.structure(fw, B, Nf, slot, t, 0), tol: 1e-13 },
        ];
        for (const c of cases) {
          const g1 = new Float64Array(P), gw = new Float64Array(P), t1 = new Float64Array(5), tw = new Float64Array(5);
          c.one(g1, t1);
          c.weighted(gw, tw);
          expect(t1[0]).toBeGreaterThan(0);
          expect(Math.abs(tw[0] - w * t1[0])).toBeLessThanOrEqual(1e-14 * t1[0]);
          expect(Array.from(tw.subarray(1))).toEqual(Array.from(t1.subarray(1)));
          const scaled = g1.map((g) => w * g);
          if (w === 0) expect(gw.every((g) => g === 0)).toBe(true);
          else expect(relMax(gw, scaled)).toBeLessThan(c.tol);
        }
      }
    }
  });

  it('frozen L-BFGS on a Lennard-Jones target: loss down > 500×, force RMSE < 0.008 eV/Å; descriptor parameters unchanged, mask restored', () => {
    const prep = ljStructures(10, 1);
    const train = prep.filter((_, k) => k % 5 !== 2), validation = prep.filter((_, k) => k % 5 === 2);
    const model = ljModel(prep);
    const weights = { energy: 100, forces: 100, virial: 0 };
    const initial = new LossEvaluator(model, weights).batch(prep, null);
    const before = Float64Array.from(model.theta.subarray(0, model.offMlp[0]));
    const mask = model.trainable.slice();
    const result = trainModel(model, train, validation, { epochs: 60, optimizer: 'lbfgs', learningRate: 0.03, weights, seed: 3, patience: 1000, freezeDescriptor: true, workers: 1 });
    expect(result.workers).toBe(1);
    expect(Array.from(model.theta.subarray(0, model.offMlp[0]))).toEqual(Array.from(before));
    expect(Array.from(model.trainable)).toEqual(Array.from(mask));
    // Measured by the general path (validation structures included).
    const final = new LossEvaluator(model, weights).batch(prep, null);
    // Observed: 3.33 → 2.95e-3 (1130×), force RMSE 0.0054 eV/Å (reference force RMS ≈ 0.077 eV/Å).
    expect(final.loss).toBeLessThan(initial.loss / 500);
    expect(Math.sqrt(final.fSq / final.components)).toBeLessThan(0.008);
    for (let k = 1; k < result.history.length; k++) expect(result.history[k].trainLoss).toBeLessThanOrEqual(result.history[k - 1].trainLoss);
  });

  it('over worker threads (arrays in shared memory): the serial frozen loss and gradient bit for bit, and identical training with 1 and 2 threads', () => {
    const model = model2('gaussian', [7, 5], DESCRIPTOR_HIGH);
    const all = structures(model);
    fitStatistics(model, all);
    const weights = { energy: 10, forces: 1, virial: 0.1 };
    const frozen = all.map((s) => freezeStructure(model, s)), shared = frozen.map(shareFrozen);
    expect(shared[0].jac.buffer).toBeInstanceOf(SharedArrayBuffer);
    const serial = new FrozenLossEvaluator(model, weights);
    const par = new ParallelLoss(model, weights, 'central', shared, shared.length, { workers: 2, maxBatch: shared.length, callerComputes: false });
    try {
      par.waitReady();
      for (const batch of [[2, 0, 1], [1], [0, 2]]) {
        const g1 = new Float64Array(model.nParameters), g2 = new Float64Array(model.nParameters);
        const r1 = serial.batch(batch.map((k) => frozen[k]), g1), r2 = par.batch(batch, g2);
        expect([r2.loss, r2.eAbs, r2.eSq, r2.fAbs, r2.fSq, r2.components]).toEqual([r1.loss, r1.eAbs, r1.eSq, r1.fAbs, r1.fSq, r1.components]);
        expect(Array.from(g2)).toEqual(Array.from(g1));
        expect(g1.some((g, k) => g !== 0 && k >= model.offMlp[0])).toBe(true);
        for (let k = model.offMlp[0]; k < model.nParameters; k++) model.theta[k] -= 1e-3 * g1[k]; // workers must pick up new θ
      }
      expect(par.workerShare).toBe(1);
    } finally {
      par.close();
    }
    const prep = ljStructures(10, 1);
    const weightsLj = { energy: 100, forces: 100, virial: 0 };
    const run = (optimizer: 'lbfgs' | 'adam', workers: number) => {
      const m = ljModel(prep);
      const r = trainModel(m, prep.slice(0, 8), prep.slice(8), { epochs: 6, optimizer, batchSize: 3, learningRate: 0.03, weights: weightsLj, seed: 3, patience: 1000, freezeDescriptor: true, workers, waitForWorkers: true });
      expect(r.workers).toBe(workers);
      return { theta: Array.from(m.theta), history: r.history.map((h) => [h.trainLoss, h.valLoss, h.valForceMae]) };
    };
    for (const optimizer of ['lbfgs', 'adam'] as const) {
      const one = run(optimizer, 1), two = run(optimizer, 2);
      expect(two.theta).toEqual(one.theta);
      expect(two.history).toEqual(one.history);
      expect(one.theta.some((t, k) => t !== ljModel(prep).theta[k])).toBe(true);
    }
  });

  it('freezing on worker threads gives every structure\'s arrays bit for bit, in shared memory; a failing structure is named', () => {
    const model = model2('tanh', [5], DESCRIPTOR_HIGH);
    const all = structures(model);
    const serial = all.map((s) => freezeStructure(model, s));
    const { frozen, byWorkers } = freezeStructures(model, all, 2, { callerComputes: false });
    expect(byWorkers).toBe(all.length);
    expect(frozen.map((f) => f.source.name)).toEqual(all.map((s) => s.name));
    for (let k = 0; k < all.length; k++) {
      for (const key of ['G', 'blockStart', 'blockAtom', 'jac', 'blockLo', 'blockHi', 'blockJac'] as const) {
        expect(frozen[k][key].buffer).toBeInstanceOf(SharedArrayBuffer);
        expect(Array.from(frozen[k][key])).toEqual(Array.from(serial[k][key]));
      }
      expect(frozen[k].vir === null ? null : Array.from(frozen[k].vir!)).toEqual(serial[k].vir === null ? null : Array.from(serial[k].vir!));
    }
    expect(() => freezeStructures(model, all, 3, { failInWorker: all[1].name, callerComputes: false })).toThrow(new RegExp(`freezing worker \\d of 2, structure ${all[1].name}: Error: injected failure`));
    expect(() => freezeStructures(model, all, 0)).toThrow(/threads must be a positive integer/);
  });

  it('freezes the descriptors of the parameters it trains with: an --init centre outside its bounds is clipped first', () => {
    const prep = ljStructures(6, 4);
    const model = ljModel(prep);
    model.theta[model.offCentres] = model.config.cutoff; // beyond rc − s: clip() moves it
    const weights = { energy: 100, forces: 100, virial: 0 };
    const result = trainModel(model, prep.slice(0, 5), prep.slice(5), { epochs: 3, optimizer: 'lbfgs', learningRate: 0.03, weights, seed: 3, patience: 1000, freezeDescriptor: true });
    expect(model.theta[model.offCentres]).toBeLessThan(model.config.cutoff);
    // The validation loss the frozen stage recorded for the kept parameters is the model's own.
    const recorded = result.history[result.bestEpoch - 1].valLoss;
    const actual = new LossEvaluator(model, weights).batch(prep.slice(5), null).loss;
    expect(Math.abs(recorded - actual)).toBeLessThan(1e-9 * actual);
  });

  it('frozen Adam (mini-batches) trains the MLP only and lowers the loss > 40× in 30 epochs', () => {
    const prep = ljStructures(8, 2);
    const model = ljModel(prep);
    const weights = { energy: 100, forces: 100, virial: 0 };
    const initial = new LossEvaluator(model, weights).batch(prep, null);
    const before = Float64Array.from(model.theta.subarray(0, model.offMlp[0]));
    trainModel(model, prep.slice(0, 6), prep.slice(6), { epochs: 30, batchSize: 2, learningRate: 0.03, decay: 0.97, weights, seed: 3, patience: 1000, freezeDescriptor: true });
    expect(Array.from(model.theta.subarray(0, model.offMlp[0]))).toEqual(Array.from(before));
    const final = new LossEvaluator(model, weights).batch(prep, null);
    // Observed: 3.26 → 0.049 (66×).
    expect(final.loss).toBeLessThan(initial.loss / 40);
  });

  it('widenHidden keeps energies and forces (new neurons enter with zero output weights); smaller layers are rejected', () => {
    const model = model2('gaussian', [5, 3]);
    const prep = structures(model);
    fitStatistics(model, prep);
    const wide = widenHidden(model, [9, 6], 3);
    expect(wide.config.hidden).toEqual([9, 6]);
    const identity = Int32Array.from([0, 1]);
    for (const s of prep) {
      const atoms = { nLocal: s.nLocal, positions: s.positions, species: s.species, full: s.full };
      const f1 = new Float64Array(3 * s.nTotal), f2 = new Float64Array(3 * s.nTotal);
      const e1 = model.evaluate(atoms, identity, { forces: f1 }), e2 = wide.evaluate(atoms, identity, { forces: f2 });
      expect(Math.abs(e2 - e1)).toBeLessThan(1e-12 * Math.abs(e1));
      expect(relMax(f2, f1)).toBeLessThan(1e-12);
    }
    // The new neurons do receive gradient (training can use them).
    const g = new Float64Array(wide.nParameters);
    new LossEvaluator(wide, { energy: 1, forces: 1, virial: 0 }).batch(prep, g);
    const outW = wide.offMlp[0] + 9 * (wide.nDescriptors + 1) + 6 * 10; // species 0 output weights
    expect(Math.abs(g[outW + 4]) + Math.abs(g[outW + 5])).toBeGreaterThan(0);
    expect(() => widenHidden(model, [4, 3])).toThrow(/hidden layer 1 size 4 is smaller than the model's 5/);
    expect(() => widenHidden(model, [6])).toThrow(/1 hidden layers given, the model has 2/);
  });

  it('tensormd train --widen-hidden --freeze-descriptor: wider MLP, descriptor parameters unchanged; --widen-hidden needs --init', async () => {
    const lj = new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 6.0, shift: true });
    const fe = new ForceEvaluator(lj, { skin: 0 });
    const rng = new Rng(4);
    const frames = Array.from({ length: 6 }, (_, k) => {
      const s = lattice('fcc', { element: 'Ar', a: 5.26 * (0.95 + 0.02 * k), repeat: 2 });
      for (let q = 0; q < s.positions.length; q++) s.positions[q] += 0.08 * rng.normal();
      const energy = fe.evaluate(s).energy;
      return systemToFrame(s, { energy, forces: true });
    });
    const dir = mkdtempSync(join(tmpdir(), 'latte-frozen-'));
    const data = join(dir, 'lj.xyz'), m1 = join(dir, 'm1.msgpack'), m2 = join(dir, 'm2.msgpack');
    writeFileSync(data, formatExtxyz(frames));
    const quiet = console.log;
    console.log = () => {};
    try {
      expect(await trainCommand.run([data, '--out', m1, '--descriptor', '3,-:2,a,a', '--cutoff', '5', '--hidden', '4,3', '--epochs', '2', '--batch', '3', '--workers', '1'])).toBe(0);
      expect(await trainCommand.run([data, '--out', m2, '--init', m1, '--widen-hidden', '6,5', '--freeze-descriptor', '--optimizer', 'lbfgs', '--epochs', '4'])).toBe(0);
      await expect(trainCommand.run([data, '--out', m2, '--widen-hidden', '6,5'])).rejects.toThrow(/--widen-hidden needs --init/);
    } finally {
      console.log = quiet;
    }
    const a = loadModel(m1).model, b = loadModel(m2).model;
    expect(b.config.hidden).toEqual([6, 5]);
    expect(Array.from(b.theta.subarray(0, b.offMlp[0]))).toEqual(Array.from(a.theta.subarray(0, a.offMlp[0])));
  });
});
