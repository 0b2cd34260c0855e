/**
 * averageModels / `tensormd ensemble`: the merged model's energy, forces, virial and
 * per-atom energies are the mean of its members' (through LattePotential, the MD path).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WIDE_TRICLINIC, geSi, randomTriclinic } from './latte-fixtures.ts';
import { evaluate, maxAbs, maxAbsDiff } from './manybody-oracle.ts';
import { averageModels } from '../potentials/latte/ensemble.ts';
import { loadModel, saveModel } from '../potentials/latte/io.ts';
import { LatteModel, type Activation } from '../potentials/latte/model.ts';
import { LattePotential } from '../potentials/latte/potential.ts';
import { ensembleCommand } from '../src/cli/ensemble.ts';
import { Rng } from '../src/rng.ts';

const dir = mkdtempSync(join(tmpdir(), 'tensormd-ensemble-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A two-species model with random standardisation (the members' shared descriptor). */
function baseModel(hidden: number[], activation: Activation): LatteModel {
  const model = new LatteModel({ elements: ['Si', 'Ge'], cutoff: 4.5, descriptor: '3,-:3,a,a:2,ab,ab:2,a,b,ab:1,ab,bc,ca', width: 1.2, hidden, activation });
  model.initialise(5);
  const rng = new Rng(55);
  for (let k = 0; k < model.mean.length; k++) { model.mean[k] = 0.1 * rng.normal(); model.invStd[k] = 0.5 + rng.uniform(); }
  model.e0.set([-1.5, -2.5]);
  model.outScale.set([0.7, 1.3]);
  return model;
}

/** The base model with its MLPs redrawn (seed) and its output scales and offsets moved: what separate training runs give. */
function member(base: LatteModel, seed: number): LatteModel {
  const m = base.clone();
  const rng = new Rng(seed);
  for (let k = m.offMlp[0]; k < m.theta.length; k++) m.theta[k] = 0.6 * rng.normal();
  m.e0[0] += 0.1 * seed;
  m.outScale[1] *= 1 + 0.05 * seed;
  return m;
}

const structure = () => randomTriclinic(7, 12, geSi, WIDE_TRICLINIC);

describe('LATTE ensembles', () => {
  for (const [hidden, activation, count] of [[[6, 4], 'gaussian', 3], [[5], 'tanh', 2], [[4, 3, 3], 'silu', 2]] as const) {
    it(`${count} members, hidden ${hidden.join('-')}, ${activation}: energy, forces, virial and atom energies are the members' mean`, () => {
      const base = baseModel([...hidden], activation);
      const members = Array.from({ length: count }, (_, k) => member(base, k + 1));
      const merged = averageModels(members);
      expect(merged.config.hidden).toEqual(hidden.map((h) => count * h));
      const results = members.map((m) => evaluate(structure(), new LattePotential(m)));
      const mean = (pick: (r: (typeof results)[number]) => ArrayLike<number>) => {
        const out = new Float64Array(pick(results[0]).length);
        for (const r of results) { const v = pick(r); for (let k = 0; k < out.length; k++) out[k] += v[k] / count; }
        return out;
      };
      const energy = results.reduce((s, r) => s + r.energy, 0) / count;
      const got = evaluate(structure(), new LattePotential(merged));
      // The members must disagree, or the mean would not be tested.
      expect(Math.abs(results[0].energy - results[1].energy)).toBeGreaterThan(1e-3 * Math.abs(energy));
      expect(maxAbsDiff(results[0].forces, results[1].forces)).toBeGreaterThan(1e-3 * maxAbs(results[0].forces));
      expect(Math.abs(got.energy - energy)).toBeLessThan(1e-12 * Math.abs(energy));
      expect(maxAbsDiff(got.forces, mean((r) => r.forces))).toBeLessThan(1e-12 * maxAbs(got.forces));
      expect(maxAbsDiff(got.virial, mean((r) => r.virial))).toBeLessThan(1e-12 * maxAbs(got.virial));
      expect(maxAbsDiff(got.atomEnergies!, mean((r) => r.atomEnergies!))).toBeLessThan(1e-12 * maxAbs(got.atomEnergies!));

    });
  }

  it('refuses members that do not share a descriptor, a configuration or a standardisation, and single models', () => {
    const base = baseModel([4], 'gaussian');
    const a = member(base, 1), b = member(base, 2);
    expect(() => averageModels([a])).toThrow(/at least 2 models, got 1/);
    const moved = b.clone();
    moved.theta[moved.offWidths - 1] += 1e-9; // one radial centre
    expect(() => averageModels([a, moved], ['A.msgpack', 'B.msgpack'])).toThrow(/B\.msgpack's descriptor parameters differ from A\.msgpack's \(entry \d+/);
    const restandardised = b.clone();
    restandardised.invStd[3] *= 2;
    expect(() => averageModels([a, restandardised])).toThrow(/model 2's input standardisation \(invStd, entry 3\) differs from model 1's/);
    const wider = averageModels([a, b]);
    expect(() => averageModels([a, wider])).toThrow(/model 2 has config hidden \[8\], model 1 has \[4\]/);
  });

  it('tensormd ensemble writes a model that loads as any other and names its members', async () => {
    const base = baseModel([5, 3], 'gaussian');
    const paths = [1, 2].map((k) => join(dir, `m${k}.msgpack`));
    const members = [member(base, 1), member(base, 2)];
    members.forEach((m, k) => saveModel(paths[k], m, { note: `run ${k + 1}` }));
    const out = join(dir, 'merged.msgpack');
    const lines: string[] = [];
    const log = console.log;
    console.log = (x: unknown) => { lines.push(String(x)); };
    try {
      expect(await ensembleCommand.run([...paths, '--out', out])).toBe(0);
    } finally {
      console.log = log;
    }
    const report = JSON.parse(lines.at(-1)!);
    expect(report).toMatchObject({ ensemble: paths, hidden: [10, 6], out });
    const { model, meta } = loadModel(out);
    expect(meta.ensemble).toEqual([{ file: 'm1.msgpack', meta: { note: 'run 1' } }, { file: 'm2.msgpack', meta: { note: 'run 2' } }]);
    const energy = members.reduce((s, m) => s + evaluate(structure(), new LattePotential(m)).energy, 0) / 2;
    expect(Math.abs(evaluate(structure(), new LattePotential(model)).energy - energy)).toBeLessThan(1e-12 * Math.abs(energy));
    // A member trained from another model is named by its file.
    const other = join(dir, 'other.msgpack');
    saveModel(other, member(baseModel([5, 3], 'tanh'), 3));
    await expect(ensembleCommand.run([paths[0], other, '--out', out])).rejects.toThrow(/'.*other\.msgpack' has config activation "tanh", '.*m1\.msgpack' has "gaussian"/);
  });
});
