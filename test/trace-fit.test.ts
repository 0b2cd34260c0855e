import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { AceBasis, type BasisSpec } from '../potentials/trace/basis.ts';
import { TracePotential } from '../potentials/trace/potential.ts';
import { fitTrace } from '../potentials/trace/fit.ts';
import { loadModel, saveModel } from '../potentials/trace/model.ts';
import { createPotential } from '../potentials/registry.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { systemToFrame, type Frame } from '../src/io/extxyz.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { Cell } from '../src/cell.ts';

const SPEC: BasisSpec = {
  elements: ['Ti', 'Al'], radial: { kind: 'chebexpcos', n: 4, cutoff: 4.6 }, order: 3, maxDegree: [4, 5, 5],
  channels: { kind: 'species', K: 2, seed: 3 },
};

/** Frames labelled by a known model (energy, forces, stress from its virial). */
function synthetic(pot: TracePotential, count: number, seed: number, symbols = ['Ti', 'Al']): Frame[] {
  const rng = new Rng(seed), frames: Frame[] = [];
  for (let f = 0; f < count; f++) {
    const elements = Array.from({ length: 4 }, () => symbols[rng.uniform() < 0.5 ? 0 : symbols.length - 1]);
    if (f === 0) elements.fill(symbols[0]);
    const kind = (['fcc', 'sc', 'bcc'] as const)[f % 3];
    const a = { fcc: 4.0, sc: 2.6, bcc: 3.2 }[kind] * (0.95 + 0.15 * rng.uniform());
    const basisAtoms = { fcc: 4, sc: 1, bcc: 2 }[kind];
    const s = lattice(kind, { element: elements.slice(0, basisAtoms), a, repeat: kind === 'sc' ? [2, 2, 2] : kind === 'bcc' ? [2, 1, 2] : [1, 1, 2] });
    const h = Array.from(s.cell.matrix);
    h[3] += 0.3 * rng.normal(); h[1] += 0.2 * rng.normal();
    s.cell = new Cell(h);
    for (let k = 0; k < s.positions.length; k++) s.positions[k] += 0.3 * rng.normal();
    const r = new ForceEvaluator(pot, { skin: 0 }).evaluate(s);
    const V = s.cell.volume, stress = r.virial.map((w) => -w / V);
    frames.push(systemToFrame(s, { energy: r.energy, forces: true, stress }));
  }
  return frames;
}

describe('trace fit', () => {
  it('recovers exactly the coefficients and reference energy of a synthetic linear target (one element, order 4)', () => {
    const spec: BasisSpec = { elements: ['Ti'], radial: { kind: 'poly', n: 4, cutoff: 4.6 }, order: 4, maxDegree: [4, 5, 5, 5] };
    const basis = new AceBasis(spec), rng = new Rng(1);
    expect(basis.countsByOrder()[3]).toBeGreaterThan(0);
    const coefficients = Array.from({ length: basis.nFunctions }, () => 0.05 * rng.normal());
    const truth = new TracePotential({ basis: spec, nFunctions: basis.nFunctions, coefficients, e0: [-3.25] }, { basis });
    const frames = synthetic(truth, 30, 2, ['Ti']);
    const fit = fitTrace({ basis: spec, train: frames, lambda: 1e-16, folds: 1 });
    let worst = 0;
    fit.model.coefficients.forEach((c, k) => { worst = Math.max(worst, Math.abs(c - coefficients[k])); });
    expect(worst).toBeLessThan(1e-7);
    expect(fit.model.e0[0]).toBeCloseTo(-3.25, 8);
  });

  it('two elements: the fit reproduces the target on unseen structures (cross pair terms are shared between centres, so coefficients are not unique)', () => {
    const basis = new AceBasis(SPEC), rng = new Rng(1);
    const coefficients = Array.from({ length: 2 * basis.nFunctions }, () => 0.05 * rng.normal());
    const truth = new TracePotential({ basis: SPEC, nFunctions: basis.nFunctions, coefficients, e0: [-3.25, -1.75] }, { basis });
    const train = synthetic(truth, 40, 2), unseen = synthetic(truth, 6, 3);
    const fit = fitTrace({ basis: SPEC, train, test: unseen, lambda: 1e-16, folds: 1 });
    expect(fit.train.energy_mae_mev_per_atom).toBeLessThan(1e-6);
    expect(fit.test!.energy_mae_mev_per_atom).toBeLessThan(1e-6);
    expect(fit.test!.force_mae_ev_per_a).toBeLessThan(1e-9);
    expect(fit.test!.virial_mae_mev_per_atom!).toBeLessThan(1e-6);
  });

  it('cross-validation picks a λ and reports test errors; the model round-trips through msgpack', () => {
    const basis = new AceBasis(SPEC), rng = new Rng(4);
    const coefficients = Array.from({ length: 2 * basis.nFunctions }, () => 0.05 * rng.normal());
    const truth = new TracePotential({ basis: SPEC, nFunctions: basis.nFunctions, coefficients, e0: [-3, -2] }, { basis });
    const train = synthetic(truth, 20, 5), test = synthetic(truth, 4, 6);
    // Noise on the labels: the fit must still generalise.
    const noise = new Rng(9);
    for (const f of train) {
      f.info.energy = (f.info.energy as number) + 1e-3 * noise.normal();
      const forces = f.arrays.forces.data as Float64Array;
      for (let k = 0; k < forces.length; k++) forces[k] += 1e-3 * noise.normal();
    }
    const fit = fitTrace({ basis: SPEC, train, test, folds: 4, lambda: [1e-12, 1e-8, 1e-4, 1], crossValidate: true });
    expect(fit.lambdaScan.length).toBe(4);
    expect(fit.lambda).toBeLessThan(1); // the strongest prior is clearly worse here
    expect(fit.test!.force_mae_ev_per_a).toBeLessThan(5e-3);
    expect(fit.crossValidation!.frames).toBe(20);
    const dir = mkdtempSync(join(tmpdir(), 'trace-'));
    const path = join(dir, 'model.msgpack');
    saveModel(path, fit.model);
    const pot = createPotential({ kind: 'trace', model: path });
    const s = lattice('fcc', { element: ['Ti', 'Al', 'Al', 'Al'], a: 4.1, repeat: 2 });
    expect(new ForceEvaluator(pot).evaluate(s).energy).toBe(new ForceEvaluator(fit.potential).evaluate(s).energy);
  });

  it('rejects training frames without energies or forces, naming the frame', () => {
    const basis = new AceBasis(SPEC);
    const truth = new TracePotential({ basis: SPEC, nFunctions: basis.nFunctions, coefficients: new Array(2 * basis.nFunctions).fill(0), e0: [0, 0] }, { basis });
    const frames = synthetic(truth, 3, 1);
    delete frames[1].info.energy;
    expect(() => fitTrace({ basis: SPEC, train: frames, source: 'x.xyz' })).toThrow(/x\.xyz: frame 1 has no energy/);
    const frames2 = synthetic(truth, 3, 1);
    delete frames2[2].arrays.forces;
    expect(() => fitTrace({ basis: SPEC, train: frames2, source: 'y.xyz' })).toThrow(/y\.xyz: frame 2 has no forces/);
    const frames3 = synthetic(truth, 2, 1);
    frames3[1].symbols[0] = 'Ni';
    expect(() => fitTrace({ basis: SPEC, train: frames3, source: 'z.xyz' })).toThrow(/z\.xyz: frame 1: .*does not cover element Ni/);
  });

  it('rejects inconsistent model files: wrong version, truncated, wrong length', () => {
    const basis = new AceBasis(SPEC);
    const model = { basis: SPEC, nFunctions: basis.nFunctions, coefficients: new Array(2 * basis.nFunctions).fill(0.1), e0: [0, 0] };
    const dir = mkdtempSync(join(tmpdir(), 'trace-'));
    const good = join(dir, 'good.msgpack');
    saveModel(good, model);
    expect(loadModel(good).nFunctions).toBe(basis.nFunctions);
    const bytes = readFileSync(good);
    writeFileSync(join(dir, 'trunc.msgpack'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(() => loadModel(join(dir, 'trunc.msgpack'))).toThrow(/trunc\.msgpack.*(truncated|corrupt|expected)/);
    writeFileSync(join(dir, 'v9.msgpack'), pack({ format: 'tensormd-trace', version: 9, ...model }));
    expect(() => loadModel(join(dir, 'v9.msgpack'))).toThrow(/version 9 is not supported/);
    writeFileSync(join(dir, 'short.msgpack'), pack({ format: 'tensormd-trace', version: 1, ...model, coefficients: [1, 2, 3] }));
    expect(() => loadModel(join(dir, 'short.msgpack'))).toThrow(/coefficients' has 3 entries/);
    writeFileSync(join(dir, 'count.msgpack'), pack({ format: 'tensormd-trace', version: 1, ...model, nFunctions: basis.nFunctions + 1, coefficients: new Array(2 * basis.nFunctions + 2).fill(0) }));
    expect(() => createPotential({ kind: 'trace', model: join(dir, 'count.msgpack') })).toThrow(/inconsistent model file/);
    expect(() => loadModel(join(dir, 'missing.msgpack'))).toThrow(/not found/);
  });
});

describe('streaming QR least squares', () => {
  it('solves an exactly consistent system fed in blocks, with a round-off-sized column present', async () => {
    const { StreamingQR, backSubstitute } = await import('../potentials/trace/linalg.ts');
    const rng = new Rng(3), n = 5, m = 40, x = [1, -2, 0.5, 3, -1];
    const A = new Float64Array(m * n), b = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) A[i * n + j] = rng.normal();
      b[i] = x.reduce((s, xj, j) => s + A[i * n + j] * xj, 0);
    }
    const qr = new StreamingQR(n);
    for (let start = 0; start < m; start += 7) {
      const rows = Math.min(7, m - start);
      qr.addRows(A.slice(start * n, (start + rows) * n), b.slice(start, start + rows), rows);
    }
    const sol = backSubstitute(qr.R, qr.z, n);
    sol.forEach((v, j) => expect(v).toBeCloseTo(x[j], 12));
    expect(qr.residual2).toBeLessThan(1e-20);
    const q2 = new StreamingQR(2);
    q2.addRows(Float64Array.from([1, 1e-170, 2, 0]), Float64Array.from([1, 2]), 2);
    expect(Array.from(q2.R).every(Number.isFinite)).toBe(true);
  });
});
