import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AceBasis, type BasisSpec } from '../potentials/trace/basis.ts';
import { TracePotential } from '../potentials/trace/potential.ts';
import { loadModel, saveModel, validateModel, type TraceModel } from '../potentials/trace/model.ts';
import { createPotential } from '../potentials/registry.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { System } from '../src/system.ts';
import { Cell } from '../src/cell.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';

const SPEC: BasisSpec = { elements: ['Ti', 'Al'], radial: { kind: 'chebexpcos', n: 4, cutoff: 4.2 }, order: 3, maxDegree: [4, 5, 5] };
const PAIR_RC = 4.8;
// Rows: (Ti,Ti), (Ti,Al), (Al,Al); 4 Legendre-envelope functions each.
const PAIR_C = [0.3, -0.2, 0.1, 0.05, 0.8, 0.4, -0.3, 0.2, -0.1, 0.25, 0.15, -0.05];

function model(aceScale: number): TraceModel {
  const basis = new AceBasis(SPEC), rng = new Rng(21);
  const coefficients = Array.from({ length: 2 * basis.nFunctions }, () => rng.normal() * aceScale);
  return { basis: SPEC, nFunctions: basis.nFunctions, coefficients, e0: [-1.5, -2.5], pair: { radial: { kind: 'poly', n: 4, cutoff: PAIR_RC }, coefficients: PAIR_C } };
}

/** V(r) written out: Σ c_n P_n(2r/rc − 1)(1 − r/rc)² with the Legendre polynomials P_0..P_3. */
function pairV(row: number, r: number): number {
  const x = (2 * r) / PAIR_RC - 1, env = (1 - r / PAIR_RC) ** 2;
  const P = [1, x, (3 * x * x - 1) / 2, (5 * x ** 3 - 3 * x) / 2];
  return env * P.reduce((s, p, n) => s + PAIR_C[4 * row + n] * p, 0);
}

function perturbedTiAl(seed: number): System {
  const s = lattice('fcc', { element: ['Ti', 'Al', 'Al', 'Ti'], a: 4.0, repeat: [2, 1, 1] });
  s.cell = new Cell([8.0, 0, 0, 0.3, 4.0, 0, -0.2, 0.25, 4.0]);
  const rng = new Rng(seed);
  for (let k = 0; k < s.positions.length; k++) s.positions[k] += 0.2 * rng.normal();
  return s;
}

describe('trace potential: optional pair term', () => {
  it('a dimer beyond the ACE cutoff has E0 + V(r) with V written out by hand, for each species pair', () => {
    const pot = new TracePotential(model(0.05));
    expect(pot.cutoff).toBe(PAIR_RC);
    const ev = new ForceEvaluator(pot, { skin: 0 });
    for (const [a, b, row, e0] of [['Ti', 'Ti', 0, -3], ['Ti', 'Al', 1, -4], ['Al', 'Al', 2, -5]] as const) {
      for (const r of [4.3, 4.5, 4.75]) {
        const sys = new System({ symbols: [a, b], positions: [0, 0, 0, r, 0, 0] });
        const res = ev.evaluate(sys, { atomEnergies: true });
        expect(res.energy).toBeCloseTo(e0 + pairV(row, r), 12);
        // per-atom energies split V evenly
        expect(res.atomEnergies![0] - (a === 'Ti' ? -1.5 : -2.5)).toBeCloseTo(pairV(row, r) / 2, 12);
      }
    }
  });

  it('forces equal −∇E by central differences (ACE + pair, periodic triclinic)', () => {
    const pot = new TracePotential(model(0.02)), sys = perturbedTiAl(7);
    const ev = new ForceEvaluator(pot, { skin: 0.5 });
    ev.evaluate(sys);
    const f = sys.forces.slice(), fmax = Math.max(...f.map(Math.abs));
    expect(fmax).toBeGreaterThan(1e-2);
    const h = 1e-5;
    for (let k = 0; k < 3 * sys.n; k++) {
      const x0 = sys.positions[k];
      sys.positions[k] = x0 + h; const ep = ev.evaluate(sys).energy;
      sys.positions[k] = x0 - h; const em = ev.evaluate(sys).energy;
      sys.positions[k] = x0;
      expect(Math.abs(-(ep - em) / (2 * h) - f[k])).toBeLessThan(1e-7 * Math.max(1, fmax));
    }
  });

  it('the pair term alone gives forces and virial equal to finite differences', () => {
    const pot = new TracePotential(model(0)), sys = perturbedTiAl(8);
    const ev = new ForceEvaluator(pot, { skin: 0 });
    const W = ev.evaluate(sys).virial;
    expect(Math.max(...W.map(Math.abs))).toBeGreaterThan(1e-3);
    const h0 = sys.cell.matrix.slice(), x0 = sys.positions.slice();
    // Uniform scaling x → (1+ε)x: dE/dε = −(W_xx + W_yy + W_zz).
    const scaled = (eps: number): number => {
      sys.cell.setMatrix(Float64Array.from(h0, (v) => v * (1 + eps)));
      for (let k = 0; k < x0.length; k++) sys.positions[k] = x0[k] * (1 + eps);
      return ev.evaluate(sys).energy;
    };
    const d = 1e-6, dE = (scaled(d) - scaled(-d)) / (2 * d);
    expect(Math.abs(-dE - (W[0] + W[1] + W[2]))).toBeLessThan(1e-6 * Math.max(1, Math.abs(dE)));
    sys.cell.setMatrix(h0);
    sys.positions.set(x0);
  });

  it('round-trips through a model file; models without a pair term still load; bad pair fields are named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trace-pair-'));
    const m = model(0.02), path = join(dir, 'm.msgpack');
    saveModel(path, m);
    expect(loadModel(path).pair).toEqual(m.pair);
    const sys = perturbedTiAl(9);
    const e1 = new ForceEvaluator(new TracePotential(m)).evaluate(sys).energy;
    const e2 = new ForceEvaluator(createPotential({ kind: 'trace', model: path })).evaluate(sys).energy;
    expect(e2).toBe(e1);
    const noPair = { ...m, pair: undefined };
    expect(validateModel(noPair, 'x').pair).toBeUndefined();
    expect(() => validateModel({ ...m, pair: { radial: m.pair!.radial, coefficients: PAIR_C.slice(1) } }, 'x.msgpack')).toThrow(/x\.msgpack.*pair\.coefficients.*11 entries, expected 3 species pairs × 4/);
    expect(() => validateModel({ ...m, pair: { radial: { kind: 'spline', n: 4, cutoff: 5 }, coefficients: PAIR_C } }, 'x.msgpack')).toThrow(/pair\.radial.*unknown kind 'spline'/);
  });
});
