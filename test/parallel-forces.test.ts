/**
 * Parallel force evaluation: energies, forces, virials and per-atom energies with
 * 1, 2 and 3 workers have identical bits, and equal the serial ForceEvaluator (itself
 * checked against LAMMPS elsewhere) up to summation order (≤ 1e-12 relative), for
 * pair, many-body, staged (EAM), machine-learned and plugin potentials. One warm
 * pool of 2 threads serves every case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { ForceEvaluator, LennardJones, Rng, SumPotential, createPotential, lattice, loadPotential, type Potential, type System } from '../src/index.ts';
import { ParallelForceEvaluator } from '../src/parallel/evaluator.ts';
import { WorkerPool } from '../src/parallel/pool.ts';

let pool: WorkerPool;
beforeAll(() => { pool = new WorkerPool(2); });
afterAll(async () => { await pool.close(); });

function rattled(system: System, amplitude: number, seed: number): System {
  const rng = new Rng(seed);
  for (let k = 0; k < system.positions.length; k++) system.positions[k] += amplitude * (rng.uniform() - 0.5);
  return system;
}

interface Result { energy: number; forces: Float64Array; virial: Float64Array; atomEnergies: Float64Array }

function serial(potential: Potential, system: System): Result {
  const s = system.clone();
  const ev = new ForceEvaluator(potential).evaluate(s, { atomEnergies: true });
  return { energy: ev.energy, forces: Float64Array.from(s.forces), virial: ev.virial, atomEnergies: ev.atomEnergies! };
}

async function parallel(potential: Potential, system: System, workers: number, chunks?: number): Promise<Result> {
  const s = system.clone();
  const ev = await ParallelForceEvaluator.create(potential, { workers, chunks, pool });
  try {
    const r = ev.evaluate(s, { atomEnergies: true });
    return { energy: r.energy, forces: Float64Array.from(s.forces), virial: r.virial, atomEnergies: r.atomEnergies! };
  } finally {
    await ev.close();
  }
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function maxDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

function expectSameBits(a: Result, b: Result): void {
  expect(Object.is(a.energy, b.energy)).toBe(true);
  expect(maxDiff(a.forces, b.forces)).toBe(0);
  expect(maxDiff(a.virial, b.virial)).toBe(0);
  expect(maxDiff(a.atomEnergies, b.atomEnergies)).toBe(0);
}

function expectClose(a: Result, ref: Result): void {
  expect(Math.abs(a.energy - ref.energy)).toBeLessThanOrEqual(1e-12 * Math.abs(ref.energy));
  expect(maxDiff(a.forces, ref.forces)).toBeLessThanOrEqual(1e-12 * maxAbs(ref.forces));
  expect(maxDiff(a.virial, ref.virial)).toBeLessThanOrEqual(1e-12 * maxAbs(ref.virial));
  expect(maxDiff(a.atomEnergies, ref.atomEnergies)).toBeLessThanOrEqual(1e-12 * maxAbs(ref.atomEnergies));
}

const BUCKINGHAM = resolve(import.meta.dirname, '../examples/buckingham.ts');

const cases: [string, () => Promise<Potential>, () => System][] = [
  ['LJ (half list, plain pair potential)', async () => new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 8.5, shift: true }),
    () => rattled(lattice('fcc', { element: 'Ar', a: 5.26, repeat: 3 }), 0.3, 1)],
  ['EAM Cu (staged)', async () => createPotential({ kind: 'eam', files: { Cu: 'Cu_u3.eam' } }),
    () => rattled(lattice('fcc', { element: 'Cu', a: 3.615, repeat: 4 }), 0.2, 2)],
  ['EAM/alloy CuTa, two elements (staged)', async () => createPotential({ kind: 'eam/alloy', file: 'CuTa.eam.alloy' }),
    () => rattled(lattice('fcc', { element: ['Cu', 'Ta', 'Cu', 'Cu'], a: 3.8, repeat: 3 }), 0.2, 3)],
  ['Stillinger-Weber Si', async () => createPotential({ kind: 'sw', file: 'Si.sw' }),
    () => rattled(lattice('diamond', { element: 'Si', a: 5.431, repeat: 2 }), 0.3, 4)],
  ['Tersoff SiC', async () => createPotential({ kind: 'tersoff', file: 'SiC.tersoff', elements: ['Si', 'C'] }),
    () => rattled(lattice('diamond', { element: ['Si', 'Si', 'Si', 'Si', 'C', 'C', 'C', 'C'], a: 4.36, repeat: 2 }), 0.2, 5)],
  ['ACE (trace) Si', async () => createPotential({ kind: 'trace', model: 'models/trace/Si.msgpack' }),
    () => rattled(lattice('diamond', { element: 'Si', a: 5.431, repeat: 2 }), 0.3, 6)],
  ['LATTE Si', async () => createPotential({ kind: 'latte', model: 'models/latte/Si-fast.msgpack' }),
    () => rattled(lattice('diamond', { element: 'Si', a: 5.431, repeat: 2 }), 0.3, 7)],
  ['plugin module (Buckingham)', async () => loadPotential({ kind: 'module', module: BUCKINGHAM, A: 1800, rho: 0.3, C: 50, cutoff: 7 }),
    () => rattled(lattice('fcc', { element: 'Ar', a: 5.26, repeat: 3 }), 0.3, 8)],
];

describe('parallel forces equal the serial ones, with the same bits for any worker count', () => {
  for (const [name, makePotential, makeSystem] of cases) {
    it(name, async () => {
      const potential = await makePotential();
      const system = makeSystem();
      const ref = serial(potential, system);
      // 7 chunks: several rows per chunk and uneven splits, whatever the atom count.
      const one = await parallel(potential, system, 1, 7);
      expectClose(one, ref);
      for (const workers of [2, 3]) expectSameBits(await parallel(potential, system, workers, 7), one);
    });
  }

  it('a sum containing EAM runs serially (not row-additive) and equals the serial sum', async () => {
    const sum = new SumPotential([
      createPotential({ kind: 'eam', files: { Cu: 'Cu_u3.eam' } }),
      new LennardJones({ epsilon: 0.001, sigma: 2.3, cutoff: 5, shift: true }),
    ]);
    expect(new ParallelForceEvaluator(sum, { workers: 2, pool }).mode).toBe('serial');
    const system = rattled(lattice('fcc', { element: 'Cu', a: 3.615, repeat: 3 }), 0.2, 9);
    expectSameBits(await parallel(sum, system, 2), serial(sum, system));
  });
});

describe('the staged EAM path', () => {
  it('gives forces equal to central finite differences of its energy', async () => {
    const potential = createPotential({ kind: 'eam/alloy', file: 'CuTa.eam.alloy' });
    const system = rattled(lattice('fcc', { element: ['Cu', 'Ta', 'Cu', 'Cu'], a: 3.8, repeat: 2 }), 0.2, 10);
    const ev = new ParallelForceEvaluator(potential, { workers: 1, chunks: 5 });
    ev.evaluate(system);
    const forces = Float64Array.from(system.forces);
    const h = 1e-5;
    for (const k of [0, 7, 29, 50, 94]) {
      const x0 = system.positions[k];
      system.positions[k] = x0 + h;
      const ep = ev.evaluate(system).energy;
      system.positions[k] = x0 - h;
      const em = ev.evaluate(system).energy;
      system.positions[k] = x0;
      expect(Math.abs(-(ep - em) / (2 * h) - forces[k])).toBeLessThan(1e-6);
    }
  });
});

describe('ghost positions computed by the workers between rebuilds', () => {
  it('follow a deformed triclinic cell without a rebuild: same bits for 1, 2 and 3 workers, equal to a fresh serial evaluation', async () => {
    const potential = createPotential({ kind: 'eam/alloy', file: 'CuTa.eam.alloy' });
    const start = rattled(lattice('fcc', { element: ['Cu', 'Ta', 'Cu', 'Cu'], a: 3.8, repeat: 3 }), 0.2, 11);
    // A triclinic cell (all of a, b, c tilted), then a small affine deformation of cell and atoms.
    const h = start.cell.matrix;
    start.cell.setMatrix([h[0], 0.3, -0.2, 0.4, h[4], 0.25, -0.35, 0.3, h[8]]);
    const deform = [1.004, 0.002, -0.001, 0.001, 0.997, 0.003, -0.002, 0.001, 1.002];
    const deformed = (s: System) => {
      const m = s.cell.matrix, x = s.positions;
      const out = new Float64Array(9);
      for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) out[3 * r + c] = m[3 * r] * deform[c] + m[3 * r + 1] * deform[3 + c] + m[3 * r + 2] * deform[6 + c];
      s.cell.setMatrix(out);
      for (let i = 0; i < s.n; i++) {
        const a = x[3 * i], b = x[3 * i + 1], c = x[3 * i + 2];
        for (let k = 0; k < 3; k++) x[3 * i + k] = a * deform[k] + b * deform[3 + k] + c * deform[6 + k];
      }
    };
    const results: Result[] = [];
    for (const workers of [1, 2, 3]) {
      const s = start.clone();
      const ev = await ParallelForceEvaluator.create(potential, { workers, chunks: 7, pool });
      try {
        ev.evaluate(s);
        deformed(s);
        const r = ev.evaluate(s, { atomEnergies: true });
        expect(ev.neighbors.builds).toBe(1); // the second evaluation reused the list: ghosts were moved, not rebuilt
        results.push({ energy: r.energy, forces: Float64Array.from(s.forces), virial: r.virial, atomEnergies: r.atomEnergies! });
      } finally {
        await ev.close();
      }
    }
    const moved = start.clone();
    deformed(moved);
    expectClose(results[0], serial(potential, moved));
    expectSameBits(results[1], results[0]);
    expectSameBits(results[2], results[0]);
  });
});
