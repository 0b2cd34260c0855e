import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import {
  Cell, ForceEvaluator, LennardJones, Morse, Rng, ScaledPotential, Simulation, SumPotential, System, VelocityVerlet,
  createPotential, lattice, loadPotential,
} from '../src/index.ts';

const BUCKINGHAM = resolve(import.meta.dirname, '../examples/buckingham.ts');
const buck = { kind: 'module', module: BUCKINGHAM, A: 1800, rho: 0.3, C: 50, cutoff: 7 };

function randomArgon(n: number, seed: number): System {
  const rng = new Rng(seed);
  const cell = Cell.lammps(12, 11, 13, 2.5, -1.5, 1.0);
  // jittered lattice so no two atoms overlap
  const frac: number[] = [];
  const m = Math.ceil(Math.cbrt(n));
  for (let k = 0; k < n; k++) {
    const a = k % m, b = Math.floor(k / m) % m, c = Math.floor(k / (m * m));
    frac.push((a + 0.5 + 0.2 * (rng.uniform() - 0.5)) / m, (b + 0.5 + 0.2 * (rng.uniform() - 0.5)) / m, (c + 0.5 + 0.2 * (rng.uniform() - 0.5)) / m);
  }
  return new System({ symbols: Array(n).fill('Ar'), positions: cell.toCartesian(frac), cell });
}

/** Energy by brute-force image summation for a pair function e(r). */
function bruteForceEnergy(sys: System, e: (r: number) => number, rc: number): number {
  const h = sys.cell.matrix, x = sys.positions;
  let E = 0;
  for (let i = 0; i < sys.n; i++)
    for (let j = 0; j < sys.n; j++)
      for (let a = -2; a <= 2; a++) for (let b = -2; b <= 2; b++) for (let c = -2; c <= 2; c++) {
        if (i === j && a === 0 && b === 0 && c === 0) continue;
        const dx = x[3 * j] + a * h[0] + b * h[3] + c * h[6] - x[3 * i];
        const dy = x[3 * j + 1] + a * h[1] + b * h[4] + c * h[7] - x[3 * i + 1];
        const dz = x[3 * j + 2] + a * h[2] + b * h[5] + c * h[8] - x[3 * i + 2];
        const r = Math.hypot(dx, dy, dz);
        if (r < rc) E += 0.5 * e(r);
      }
  return E;
}

describe('plugin potentials', () => {
  it('a Buckingham module loads by path and gives the brute-force energy and finite-difference forces', async () => {
    const pot = await loadPotential(buck);
    const sys = randomArgon(27, 1);
    const ev = new ForceEvaluator(pot, { skin: 0.5 }).evaluate(sys);
    const shift = 1800 * Math.exp(-7 / 0.3) - 50 / 7 ** 6;
    const ref = bruteForceEnergy(sys, (r) => 1800 * Math.exp(-r / 0.3) - 50 / r ** 6 - shift, 7);
    expect(Math.abs(ev.energy - ref)).toBeLessThan(1e-11 * Math.abs(ref) + 1e-12);
    const forces = Float64Array.from(sys.forces);
    const h = 1e-5;
    for (const k of [0, 4, 17, 50, 80]) {
      const probe = sys.clone();
      const evaluator = new ForceEvaluator(pot, { skin: 0.5 });
      probe.positions[k] += h;
      const ep = evaluator.evaluate(probe).energy;
      probe.positions[k] -= 2 * h;
      const em = evaluator.evaluate(probe).energy;
      expect(Math.abs(-(ep - em) / (2 * h) - forces[k])).toBeLessThan(1e-6);
    }
  });

  it('relative plugin paths resolve against the given directory, and the spec round-trips through createPotential', async () => {
    const pot = await loadPotential({ ...buck, module: 'examples/buckingham.ts' }, resolve(import.meta.dirname, '..'));
    expect(pot.spec().module).toBe(BUCKINGHAM);
    const again = createPotential(pot.spec());
    const sys = randomArgon(8, 2);
    expect(new ForceEvaluator(again).evaluate(sys).energy).toBe(new ForceEvaluator(pot).evaluate(sys.clone()).energy);
  });

  it('a missing module or a module without a factory is a clear error', async () => {
    await expect(loadPotential({ kind: 'module', module: '/nonexistent/pot.ts' })).rejects.toThrow(/cannot load plugin potential module '\/nonexistent\/pot.ts'/);
    await expect(loadPotential({ kind: 'module', module: resolve(import.meta.dirname, '../src/units.ts') })).rejects.toThrow(/must export a potential factory/);
    expect(() => createPotential({ kind: 'nope' })).toThrow(/unknown potential kind 'nope'/);
  });

  it('the custom potential conserves energy in NVE', async () => {
    const pot = await loadPotential(buck);
    const system = lattice('fcc', { element: 'Ar', a: 5.3, repeat: 3 });
    system.setTemperature(40, new Rng(3));
    const sim = new Simulation({ system, potential: pot, integrator: new VelocityVerlet({ dt: 2 }) });
    const e0 = sim.thermo().totalEnergy;
    let maxDev = 0;
    for (let k = 0; k < 20; k++) {
      sim.run(50);
      maxDev = Math.max(maxDev, Math.abs(sim.thermo().totalEnergy - e0));
    }
    // 1000 steps of 2 fs, 108 atoms at 40 K: fluctuations well below 1e-4 eV/atom.
    expect(maxDev / system.n).toBeLessThan(1e-5);
    expect(sim.thermo().temperature).toBeGreaterThan(5);
  });
});

describe('sum and scaled potentials', () => {
  const lj = { kind: 'lj', epsilon: 0.0104, sigma: 3.4, cutoff: 8 };
  const morse = { kind: 'morse', D: 0.01, alpha: 1.2, r0: 3.9, cutoff: 6 };

  it('a sum gives the sum of its terms and reports each term', async () => {
    const sys = randomArgon(40, 4);
    const sum = (await loadPotential({ kind: 'sum', terms: [lj, morse, buck] })) as SumPotential;
    const evSum = new ForceEvaluator(sum).evaluate(sys.clone());
    const fSum = Float64Array.from((() => { const s = sys.clone(); new ForceEvaluator(sum).evaluate(s); return s.forces; })());
    let expected = 0;
    const fExp = new Float64Array(3 * sys.n);
    const parts: number[] = [];
    for (const p of [new LennardJones(lj), new Morse(morse), await loadPotential(buck)]) {
      const s = sys.clone();
      const e = new ForceEvaluator(p).evaluate(s).energy;
      parts.push(e);
      expected += e;
      for (let k = 0; k < fExp.length; k++) fExp[k] += s.forces[k];
    }
    expect(evSum.energy).toBeCloseTo(expected, 10);
    parts.forEach((e, k) => expect(sum.termEnergies[k]).toBeCloseTo(e, 10));
    for (let k = 0; k < fExp.length; k++) expect(fSum[k]).toBeCloseTo(fExp[k], 10);
  });

  it('λ·U scales energy, forces and virial, and dU/dλ matches a finite difference in λ', () => {
    const sys = randomArgon(30, 5);
    const base = new ForceEvaluator(new LennardJones(lj)).evaluate(sys.clone());
    const scaled = new ScaledPotential(new LennardJones(lj), 0.37);
    const s = sys.clone();
    const ev = new ForceEvaluator(scaled).evaluate(s);
    expect(ev.energy).toBeCloseTo(0.37 * base.energy, 12);
    for (let a = 0; a < 6; a++) expect(ev.virial[a]).toBeCloseTo(0.37 * base.virial[a], 10);
    const dl = 1e-4;
    const energyAt = (l: number) => new ForceEvaluator(new ScaledPotential(new LennardJones(lj), l)).evaluate(sys.clone()).energy;
    expect(scaled.derivative).toBeCloseTo((energyAt(0.37 + dl) - energyAt(0.37 - dl)) / (2 * dl), 8);
    const spec = scaled.spec();
    expect(new ForceEvaluator(createPotential(spec)).evaluate(sys.clone()).energy).toBeCloseTo(ev.energy, 12);
  });
});
