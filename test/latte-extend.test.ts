import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noisyGeSiStructures, randomGeSiCell } from './latte-fixtures.ts';
import { saveModel } from '../potentials/latte/io.ts';
import { LatteModel, type SpeciesMode } from '../potentials/latte/model.ts';
import { LossEvaluator, dropDescriptorBlocks, dropDescriptorTerms, extendDescriptor, fitStatistics, trainLatte, type TrainingStructure } from '../potentials/latte/train.ts';
import { trainCommand } from '../src/cli/train.ts';
import { formatExtxyz, systemToFrame } from '../src/io/extxyz.ts';
import { Rng } from '../src/rng.ts';

function model2(speciesMode: SpeciesMode): LatteModel {
  const m = new LatteModel({
    elements: ['Ge', 'Si'], cutoff: 4.2, width: 1.1, hidden: [6, 4], activation: 'gaussian', speciesMode,
    descriptor: '3,-:2,a,a:2,ab,ab', trainWidths: true, widthMin: 0.8, widthMax: 1.4,
  });
  m.initialise(4);
  return m;
}

const structures = (model: LatteModel): TrainingStructure[] => noisyGeSiStructures(model, [1, 2, 3], 7, false);

const atomsOf = (s: TrainingStructure) => ({ nLocal: s.nLocal, positions: s.positions, species: s.species, full: s.full });
const identity = Int32Array.from([0, 1]);

/**
 * model2 with moved widths and '2,abc,abc' appended (inputs 7, 8), the appended inputs
 * given first-layer weight, so that dropping any input matters everywhere (D = 9).
 */
function weightedFull(mode: 'specific' | 'embedding'): { full: LatteModel; prep: TrainingStructure[] } {
  const model = model2(mode);
  const prep = structures(model);
  fitStatistics(model, prep);
  for (let f = 0; f < model.nFunctions; f++) model.theta[model.offWidths + f] = 0.85 + 0.03 * f;
  const full = extendDescriptor(model, '2,abc,abc', prep, 5);
  for (let t = 0; t < 2; t++) for (let k = 0; k < 6; k++) for (let d = 7; d < 9; d++) full.theta[full.offMlp[t] + k * 9 + d] = 0.3 * (k - d + t);
  return { full, prep };
}

/**
 * Oracle for dropping inputs of weightedFull's model: the full model with the dropped
 * inputs' first-layer weights set to zero has the dropped model's energies and forces,
 * and the kept descriptors are the same numbers.
 */
function expectDroppedIsZeroed(full: LatteModel, dropped: LatteModel, droppedInputs: readonly number[], prep: readonly TrainingStructure[]): void {
  const zeroed = full.clone();
  for (let t = 0; t < 2; t++) for (let k = 0; k < 6; k++) for (const d of droppedInputs) zeroed.theta[zeroed.offMlp[t] + k * 9 + d] = 0;
  const keptColumns = Array.from({ length: 9 }, (_, d) => d).filter((d) => !droppedInputs.includes(d));
  const D = keptColumns.length;
  expect(dropped.nDescriptors).toBe(D);
  for (const s of prep) {
    const Gf = new Float64Array(s.nLocal * 9), Gd = new Float64Array(s.nLocal * D);
    const f1 = new Float64Array(3 * s.nTotal), f2 = new Float64Array(3 * s.nTotal);
    const e1 = zeroed.evaluate(atomsOf(s), identity, { forces: f1, descriptors: Gf });
    const e2 = dropped.evaluate(atomsOf(s), identity, { forces: f2, descriptors: Gd });
    for (let i = 0; i < s.nLocal; i++) keptColumns.forEach((c, d) => expect(Gd[i * D + d]).toBe(Gf[i * 9 + c]));
    expect(Math.abs(e2 - e1)).toBeLessThan(1e-12 * Math.abs(e1));
    for (let k = 0; k < f1.length; k++) expect(Math.abs(f2[k] - f1[k])).toBeLessThan(1e-12);
    expect(Math.abs(full.evaluate(atomsOf(s), identity) - e1)).toBeGreaterThan(1e-6);
  }
}

describe('LATTE extendDescriptor (append blocks to a trained model)', () => {
  for (const mode of ['specific', 'embedding'] as const) {
    it(`${mode} species weights: same energies and forces, old descriptors unchanged, new ones standardised and trainable`, () => {
      const model = model2(mode);
      const prep = structures(model);
      fitStatistics(model, prep);
      // Widths and centres moved off their initial values, as in a trained model.
      for (let f = 0; f < model.nFunctions; f++) model.theta[model.offWidths + f] = 0.85 + 0.05 * f;
      const ext = extendDescriptor(model, '2,abc,abc:2,abcd,abcd', prep, 5);
      expect(ext.config.descriptor).toBe('3,-:2,a,a:2,ab,ab:2,abc,abc:2,abcd,abcd');
      const D = model.nDescriptors, Dn = ext.nDescriptors;
      expect(Dn).toBe(D + 4);
      const count = new Float64Array(2), sum = new Float64Array(2 * Dn), sq = new Float64Array(2 * Dn);
      for (const s of prep) {
        const f1 = new Float64Array(3 * s.nTotal), f2 = new Float64Array(3 * s.nTotal);
        const G1 = new Float64Array(s.nLocal * D), G2 = new Float64Array(s.nLocal * Dn);
        const e1 = model.evaluate(atomsOf(s), identity, { forces: f1, descriptors: G1 });
        const e2 = ext.evaluate(atomsOf(s), identity, { forces: f2, descriptors: G2 });
        expect(Math.abs(e2 - e1)).toBeLessThan(1e-12 * Math.abs(e1));
        for (let k = 0; k < f1.length; k++) expect(Math.abs(f2[k] - f1[k])).toBeLessThan(1e-12);
        for (let i = 0; i < s.nLocal; i++) {
          for (let d = 0; d < D; d++) expect(G2[i * Dn + d]).toBe(G1[i * D + d]);
          const t = s.species[i];
          count[t]++;
          for (let d = D; d < Dn; d++) {
            const z = (G2[i * Dn + d] - ext.mean[t * Dn + d]) * ext.invStd[t * Dn + d];
            sum[t * Dn + d] += z;
            sq[t * Dn + d] += z * z;
          }
        }
      }
      // The new descriptors are not trivially zero, and standardised over the structures given.
      for (let t = 0; t < 2; t++) {
        for (let d = D; d < Dn; d++) {
          expect(ext.invStd[t * Dn + d]).not.toBe(1);
          expect(Math.abs(sum[t * Dn + d] / count[t])).toBeLessThan(1e-9);
          expect(Math.abs(sq[t * Dn + d] / count[t] - 1)).toBeLessThan(1e-9);
        }
      }
      // The first-layer weights of the new inputs receive gradient: training can use them.
      const g = new Float64Array(ext.nParameters);
      new LossEvaluator(ext, { energy: 1, forces: 1, virial: 0 }).batch(prep, g);
      let newInputs = 0;
      for (let t = 0; t < 2; t++) for (let k = 0; k < 6; k++) for (let d = D; d < Dn; d++) newInputs += Math.abs(g[ext.offMlp[t] + k * Dn + d]);
      expect(newInputs).toBeGreaterThan(0);
    });
  }

  it('extendDescriptor with radial placement: the new functions get the width and centres from LO towards HI, bodies staggered; the old ones and the energies are kept', () => {
    const model = model2('specific');
    const prep = structures(model);
    fitStatistics(model, prep);
    const ext = extendDescriptor(model, '2,-:2,a,b,ab', prep, 5, { width: 0.9, centres: [1.0, 2.5] });
    const F = model.nFunctions, Fn = ext.nFunctions;
    expect(Fn).toBe(F + 2 + 6);
    const centre = (m: LatteModel, t: number, f: number) => m.theta[m.offCentres + t * m.nFunctions + f];
    for (let f = 0; f < F; f++) {
      expect(ext.theta[ext.offWidths + f]).toBe(model.theta[model.offWidths + f]);
      for (let t = 0; t < 2; t++) expect(centre(ext, t, f)).toBe(centre(model, t, f));
    }
    // Block '2,-': one body, centres 1.0 and 1.0 + 1.5·1/1.5 = 2.0. Block '2,a,b,ab': three
    // bodies k = 0, 1, 2 staggered by k/6 of a step: 1.0 + 1.5·(u + k/6)/1.5.
    const expected = [1.0, 2.0, ...[0, 1, 2].flatMap((k) => [0, 1].map((u) => 1.0 + u + k / 6))];
    expected.forEach((c, q) => {
      expect(ext.theta[ext.offWidths + F + q]).toBe(0.9);
      for (let t = 0; t < 2; t++) expect(centre(ext, t, F + q)).toBeCloseTo(c, 14);
    });
    for (const s of prep) expect(Math.abs(ext.evaluate(atomsOf(s), identity) - model.evaluate(atomsOf(s), identity))).toBeLessThan(1e-12 * Math.abs(model.evaluate(atomsOf(s), identity)));
    // The clip rules of training: widths in the trained range, centres in [width, rc − width].
    expect(() => extendDescriptor(model, '2,-', prep, 5, { width: 0.7, centres: [1.0, 2.0] })).toThrow(/block 4: radial width 0.7 is outside the model's trained range \[0.8, 1.4\]/);
    expect(() => extendDescriptor(model, '2,-', prep, 5, { width: 0.9, centres: [0.8, 2.0] })).toThrow(/centres \[0.8, 2\] must lie in \[width, cutoff − width\] = \[0.9, 3.3/);
    expect(() => extendDescriptor(model, '2,-:2,a,a', prep, 5, { width: 0.9, centres: [1.0, 3.4] })).toThrow(/blocks 4–5: centres \[1, 3.4\] must lie in/);
    expect(() => extendDescriptor(model, '2,-', prep, 5, { width: 0.9, centres: [2.0, 1.0] })).toThrow(/must lie in/);
  });

  for (const mode of ['specific', 'embedding'] as const) {
    it(`${mode} species weights: dropDescriptorBlocks keeps the other blocks' descriptors; its energy is that of zero weights on the dropped inputs`, () => {
      const { full, prep } = weightedFull(mode);
      const dropped = dropDescriptorBlocks(full, [2]);
      expect(dropped.config.descriptor).toBe('3,-:2,ab,ab:2,abc,abc');
      expectDroppedIsZeroed(full, dropped, [3, 4], prep);
      expect(() => dropDescriptorBlocks(full, [5])).toThrow(/block 5 does not exist \(the model has blocks 1–4/);
      expect(() => dropDescriptorBlocks(full, [1, 2, 3, 4])).toThrow(/every block/);
    });
  }

  it('dropDescriptorTerms drops single terms of blocks: the kept descriptors are unchanged, the energy is that of zero weights on the dropped inputs', () => {
    const { full, prep } = weightedFull('specific');
    // Term 2 of block 1 (input 1) and term 1 of block 4 (input 7, whose two rank-3 functions go too).
    const dropped = dropDescriptorTerms(full, [{ block: 1, term: 2 }, { block: 4, term: 1 }]);
    expect(dropped.config.descriptor).toBe('2,-:2,a,a:2,ab,ab:1,abc,abc');
    expect(dropped.nFunctions).toBe(full.nFunctions - 3);
    expectDroppedIsZeroed(full, dropped, [1, 7], prep);
    // Every term of a block: the block goes.
    expect(dropDescriptorTerms(full, [{ block: 2, term: 1 }, { block: 2, term: 2 }]).config.descriptor).toBe('3,-:2,ab,ab:2,abc,abc');
    expect(() => dropDescriptorTerms(full, [{ block: 4, term: 3 }])).toThrow(/block 4 \(2,abc,abc\) has terms 1–2, got 3/);
  });

  it('trainLatte with addBlocks trains the extended model; errors name the option and the block', () => {
    const model = model2('specific');
    const dir = mkdtempSync(join(tmpdir(), 'latte-extend-'));
    const file = join(dir, 'train.xyz');
    const rng = new Rng(3);
    writeFileSync(file, [1, 2, 3, 4, 5].map((seed) => {
      const s = randomGeSiCell(seed);
      s.forces.set(Array.from({ length: 3 * s.n }, () => 0.2 * rng.normal()));
      return formatExtxyz([systemToFrame(s, { energy: -3 * s.n + 0.1 * rng.normal(), forces: true })]);
    }).join(''));
    fitStatistics(model, structures(model));
    const result = trainLatte({ model: model.config, initial: model, addBlocks: '2,abc,abc', train: [file], validationFraction: 0.2, epochs: 2, workers: 1 });
    expect(result.model.config.descriptor).toBe('3,-:2,a,a:2,ab,ab:2,abc,abc');
    const swapped = trainLatte({ model: model.config, initial: model, dropTerms: [{ block: 2 }], addBlocks: '1,abcd,abcd', train: [file], validationFraction: 0.2, epochs: 1, workers: 1 });
    expect(swapped.model.config.descriptor).toBe('3,-:2,ab,ab:1,abcd,abcd');
    const placed = trainLatte({ model: model.config, initial: model, addBlocks: '2,-', addRadial: { width: 0.85, centres: [1.2, 2.0] }, train: [file], validationFraction: 0.2, epochs: 1, workers: 1 });
    expect(placed.model.theta[placed.model.offWidths + model.nFunctions]).toBe(0.85);
    expect(() => trainLatte({ model: model.config, initial: model, addRadial: { width: 0.85, centres: [1.2, 2.0] }, train: [file], epochs: 1, workers: 1 })).toThrow(/addRadial places the functions of appended blocks: give addBlocks too/);
    const thinned = trainLatte({ model: model.config, initial: model, dropTerms: [{ block: 3 }, { block: 1, term: 3 }], train: [file], validationFraction: 0.2, epochs: 1, workers: 1 });
    expect(thinned.model.config.descriptor).toBe('2,-:2,a,a');
    expect(() => trainLatte({ model: model.config, addBlocks: '2,abc,abc', train: [file], epochs: 1, workers: 1 })).toThrow(/addBlocks extends an initial model/);
    expect(() => trainLatte({ model: model.config, initial: model, addBlocks: '2,abc,ab', train: [file], epochs: 1, workers: 1 })).toThrow(/block 4/);
    const init = join(dir, 'init.msgpack');
    saveModel(init, model, {});
    return Promise.all([
      expect(trainCommand.run([file, '--out', join(dir, 'x.msgpack'), '--add-blocks', '2,abc,abc'])).rejects.toThrow(/--add-blocks needs --init MODEL/),
      expect(trainCommand.run([file, '--out', join(dir, 'x.msgpack'), '--init', init, '--add-blocks'])).rejects.toThrow(/--add-blocks needs descriptor blocks/),
      expect(trainCommand.run([file, '--out', join(dir, 'x.msgpack'), '--drop-blocks', '2'])).rejects.toThrow(/--drop-blocks needs --init MODEL/),
      expect(trainCommand.run([file, '--out', join(dir, 'x.msgpack'), '--init', init, '--add-width', '0.9', '--add-centres', '1,2'])).rejects.toThrow(/give --add-blocks too/),
      expect(trainCommand.run([file, '--out', join(dir, 'x.msgpack'), '--init', init, '--add-blocks', '2,-', '--add-width', '0.9'])).rejects.toThrow(/--add-width S and --add-centres LO,HI go together/),
      expect(trainCommand.run([file, '--out', join(dir, 'x.msgpack'), '--init', init, '--add-blocks', '2,-', '--add-width', '0.9', '--add-centres', '1'])).rejects.toThrow(/--add-centres needs LO,HI in Å, got '1'/),
      expect(trainCommand.run([file, '--out', join(dir, 'x.msgpack'), '--init', init, '--add-blocks', '2,-', '--add-width', 'wide', '--add-centres', '1,2'])).rejects.toThrow(/--add-width needs a width in Å, got 'wide'/),
      expect(trainCommand.run([file, '--out', join(dir, 'x.msgpack'), '--init', init, '--drop-blocks', '0'])).rejects.toThrow(/--drop-blocks needs block numbers from 1/),
      expect(trainCommand.run([file, '--out', join(dir, 'x.msgpack'), '--init', init, '--drop-blocks', '2.0'])).rejects.toThrow(/or BLOCK.TERM for one term/),
      expect(trainCommand.run([file, '--out', join(dir, 'x.msgpack'), '--init', init, '--drop-blocks', '2.1.1'])).rejects.toThrow(/or BLOCK.TERM for one term/),
      expect(trainCommand.run([file, '--out', join(dir, 'x.msgpack'), '--init', init, '--drop-blocks', '2.3'])).rejects.toThrow(/block 2 \(2,a,a\) has terms 1–2, got 3/),
    ]);
  });
});
