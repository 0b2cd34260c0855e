/**
 * Barostats against exact ideal-gas ensembles and against LAMMPS fix npt.
 *
 * Ideal gas (no forces), N atoms whose total momentum is zero (N_f = 3N − 3):
 *  - MTK (integrators/npt.ts): ρ(V) ∝ V^{N_f/3} e^{−βPV} ⇒ ⟨V⟩ = N·kT/P and
 *    Var V = N·(kT/P)² (generalised Liouville theorem on the MTK equations with
 *    N_f in the thermostat and in the (1 + d/N_f) coupling; derivation in npt.ts).
 *    The same V marginal holds for independent axes: ρ ∝ V^{N_f/3} e^{−βPV} Π dL_a.
 *  - Stochastic cell rescaling (integrators/cell-rescale.ts): ρ(V) ∝ V^{N_f/3 + 1}
 *    e^{−βPV} ⇒ ⟨V⟩ = (N_f/3 + 2)kT/P = (N + 1)kT/P, Var V = (N + 1)(kT/P)²
 *    (zero-flux Fokker–Planck solution for ln V with the kT/V drift term).
 */
import { describe, expect, it } from 'vitest';
import { Cell } from '../src/cell.ts';
import { ForceEvaluator, type Evaluation } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';
import { GPA_TO_EV_PER_A3, kB } from '../src/units.ts';
import { MtkBarostat, expm3, type MtkOptions } from '../integrators/npt.ts';
import type { Integrator } from '../integrators/integrator.ts';
import { StochasticCellRescale } from '../integrators/cell-rescale.ts';
import { LennardJones } from '../potentials/lj.ts';
import type { Potential } from '../potentials/potential.ts';
import { createPotential } from '../potentials/registry.ts';
import '../potentials/eam/eam.ts';
import { hasLammps } from './oracles/available.ts';
import { lammpsData, lammpsPreamble, runLammps, thermoRows } from './oracles/lammps.ts';

/** A potential with no interactions (an ideal gas); the cutoff only sizes the neighbour list. */
const zeroPotential: Potential = {
  kind: 'zero', cutoff: 3, neighborList: 'half', elements: null,
  bind() {}, compute() {}, spec: () => ({ kind: 'zero' }),
};

/** Mean and variance of a correlated series with standard errors from block averages. */
function blockStats(x: number[], blocks = 20): { mean: number; semMean: number; variance: number; semVariance: number } {
  const n = Math.floor(x.length / blocks) * blocks, size = n / blocks;
  const means: number[] = [], vars: number[] = [];
  for (let b = 0; b < blocks; b++) {
    let s = 0, s2 = 0;
    for (let i = b * size; i < (b + 1) * size; i++) { s += x[i]; s2 += x[i] * x[i]; }
    means.push(s / size);
    vars.push(s2 / size - (s / size) ** 2);
  }
  const avg = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
  const sem = (a: number[]) => { const m = avg(a); return Math.sqrt(a.reduce((p, q) => p + (q - m) ** 2, 0) / (a.length - 1) / a.length); };
  const mean = avg(means);
  // The total variance = mean within-block variance + variance of block means.
  const variance = avg(vars) + means.reduce((p, q) => p + (q - mean) ** 2, 0) / blocks;
  return { mean, semMean: sem(means), variance, semVariance: sem(vars) };
}

function idealGas(n: number, T: number, pressureGpa: number, seed: number): System {
  const rng = new Rng(seed);
  const L = Math.cbrt((n * kB * T) / (pressureGpa * GPA_TO_EV_PER_A3));
  const positions = Array.from({ length: 3 * n }, () => rng.uniform() * L);
  const sys = new System({ symbols: Array(n).fill('Ar'), positions, cell: Cell.orthorhombic(L, L, L) });
  sys.setTemperature(T, rng);
  return sys;
}

/** Runs an integrator, calling sample() every `every` steps after `skip` steps. */
function run(sys: System, fe: ForceEvaluator, integ: Integrator, steps: number, sample: (ev: Evaluation) => void, skip = 0, every = 1): Evaluation {
  let ev = fe.evaluate(sys);
  for (let s = 0; s < steps; s++) {
    ev = integ.step(sys, fe, ev);
    sys.step++;
    sys.time += integ.dt;
    if (s >= skip && (s - skip) % every === 0) sample(ev);
  }
  return ev;
}

describe('matrix exponential', () => {
  it('matches the exact exponential of a diagonal and of a nilpotent matrix', () => {
    const d = expm3(Float64Array.of(0.3, 0, 0, 0, -1.7, 0, 0, 0, 2.5));
    expect(d[0]).toBeCloseTo(Math.exp(0.3), 14);
    expect(d[4]).toBeCloseTo(Math.exp(-1.7), 14);
    expect(d[8] / Math.exp(2.5)).toBeCloseTo(1, 14);
    // exp of strictly upper triangular N = I + N + N²/2
    const e = expm3(Float64Array.of(0, 0.2, 0.3, 0, 0, 0.5, 0, 0, 0));
    expect(Array.from(e)).toEqual([1, 0.2, 0.3 + 0.05, 0, 1, 0.5, 0, 0, 1].map((v) => expect.closeTo(v, 15)));
  });
});

describe('MTK barostat on an ideal gas', () => {
  const N = 8, T = 300, P = 0.01;
  const kTP = (kB * T) / (P * GPA_TO_EV_PER_A3);

  for (const coupling of ['iso', 'aniso', 'triclinic'] as const) {
    it(`samples ⟨V⟩ = N·kT/P and Var V = N·(kT/P)² (${coupling})`, () => {
      const sys = idealGas(N, T, P, 11);
      const fe = new ForceEvaluator(zeroPotential, { skin: 2 });
      const integ = new MtkBarostat({ dt: 2, temperature: T, pressure: P, coupling, damping: 100, barostatDamping: 200 });
      const v: number[] = [];
      run(sys, fe, integ, 60_000, () => v.push(sys.cell.volume / kTP), 10_000, 5);
      const s = blockStats(v);
      expect(Math.abs(s.mean - N)).toBeLessThan(4 * s.semMean);
      // The test can tell this ensemble from the N+1 of a free centre of mass.
      expect(Math.abs(s.mean - (N + 1))).toBeGreaterThan(4 * s.semMean);
      expect(Math.abs(s.variance - N)).toBeLessThan(4 * s.semVariance);
      if (coupling === 'triclinic') {
        // The shape of an ideal gas's cell random-walks: it must have been re-reduced on the way.
        expect(integ.reductions).toBeGreaterThan(0);
      }
    });
  }
});

describe('stochastic cell rescaling on an ideal gas', () => {
  const N = 8, T = 300, P = 0.01;
  const kTP = (kB * T) / (P * GPA_TO_EV_PER_A3);

  for (const coupling of ['iso', 'aniso'] as const) {
    it(`samples ⟨V⟩ = (N+1)·kT/P and Var V = (N+1)·(kT/P)² (${coupling})`, () => {
      const sys = idealGas(N, T, P, 21);
      const fe = new ForceEvaluator(zeroPotential, { skin: 2 });
      // An ideal gas's compressibility is 1/P.
      const integ = new StochasticCellRescale({ dt: 2, temperature: T, pressure: P, coupling, compressibility: 1 / P, barostatDamping: 200, seed: 5 });
      const v: number[] = [];
      run(sys, fe, integ, 100_000, () => v.push(sys.cell.volume / kTP), 5_000, 5);
      const s = blockStats(v);
      expect(Math.abs(s.mean - (N + 1))).toBeLessThan(4 * s.semMean);
      expect(Math.abs(s.mean - N)).toBeGreaterThan(4 * s.semMean);
      expect(Math.abs(s.variance - (N + 1))).toBeLessThan(4 * s.semVariance);
    });
  }
});

describe('MTK barostat input and failures', () => {
  const base: MtkOptions = { dt: 2, temperature: 300, pressure: 0.01 };
  it('rejects bad parameters with a message naming them', () => {
    expect(() => new MtkBarostat({ ...base, temperature: 0 })).toThrow(/temperature/);
    expect(() => new MtkBarostat({ ...base, temperature: Number.NaN })).toThrow(/temperature/);
    expect(() => new MtkBarostat({ ...base, barostatDamping: -1 })).toThrow(/barostatDamping/);
    expect(() => new MtkBarostat({ ...base, damping: Number.POSITIVE_INFINITY })).toThrow(/damping/);
    expect(() => new MtkBarostat({ ...base, pressure: Number.NaN })).toThrow(/pressure/);
    expect(() => new MtkBarostat({ ...base, pressure: [1, 2, 3] })).toThrow(/6 components/);
    expect(() => new MtkBarostat({ ...base, pressure: [1, 1, 1, 0, 0.5, 0] })).toThrow(/iso/);
    expect(() => new MtkBarostat({ ...base, coupling: 'aniso', pressure: [1, 1, 1, 0, 0.5, 0] })).toThrow(/triclinic/);
    expect(() => new MtkBarostat({ ...base, coupling: 'foo' as 'iso' })).toThrow(/coupling/);
  });

  it('warns about an unsafe barostat damping and defaults to 1000·dt', () => {
    const warnings: string[] = [];
    const quiet = new MtkBarostat({ ...base, warn: (m) => warnings.push(m) });
    expect(quiet.barostatDamping).toBe(2000);
    expect(warnings).toEqual([]);
    new MtkBarostat({ ...base, barostatDamping: 20, warn: (m) => warnings.push(m) });
    expect(warnings.join()).toMatch(/barostat damping 20 fs/);
  });

  it('refuses a triclinic barostat on a cell that is not in LAMMPS form', () => {
    const sys = idealGas(8, 300, 0.01, 1);
    const h = sys.cell.matrix;
    sys.cell.setMatrix([h[0], 0.5, 0, 0, h[4], 0, 0, 0, h[8]]);
    const integ = new MtkBarostat({ ...base, coupling: 'triclinic' });
    const fe = new ForceEvaluator(zeroPotential, { skin: 2 });
    expect(() => integ.step(sys, fe, fe.evaluate(sys))).toThrow(/LAMMPS form/);
  });

  it('stops with an error when the cell explodes', () => {
    // An ideal gas under tension has no equilibrium volume.
    const sys = idealGas(8, 300, 0.01, 3);
    const fe = new ForceEvaluator(zeroPotential, { skin: 2 });
    const integ = new MtkBarostat({ ...base, pressure: -0.05, barostatDamping: 200, maxVolumeRatio: 50 });
    expect(() => run(sys, fe, integ, 200_000, () => {})).toThrow(/cell exploded at step \d+: volume/);
  });

  it('stops with an error when the cell collapses', () => {
    const sys = idealGas(8, 300, 0.01, 4);
    const fe = new ForceEvaluator(zeroPotential, { skin: 2 });
    const integ = new MtkBarostat({ ...base, pressure: 100, barostatDamping: 200, warn: () => {} });
    expect(() => run(sys, fe, integ, 200_000, () => {})).toThrow(/cell collapsed at step \d+/);
  });
});

describe('MTK barostat on LJ argon', () => {
  const lj = () => new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 8.5, shift: true });
  const crystal = (seed: number) => {
    const sys = lattice('fcc', { element: 'Ar', a: 5.3, repeat: 4 });
    sys.setTemperature(50, new Rng(seed));
    return sys;
  };

  it('conserves its extended energy with an error that shrinks as dt² (NPH and NPT)', () => {
    const drift = (dt: number, thermostat: boolean) => {
      const sys = crystal(5);
      const fe = new ForceEvaluator(lj(), { skin: 1 });
      const integ = new MtkBarostat({ dt, temperature: 50, pressure: 0.05, thermostat, damping: 400, barostatDamping: 500 });
      let ev = fe.evaluate(sys);
      const h0 = integ.conservedEnergy(sys, ev.energy);
      let worst = 0, volumeChange = 0;
      const v0 = sys.cell.volume;
      for (let t = 0; t < 2000; t += dt) {
        ev = integ.step(sys, fe, ev);
        sys.step++;
        worst = Math.max(worst, Math.abs(integ.conservedEnergy(sys, ev.energy) - h0));
        volumeChange = Math.max(volumeChange, Math.abs(sys.cell.volume / v0 - 1));
      }
      expect(volumeChange).toBeGreaterThan(0.01); // the cell did move
      return worst;
    };
    // Bound: 256 atoms over 2 ps at dt = 4 fs, |ΔH'| < 1e-3 eV (4e-6 eV/atom).
    for (const thermostat of [false, true]) {
      const coarse = drift(4, thermostat), fine = drift(2, thermostat);
      expect(coarse).toBeLessThan(1e-3);
      expect(coarse / fine).toBeGreaterThan(3);
    }
  });

  it('continues exactly from a saved state', () => {
    const sys = crystal(6);
    const fe = new ForceEvaluator(lj(), { skin: 1 });
    const opts: MtkOptions = { dt: 4, temperature: 50, pressure: 0, coupling: 'aniso', damping: 400, barostatDamping: 500 };
    const integ = new MtkBarostat(opts);
    run(sys, fe, integ, 50, () => {});
    const saved = sys.clone();
    saved.cell.setMatrix(sys.cell.matrix);
    const state = JSON.parse(JSON.stringify(integ.getState()));
    run(sys, fe, integ, 50, () => {});
    const again = new MtkBarostat(opts);
    again.setState(state);
    const fe2 = new ForceEvaluator(lj(), { skin: 1 });
    run(saved, fe2, again, 50, () => {});
    for (let k = 0; k < 9; k++) expect(saved.cell.matrix[k]).toBeCloseTo(sys.cell.matrix[k], 10);
    for (let k = 0; k < 3 * sys.n; k++) expect(saved.velocities[k]).toBeCloseTo(sys.velocities[k], 10);
  });

  describe.skipIf(!hasLammps())('against LAMMPS fix npt', () => {
    it('gives the same mean volume and volume fluctuations (256 atoms, 50 K, 0 GPa, iso)', () => {
      const steps = 6_000, skip = 1_000, dt = 4;
      const sys = crystal(5);
      const input = [
        lammpsPreamble(), 'pair_style lj/cut 8.5', 'pair_coeff * * 0.0104 3.4', 'pair_modify shift yes', 'neighbor 1.0 bin',
        `timestep ${dt / 1000}`, 'fix 1 all npt temp 50 50 0.4 iso 0 0 0.5', 'thermo 5',
        'thermo_style custom step vol temp', 'thermo_modify format float %.10g', `run ${steps}`,
      ].join('\n');
      const data = lammpsData({
        cell: sys.cell.matrix, positions: sys.positions, species: sys.species, elements: sys.elements,
        masses: [sys.masses[0]], velocities: sys.velocities,
      });
      const rows = thermoRows(runLammps(input, { data }).log).filter((r) => r[0] > skip);
      const ref = blockStats(rows.map((r) => r[1]), 10);

      const fe = new ForceEvaluator(lj(), { skin: 1 });
      const integ = new MtkBarostat({ dt, temperature: 50, pressure: 0, damping: 400, barostatDamping: 500 });
      const v: number[] = [];
      run(sys, fe, integ, steps, () => v.push(sys.cell.volume), skip, 5);
      const ours = blockStats(v, 10);
      const semMean = Math.hypot(ours.semMean, ref.semMean);
      const semVar = Math.hypot(ours.semVariance, ref.semVariance);
      expect(Math.abs(ours.mean - ref.mean)).toBeLessThan(4 * semMean);
      expect(Math.abs(ours.variance - ref.variance)).toBeLessThan(4 * semVar);
      // The comparison is sharp enough to matter: 0.1 % in density, ~30 % in fluctuation.
      expect(semMean / ref.mean).toBeLessThan(1.5e-3);
      expect(semVar / ref.variance).toBeLessThan(0.3);
    });
  });
});

describe('stochastic cell rescaling input', () => {
  it('rejects bad parameters with a message naming them', () => {
    const base = { dt: 2, temperature: 300, pressure: 0.01 };
    expect(() => new StochasticCellRescale({ ...base, temperature: -1 })).toThrow(/temperature/);
    expect(() => new StochasticCellRescale({ ...base, compressibility: 0 })).toThrow(/compressibility/);
    expect(() => new StochasticCellRescale({ ...base, barostatDamping: Number.NaN })).toThrow(/barostatDamping/);
    expect(() => new StochasticCellRescale({ ...base, pressure: [1, 2, 3] })).toThrow(/iso/);
    expect(() => new StochasticCellRescale({ ...base, pressure: Number.POSITIVE_INFINITY })).toThrow(/pressure/);
    const warnings: string[] = [];
    new StochasticCellRescale({ ...base, barostatDamping: 50, warn: (m) => warnings.push(m) });
    expect(warnings.join()).toMatch(/barostat damping 50 fs/);
  });
});

describe.skipIf(!hasLammps())('MTK barostat on EAM copper against LAMMPS fix npt', () => {
  it('gives the same mean volume and volume fluctuations (108 atoms, 600 K, 0 GPa, triclinic cell)', () => {
    const steps = 5_000, skip = 1_000, dt = 2;
    const sys = lattice('fcc', { element: 'Cu', a: 3.615, repeat: 3 });
    sys.setTemperature(600, new Rng(8));
    const input = [
      lammpsPreamble(), 'pair_style eam', 'pair_coeff 1 1 Cu_u3.eam', 'neighbor 1.0 bin',
      `timestep ${dt / 1000}`, 'fix 1 all npt temp 600 600 0.2 tri 0 0 0.5', 'thermo 5',
      'thermo_style custom step vol temp', 'thermo_modify format float %.10g', `run ${steps}`,
    ].join('\n');
    const data = lammpsData({
      cell: sys.cell.matrix, positions: sys.positions, species: sys.species, elements: sys.elements,
      masses: [sys.masses[0]], velocities: sys.velocities,
    });
    const rows = thermoRows(runLammps(input, { data }).log).filter((r) => r[0] > skip);
    const ref = blockStats(rows.map((r) => r[1]), 10);

    const fe = new ForceEvaluator(createPotential({ kind: 'eam', files: { Cu: 'Cu_u3.eam' } }), { skin: 1 });
    const integ = new MtkBarostat({ dt, temperature: 600, pressure: 0, coupling: 'triclinic', damping: 200, barostatDamping: 500 });
    const v: number[] = [];
    run(sys, fe, integ, steps, () => v.push(sys.cell.volume), skip, 5);
    const ours = blockStats(v, 10);
    const semMean = Math.hypot(ours.semMean, ref.semMean);
    const semVar = Math.hypot(ours.semVariance, ref.semVariance);
    expect(Math.abs(ours.mean - ref.mean)).toBeLessThan(4 * semMean);
    expect(Math.abs(ours.variance - ref.variance)).toBeLessThan(4 * semVar);
    expect(semMean / ref.mean).toBeLessThan(1.5e-3);
    // Fewer, more strongly correlated samples than for argon: fluctuations resolved to ~35 %.
    expect(semVar / ref.variance).toBeLessThan(0.4);
  });
});
