/**
 * LATTE speed: µs per atom-step, single thread, Langevin MD on ≥ 2,000 atoms with
 * each shipped model (diamond Si 7×7×7 = 2,744 atoms; fcc Cu 8×8×8 = 2,048;
 * bcc Mo 10×10×10 = 2,000). Usage: npx tsx bench/latte-speed.ts [steps]
 *
 * MD runs on the MD path (LatteModel.evaluateMd, what LattePotential uses). In the
 * same process, force evaluations on the same configuration alternate between that
 * path and the general path (LatteModel.evaluate, the one training uses and the
 * evaluator before the MD path existed): `<name>_md_vs_general` is the ratio of
 * their CPU times (median of the alternating pairs), a figure robust to the load
 * other work puts on the machine's shared cores. No LAMMPS equivalent is installed
 * for LATTE, so no ratio against LAMMPS.
 *
 * Each model runs in a process of its own, as in a user's MD run, so that what V8
 * optimised for one model (the MD path's branches by rank) cannot slow the next.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Langevin } from '../integrators/langevin.ts';
import { loadModel } from '../potentials/latte/io.ts';
import type { LatteModel } from '../potentials/latte/model.ts';
import { LattePotential } from '../potentials/latte/potential.ts';
import { resolveModelPath } from '../src/model-path.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import type { NeighborList } from '../src/neighbors.ts';
import { Rng } from '../src/rng.ts';
import { cpuMicros, median, peakRssMb, report, seconds, speedLattice } from './harness.ts';

const steps = Number(process.argv[2] ?? 10);
/** Alternating (MD path, general path) evaluation pairs for the same-process ratio. */
const PAIRS = 3;
/** Untimed MD steps before timing each model (JIT warm-up). */
const WARMUP = 5;
const cases = [
  { name: 'Si', model: 'models/latte/Si.msgpack', element: 'Si' },
  { name: 'Si-fast', model: 'models/latte/Si-fast.msgpack', element: 'Si' },
  { name: 'Cu', model: 'models/latte/Cu.msgpack', element: 'Cu' },
  { name: 'Mo', model: 'models/latte/Mo.msgpack', element: 'Mo' },
];

/** Median CPU-time ratio (MD path / general path) of alternating force evaluations on the evaluator's current list. */
function pathRatio(model: LatteModel, nl: NeighborList, typeMap: Int32Array): number {
  const forces = new Float64Array(3 * nl.nTotal);
  const md = () => model.evaluateMd(nl, typeMap, forces, null);
  const general = () => model.evaluate(nl, typeMap, { forces });
  md(); general();
  const ratios: number[] = [];
  for (let k = 0; k < PAIRS; k++) {
    const a = cpuMicros(md), b = cpuMicros(general);
    ratios.push(a / b);
  }
  return median(ratios);
}

const figures: Record<string, unknown> = { steps };
/** Set in the child process that measures one model. */
const only = process.env.LATTE_SPEED_CASE;
if (only === undefined) {
  let rss = 0;
  for (const c of cases) {
    const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1], String(steps)], {
      env: { ...process.env, LATTE_SPEED_CASE: c.name }, encoding: 'utf8',
    }).trimEnd().split('\n');
    const child = JSON.parse(out.pop()!) as Record<string, unknown>;
    for (const line of out) console.log(line);
    for (const [k, v] of Object.entries(child)) if (k !== 'steps' && k !== 'peak_rss_mb') figures[k] = v;
    rss = Math.max(rss, child.peak_rss_mb as number);
  }
  figures.peak_rss_mb = rss;
  report(figures);
  process.exit(0);
}
for (const c of cases.filter((x) => x.name === only)) {
  const path = resolveModelPath(c.model);
  if (!existsSync(path)) { console.log(`${c.name}: no model at ${path}`); continue; }
  const { model } = loadModel(path);
  const system = lattice(...speedLattice(c.element));
  system.setTemperature(300, new Rng(1));
  const potential = new LattePotential(model, path);
  const forces = new ForceEvaluator(potential, { skin: 1 });
  forces.evaluate(system);
  const integrator = new Langevin({ dt: 1, temperature: 300, seed: 2 });
  // Untimed steps: V8 optimises the hot functions on background threads during the first
  // ones (which process CPU time would count), and re-optimises a function when a path it
  // had not seen before (e.g. a rare branch of the MD path's run bookkeeping) deoptimises
  // it; in the first case this took up to ~4 steps of 2,744 atoms (2 warm-up steps left Si,
  // the first case, at 1.7× its steady cost).
  for (let s = 0; s < WARMUP; s++) integrator.step(system, forces);
  const stepCpu: number[] = [];
  const t = seconds(() => {
    for (let s = 0; s < steps; s++) stepCpu.push(cpuMicros(() => integrator.step(system, forces)));
  });
  const us = (t / (steps * system.n)) * 1e6;
  // CPU time of this (single-threaded) process, median over the steps: less disturbed than
  // wall time on shared cores and than the mean by a step that hits a re-optimisation.
  const usCpu = median(stepCpu) / system.n;
  const typeMap = Int32Array.from(system.elements, (e) => model.config.elements.indexOf(e));
  const ratio = pathRatio(model, forces.neighbors, typeMap);
  console.log(
    `${c.name}: ${us.toFixed(1)} µs/atom-step wall, ${usCpu.toFixed(1)} µs CPU (median step), on ${system.n} atoms; ` +
      `MD path / general path ${ratio.toFixed(3)} — ${model.describe()}`,
  );
  figures[`${c.name}_us_per_atom_step`] = us;
  figures[`${c.name}_cpu_us_per_atom_step`] = usCpu;
  figures[`${c.name}_md_vs_general`] = ratio;
  figures[`${c.name}_atoms`] = system.n;
  figures[`${c.name}_shape`] = model.describe();
}
figures.peak_rss_mb = peakRssMb();
report(figures);
