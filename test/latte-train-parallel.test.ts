import { describe, expect, it } from 'vitest';
import { LatteModel } from '../potentials/latte/model.ts';
import { LossEvaluator, fitStatistics, prepareSystem, trainModel, type BatchResult, type TrainingStructure } from '../potentials/latte/train.ts';
import { ParallelLoss } from '../potentials/latte/train-parallel.ts';
import { System } from '../src/system.ts';
import { Cell } from '../src/cell.ts';
import { Rng } from '../src/rng.ts';

/** Random two-element cells of 6–11 atoms with arbitrary smooth targets (energies, forces, virials on some). */
function structures(count: number, model: LatteModel): TrainingStructure[] {
  const rng = new Rng(31);
  return Array.from({ length: count }, (_, k) => {
    const n = 6 + (k % 6);
    const cell = new Cell([5.2 + 0.1 * (k % 3), 0, 0, 0.4, 5.0, 0, -0.3, 0.2, 5.4]);
    const frac: number[] = [];
    for (let q = 0; q < 3 * n; q++) frac.push(rng.uniform());
    const s = new System({ symbols: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 'Ge' : 'Si')), positions: cell.toCartesian(frac), cell });
    const ref = {
      energy: -3 * n + rng.normal(),
      forces: Array.from({ length: 3 * n }, () => 0.3 * rng.normal()),
      virial: k % 2 === 0 ? Array.from({ length: 6 }, () => rng.normal()) : null,
    };
    return prepareSystem(s, `s${k}`, ref, model.config.elements, model.config.cutoff);
  });
}

function tinyModel(): LatteModel {
  const model = new LatteModel({
    elements: ['Ge', 'Si'], cutoff: 4.2, width: 1.1, hidden: [6], activation: 'tanh',
    descriptor: '2,-:2,a,a:2,ab,ab:1,a,b,ab', trainWidths: true, widthMin: 0.8, widthMax: 1.4,
  });
  model.initialise(4);
  return model;
}

const WEIGHTS = { energy: 10, forces: 1, virial: 0.1 };

function expectSameBits(a: BatchResult, b: BatchResult): void {
  expect([a.loss, a.eAbs, a.eSq, a.fAbs, a.fSq, a.structures, a.components]).toEqual([b.loss, b.eAbs, b.eSq, b.fAbs, b.fSq, b.structures, b.components]);
}

describe('LATTE parallel training loss', () => {
  const model = tinyModel();
  // Some structures carry a loss weight (train --augment-weights): the threads must apply it too.
  const all = structures(12, model).map((s, k) => (k % 4 === 1 ? { ...s, weight: 0.25 * k } : s));
  fitStatistics(model, all);
  const batches = [[3, 0, 7, 11, 5], [1, 2], [10, 4, 6, 8, 9]];

  for (const [workers, callerComputes] of [[1, false], [2, false]] as const) {
    it(`with ${workers} thread(s)${callerComputes ? ' (the calling thread included)' : ' (worker threads only)'} gives the serial loss and gradient bit for bit`, () => {
      const serial = new LossEvaluator(model, WEIGHTS, 'central');
      const par = new ParallelLoss(model, WEIGHTS, 'central', all, all.length, { workers, maxBatch: 5, callerComputes });
      try {
        par.waitReady();
        expect(par.ready).toBe(par.threads);
        for (const b of batches) {
          const g1 = new Float64Array(model.nParameters), g2 = new Float64Array(model.nParameters);
          const r1 = serial.batch(b.map((k) => all[k]), g1);
          const r2 = par.batch(b, g2);
          expectSameBits(r1, r2);
          expect(Array.from(g2)).toEqual(Array.from(g1));
          expect(g1.some((g) => g !== 0)).toBe(true);
          // θ moves between batches, as in training: workers must pick up the new parameters.
          for (let k = 0; k < model.nParameters; k++) model.theta[k] += 1e-3 * g1[k];
          model.clip();
        }
        // A phase without gradients larger than the batch (the validation set).
        const every = all.map((_, k) => k);
        expectSameBits(serial.batch(all, null), par.batch(every, null));
      } finally {
        par.close();
      }
    });
  }

  it('trains to identical parameters and learning curves with 1 thread, 2 threads, and 2 worker threads alone', () => {
    const run = (workers: number, callerComputes = true): { theta: number[]; history: unknown[]; share: number } => {
      const m = tinyModel();
      fitStatistics(m, all);
      const r = trainModel(m, all.slice(0, 9), all.slice(9), { epochs: 3, batchSize: 4, learningRate: 0.02, weights: WEIGHTS, seed: 5, workers, waitForWorkers: true, parallel: { callerComputes } });
      expect(r.workers).toBe(workers);
      return { share: r.workerShare, theta: Array.from(r.model.theta), history: r.history.map((h) => [h.trainLoss, h.valLoss, h.trainEnergyMae, h.trainForceMae, h.valEnergyMae, h.valForceMae]) };
    };
    const one = run(1), two = run(2), workersOnly = run(2, false);
    expect(one.share).toBe(0);
    expect(workersOnly.share).toBe(1); // every structure computed in worker threads
    // (with the calling thread included, how many the worker takes depends on timing)
    expect(two.theta).toEqual(one.theta);
    expect(two.history).toEqual(one.history);
    expect(workersOnly.theta).toEqual(one.theta);
    expect(workersOnly.history).toEqual(one.history);
    // Training moved the parameters.
    const start = tinyModel();
    expect(one.theta.some((t, k) => t !== start.theta[k])).toBe(true);
  });

  it('an error in a worker surfaces in the calling thread with its cause, and the workers are stopped', () => {
    const par = new ParallelLoss(model, WEIGHTS, 'central', all, all.length, { workers: 2, maxBatch: 5, callerComputes: false, failInWorker: 's7' });
    par.waitReady();
    expect(() => par.batch([3, 0, 7, 11, 5], new Float64Array(model.nParameters))).toThrow(/LATTE training failed in LATTE training worker \d of 2, structure s7: Error: injected failure \(testing\) on s7/);
    expect(() => par.batch([1, 2], null)).toThrow(/used after close/);
    par.close();
  });

  it('a worker that cannot start (its model does not decode) fails the training with the reason', () => {
    const bad = model.clone();
    bad.theta[bad.offMlp[0]] = NaN; // the calling thread would carry on with NaN losses; a worker's model file check rejects it
    const par = new ParallelLoss(bad, WEIGHTS, 'central', all, all.length, { workers: 2, maxBatch: 5 });
    expect(() => par.waitReady()).toThrow(/LATTE training failed in LATTE training worker 1 of 1: Error: LATTE training worker model: field 'theta' entry \d+ is not finite/);
    expect(() => par.batch([0], null)).toThrow(/used after close/);
  });

  it('rejects a bad thread count and a phase larger than prepared', () => {
    expect(() => trainModel(tinyModel(), all, [], { epochs: 1, workers: 0 })).toThrow(/workers must be a positive integer, got 0/);
    const par = new ParallelLoss(model, WEIGHTS, 'central', all, 0, { workers: 1, maxBatch: 2 }); // no worker thread
    try {
      expect(() => par.batch([0, 1, 2], new Float64Array(model.nParameters))).toThrow(/phase of 3 structures exceeds the 2 prepared/);
    } finally {
      par.close();
    }
  });
});
