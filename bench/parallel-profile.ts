/**
 * Accounts for the time of MD steps with the ParallelForceEvaluator (EAM Cu_u3,
 * 32,000 atoms by default, as bench/parallel.ts): per step, the integrator, the
 * neighbour-list update (ghost positions, or a rebuild and the new layout), the
 * calling thread's serial segments and, per phase, each thread's time inside
 * chunks, the calling thread's wait for the last chunk and the workers' start latency.
 *
 *   npx tsx bench/parallel-profile.ts [--workers 1,2] [--steps 20] [--warmup 5] [--repeat 20] [--potential eam|ace]
 *
 * Prints the breakdown (mean ms per step over the timed steps; rebuild steps apart)
 * and, last, one JSON object of the same figures.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { ForceEvaluator, type Evaluation } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import '../potentials/builtin.ts';
import { createPotential } from '../potentials/registry.ts';
import { VelocityVerlet } from '../integrators/verlet.ts';
import type { Integrator } from '../integrators/integrator.ts';
import { ParallelForceEvaluator } from '../src/parallel/evaluator.ts';
import { WorkerPool } from '../src/parallel/pool.ts';
import { emptyProfile, type EvaluateProfile } from '../src/parallel/profile.ts';
import { STAGE_ACCUMULATE, STAGE_COMBINE, STAGE_FINISH, STAGE_GHOSTS, STAGE_REDUCE } from '../src/parallel/shared.ts';
import { report } from './harness.ts';

function option(name: string, fallback: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && k + 1 < process.argv.length ? process.argv[k + 1] : fallback;
}
const WORKERS = option('workers', '1,2').split(',').map(Number), STEPS = Number(option('steps', '20')), WARMUP = Number(option('warmup', '5'));
const ace = option('potential', 'eam') === 'ace';
const REPEAT = Number(option('repeat', ace ? '4' : '20'));

const potential = createPotential(ace ? { kind: 'trace', model: 'models/trace/Si.msgpack' } : { kind: 'eam', files: { Cu: 'Cu_u3.eam' } });
const dt = ace ? 1 : 5;
function system() {
  const s = ace
    ? lattice('diamond', { element: 'Si', a: 5.431, repeat: REPEAT })
    : lattice('fcc', { element: 'Cu', a: 3.615, repeat: REPEAT, masses: { Cu: 63.55 } });
  s.setTemperature(ace ? 1000 : 300, new Rng(ace ? 5 : 87287));
  return s;
}

const STAGE_NAME: Record<number, string> = { 0: 'rows', [STAGE_ACCUMULATE]: 'accumulate', [STAGE_COMBINE]: 'combine', [STAGE_FINISH]: 'finish', [STAGE_REDUCE]: 'reduce', [STAGE_GHOSTS]: 'ghosts' };

/** CPU time and run-queue wait (ns) of every thread of this process (Linux /proc; empty elsewhere). */
function threadTimes(): Map<string, [number, number]> {
  const m = new Map<string, [number, number]>();
  try {
    for (const t of readdirSync('/proc/self/task')) {
      const [run, wait] = readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ').map(Number);
      m.set(t, [run, wait]);
    }
  } catch { /* not Linux */ }
  return m;
}

/** Threads that ran ≥ 1 ms per step between two snapshots: [tid, cpu ms/step, run-queue wait ms/step]. */
function busyThreads(a: Map<string, [number, number]>, b: Map<string, [number, number]>, steps: number): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (const [t, [run, wait]] of b) {
    const [run0, wait0] = a.get(t) ?? [0, 0];
    const cpu = (run - run0) / 1e6 / steps;
    if (cpu >= 1) out.push([t, cpu, (wait - wait0) / 1e6 / steps]);
  }
  return out;
}

type Sums = Map<string, number>;
const add = (m: Sums, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

/** Adds one evaluation's profile into `m` (ms). */
const low = (m: Sums, k: string, v: number) => m.set(k, Math.min(m.get(k) ?? Infinity, v));

/** Adds one evaluation's profile into `m` (ms); the per-step minima of the phases' walls and total thread time in chunks into `mins`. */
function account(m: Sums, p: EvaluateProfile, threads: number, mins: Sums): void {
  for (const [k, v] of Object.entries(p.segments)) add(m, k, v);
  for (const ph of p.phases) {
    const name = STAGE_NAME[ph.stage];
    const busy = new Float64Array(threads), last = new Float64Array(threads), first = new Float64Array(threads).fill(Infinity), count = new Float64Array(threads);
    for (let o = 0; o < ph.chunks.length; o += 3) {
      const t = ph.chunks[o], t0 = ph.chunks[o + 1], t1 = ph.chunks[o + 2];
      busy[t] += t1 - t0; count[t]++;
      if (t1 > last[t]) last[t] = t1;
      if (t0 < first[t]) first[t] = t0;
    }
    add(m, `phase ${name}: wall`, ph.end - ph.start);
    low(mins, `phase ${name}: wall`, ph.end - ph.start);
    low(mins, `phase ${name}: all threads in chunks`, busy.reduce((a, b) => a + b, 0));
    for (let t = 0; t < threads; t++) {
      add(m, `phase ${name}: thread ${t} in chunks`, busy[t]);
      add(m, `phase ${name}: thread ${t} chunks`, count[t]);
      if (count[t] > 0) {
        add(m, `phase ${name}: thread ${t} start latency`, first[t] - ph.start);
        add(m, `phase ${name}: thread ${t} idle after its last chunk`, ph.end - last[t]);
      }
    }
    add(m, `phase ${name}: main waits for last chunk`, ph.end - ph.mainDone);
  }
}

const integrator: Integrator = new VelocityVerlet({ dt });
const results: Record<string, unknown> = { bench: 'parallel-profile', potential: ace ? 'trace Si' : 'eam Cu_u3', workers: WORKERS };

// Serial reference: step time only.
{
  const s = system();
  const ev = new ForceEvaluator(potential);
  let e: Evaluation = ev.evaluate(s);
  for (let k = 0; k < WARMUP; k++) e = integrator.step(s, ev, e);
  const b0 = ev.neighbors.builds, t0 = performance.now(), c0 = process.cpuUsage();
  for (let k = 0; k < STEPS; k++) e = integrator.step(s, ev, e);
  const ms = (performance.now() - t0) / STEPS, c1 = process.cpuUsage(c0), cpu = (c1.user + c1.system) / 1e3 / STEPS;
  console.log(`serial ForceEvaluator: ${ms.toFixed(2)} ms/step (CPU ${cpu.toFixed(2)}) over ${STEPS} steps, ${ev.neighbors.builds - b0} rebuilds`);
  results.serialMs = ms;
  results.serialCpuMs = cpu;
}

const pool = Math.max(...WORKERS) > 1 ? new WorkerPool(Math.max(...WORKERS) - 1) : null;
const columns: { workers: number; mins: Sums; plain: Sums; nPlain: number; build: Sums; nBuild: number; msPerStep: number; threads: [string, number, number][] }[] = [];
try {
  for (const workers of WORKERS) {
    const ev = await ParallelForceEvaluator.create(potential, { workers, pool: pool ?? undefined });
    try {
      const s = system();
      let e: Evaluation = ev.evaluate(s);
      for (let k = 0; k < WARMUP; k++) e = integrator.step(s, ev, e);
      const plain: Sums = new Map(), build: Sums = new Map(), mins: Sums = new Map();
      let nPlain = 0, nBuild = 0, total = 0;
      const profile = emptyProfile();
      ev.profile = profile;
      const threads0 = threadTimes();
      for (let k = 0; k < STEPS; k++) {
        const t0 = performance.timeOrigin + performance.now();
        e = integrator.step(s, ev, e);
        const t1 = performance.timeOrigin + performance.now();
        total += t1 - t0;
        const m = profile.rebuilt ? build : plain;
        if (profile.rebuilt) nBuild++; else nPlain++;
        add(m, 'step', t1 - t0);
        add(m, 'integrator (outside evaluate)', t1 - t0 - (profile.end - profile.start));
        if (!profile.rebuilt) low(mins, 'step', t1 - t0);
        account(m, profile, workers, profile.rebuilt ? new Map() : mins);
      }
      const threads = busyThreads(threads0, threadTimes(), STEPS);
      // One forced rebuild (none may happen in the timed steps: a crystal at 300 K stays within the skin).
      let rebuild = Infinity, rebuildLayout = Infinity, rebuildEvaluate = Infinity;
      for (let k = 0; k < 3; k++) {
        ev.neighbors.invalidate();
        ev.evaluate(s);
        rebuild = Math.min(rebuild, profile.segments['neighbour build'] ?? NaN);
        rebuildLayout = Math.min(rebuildLayout, profile.segments['new layout'] ?? NaN);
        rebuildEvaluate = Math.min(rebuildEvaluate, profile.end - profile.start);
      }
      ev.profile = null;
      console.log(`${workers} workers: one rebuild (best of 3): neighbour build ${rebuild.toFixed(2)} ms, new layout ${rebuildLayout.toFixed(2)} ms, ` +
        `whole evaluation ${rebuildEvaluate.toFixed(2)} ms`);
      results[`rebuild${workers}`] = { build: rebuild, layout: rebuildLayout, evaluate: rebuildEvaluate };
      columns.push({ workers, mins, plain, nPlain, build, nBuild, msPerStep: total / STEPS, threads });
      console.log(`${workers} workers: ${(total / STEPS).toFixed(2)} ms/step over ${STEPS} steps (${nBuild} with a rebuild); load ${loadavg()[0].toFixed(1)}; ` +
        `threads (CPU ms/step, run-queue wait ms/step): ${threads.map(([t, c, w]) => `${t}: ${c.toFixed(2)}, ${w.toFixed(2)}`).join('; ')}`);
    } finally {
      await ev.close();
    }
  }
} finally {
  await pool?.close();
}
for (const kind of ['plain', 'build'] as const) {
  const count = (c: (typeof columns)[number]) => (kind === 'plain' ? c.nPlain : c.nBuild);
  if (columns.every((c) => count(c) === 0)) continue;
  console.log(`${kind === 'plain' ? 'steps without a rebuild' : 'steps with a rebuild'}: mean ms per step (${columns.map((c) => `${c.workers} workers: ${count(c)} steps`).join(', ')})`);
  const keys = [...new Set([...columns].reverse().flatMap((c) => [...c[kind].keys()]))];
  for (const k of keys) console.log(`  ${k.padEnd(52)} ${columns.map((c) => (count(c) ? ((c[kind].get(k) ?? 0) / count(c)).toFixed(3) : '-').padStart(9)).join('')}`);
  results[kind] = Object.fromEntries(columns.map((c) => [c.workers, Object.fromEntries([...c[kind]].map(([k, v]) => [k, +(v / Math.max(1, count(c))).toFixed(4)]))]));
}
console.log('minimum over steps without a rebuild, ms:');
for (const k of [...new Set(columns.flatMap((c) => [...c.mins.keys()]))]) {
  console.log(`  ${k.padEnd(52)} ${columns.map((c) => (c.mins.get(k) ?? NaN).toFixed(3).padStart(9)).join('')}`);
}
results.mins = Object.fromEntries(columns.map((c) => [c.workers, Object.fromEntries([...c.mins].map(([k, v]) => [k, +v.toFixed(4)]))]));
results.msPerStep = Object.fromEntries(columns.map((c) => [c.workers, c.msPerStep]));
results.threads = Object.fromEntries(columns.map((c) => [c.workers, c.threads.map(([, cpu, wait]) => [+cpu.toFixed(3), +wait.toFixed(3)])]));
results.load = loadavg()[0];
report(results);
