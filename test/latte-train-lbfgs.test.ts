import { describe, expect, it } from 'vitest';
import { ljModel, ljStructures } from './latte-fixtures.ts';
import { LatteModel } from '../potentials/latte/model.ts';
import { LossEvaluator, fitStatistics, trainModel, widenModel } from '../potentials/latte/train.ts';



describe('LATTE L-BFGS training', () => {
  const prep = ljStructures(10, 1);
  const train = prep.filter((_, k) => k % 5 !== 2), validation = prep.filter((_, k) => k % 5 === 2);
  const weights = { energy: 100, forces: 100, virial: 0 };

  it('reaches a lower loss than Adam for the same number of full-batch gradients: loss down > 300×, force RMSE < 0.009 eV/Å', () => {
    const adam = ljModel(prep);
    const initial = new LossEvaluator(adam, weights).batch(prep, null);
    // Adam as in latte-train.test.ts: 40 epochs of 4 batches of 2 = 40 full-batch gradients.
    trainModel(adam, train, validation, { epochs: 40, batchSize: 2, learningRate: 0.03, decay: 0.97, weights, seed: 3, workers: 1 });
    const adamFinal = new LossEvaluator(adam, weights).batch(prep, null);
    const lb = ljModel(prep);
    const result = trainModel(lb, train, validation, { epochs: 40, optimizer: 'lbfgs', learningRate: 0.03, weights, seed: 3, workers: 1, patience: 1000 });
    const final = new LossEvaluator(lb, weights).batch(prep, null);
    expect(result.history.length).toBe(40);
    // Line searches rarely need more than the first trial: at most 10 % extra evaluations (+ the initial one).
    expect(result.evaluations!).toBeLessThanOrEqual(45);
    expect(final.loss).toBeLessThan(initial.loss / 300);
    expect(final.loss).toBeLessThan(adamFinal.loss / 2);
    // Stated level (reference force RMS ≈ 0.077 eV/Å), validation structures included.
    expect(Math.sqrt(final.fSq / final.components)).toBeLessThan(0.009);
    // The training loss never rises (Armijo condition).
    for (let k = 1; k < result.history.length; k++) expect(result.history[k].trainLoss).toBeLessThanOrEqual(result.history[k - 1].trainLoss);
  });

  it('keeps the iteration with the lowest validation loss, and is deterministic: same bits on 1 and 2 threads', () => {
    const a = ljModel(prep), b = ljModel(prep);
    const ra = trainModel(a, train, validation, { epochs: 12, optimizer: 'lbfgs', learningRate: 0.03, weights, workers: 1, patience: 1000, lbfgsMemory: 5 });
    const rb = trainModel(b, train, validation, { epochs: 12, optimizer: 'lbfgs', learningRate: 0.03, weights, workers: 2, patience: 1000, lbfgsMemory: 5, waitForWorkers: true });
    expect(rb.workers).toBe(2);
    expect(Array.from(b.theta)).toEqual(Array.from(a.theta));
    const best = Math.min(...ra.history.map((h) => h.valLoss));
    expect(ra.history[ra.bestEpoch - 1].valLoss).toBe(best);
    const val = new LossEvaluator(a, weights).batch(validation, null);
    expect(val.loss).toBeCloseTo(best, 12);
  });

  it('early stopping names the criterion it stopped on', () => {
    for (const [select, criterion] of [['mae', 'validation MAE score'], ['loss', 'validation loss']] as const) {
      const lines: string[] = [];
      const r = trainModel(ljModel(prep), train, validation, { epochs: 60, optimizer: 'lbfgs', learningRate: 0.03, weights, workers: 1, patience: 2, select, log: (l) => lines.push(l) });
      expect(r.history.length).toBeLessThan(60);
      expect(lines).toContain(`early stop: no better ${criterion} for 2 iterations (best iteration ${r.bestEpoch})`);
    }
  });

  it('an unknown optimizer is rejected by name', () => {
    const m = ljModel(prep);
    expect(() => trainModel(m, train, [], { epochs: 1, optimizer: 'sgd' as never, workers: 1 })).toThrow(/unknown optimizer 'sgd' \(adam, lbfgs\)/);
  });
});

describe('widenModel', () => {
  it('a larger cutoff and learned widths leave energies and forces unchanged; a smaller cutoff or a width outside the range is rejected', () => {
    const prep = ljStructures(3, 5);
    const model = new LatteModel({ elements: ['Ar'], cutoff: 4.5, width: 1.5, hidden: [8], activation: 'gaussian', descriptor: '3,-:3,a,a:2,ab,ab:2,a,b,ab' });
    model.initialise(7);
    fitStatistics(model, prep);
    const wide = widenModel(model, { cutoff: 5.5, widthMin: 0.8, widthMax: 1.6 });
    expect(wide.config.cutoff).toBe(5.5);
    expect(wide.config.trainWidths).toBe(true);
    expect(wide.trainable[wide.offWidths]).toBe(1);
    const id = Int32Array.of(0);
    for (const s of prep) {
      const atoms = { nLocal: s.nLocal, positions: s.positions, species: s.species, full: s.full };
      const fa = new Float64Array(3 * s.nTotal), fb = new Float64Array(3 * s.nTotal);
      const ea = model.evaluate(atoms, id, { forces: fa }), eb = wide.evaluate(atoms, id, { forces: fb });
      expect(Math.abs(ea - eb)).toBeLessThan(1e-12 * Math.max(1, Math.abs(ea)));
      let fmax = 0, dmax = 0;
      for (let k = 0; k < fa.length; k++) { fmax = Math.max(fmax, Math.abs(fa[k])); dmax = Math.max(dmax, Math.abs(fa[k] - fb[k])); }
      expect(fmax).toBeGreaterThan(1e-3);
      expect(dmax).toBeLessThan(1e-12 * fmax + 1e-14);
    }
    // After a training step the widths move (they are trainable now) and the centres stay inside the new cutoff.
    trainModel(wide, prep, [], { epochs: 3, optimizer: 'lbfgs', learningRate: 0.05, weights: { energy: 1, forces: 1, virial: 0 }, workers: 1, patience: 100 });
    let moved = 0;
    for (let f = 0; f < wide.nFunctions; f++) if (wide.theta[wide.offWidths + f] !== 1.5) moved++;
    expect(moved).toBeGreaterThan(0);
    expect(() => wide.validate()).not.toThrow();
    expect(() => widenModel(model, { cutoff: 4 })).toThrow(/cutoff 4 is smaller than the model's 4.5/);
    expect(() => widenModel(model, { widthMin: 0.5, widthMax: 1.2 })).toThrow(/width 1.5 outside \[0.5, 1.2\]/);
  });
});

describe('LATTE weight decay', () => {
  it('weightPenalty is λ Σ w² over the weight matrices only: its gradient matches finite differences, biases and descriptor parameters get none', () => {
    const model = new LatteModel({ elements: ['Ge', 'Si'], cutoff: 5, width: 1.5, hidden: [6, 4], activation: 'silu', descriptor: '3,-:2,a,a' });
    model.initialise(4);
    const lambda = 0.37, th = model.theta, P = model.nParameters;
    const grad = new Float64Array(P);
    const value = model.weightPenalty(lambda, grad);
    // Weight matrices per species: D×6 + 6×4 + 4×1 with D = 3 + 2 descriptors.
    const nWeights = 2 * (5 * 6 + 6 * 4 + 4 * 1);
    expect(Array.from(grad).filter((g) => g !== 0).length).toBe(nWeights);
    const scratch = new Float64Array(P);
    const penalty = (): number => model.weightPenalty(lambda, scratch);
    let sum = 0;
    for (let k = 0; k < P; k++) {
      const x = th[k], h = 1e-4;
      th[k] = x + h; const up = penalty();
      th[k] = x - h; const down = penalty();
      th[k] = x;
      const fd = (up - down) / (2 * h);
      expect(Math.abs(fd - grad[k])).toBeLessThan(1e-9 * Math.max(1, Math.abs(fd)));
      if (grad[k] !== 0) sum += x * x;
    }
    expect(value).toBeCloseTo(lambda * sum, 12);
    expect(model.weightPenalty(lambda, scratch.fill(0))).toBe(value); // theta unchanged by the probing
  });

  it('training with weightDecay shrinks the weights, minimises data loss + penalty, and validates on the data loss alone', () => {
    const prep = ljStructures(10, 1);
    const train = prep.filter((_, k) => k % 5 !== 2), validation = prep.filter((_, k) => k % 5 === 2);
    const weights = { energy: 100, forces: 100, virial: 0 };
    const squares = (m: LatteModel): number => m.weightPenalty(1, new Float64Array(m.nParameters));
    const plain = ljModel(prep), decayed = ljModel(prep);
    const options = { epochs: 25, optimizer: 'lbfgs' as const, learningRate: 0.03, weights, workers: 1, patience: 1000 };
    trainModel(plain, train, validation, options);
    const lambda = 1e-2; // λ Σ w² ≈ 0.11 at the start, ~6× the data loss plain training reaches
    const r = trainModel(decayed, train, validation, { ...options, weightDecay: lambda });
    expect(squares(decayed)).toBeLessThan(0.5 * squares(plain));
    const best = r.history[r.bestEpoch - 1];
    // Validation loss: the data loss alone (the penalty is not part of it).
    expect(new LossEvaluator(decayed, weights).batch(validation, null).loss).toBeCloseTo(best.valLoss, 12);
    // Training loss: data loss + λ Σ w², and L-BFGS never lets it rise.
    const data = new LossEvaluator(decayed, weights).batch(train, null).loss;
    expect(best.trainLoss).toBeCloseTo(data + lambda * squares(decayed), 12);
    for (let k = 1; k < r.history.length; k++) expect(r.history[k].trainLoss).toBeLessThanOrEqual(r.history[k - 1].trainLoss);
  });

  it('a negative or non-finite weightDecay is rejected by name', () => {
    const prep = ljStructures(3, 1);
    for (const bad of [-1e-3, Number.NaN, Infinity]) {
      expect(() => trainModel(ljModel(prep), prep, [], { epochs: 1, weightDecay: bad, workers: 1 })).toThrow(/weightDecay must be a finite number ≥ 0/);
    }
  });
});
