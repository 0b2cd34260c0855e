/**
 * MD with the parallel evaluator: a 1,000-step NVE run of 256 LJ atoms (with
 * neighbour-list rebuilds) has the same bits with 1, 2 and 3 workers, and follows
 * the serial ForceEvaluator's trajectory (which it can differ from only by
 * summation order, ~1e-16 relative per step, amplified by the chaotic dynamics).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LennardJones, Rng, Simulation, VelocityVerlet, lattice, type System } from '../src/index.ts';
import { ParallelForceEvaluator } from '../src/parallel/evaluator.ts';
import { WorkerPool } from '../src/parallel/pool.ts';

let pool: WorkerPool;
beforeAll(() => { pool = new WorkerPool(2); });
afterAll(async () => { await pool.close(); });

const STEPS = 1000;
const potential = new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 6.5, shift: true });

function start(): System {
  const system = lattice('fcc', { element: 'Ar', a: 5.4, repeat: 4 });
  const rng = new Rng(11);
  for (let k = 0; k < system.positions.length; k++) system.positions[k] += 0.3 * (rng.uniform() - 0.5);
  system.setTemperature(120, new Rng(12));
  return system;
}

interface Run { positions: Float64Array; velocities: Float64Array; energies: number[]; builds: number }

async function run(workers: number | null): Promise<Run> {
  const system = start();
  const forces = workers === null ? undefined : await ParallelForceEvaluator.create(potential, { workers, pool });
  const sim = new Simulation({ system, potential, integrator: new VelocityVerlet({ dt: 4 }), forces });
  const energies: number[] = [];
  try {
    for (let k = 0; k < STEPS / 100; k++) {
      sim.run(100);
      energies.push(sim.thermo().totalEnergy);
    }
  } finally {
    sim.close();
    if (forces) await forces.close();
  }
  return { positions: Float64Array.from(system.positions), velocities: Float64Array.from(system.velocities), energies, builds: sim.forces.neighbors.builds };
}

function maxDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

describe('NVE with workers', () => {
  it('1,000 steps: identical bits for 1, 2 and 3 workers, and the serial trajectory', async () => {
    const one = await run(1);
    expect(one.builds).toBeGreaterThan(5);
    for (const workers of [2, 3]) {
      const r = await run(workers);
      expect(maxDiff(r.positions, one.positions)).toBe(0);
      expect(maxDiff(r.velocities, one.velocities)).toBe(0);
      expect(r.energies).toEqual(one.energies);
    }
    const serial = await run(null);
    // Same trajectory: positions within 1e-10 Å after 4 ps (atoms moved several Å; measured 2e-13).
    expect(maxDiff(serial.positions, one.positions)).toBeLessThan(1e-10);
    for (let k = 0; k < serial.energies.length; k++) expect(Math.abs(one.energies[k] - serial.energies[k])).toBeLessThan(1e-10);
    // And it is a real NVE run: energy conserved to 1e-4 relative.
    const e0 = one.energies[0];
    for (const e of one.energies) expect(Math.abs(e - e0)).toBeLessThan(1e-4 * Math.abs(e0));
  });
});
