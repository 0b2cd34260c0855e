/**
 * Velocity Verlet against LAMMPS `fix nve` (same positions, velocities, LJ), and
 * long-run energy conservation.
 *
 * Units: our time is fs, LAMMPS metal time is ps — dt_lmp = dt·1e-3, velocities
 * are written in Å/ps (×1000), LAMMPS dumps unwrapped positions (xu yu zu).
 *
 * Constants: src/units.ts holds LAMMPS's own metal constants (ftm2v, boltz, …),
 * so the only difference left is the order of floating-point operations (we
 * integrate in fs, LAMMPS in ps). Measured max |Δx| after 100 steps: 9e-15 Å
 * (with CODATA 2018 constants it was 2.2e-8 Å — the 6.3e-8 relative difference
 * of the force→acceleration constant, which is why units.ts follows LAMMPS).
 */
import { describe, expect, it } from 'vitest';
import { ForceEvaluator, type Evaluation } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';
import { FS_PER_PS } from '../src/units.ts';
import { LennardJones } from '../potentials/lj.ts';
import { VelocityVerlet } from '../integrators/verlet.ts';
import type { Integrator } from '../integrators/integrator.ts';
import { hasLammps } from './oracles/available.ts';
import { lammpsData, lammpsPreamble, parseDump, runLammps } from './oracles/lammps.ts';

const ARGON = { epsilon: 0.0104, sigma: 3.405 };
const MASS_AR = 39.948;

/** 256-atom argon fcc crystal, perturbed, with Maxwell–Boltzmann velocities. */
function argon(T: number, seed: number, repeat = 4): System {
  const s = lattice('fcc', { element: 'Ar', a: 5.3, repeat, masses: { Ar: MASS_AR } });
  const rng = new Rng(seed);
  for (let k = 0; k < s.positions.length; k++) s.positions[k] += 0.2 * (rng.uniform() - 0.5);
  s.setTemperature(T, rng);
  return s;
}

function run(system: System, evaluator: ForceEvaluator, dt: number, steps: number, each?: (ev: Evaluation, step: number) => void): void {
  const integrator: Integrator = new VelocityVerlet({ dt });
  let ev = evaluator.evaluate(system);
  each?.(ev, 0);
  for (let s = 1; s <= steps; s++) {
    ev = integrator.step(system, evaluator, ev);
    each?.(ev, s);
  }
}

/** Largest per-atom distance between our (possibly wrapped) positions and LAMMPS's unwrapped ones, minimum image. */
function maxDeviation(system: System, reference: Float64Array): number {
  const d = new Float64Array(3);
  let worst = 0;
  for (let i = 0; i < system.n; i++) {
    for (let a = 0; a < 3; a++) d[a] = system.positions[3 * i + a] - reference[3 * i + a];
    worst = Math.max(worst, Math.sqrt(system.cell.minimumImage(d)));
  }
  return worst;
}

describe.skipIf(!hasLammps())('velocity Verlet against LAMMPS fix nve', () => {
  it('100 steps from the same state give the same positions to 1e-8 Å', () => {
    const rc = 8.5, dt = 2, steps = 100;
    const start = argon(120, 5);
    const x0 = Float64Array.from(start.positions);

    const input = [
      lammpsPreamble(),
      `pair_style lj/cut ${rc}`,
      `pair_coeff * * ${ARGON.epsilon} ${ARGON.sigma}`,
      'neighbor 0.3 bin',
      'neigh_modify every 1 delay 0 check yes',
      `timestep ${dt / FS_PER_PS}`,
      'fix 1 all nve',
      `dump d all custom ${steps} traj.dump id xu yu zu`,
      'dump_modify d sort id format float %.17g',
      `run ${steps}`,
    ].join('\n');
    const data = lammpsData({
      cell: start.cell.matrix, positions: start.positions, velocities: start.velocities,
      species: start.species, elements: ['Ar'], masses: [MASS_AR],
    });
    const { files, log } = runLammps(input, { data, outputs: ['traj.dump'] });
    const ref = new Float64Array(3 * start.n);
    parseDump(files['traj.dump'], start.n, (i, c) => { ref[3 * i] = c[0]; ref[3 * i + 1] = c[1]; ref[3 * i + 2] = c[2]; });

    // The atoms really moved: the comparison is not between two copies of the start.
    const moved = new System({ symbols: start.symbols, positions: x0, cell: start.cell.clone() });
    expect(maxDeviation(moved, ref)).toBeGreaterThan(0.3);

    const ours = start.clone();
    ours.positions.set(x0);
    const evaluator = new ForceEvaluator(new LennardJones({ ...ARGON, cutoff: rc }), { skin: 0.3 });
    run(ours, evaluator, dt, steps);
    const error = maxDeviation(ours, ref);
    // Same trajectory, same skin/2 criterion checked every step: the same rebuilds
    // (LAMMPS's count excludes the setup build).
    const lammpsBuilds = Number(/Neighbor list builds = (\d+)/.exec(log)?.[1]);
    console.log(`NVE vs LAMMPS after ${steps} steps: max |Δx| = ${error.toExponential(2)} Å; list builds ${evaluator.neighbors.builds - 1} (LAMMPS ${lammpsBuilds})`);
    expect(error).toBeLessThanOrEqual(1e-8);
    expect(lammpsBuilds).toBeGreaterThan(2);
    expect(evaluator.neighbors.builds - 1).toBe(lammpsBuilds);
  });
});

function std(a: Float64Array): number {
  let m = 0;
  for (const v of a) m += v;
  m /= a.length;
  let q = 0;
  for (const v of a) q += (v - m) ** 2;
  return Math.sqrt(q / a.length);
}

/** Least-squares line through y[s] against s. */
function linearFit(y: Float64Array): { slope: number; intercept: number } {
  const m = y.length;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let s = 0; s < m; s++) { sx += s; sy += y[s]; sxx += s * s; sxy += s * y[s]; }
  const slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  return { slope, intercept: (sy - slope * sx) / m };
}

describe('velocity Verlet energy conservation', () => {
  it('10,000 steps of shifted LJ argon (500 atoms, dt = 5 fs) conserve the total energy', () => {
    // 500 atoms, not 108: shifted LJ keeps the force jump at the cutoff, and the
    // energy errors of pairs crossing it add up to a random walk whose fitted
    // "drift" over 10k steps scattered by ±2e-6 eV/atom (random sign) between
    // seeds for 108 atoms (12 seeds, max 3.4e-6); per atom it shrinks as 1/√N
    // (500 atoms, 4 seeds: ≤ 8e-7). A real secular drift does not shrink with N.
    const system = argon(60, 21, 5);
    const n = system.n;
    const evaluator = new ForceEvaluator(new LennardJones({ ...ARGON, cutoff: 7.5, shift: true }), { skin: 1 });
    const steps = 10_000;
    const total = new Float64Array(steps + 1);
    const kinetic = new Float64Array(steps + 1);
    run(system, evaluator, 5, steps, (ev, s) => {
      kinetic[s] = system.kineticEnergy();
      total[s] = ev.energy + kinetic[s];
    });
    // Bounds (argon solid at 60 K, kT = 5.2e-3 eV; measured values in brackets):
    //  - largest excursion max|E(t) − E(0)| ≤ 1e-5 eV/atom ≈ 2e-3 kT        [2.3e-6]
    //  - secular drift (least-squares slope × 50 ps) ≤ 2e-6 eV/atom         [5.4e-7]
    //  - std(E_total)/std(E_kinetic) ≤ 0.01, the usual Verlet quality test   [2.4e-3]
    // A first-order integrator or a wrong half kick fails all three by orders of magnitude.
    let maxDev = 0;
    for (let s = 0; s <= steps; s++) maxDev = Math.max(maxDev, Math.abs(total[s] - total[0]));
    const drift = Math.abs(linearFit(total).slope * steps) / n;
    const fluctuationRatio = std(total) / std(kinetic);
    console.log(
      `NVE 10k steps: max |E(t) − E(0)| = ${(maxDev / n).toExponential(2)} eV/atom, drift ${drift.toExponential(2)} eV/atom, ` +
        `std(E)/std(K) = ${fluctuationRatio.toExponential(2)}`,
    );
    expect(std(kinetic) / n).toBeGreaterThan(1e-4); // the atoms really move
    expect(maxDev / n).toBeLessThanOrEqual(1e-5);
    expect(drift).toBeLessThanOrEqual(2e-6);
    expect(fluctuationRatio).toBeLessThanOrEqual(0.01);
  });
});
