import { describe, expect, it } from 'vitest';
import { AceBasis, type BasisSpec } from '../potentials/trace/basis.ts';
import { TracePotential } from '../potentials/trace/potential.ts';
import { fitTrace } from '../potentials/trace/fit.ts';
import { evaluateErrors } from '../src/analysis/errors.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { systemToFrame, type Frame } from '../src/io/extxyz.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';

/**
 * Cross-validation on held-out MAE (fit.ts select.metric 'mae'): every (λ, α) of the
 * scan reports the MAE of the folds refitted from scratch by an independent route
 * (fitTrace on the other folds' frames alone, λ and w_E·α fixed, then evaluateErrors on
 * the held-out frames, pooled), and the chosen pair minimises the stated criterion.
 */
const SPEC: BasisSpec = { elements: ['Si'], radial: { kind: 'chebexpcos', n: 4, cutoff: 4.2, lambda: 0.5 }, order: 3, maxDegree: [4, 5, 5] };

function frames(count: number, seed: number): Frame[] {
  const basis = new AceBasis(SPEC), rng = new Rng(seed);
  const coefficients = Array.from({ length: basis.nFunctions }, () => 0.05 * rng.normal());
  const truth = new TracePotential({ basis: SPEC, nFunctions: basis.nFunctions, coefficients, e0: [-4] }, { basis });
  const out: Frame[] = [];
  for (let f = 0; f < count; f++) {
    const s = lattice('diamond', { element: 'Si', a: 5.43 * (0.97 + 0.06 * rng.uniform()), repeat: 1 });
    for (let k = 0; k < s.positions.length; k++) s.positions[k] += 0.15 * rng.normal();
    const r = new ForceEvaluator(truth, { skin: 0 }).evaluate(s);
    // Labels with a part the basis cannot fit (a pair-like term), so the errors are not zero.
    let extra = 0;
    for (let k = 0; k < s.positions.length; k++) extra += 0.02 * Math.sin(3 * s.positions[k]);
    const fr = systemToFrame(s, { energy: r.energy + extra, forces: true });
    const forces = fr.arrays.forces.data as Float64Array;
    for (let k = 0; k < forces.length; k++) forces[k] += 0.01 * rng.normal();
    out.push(fr);
  }
  return out;
}

describe('trace fit: cross-validation on held-out MAE', () => {
  it('scan MAE equals refits on the other folds evaluated on the held-out frames; the criterion picks its minimum', () => {
    const train = frames(12, 3), K = 3, lambdas = [1e-10, 1e-4], scales = [0.5, 2];
    const select = { energy: 2, force: 0.05, metric: 'mae' as const, combine: 'sum' as const };
    const fit = fitTrace({ basis: SPEC, train, folds: K, lambda: lambdas, energyScales: scales, weights: { energy: 30 }, select });
    expect(fit.lambdaScan.length).toBe(4);
    for (const row of fit.lambdaScan) {
      let eSum = 0, fSum = 0, fCount = 0;
      for (let k = 0; k < K; k++) {
        const held = train.filter((_, i) => i % K === k), rest = train.filter((_, i) => i % K !== k);
        const fk = fitTrace({ basis: SPEC, train: rest, folds: 1, lambda: row.lambda, weights: { energy: 30 * row.energyScale } });
        const r = evaluateErrors(fk.potential, held);
        eSum += r.energy_mae_mev_per_atom * r.frames;
        fSum += r.force_mae_ev_per_a * r.force_components; fCount += r.force_components;
      }
      expect(row.mae_E!).toBeCloseTo(eSum / train.length, 6);
      expect(row.mae_F!).toBeCloseTo(fSum / fCount, 8);
      expect(row.loss).toBeCloseTo(row.mae_E! / select.energy + row.mae_F! / select.force, 10);
    }
    const best = Math.min(...fit.lambdaScan.map((r) => r.loss));
    const chosen = fit.lambdaScan.find((r) => r.lambda === fit.lambda && r.energyScale * 30 === fit.energyWeight)!;
    expect(chosen.loss).toBe(best);
  });

  it("combine 'max' scores the worse of the two ratios", () => {
    const train = frames(8, 5);
    const fit = fitTrace({ basis: SPEC, train, folds: 2, lambda: [1e-10, 1e-6], select: { energy: 2, force: 0.05, metric: 'mae', combine: 'max' } });
    for (const r of fit.lambdaScan) expect(r.loss).toBeCloseTo(Math.max(r.mae_E! / 2, r.mae_F! / 0.05), 10);
  });
});
