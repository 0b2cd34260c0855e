import { describe, expect, it } from 'vitest';
import { AceBasis, type BasisSpec } from '../potentials/trace/basis.ts';
import { TracePotential } from '../potentials/trace/potential.ts';
import { assemble, assembleParallel, fitTrace, fitTraceAsync, priorWeights, restrictAssembled, selectByCrossValidation } from '../potentials/trace/fit.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { systemToFrame, type Frame } from '../src/io/extxyz.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';

const SPEC: BasisSpec = { elements: ['Si'], radial: { kind: 'chebexpcos', n: 5, cutoff: 4.2, lambda: 1 }, order: 3, maxDegree: [5, 6, 6] };

/** Rattled diamond cells labelled by a random model plus noise (so the fit is not exact). */
function frames(count: number, seed: number): Frame[] {
  const basis = new AceBasis(SPEC), rng = new Rng(seed);
  const truth = new TracePotential({ basis: SPEC, nFunctions: basis.nFunctions, coefficients: Array.from({ length: basis.nFunctions }, () => 0.05 * rng.normal()), e0: [-5] }, { basis });
  const out: Frame[] = [];
  for (let f = 0; f < count; f++) {
    const s = lattice('diamond', { element: 'Si', a: 5.43 * (0.96 + 0.08 * rng.uniform()), repeat: [1, 1, 1] });
    for (let k = 0; k < s.positions.length; k++) s.positions[k] += 0.15 * rng.normal();
    const r = new ForceEvaluator(truth, { skin: 0 }).evaluate(s);
    const frame = systemToFrame(s, { energy: r.energy + 0.01 * rng.normal(), forces: true });
    const fs = frame.arrays.forces.data as Float64Array;
    for (let k = 0; k < fs.length; k++) fs[k] += 0.01 * rng.normal();
    out.push(frame);
  }
  return out;
}

describe('parallel fit assembly', () => {
  const train = frames(23, 7);

  it('worker threads give the same per-fold factors and coefficients as one thread', async () => {
    const serial = assemble({ basis: SPEC, train, folds: 4 });
    const parallel = await assembleParallel({ basis: SPEC, train, folds: 4 }, 2);
    expect(parallel.folds.length).toBe(4);
    serial.folds.forEach((f, k) => {
      expect(parallel.folds[k].atoms).toBe(f.atoms);
      expect(parallel.folds[k].rest.rows).toBe(f.rest.rows);
      expect(Array.from(parallel.folds[k].rest.R)).toEqual(Array.from(f.rest.R));
      expect(Array.from(parallel.folds[k].energy.z)).toEqual(Array.from(f.energy.z));
    });
    const options = { basis: SPEC, train, folds: 4, lambda: [1e-10, 1e-6, 1e-2], energyScales: [0.5, 1] };
    const one = fitTrace(options), two = await fitTraceAsync({ ...options, threads: 2 });
    expect(two.lambda).toBe(one.lambda);
    expect(two.energyWeight).toBe(one.energyWeight);
    let worst = 0, scale = 0;
    one.model.coefficients.forEach((c, k) => { worst = Math.max(worst, Math.abs(c - two.model.coefficients[k])); scale = Math.max(scale, Math.abs(c)); });
    expect(scale).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(1e-10 * scale);
    expect(two.model.e0[0]).toBe(one.model.e0[0]);
  });

  it('an error in a worker names the frame', async () => {
    const bad = frames(6, 3);
    bad[4].symbols[1] = 'Ge';
    await expect(assembleParallel({ basis: SPEC, train: bad, folds: 2, source: 'w.xyz' }, 2)).rejects.toThrow(/w\.xyz: frame 4: .*Ge/);
  });

  it('a truncation fitted from the columns of a larger design matches its own design (cross-validation scan)', () => {
    const small: BasisSpec = { ...SPEC, radial: { ...SPEC.radial, n: 4 }, maxDegree: [4, 5, 5], wL: 2 };
    const sb = new AceBasis(small), bb = new AceBasis(SPEC);
    expect(sb.nFunctions).toBeLessThan(bb.nFunctions);
    const direct = assemble({ basis: small, train, folds: 4 }, sb);
    const restricted = restrictAssembled(assemble({ basis: SPEC, train, folds: 4 }, bb), sb);
    const opts = { lambda: [1e-10, 1e-4], energyScales: [0.3, 1], select: { energy: 1, force: 0.05 } };
    const a = selectByCrossValidation(direct, priorWeights(sb), opts), b = selectByCrossValidation(restricted, priorWeights(sb), opts);
    expect(b.scan.length).toBe(4);
    a.scan.forEach((r, k) => {
      expect(Math.abs(b.scan[k].rmse_E - r.rmse_E)).toBeLessThan(1e-7 * r.rmse_E);
      expect(Math.abs(b.scan[k].rmse_F - r.rmse_F)).toBeLessThan(1e-7 * r.rmse_F);
    });
    expect(() => restrictAssembled(direct, bb)).toThrow(/not in the larger basis/);
  });
});
