/**
 * Stochastic cell rescaling (integrators/cell-rescale.ts): the effective energy and
 * non-hydrostatic diagonal target stresses.
 *
 *  - Effective energy H̃ (Bernetti & Bussi's conserved quantity): constant for exact
 *    dynamics, so its deviation must shrink with the time step (≈ dt² from the
 *    Verlet part) while the plain U + K + P̄V wanders by orders of magnitude more
 *    (the thermostat and barostat exchange energy with the system).
 *  - Target stress: with a uniaxial target on an LJ crystal, ⟨Π_aa⟩ must equal the
 *    target component by component, and the mean cell must agree with the one the
 *    MTK barostat (integrators/npt.ts, checked against LAMMPS fix npt in
 *    barostats.test.ts) gives for the same target.
 */
import { describe, expect, it } from 'vitest';
import { ForceEvaluator, type Evaluation } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import type { System } from '../src/system.ts';
import { EV_PER_A3_TO_GPA } from '../src/units.ts';
import { StochasticCellRescale, type CellRescaleOptions } from '../integrators/cell-rescale.ts';
import { MtkBarostat } from '../integrators/npt.ts';
import type { Integrator } from '../integrators/integrator.ts';
import { LennardJones } from '../potentials/lj.ts';
import { createPotential } from '../potentials/registry.ts';
import '../potentials/eam/eam.ts';

const lj = () => new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 8.5, shift: true });
const crystal = (seed: number, repeat = 3): System => {
  const sys = lattice('fcc', { element: 'Ar', a: 5.3, repeat });
  sys.setTemperature(50, new Rng(seed));
  return sys;
};

function advance(sys: System, fe: ForceEvaluator, integ: Integrator, ev: Evaluation, steps: number, each?: (ev: Evaluation) => void): Evaluation {
  for (let s = 0; s < steps; s++) {
    ev = integ.step(sys, fe, ev);
    sys.step++;
    sys.time += integ.dt;
    each?.(ev);
  }
  return ev;
}

/** Mean and standard error from `blocks` block averages. */
function blockMean(x: number[], blocks = 10): { mean: number; sem: number } {
  const size = Math.floor(x.length / blocks), means: number[] = [];
  for (let b = 0; b < blocks; b++) {
    let s = 0;
    for (let i = b * size; i < (b + 1) * size; i++) s += x[i];
    means.push(s / size);
  }
  const mean = means.reduce((p, q) => p + q, 0) / blocks;
  const sem = Math.sqrt(means.reduce((p, q) => p + (q - mean) ** 2, 0) / (blocks - 1) / blocks);
  return { mean, sem };
}

describe('stochastic cell rescaling: effective energy', () => {
  /**
   * RMS change of H̃ over a 200 fs lag (all origins on an 8 fs grid, 3 ps after 1 ps
   * of equilibration) and the largest excursion of U + K + P̄V, 108 LJ atoms at 50 K,
   * strong coupling (τ_T = 200 fs, τ_p = 400 fs).
   */
  const deviation = (dt: number, seed: number, pressure: CellRescaleOptions['pressure'], coupling: 'iso' | 'aniso') => {
    const sys = crystal(5);
    const fe = new ForceEvaluator(lj(), { skin: 1 });
    const integ = new StochasticCellRescale({
      dt, temperature: 50, pressure, coupling, damping: 200, barostatDamping: 400, compressibility: 0.3, seed, warn: () => {},
    });
    let ev = advance(sys, fe, integ, fe.evaluate(sys), 1000 / dt);
    const Pbar = integ.target.reduce((p, q) => p + q, 0) / 3;
    const plain = () => ev.energy + sys.kineticEnergy() + Pbar * sys.cell.volume;
    const e0 = plain(), v0 = sys.cell.volume, every = 8 / dt, lag = 25;
    const h: number[] = [];
    let plainDev = 0, volumeDev = 0, s = 0;
    advance(sys, fe, integ, ev, 3000 / dt, (e) => {
      ev = e;
      if (++s % every === 0) h.push(integ.conservedEnergy(sys, e.energy));
      plainDev = Math.max(plainDev, Math.abs(plain() - e0));
      volumeDev = Math.max(volumeDev, Math.abs(sys.cell.volume / v0 - 1));
    });
    expect(volumeDev).toBeGreaterThan(2e-3); // the cell did move
    let sq = 0;
    for (let i = 0; i + lag < h.length; i++) sq += (h[i + lag] - h[i]) ** 2;
    return { rms: Math.sqrt(sq / (h.length - lag)), plainDev };
  };

  for (const [coupling, pressure] of [['iso', 0.05], ['aniso', [0.05, 0.05, 0.3]]] as const) {
    it(`is conserved with an error that shrinks faster than dt while U + K + P̄V is not (${coupling})`, () => {
      const c = deviation(8, 3, pressure, coupling), f = deviation(2, 3, pressure, coupling);
      // dt² gives a ratio of 16, dt gives 4.
      expect(c.rms / f.rms).toBeGreaterThan(6);
      expect(f.rms).toBeLessThan(1e-4); // < 1e-6 eV/atom at dt = 2 fs
      expect(Math.min(c.plainDev, f.plainDev)).toBeGreaterThan(1000 * f.rms); // the thermostat and barostat move ~0.5 eV in and out
    });
  }

  it('continues exactly, effective energy included, from a saved state', () => {
    const opts: CellRescaleOptions = { dt: 4, temperature: 50, pressure: [0, 0, 0.1], coupling: 'aniso', barostatDamping: 400, compressibility: 0.3, seed: 4 };
    const sys = crystal(6);
    const fe = new ForceEvaluator(lj(), { skin: 1 });
    const integ = new StochasticCellRescale(opts);
    let ev = advance(sys, fe, integ, fe.evaluate(sys), 50);
    const saved = sys.clone();
    saved.cell.setMatrix(sys.cell.matrix);
    const state = JSON.parse(JSON.stringify(integ.getState()));
    ev = advance(sys, fe, integ, ev, 50);
    const again = new StochasticCellRescale(opts);
    again.setState(state);
    const fe2 = new ForceEvaluator(lj(), { skin: 1 });
    const ev2 = advance(saved, fe2, again, fe2.evaluate(saved), 50);
    for (let k = 0; k < 9; k++) expect(saved.cell.matrix[k]).toBeCloseTo(sys.cell.matrix[k], 10);
    expect(again.conservedEnergy(saved, ev2.energy)).toBeCloseTo(integ.conservedEnergy(sys, ev.energy), 9);
  });
});

describe('stochastic cell rescaling: target stress', () => {
  it('rejects shear targets with the reason, accepts a Voigt tensor without shear', () => {
    const base = { dt: 2, temperature: 50, coupling: 'aniso' as const };
    expect(() => new StochasticCellRescale({ ...base, pressure: [0, 0, 0, 0, 0.1, 0] })).toThrow(/shear target xz = 0\.1 GPa.*cannot shear.*'triclinic'/);
    expect(() => new StochasticCellRescale({ ...base, pressure: [0, 0, 0, 0.2, 0, 0] })).toThrow(/yz/);
    expect(() => new StochasticCellRescale({ ...base, pressure: [0, 0] })).toThrow(/2 components/);
    expect(() => new StochasticCellRescale({ ...base, pressure: [0, 0, Number.NaN] })).toThrow(/zz must be a finite number/);
    const ok = new StochasticCellRescale({ ...base, pressure: [0.1, 0.2, 0.3, 0, 0, 0] });
    expect(Array.from(ok.target).map((p) => p * EV_PER_A3_TO_GPA)).toEqual([0.1, 0.2, 0.3].map((p) => expect.closeTo(p, 12)));
  });

  it('reaches a uniaxial target stress and the same mean cell as MTK (108 EAM Cu atoms, 300 K, Pzz = 1 GPa)', () => {
    const target = [0, 0, 1], dt = 2, skip = 500, steps = 4500;
    const sample = (integ: Integrator) => {
      const sys = lattice('fcc', { element: 'Cu', a: 3.615, repeat: 3 });
      sys.setTemperature(300, new Rng(7));
      const fe = new ForceEvaluator(createPotential({ kind: 'eam', files: { Cu: 'Cu_u3.eam' } }), { skin: 1 });
      const pressure: number[][] = [[], [], []], length: number[][] = [[], [], []];
      let s = 0;
      advance(sys, fe, integ, fe.evaluate(sys), steps, (ev) => {
        if (++s <= skip) return;
        const K = sys.kineticTensor(), V = sys.cell.volume, h = sys.cell.matrix;
        for (let a = 0; a < 3; a++) {
          pressure[a].push(((K[a] + ev.virial[a]) / V) * EV_PER_A3_TO_GPA);
          length[a].push(h[4 * a]);
        }
      });
      return { pressure: pressure.map((x) => blockMean(x)), length: length.map((x) => blockMean(x)) };
    };
    const scr = sample(new StochasticCellRescale({ dt, temperature: 300, pressure: target, coupling: 'aniso', barostatDamping: 200, compressibility: 0.06, seed: 8, warn: () => {} }));
    const mtk = sample(new MtkBarostat({ dt, temperature: 300, pressure: [...target, 0, 0, 0], coupling: 'aniso', damping: 200, barostatDamping: 500 }));
    for (let a = 0; a < 3; a++) {
      const p = scr.pressure[a];
      expect(Math.abs(p.mean - target[a])).toBeLessThan(4 * p.sem);
      // The first-order cell relaxes slowly along shape modes: 9 ps resolve ⟨Π⟩ to ~0.1 GPa
      // (measured SEM 0.07–0.11 GPa); the mean cell (below) is the sharper check.
      expect(p.sem).toBeLessThan(0.15);
      const l1 = scr.length[a], l2 = mtk.length[a];
      expect(Math.abs(l1.mean - l2.mean)).toBeLessThan(4 * Math.hypot(l1.sem, l2.sem));
    }
    // The test tells the target from a different one: compressed along z (not hydrostatic
    // zero, not the opposite sign), not along x; the cell is measurably tetragonal.
    expect(Math.abs(scr.pressure[2].mean)).toBeGreaterThan(8 * scr.pressure[2].sem);
    expect(Math.abs(scr.pressure[2].mean + 1)).toBeGreaterThan(8 * scr.pressure[2].sem);
    expect(Math.abs(scr.pressure[0].mean - 1)).toBeGreaterThan(8 * scr.pressure[0].sem);
    expect(scr.length[0].mean - scr.length[2].mean).toBeGreaterThan(8 * Math.hypot(scr.length[0].sem, scr.length[2].sem));
  });
});
