/**
 * Langevin (BAOAB) samples the canonical ensemble: for a small LJ argon crystal the
 * kinetic energy K must have the canonical mean and variance.
 *
 * The thermostat acts on all 3n velocity components (centre of mass included), so
 * K = Σ p²/2m is a sum of dof = 3n independent Gaussian quadratic terms:
 * K ~ (kT/2)·χ²(dof), hence ⟨K⟩ = (dof/2)·kT, i.e. T_kin = 2⟨K⟩/(dof·kB) = T, and
 * var(K) = (kT/2)²·2·dof = (dof/2)(kT)² = 2⟨K⟩²/dof.
 * (system.temperature() uses 3n − 3 and would read T·3n/(3n − 3) here.)
 *
 * Statistical errors come from block averaging: 40 blocks of 1,000 steps (2 ps),
 * much longer than the kinetic-energy correlation time (≲ damping = 50 fs), so block
 * means are independent; error = std(block means)/√(blocks). Both checks allow
 * 3.5 standard errors, and the errors themselves must be small (≤ 1 % of the
 * target) so the test has teeth. BAOAB's O(dt²) kinetic bias at dt = 2 fs is
 * ~1e-4 relative, far below the 0.3 % statistical resolution.
 */
import { describe, expect, it } from 'vitest';
import { ForceEvaluator, type Evaluation } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { kB } from '../src/units.ts';
import { LennardJones } from '../potentials/lj.ts';
import { Langevin } from '../integrators/langevin.ts';
import type { Integrator } from '../integrators/integrator.ts';

function argon() {
  const system = lattice('fcc', { element: 'Ar', a: 5.3, repeat: 2, masses: { Ar: 39.948 } });
  const evaluator = new ForceEvaluator(new LennardJones({ epsilon: 0.0104, sigma: 3.405, cutoff: 6.5, shift: true }), { skin: 0.8 });
  return { system, evaluator };
}

function blockStats(samples: Float64Array, blocks: number): { mean: number; error: number } {
  const len = Math.floor(samples.length / blocks);
  const means: number[] = [];
  for (let b = 0; b < blocks; b++) {
    let s = 0;
    for (let t = b * len; t < (b + 1) * len; t++) s += samples[t];
    means.push(s / len);
  }
  const mean = means.reduce((a, b) => a + b, 0) / blocks;
  const variance = means.reduce((a, m) => a + (m - mean) ** 2, 0) / (blocks - 1);
  return { mean, error: Math.sqrt(variance / blocks) };
}

describe('Langevin BAOAB thermostat', () => {
  it('kinetic energy has the canonical mean and variance', () => {
    const T = 80, dt = 2, blocks = 40, perBlock = 1000, equilibration = 1000;
    const { system, evaluator } = argon();
    system.setTemperature(T, new Rng(1));
    const integrator: Integrator = new Langevin({ dt, temperature: T, damping: 50, seed: 2024 });
    let ev: Evaluation = evaluator.evaluate(system);
    for (let s = 0; s < equilibration; s++) ev = integrator.step(system, evaluator, ev);
    const m = blocks * perBlock;
    const K = new Float64Array(m);
    for (let s = 0; s < m; s++) {
      ev = integrator.step(system, evaluator, ev);
      K[s] = system.kineticEnergy();
    }
    const dof = 3 * system.n, kT = kB * T;

    const tKin = blockStats(K.map((k) => (2 * k) / (dof * kB)), blocks);
    const kbar = K.reduce((a, b) => a + b, 0) / m;
    const sq = blockStats(K.map((k) => (k - kbar) ** 2), blocks);
    const expectedVar = (dof / 2) * kT * kT;
    console.log(
      `Langevin: T_kin = ${tKin.mean.toFixed(3)} ± ${tKin.error.toFixed(3)} K (target ${T}); ` +
        `var(K) = ${sq.mean.toExponential(4)} ± ${sq.error.toExponential(1)} eV² (canonical ${expectedVar.toExponential(4)})`,
    );
    expect(tKin.error).toBeLessThan(0.01 * T);
    expect(Math.abs(tKin.mean - T)).toBeLessThanOrEqual(3.5 * tKin.error);
    expect(sq.error).toBeLessThan(0.03 * expectedVar);
    expect(Math.abs(sq.mean - expectedVar)).toBeLessThanOrEqual(3.5 * sq.error);
  });

  it('continues exactly after saving and restoring its state', () => {
    const { system, evaluator } = argon();
    system.setTemperature(60, new Rng(3));
    const integrator: Integrator = new Langevin({ dt: 2, temperature: 60, seed: 5 });
    let ev: Evaluation = evaluator.evaluate(system);
    for (let s = 0; s < 50; s++) ev = integrator.step(system, evaluator, ev);
    const saved = { system: system.clone(), integrator: structuredClone(integrator.getState!()) };
    for (let s = 0; s < 30; s++) ev = integrator.step(system, evaluator, ev);
    const expected = Float64Array.from(system.positions);

    const restored = saved.system;
    const again: Integrator = new Langevin({ dt: 2, temperature: 60, seed: 999 });
    again.setState!(saved.integrator);
    const evaluator2 = argon().evaluator;
    let ev2: Evaluation = evaluator2.evaluate(restored);
    for (let s = 0; s < 30; s++) ev2 = again.step(restored, evaluator2, ev2);
    // Same trajectory up to rounding differences from wrapping at different list builds.
    let worst = 0;
    const d = new Float64Array(3);
    for (let i = 0; i < system.n; i++) {
      for (let c = 0; c < 3; c++) d[c] = restored.positions[3 * i + c] - expected[3 * i + c];
      worst = Math.max(worst, Math.sqrt(restored.cell.minimumImage(d)));
    }
    expect(worst).toBeLessThan(1e-9);
    expect(ev2.energy).toBeCloseTo(ev.energy, 9);
  });

  it('validates its parameters', () => {
    expect(() => new Langevin({ dt: 0, temperature: 300 })).toThrow(/dt/);
    expect(() => new Langevin({ dt: 1, temperature: -1 })).toThrow(/temperature/);
    expect(() => new Langevin({ dt: 1, temperature: 300, damping: -5 })).toThrow(/damping/);
  });
});
