import { describe, expect, it } from 'vitest';
import { ljData, ljModel, noisyGeSiStructures, randomGeSiCell } from './latte-fixtures.ts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LatteModel } from '../potentials/latte/model.ts';
import { LossEvaluator, fitStatistics, prepareSystem, readTrainingFrames, validationSplit, trainLatte, trainModel } from '../potentials/latte/train.ts';
import { decodeModel, encodeModel, loadModel, saveModel } from '../potentials/latte/io.ts';
import { LattePotential, latteFromSpec } from '../potentials/latte/potential.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { evaluateErrors } from '../src/analysis/errors.ts';
import { trainCommand } from '../src/cli/train.ts';
import { System } from '../src/system.ts';
import { Rng } from '../src/rng.ts';
import { formatExtxyz, systemToFrame } from '../src/io/extxyz.ts';

const randomSystem = randomGeSiCell;

function tinyModel(trainWidths = false): LatteModel {
  const model = new LatteModel({
    elements: ['Ge', 'Si'], cutoff: 4.2, width: 1.1, hidden: [6], activation: 'tanh',
    descriptor: '2,-:2,a,a:2,ab,ab:1,a,b,ab', trainWidths, widthMin: 0.8, widthMax: 1.4,
  });
  model.initialise(4);
  return model;
}

describe('LATTE loss gradients', () => {
  // Reference data: arbitrary smooth targets (random energies, forces, virials).
  const model = tinyModel(true);
  const structures = noisyGeSiStructures(model, [1, 2, 3], 99, true);
  fitStatistics(model, structures);

  const check = (weights: { energy: number; forces: number; virial: number }, scheme: 'central' | 'forward' = 'central', tol = 2e-6): void => {
    const loss = new LossEvaluator(model, weights, scheme);
    const grad = new Float64Array(model.nParameters);
    const L0 = loss.batch(structures, grad).loss;
    expect(L0).toBeGreaterThan(0);
    const pick = new Rng(5);
    let checked = 0, nonzero = 0;
    const F = model.nFunctions;
    const candidates = [
      ...Array.from({ length: 8 }, () => model.offCentres + Math.floor(pick.uniform() * 2 * F)),
      ...Array.from({ length: 5 }, () => model.offWidths + Math.floor(pick.uniform() * F)),
      ...Array.from({ length: 8 }, () => model.offWeights + Math.floor(pick.uniform() * 4 * F)),
      ...Array.from({ length: 14 }, () => model.offMlp[0] + Math.floor(pick.uniform() * (model.nParameters - model.offMlp[0]))),
    ];
    for (const p of candidates) {
      const t0 = model.theta[p], h = 1e-6 * Math.max(1, Math.abs(t0));
      model.theta[p] = t0 + h;
      const lp = loss.batch(structures, null).loss;
      model.theta[p] = t0 - h;
      const lm = loss.batch(structures, null).loss;
      model.theta[p] = t0;
      const fd = (lp - lm) / (2 * h);
      if (Math.abs(fd) > 1e-6 * L0) nonzero++;
      expect(Math.abs(fd - grad[p])).toBeLessThan(tol * Math.max(Math.abs(fd), 1e-3 * L0));
      checked++;
    }
    expect(checked).toBe(candidates.length);
    expect(nonzero).toBeGreaterThan(20);
  };

  it('of the energy loss match finite differences', () => check({ energy: 1, forces: 0, virial: 0 }));
  it('of the force loss match finite differences', () => check({ energy: 0, forces: 1, virial: 0 }));
  it('of the virial loss match finite differences', () => check({ energy: 0, forces: 0, virial: 1 }));
  it('of the combined loss match finite differences', () => check({ energy: 10, forces: 1, virial: 0.1 }));
  // The one-sided scheme has an O(h) error, h = 1e-5 Å displacement: expect ~1e-5 relative.
  it('of the combined loss with the forward-difference scheme match finite differences to 1e-4', () =>
    check({ energy: 10, forces: 1, virial: 0.1 }, 'forward', 1e-4));
});

describe('LATTE training', () => {
  it('drives the loss on a Lennard-Jones target down by over 50× and the force RMSE below 0.015 eV/Å', () => {
    const data = ljData(10, 1);
    let refSq = 0;
    for (const d of data) for (const f of d.forces) refSq += f * f;
    const refRms = Math.sqrt(refSq / (data.length * data[0].forces.length));
    expect(refRms).toBeGreaterThan(0.05); // the target is not trivial
    const prep = data.map((d, k) => prepareSystem(d.system, `lj${k}`, d, ['Ar'], 6.0));
    const model = ljModel(prep);
    const weights = { energy: 100, forces: 100, virial: 0 };
    const initial = new LossEvaluator(model, weights).batch(prep, null);
    const train = prep.filter((_, k) => k % 5 !== 2), validation = prep.filter((_, k) => k % 5 === 2);
    const result = trainModel(model, train, validation, { epochs: 40, batchSize: 2, learningRate: 0.03, decay: 0.97, weights, seed: 3 });
    const final = new LossEvaluator(model, weights).batch(prep, null);
    expect(result.history.length).toBe(40);
    expect(final.loss).toBeLessThan(initial.loss / 50);
    // Stated level: force RMSE under 0.015 eV/Å (reference force RMS ≈ 0.077 eV/Å), validation included.
    expect(Math.sqrt(final.fSq / final.components)).toBeLessThan(0.015);
  });

  it('trains from extxyz files reproducibly with a seed, writes learning curves and a model MD can load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latte-train-'));
    const data = ljData(6, 5);
    const frames = data.map((d) => {
      d.system.forces.set(d.forces);
      return systemToFrame(d.system, { energy: d.energy, forces: true });
    });
    const file = join(dir, 'lj.xyz');
    writeFileSync(file, formatExtxyz(frames));
    const run = (curves: string): ReturnType<typeof trainLatte> =>
      trainLatte({
        model: { cutoff: 5.0, width: 1.2, hidden: [4], descriptor: '3,-:2,a,a', activation: 'silu' },
        train: [file], validationFraction: 0.34, seed: 11, epochs: 4, batchSize: 2, curves,
      });
    const a = run(join(dir, 'a.csv'));
    const b = run(join(dir, 'b.csv'));
    expect(Array.from(a.model.theta)).toEqual(Array.from(b.model.theta));
    expect(a.trainStructures).toBe(4);
    expect(a.validationStructures).toBe(2);
    const csv = readFileSync(join(dir, 'a.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^epoch,lr,train_loss,val_loss/);
    expect(csv.length).toBe(1 + a.history.length);
    // Continuing from the trained model (lr 0): same split, parameters and standardisation kept.
    const before = Float64Array.from(a.model.theta);
    const c = trainLatte({
      model: { cutoff: 9, width: 1, hidden: [1], descriptor: '1,-' }, initial: a.model,
      train: [file], validationFraction: 0.34, seed: 11, epochs: 1, learningRate: 0,
    });
    expect(Array.from(c.model.theta)).toEqual(Array.from(before));
    expect(c.model).not.toBe(a.model);
    expect(c.model.config.descriptor).toBe('3,-:2,a,a');
    expect(c.history[0].valLoss).toBe(a.history[a.bestEpoch - 1].valLoss);
    // Save, load through the registry spec, and run it on a structure.
    const path = join(dir, 'm.msgpack');
    saveModel(path, a.model);
    const pot = latteFromSpec({ kind: 'latte', model: path });
    const s = data[0].system;
    const e1 = new ForceEvaluator(pot).evaluate(s).energy;
    const e2 = new ForceEvaluator(new LattePotential(a.model)).evaluate(s).energy;
    expect(e1).toBe(e2);
  });
});

/** ljData frames written as extxyz to `path` (energies shifted by `shiftPerAtom` eV/atom); returns the path. */
function writeLjFrames(path: string, count: number, seed: number, shiftPerAtom = 0): string {
  const frames = ljData(count, seed).map((d) => {
    d.system.forces.set(d.forces);
    return systemToFrame(d.system, { energy: d.energy + shiftPerAtom * d.system.n, forces: true });
  });
  writeFileSync(path, formatExtxyz(frames));
  return path;
}

describe('LATTE training-only (augment) files', () => {
  it('train but are never held out: the split of the other files and its validation loss are unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latte-augment-'));
    const write = (name: string, count: number, seed: number): string => writeLjFrames(join(dir, name), count, seed);
    const file = write('lj.xyz', 6, 5), extra = write('extra.xyz', 3, 8);
    const base = trainLatte({
      model: { cutoff: 5.0, width: 1.2, hidden: [4], descriptor: '3,-:2,a,a', activation: 'silu' },
      train: [file], validationFraction: 0.34, seed: 11, epochs: 2, batchSize: 2,
      curves: join(dir, 'base.csv'),
    });
    // validationSplit names the frames the run held out: its best epoch's validation MAE
    // is measured again on them (bench/latte-validation.ts does this for shipped models).
    const frames = readTrainingFrames([file]);
    const held = validationSplit(frames.length, 0.34, new Rng(11)).validation.map((k) => frames[k].frame);
    expect(held.length).toBe(base.validationStructures);
    const again = evaluateErrors(new LattePotential(base.model), held);
    const best = base.history[base.bestEpoch - 1];
    expect(again.energy_mae_mev_per_atom).toBeCloseTo(best.valEnergyMae, 9);
    expect(again.force_mae_ev_per_a).toBeCloseTo(best.valForceMae, 12);
    const run = (augment?: string[]): ReturnType<typeof trainLatte> => trainLatte({
      model: { cutoff: 9, width: 1, hidden: [1], descriptor: '1,-' }, initial: base.model,
      train: [file], augment, validationFraction: 0.34, seed: 11, epochs: 1, learningRate: 0, optimizer: 'adam',
      curves: join(dir, 'c.csv'),
    });
    const without = run(), withExtra = run([extra]);
    expect(withExtra.validationStructures).toBe(without.validationStructures);
    expect(withExtra.trainStructures).toBe(without.trainStructures + 3);
    expect(withExtra.history[0].valLoss).toBe(without.history[0].valLoss);
    // The extra frames are in the training loss (a different mean over more structures).
    expect(withExtra.history[0].trainLoss).not.toBe(without.history[0].trainLoss);
    expect(() => run([join(dir, 'missing.xyz')])).toThrow(/missing\.xyz/);
    await expect(trainCommand.run([file, '--out', join(dir, 'x.msgpack'), '--augment'])).rejects.toThrow(/--augment needs comma-separated extxyz files/);
  });
});

describe('LATTE augment weights', () => {
  it('weigh each augment file\'s frames in the loss: the full-batch training loss is affine in the weight, 1 is the default, validation untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latte-augment-weights-'));
    // Energies 0.2 eV/atom off the model's reach, so every file adds to the loss.
    const write = (name: string, count: number, seed: number): string => writeLjFrames(join(dir, name), count, seed, 0.2);
    const file = write('lj.xyz', 5, 5), extraA = write('a.xyz', 2, 8), extraB = write('b.xyz', 2, 9);
    const model = new LatteModel({ elements: ['Ar'], cutoff: 5.0, width: 1.2, hidden: [4], descriptor: '3,-:2,a,a', activation: 'silu' });
    model.initialise(3);
    // One full batch with a zero learning rate: the epoch's loss is the loss at the initial parameters.
    const run = (augmentWeights?: number[]) => trainLatte({
      model: { cutoff: 9, width: 1, hidden: [1], descriptor: '1,-' }, initial: model,
      train: [file], augment: [extraA, extraB], augmentWeights, validationFraction: 0.2, seed: 3,
      epochs: 1, batchSize: 100, learningRate: 0, optimizer: 'adam', curves: join(dir, 'c.csv'),
    }).history[0];
    const def = run(), one = run([1]), w = (a: number, b: number) => run([a, b]).trainLoss;
    expect(one.trainLoss).toBe(def.trainLoss);
    expect(run([1, 1]).trainLoss).toBe(def.trainLoss);
    const L00 = w(0, 0), L10 = w(1, 0), L20 = w(2, 0), L01 = w(0, 1);
    expect(L10).toBeGreaterThan(L00 * 1.01);
    expect(Math.abs(L20 - L10 - (L10 - L00))).toBeLessThan(1e-12 * L20);
    expect(Math.abs(def.trainLoss - (L10 + L01 - L00))).toBeLessThan(1e-12 * def.trainLoss);
    expect(run([0.5]).valLoss).toBe(def.valLoss);
    expect(() => run([1, 1, 1])).toThrow(/3 weights for 2 augment files/);
    expect(() => run([1, -1])).toThrow(/weight of .*b\.xyz must be a finite number ≥ 0, got -1/);
    const out = join(dir, 'x.msgpack');
    await expect(trainCommand.run([file, '--out', out, '--augment', extraA, '--augment-weights', '0.5,x'])).rejects.toThrow(/--augment-weights needs comma-separated numbers, got '0.5,x'/);
    await expect(trainCommand.run([file, '--out', out, '--augment-weights', '0.5'])).rejects.toThrow(/give augment too/);
    // The model file records each weight that is not 1 beside its file.
    expect(await trainCommand.run([file, '--out', out, '--augment', `${extraA},${extraB}`, '--augment-weights', '1,0.5', '--epochs', '1', '--descriptor', '2,-', '--hidden', '2'])).toBe(0);
    expect(loadModel(out).meta.trainedOn).toEqual([file, extraA, `${extraB} (loss weight 0.5)`]);
  });
});

describe('LATTE learning-rate schedules', () => {
  it('the cosine schedule runs from lr to lrMin: half-way at the middle epoch, lrMin at the last', () => {
    const model = tinyModel();
    const structures = [1, 2].map((seed) => {
      const s = randomSystem(seed);
      return prepareSystem(s, `s${seed}`, { energy: -3 * s.n, forces: new Float64Array(3 * s.n) }, model.config.elements, model.config.cutoff);
    });
    fitStatistics(model, structures);
    const result = trainModel(model, structures, [], { epochs: 5, learningRate: 0.01, learningRateMin: 0.002, schedule: 'cosine', patience: 100 });
    const lr = result.history.map((h) => h.lr);
    expect(lr[0]).toBeCloseTo(0.01, 15);
    expect(lr[2]).toBeCloseTo(0.006, 15); // cos(π/2) = 0: the mean of 0.01 and 0.002
    expect(lr[4]).toBeCloseTo(0.002, 15);
    expect(lr[1]).toBeCloseTo(0.002 + 0.008 * (1 + Math.SQRT1_2) / 2, 15);
    expect(() => trainModel(model, structures, [], { epochs: 1, schedule: 'step' as never })).toThrow(/unknown learning-rate schedule 'step'/);
  });
});

describe('LATTE model selection', () => {
  it("select 'mae' keeps the epoch with the lowest √wE·MAE(E/N) + √wF·MAE(F) on the validation set", () => {
    const model = tinyModel();
    const rng = new Rng(7);
    const structures = [1, 2, 3, 4, 5].map((seed) => {
      const s = randomSystem(seed);
      return prepareSystem(s, `s${seed}`, { energy: -3 * s.n + rng.normal(), forces: Array.from({ length: 3 * s.n }, () => 0.3 * rng.normal()) }, model.config.elements, model.config.cutoff);
    });
    fitStatistics(model, structures);
    const weights = { energy: 30, forces: 2, virial: 0 };
    const train = structures.slice(0, 3), validation = structures.slice(3);
    const result = trainModel(model, train, validation, { epochs: 12, learningRate: 0.05, decay: 1, weights, select: 'mae', patience: 100, seed: 2 });
    const score = (h: (typeof result.history)[number]): number => Math.sqrt(30) * h.valEnergyMae / 1000 + Math.sqrt(2) * h.valForceMae;
    let best = 0;
    result.history.forEach((h, k) => { if (score(h) < score(result.history[best])) best = k; });
    expect(result.bestEpoch).toBe(best + 1);
    // The kept parameters reproduce that epoch's validation errors.
    const v = new LossEvaluator(model, weights).batch(validation, null);
    expect((1000 * v.eAbs) / v.structures).toBeCloseTo(result.history[best].valEnergyMae, 10);
    expect(v.fAbs / v.components).toBeCloseTo(result.history[best].valForceMae, 12);
    expect(() => trainModel(model, train, validation, { epochs: 1, select: 'rmse' as never })).toThrow(/unknown model selection 'rmse'/);
  });
});

describe('LATTE bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latte-bad-'));
  it('a training file without energies or without forces is rejected naming file and frame', () => {
    const s = randomSystem(1);
    const noEnergy = join(dir, 'noenergy.xyz');
    writeFileSync(noEnergy, formatExtxyz([systemToFrame(s, { forces: true })]));
    expect(() => readTrainingFrames([noEnergy])).toThrow(/noenergy\.xyz: frame 0 has no energy/);
    const noForces = join(dir, 'noforces.xyz');
    writeFileSync(noForces, formatExtxyz([systemToFrame(s, { energy: -1 })]));
    expect(() => readTrainingFrames([noForces])).toThrow(/noforces\.xyz: frame 0 has no forces/);
  });

  it('an element missing from the model is named', () => {
    const model = tinyModel();
    const pot = new LattePotential(model, 'models/x.msgpack');
    expect(() => pot.bind(['Si', 'Cu'])).toThrow(/does not cover element Cu/);
    const s = new System({ symbols: ['Si', 'C'], positions: [0, 0, 0, 1.5, 0, 0] });
    expect(() => prepareSystem(s, 'f.xyz: frame 3', { energy: 0, forces: new Float64Array(6) }, ['Ge', 'Si'], 4)).toThrow(/f\.xyz: frame 3: element C is not in the model/);
  });

  it('inconsistent model files are rejected: wrong version, truncated, wrong lengths, not a model', () => {
    const model = tinyModel();
    const bytes = encodeModel(model);
    expect(decodeModel(bytes).model.theta).toEqual(model.theta);
    const path = join(dir, 'ok.msgpack');
    saveModel(path, model);
    expect(loadModel(path).model.nParameters).toBe(model.nParameters);
    const truncated = join(dir, 'truncated.msgpack');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(() => loadModel(truncated)).toThrow(/truncated\.msgpack.*(truncated or corrupt|inconsistent or truncated)/);
    const other = new LatteModel({ ...model.config, hidden: [7] });
    const mixed = { ...(decodeRaw(encodeModel(other))), config: model.config };
    expect(() => decodeModel(packRaw(mixed), 'mixed.msgpack')).toThrow(/mixed\.msgpack: field 'theta' has \d+ values, the model's configuration needs \d+/);
    expect(() => decodeModel(packRaw({ ...decodeRaw(bytes), version: 99 }), 'v.msgpack')).toThrow(/v\.msgpack: unsupported LATTE model version 99/);
    expect(() => decodeModel(packRaw({ hello: 1 }), 'h.msgpack')).toThrow(/h\.msgpack: not a LATTE model/);
    expect(() => loadModel(join(dir, 'missing.msgpack'))).toThrow(/missing\.msgpack' cannot be read/);
  });
});

import { pack, unpack } from 'msgpackr';
function decodeRaw(b: Uint8Array): Record<string, unknown> {
  return unpack(b) as Record<string, unknown>;
}
function packRaw(o: unknown): Uint8Array {
  return pack(o);
}
