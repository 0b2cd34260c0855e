import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RadialBasis, agnesiDefaultA, type RadialSpec } from '../potentials/trace/radial.ts';
import { AceBasis, type BasisSpec } from '../potentials/trace/basis.ts';
import { TracePotential } from '../potentials/trace/potential.ts';
import { loadModel, saveModel, type TraceModel } from '../potentials/trace/model.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { finiteDifferenceForceError, maxAbs } from './manybody-oracle.ts';

const SPEC: RadialSpec = { kind: 'agnesi', n: 8, cutoff: 5.5, r0: 2.35 };

/** Independent evaluation from the closed forms: Agnesi transform and explicit Legendre P0..P3. */
function direct(r: number, n: number, r0: number, rc: number, p = 2, q = 4): number {
  const a = (-2 * q + p * (4 * q - 2)) / (p + p * p + q + q * q);
  const t = (x: number): number => 1 / (1 + (a * (x / r0) ** q) / (1 + (x / r0) ** (q - p)));
  const u = (t(r) - t(rc)) / (1 - t(rc)), x = 2 * u - 1;
  const P = [1, x, (3 * x * x - 1) / 2, (5 * x ** 3 - 3 * x) / 2][n];
  return P * u * u;
}

describe("trace radial basis 'agnesi' (distance-transformed Legendre polynomials)", () => {
  it('default a = 20/26 for p = 2, q = 4 and puts the steepest transform at r0', () => {
    expect(agnesiDefaultA(2, 4)).toBeCloseTo(20 / 26, 14);
    // |dg_0/dr| / (2u) = |du/dr|: scan for its maximum; the default a puts it at r0 (independent of rc).
    const b = new RadialBasis({ ...SPEC, n: 1, cutoff: 9 });
    const g = new Float64Array(1), dg = new Float64Array(1);
    let best = 0, rBest = 0;
    for (let r = 0.5; r < 8; r += 0.001) {
      b.evaluate(r, g, dg, 0);
      const dudr = Math.abs(dg[0] / (2 * Math.sqrt(g[0])));
      if (dudr > best) { best = dudr; rBest = r; }
    }
    expect(Math.abs(rBest - 2.35)).toBeLessThan(0.002);
  });

  it('values equal the closed-form transform × Legendre × envelope', () => {
    const b = new RadialBasis({ ...SPEC, n: 4 });
    const g = new Float64Array(4);
    for (const r of [0.7, 1.9, 2.35, 3.1, 4.4, 5.3]) {
      b.values(r, g, 0);
      for (let k = 0; k < 4; k++) expect(Math.abs(g[k] - direct(r, k, 2.35, 5.5))).toBeLessThan(1e-14);
    }
  });

  it('derivatives equal central finite differences; values() agrees with evaluate()', () => {
    for (const spec of [SPEC, { ...SPEC, p: 3, q: 5, r0: 2.0, cutoff: 6 }, { ...SPEC, p: 2, q: 2, a: 1.3 }, { ...SPEC, p: 1.5, q: 3.5 }] as RadialSpec[]) {
      const b = new RadialBasis(spec), N = b.n;
      const g = new Float64Array(N), dg = new Float64Array(N), gp = new Float64Array(N), gm = new Float64Array(N), gv = new Float64Array(N);
      const h = 1e-6;
      for (let r = 0.6; r < spec.cutoff; r += 0.173) {
        b.evaluate(r, g, dg, 0);
        b.values(r, gv, 0);
        b.values(r + h, gp, 0);
        b.values(r - h, gm, 0);
        for (let k = 0; k < N; k++) {
          expect(gv[k]).toBe(g[k]);
          expect(Math.abs((gp[k] - gm[k]) / (2 * h) - dg[k])).toBeLessThan(1e-7 * Math.max(1, Math.abs(dg[k])));
        }
      }
    }
  });

  it('value and slope vanish at the cutoff (quadratic and linear decay), zero beyond', () => {
    const b = new RadialBasis(SPEC), N = b.n, rc = SPEC.cutoff;
    const g1 = new Float64Array(N), d1 = new Float64Array(N), g2 = new Float64Array(N), d2 = new Float64Array(N);
    b.evaluate(rc - 1e-5, g1, d1, 0);
    b.evaluate(rc - 5e-6, g2, d2, 0);
    for (let k = 0; k < N; k++) {
      expect(Math.abs(g1[k])).toBeGreaterThan(0);
      expect(g1[k] / g2[k]).toBeCloseTo(4, 3); // g ∝ (rc − r)²
      expect(d1[k] / d2[k]).toBeCloseTo(2, 3); // g′ ∝ (rc − r)
    }
    b.evaluate(rc, g1, d1, 0);
    b.evaluate(rc + 0.1, g2, d2, 0);
    for (let k = 0; k < N; k++) expect([g1[k], d1[k], g2[k], d2[k]]).toEqual([0, 0, 0, 0]);
  });

  it('bad parameters give clear errors', () => {
    expect(() => new RadialBasis({ kind: 'agnesi', n: 4, cutoff: 5 })).toThrow(/agnesi needs r0/);
    expect(() => new RadialBasis({ kind: 'agnesi', n: 4, cutoff: 5, r0: 6 })).toThrow(/0 < r0 < cutoff/);
    expect(() => new RadialBasis({ kind: 'agnesi', n: 4, cutoff: 5, r0: 2, p: 4, q: 2 })).toThrow(/q ≥ p > 0/);
    expect(() => new RadialBasis({ kind: 'agnesi', n: 4, cutoff: 5, r0: 2, a: -1 })).toThrow(/a > 0/);
  });

  it('an ACE model with it: forces equal −∇E by central differences; the model file round-trips and is validated on load', () => {
    const spec: BasisSpec = { elements: ['Si'], radial: { kind: 'agnesi', n: 5, cutoff: 4.6, r0: 2.35 }, order: 3, maxDegree: [5, 6, 6] };
    const basis = new AceBasis(spec), rng = new Rng(7);
    const model: TraceModel = { basis: spec, nFunctions: basis.nFunctions, coefficients: Array.from({ length: basis.nFunctions }, () => 0.05 * rng.normal()), e0: [-4.1] };
    const sys = lattice('diamond', { element: 'Si', a: 5.43, repeat: [1, 1, 1] });
    for (let k = 0; k < sys.positions.length; k++) sys.positions[k] += 0.15 * rng.normal();
    const potential = new TracePotential(model, { basis });
    const e0 = new ForceEvaluator(potential, { skin: 0.5 }).evaluate(sys).energy;
    const fmax = maxAbs(sys.forces);
    expect(fmax).toBeGreaterThan(1e-3);
    // Relative to |F|max, as an absolute 1e-7·max(1, |F|max).
    expect(finiteDifferenceForceError(sys, potential)).toBeLessThan((1e-7 * Math.max(1, fmax)) / fmax);
    const dir = mkdtempSync(join(tmpdir(), 'trace-agnesi-'));
    try {
      const file = join(dir, 'm.msgpack');
      saveModel(file, model);
      const back = loadModel(file);
      expect(back.basis.radial).toEqual(spec.radial);
      expect(new ForceEvaluator(new TracePotential(back), { skin: 0.5 }).evaluate(sys).energy).toBe(e0);
      saveModel(file, { ...model, basis: { ...spec, radial: { kind: 'agnesi', n: 5, cutoff: 4.6 } } });
      expect(() => loadModel(file)).toThrow(/field 'basis.radial': .*agnesi needs r0/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
