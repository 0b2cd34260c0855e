import { describe, expect, it } from 'vitest';
import { createPotential } from '../potentials/registry.ts';
import '../potentials/trace/potential.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { VelocityVerlet } from '../integrators/verlet.ts';
import { Langevin } from '../integrators/langevin.ts';
import { readExtxyz } from '../src/io/extxyz.ts';
import { evaluateErrors } from '../src/analysis/errors.ts';
import { dataset } from './oracles/datasets.ts';

// The shipped silicon model (fitted by bench/trace-accuracy.ts to zuo2020 Si_train.xyz).
const SPEC = { kind: 'trace', model: 'models/trace/Si.msgpack' };

describe('shipped silicon ACE model', () => {
  it('loads by spec and puts the diamond lattice minimum near the DFT (PBE) lattice constant 5.47 Å', () => {
    const pot = createPotential(SPEC);
    const energy = (a: number): number => {
      const s = lattice('diamond', { element: 'Si', a, repeat: 2 });
      return new ForceEvaluator(pot, { skin: 0 }).evaluate(s).energy / s.n;
    };
    const as = [5.2, 5.3, 5.4, 5.45, 5.5, 5.6, 5.7];
    const es = as.map(energy);
    const best = as[es.indexOf(Math.min(...es))];
    expect(best).toBeGreaterThanOrEqual(5.4);
    expect(best).toBeLessThanOrEqual(5.5);
  });

  it('reproduces the DFT test set within the benchmark band (MAE < 10 meV/atom, < 0.15 eV/Å)', () => {
    const pot = createPotential(SPEC);
    const test = readExtxyz(dataset('zuo2020', 'Si_test.xyz')).slice(0, 8);
    const r = evaluateErrors(pot, test);
    expect(r.energy_mae_mev_per_atom).toBeLessThan(10);
    expect(r.force_mae_ev_per_a).toBeLessThan(0.15);
  });

  it('NVE at 1000 K conserves energy (64 atoms, 100 fs) and NVT stays near its target', () => {
    const pot = createPotential(SPEC);
    const s = lattice('diamond', { element: 'Si', a: 5.43, repeat: 2 });
    s.setTemperature(1000, new Rng(4));
    const forces = new ForceEvaluator(pot);
    const nve = new VelocityVerlet({ dt: 1 });
    let ev = forces.evaluate(s);
    const e0 = nve.conservedEnergy(s, ev.energy);
    let maxDev = 0;
    for (let k = 0; k < 100; k++) {
      ev = nve.step(s, forces);
      maxDev = Math.max(maxDev, Math.abs(nve.conservedEnergy(s, ev.energy) - e0));
    }
    expect(maxDev / s.n).toBeLessThan(2e-3); // eV/atom
    const nvt = new Langevin({ dt: 2, temperature: 1000, damping: 50, seed: 3 });
    let tSum = 0;
    for (let k = 0; k < 100; k++) { nvt.step(s, forces); if (k >= 50) tSum += s.temperature(); }
    expect(tSum / 50).toBeGreaterThan(600);
    expect(tSum / 50).toBeLessThan(1400);
  });
});
