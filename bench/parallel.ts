/**
 * Parallel speed-up of MD (velocity Verlet, neighbour-list rebuilds included) with
 * the ParallelForceEvaluator, against 1 worker (the same chunked path on the
 * calling thread) and the serial ForceEvaluator:
 *   - EAM Cu_u3, 32,000 atoms (fcc 20³, 300 K, dt 5 fs, skin 1 Å), as bench/eam.ts;
 *   - ACE Si (models/trace/Si.msgpack, the most expensive potential here), 512
 *     atoms of diamond Si at 1000 K, dt 1 fs.
 * Also the cost of one synchronisation (a phase over the workers) with Atomics
 * against one piscina run() per chunk (message round trips): 7 chunks of 500 atoms
 * of a potential that does nothing.
 *
 *   npx tsx bench/parallel.ts                      workers 1 and 2 (this machine)
 *   npx tsx bench/parallel.ts --workers 1,2,4,8,16 a scaling table (many-core machine)
 *   options: --eam-repeat 20 --eam-steps 20 --ace-repeat 4 --ace-steps 20 --repeat 5 (rounds; best of)
 *            --warmup 5 (untimed steps first)
 *
 * Prints one line per (potential, workers) and, last, one JSON object: EAM's
 * speed-up and efficiency at the largest worker count, the ACE figures and the
 * synchronisation costs. Timings are wall-clock and disturbed by other work on
 * the same cores (the load average is printed with them).
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ForceEvaluator, type Evaluation } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import type { System } from '../src/system.ts';
import '../potentials/builtin.ts';
import { createPotential, loadPotential } from '../potentials/registry.ts';
import type { Potential, PotentialSpec } from '../potentials/potential.ts';
import { VelocityVerlet } from '../integrators/verlet.ts';
import type { Integrator } from '../integrators/integrator.ts';
import { ParallelForceEvaluator } from '../src/parallel/evaluator.ts';
import { WorkerPool } from '../src/parallel/pool.ts';
import { report } from './harness.ts';

function option(name: string, fallback: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && k + 1 < process.argv.length ? process.argv[k + 1] : fallback;
}

const WORKERS = option('workers', '1,2').split(',').map(Number);
const EAM_REPEAT = Number(option('eam-repeat', '20')), EAM_STEPS = Number(option('eam-steps', '20'));
const ACE_REPEAT = Number(option('ace-repeat', '4')), ACE_STEPS = Number(option('ace-steps', '20'));
const REPEAT = Number(option('repeat', '5')), WARMUP = Number(option('warmup', '5'));
const maxWorkers = Math.max(...WORKERS);

interface Case { name: string; spec: PotentialSpec; system: () => System; steps: number; dt: number }

const cases: Case[] = [
  {
    name: 'eam Cu_u3', spec: { kind: 'eam', files: { Cu: 'Cu_u3.eam' } }, steps: EAM_STEPS, dt: 5,
    system: () => {
      const s = lattice('fcc', { element: 'Cu', a: 3.615, repeat: EAM_REPEAT, masses: { Cu: 63.55 } });
      s.setTemperature(300, new Rng(87287));
      return s;
    },
  },
  {
    name: 'trace (ACE) Si', spec: { kind: 'trace', model: 'models/trace/Si.msgpack' }, steps: ACE_STEPS, dt: 1,
    system: () => {
      const s = lattice('diamond', { element: 'Si', a: 5.431, repeat: ACE_REPEAT });
      s.setTemperature(1000, new Rng(5));
      return s;
    },
  },
];

/**
 * Seconds per MD step after WARMUP untimed steps, and the final energy as a
 * cross-check between runs. The warm-up matters for workers: each builds its own
 * potential, whose code the worker thread's JIT optimises during its first phases.
 */
function timeSteps(evaluator: ForceEvaluator, c: Case): { perStep: number; energy: number; n: number } {
  const system = c.system();
  const integrator: Integrator = new VelocityVerlet({ dt: c.dt });
  let ev: Evaluation = evaluator.evaluate(system);
  for (let s = 0; s < WARMUP; s++) ev = integrator.step(system, evaluator, ev);
  const t0 = performance.now();
  for (let s = 0; s < c.steps; s++) ev = integrator.step(system, evaluator, ev);
  return { perStep: (performance.now() - t0) / 1000 / c.steps, energy: ev.energy, n: system.n };
}

const pool = maxWorkers > 1 ? new WorkerPool(maxWorkers - 1) : null;
const figures: Record<string, unknown> = { bench: 'parallel' };
try {
  for (const c of cases) {
    const potential: Potential = createPotential(c.spec);
    // Best of REPEAT rounds, each round timing the serial evaluator and every worker
    // count in turn: the host's speed drifts by tens of percent between runs
    // seconds apart, and interleaving exposes every configuration to the same drift.
    let serial = { perStep: Infinity, energy: 0, n: 0 };
    const times = new Map<number, number>();
    let energy: number | null = null;
    for (let round = 1; round <= REPEAT; round++) {
      const s = timeSteps(new ForceEvaluator(potential), c);
      if (s.perStep < serial.perStep) serial = s;
      const line = [`${c.name} round ${round}: ${s.n} atoms, serial ${(s.perStep * 1e3).toFixed(1)} ms/step`];
      for (const workers of WORKERS) {
        const ev = await ParallelForceEvaluator.create(potential, { workers, pool: pool ?? undefined });
        try {
          const r = timeSteps(ev, c);
          times.set(workers, Math.min(r.perStep, times.get(workers) ?? Infinity));
          if (energy !== null && r.energy !== energy) throw new Error(`${c.name}: energy with ${workers} workers differs from the first run`);
          energy = r.energy;
          line.push(`${workers} workers ${(r.perStep * 1e3).toFixed(1)}`);
        } finally {
          await ev.close();
        }
      }
      console.log(`${line.join(', ')}; load ${loadavg()[0].toFixed(1)}`);
    }
    const base = times.get(WORKERS[0])!;
    console.log(`${c.name}: best of ${REPEAT}: serial ${(serial.perStep * 1e3).toFixed(1)} ms/step ` +
      `(${((serial.perStep * 1e6) / serial.n).toFixed(2)} µs/atom-step); ` +
      WORKERS.map((w) => `${w} workers ${(times.get(w)! * 1e3).toFixed(1)} ms (speed-up ${(base / times.get(w)!).toFixed(2)})`).join(', '));
    const t1 = times.get(WORKERS[0])!, tn = times.get(maxWorkers)!;
    const key = c.spec.kind === 'eam' ? 'eam' : 'ace';
    figures[`${key}Atoms`] = serial.n;
    figures[`${key}UsPerAtomStep`] = (serial.perStep * 1e6) / serial.n;
    figures[`${key}Speedup`] = t1 / tn;
    figures[`${key}Efficiency`] = t1 / tn / (maxWorkers / WORKERS[0]);
    figures[`${key}SpeedupVsSerial`] = serial.perStep / tn;
  }

  // Synchronisation: a phase of an evaluator over a potential that does nothing
  // (Atomics), against one piscina run() per chunk per step (messages).
  if (pool) {
    const system = lattice('fcc', { element: 'Ar', a: 5.26, repeat: 5 });
    const idle = await loadPotential({ kind: 'module', module: fileURLToPath(new URL(`./idle-potential${import.meta.url.endsWith('.js') ? '.js' : '.ts'}`, import.meta.url)), cutoff: 8.5 });
    const reps = 1000, chunks = 7;
    const perEvaluate = async (workers: number): Promise<number> => {
      const ev = await ParallelForceEvaluator.create(idle, { workers, pool, chunks });
      try {
        ev.evaluate(system);
        const t0 = performance.now();
        for (let k = 0; k < reps; k++) ev.evaluate(system);
        return ((performance.now() - t0) * 1e3) / reps;
      } finally {
        await ev.close();
      }
    };
    // A whole evaluate of the do-nothing potential on 2 threads: every phase of a step
    // (ghosts, rows, reduce) with its Atomics hand-over, i.e. an upper bound on the
    // synchronisation cost per step. (The difference from 1 thread is no longer a
    // measure of it: the per-atom reductions now run split over the threads, so it
    // can be negative.)
    const atomicsUs = await perEvaluate(2);
    const oneThreadUs = await perEvaluate(1);
    const t0 = performance.now();
    for (let k = 0; k < reps / 4; k++) await Promise.all(Array.from({ length: chunks }, (_, c) => pool.run<number>(c, 'ping')));
    const messageUs = ((performance.now() - t0) * 1e3) / (reps / 4);
    console.log(`synchronisation, 500 atoms, do-nothing potential: a whole step's evaluate on 2 threads (all phases, Atomics) ` +
      `${atomicsUs.toFixed(1)} µs (1 thread ${oneThreadUs.toFixed(1)} µs); one phase as ${chunks} piscina run() round trips ${messageUs.toFixed(1)} µs`);
    figures.syncAtomicsUs = atomicsUs;
    figures.syncOneThreadUs = oneThreadUs;
    figures.syncMessagesUs = messageUs;
  }
} finally {
  await pool?.close();
}
figures.workers = maxWorkers;
figures.load = loadavg()[0];
report(figures);
