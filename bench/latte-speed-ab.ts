/**
 * LATTE speed A/B: two model files on the same system in the same process, their MD
 * steps interleaved (A, B, A, B, …), so load from other work on the shared cores hits
 * both alike. Usage: npx tsx bench/latte-speed-ab.ts A.msgpack B.msgpack [steps] [element]
 * (default 20 timed steps each, Si: diamond 7×7×7 = 2,744 atoms, as bench/latte-speed.ts).
 *
 * Each model drives its own copy of the system (Langevin, 300 K, same seeds, 5 untimed
 * warm-up steps each, one thread, the MD path). Reported: median per-step CPU time per
 * atom for each (µs), the range (min–max) of the per-step figures, and the median of
 * the per-pair ratios B/A — the figure least disturbed by the load. No LAMMPS
 * equivalent exists for LATTE, so no ratio against LAMMPS.
 */
import { Langevin } from '../integrators/langevin.ts';
import { loadModel } from '../potentials/latte/io.ts';
import { LattePotential } from '../potentials/latte/potential.ts';
import { resolveModelPath } from '../src/model-path.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { cpuMicros, median, peakRssMb, report, speedLattice } from './harness.ts';

const [fileA, fileB] = [process.argv[2], process.argv[3]];
if (!fileA || !fileB) throw new Error('usage: latte-speed-ab.ts A.msgpack B.msgpack [steps] [Si|Cu|Mo]');
const steps = Number(process.argv[4] ?? 20);
const element = process.argv[5] ?? 'Si';
const WARMUP = 5;

function setup(file: string) {
  const path = resolveModelPath(file);
  const { model } = loadModel(path);
  const system = lattice(...speedLattice(element));
  system.setTemperature(300, new Rng(1));
  const forces = new ForceEvaluator(new LattePotential(model, path), { skin: 1 });
  forces.evaluate(system);
  const integrator = new Langevin({ dt: 1, temperature: 300, seed: 2 });
  for (let s = 0; s < WARMUP; s++) integrator.step(system, forces);
  return { system, step: () => integrator.step(system, forces), shape: model.describe() };
}

const a = setup(fileA), b = setup(fileB);
const ta: number[] = [], tb: number[] = [], ratio: number[] = [];
for (let s = 0; s < steps; s++) {
  const x = cpuMicros(a.step) / a.system.n, y = cpuMicros(b.step) / b.system.n;
  ta.push(x); tb.push(y); ratio.push(y / x);
}
const fmt = (xs: number[]): string => `${median(xs).toFixed(1)} µs (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
console.log(`A ${fileA}: ${fmt(ta)} CPU per atom-step — ${a.shape}`);
console.log(`B ${fileB}: ${fmt(tb)} CPU per atom-step — ${b.shape}`);
console.log(`B/A ${median(ratio).toFixed(3)} (median of ${steps} interleaved pairs, ${a.system.n} atoms)`);
report({
  element, steps, atoms: a.system.n,
  a_cpu_us_per_atom_step: median(ta), a_min: Math.min(...ta), a_max: Math.max(...ta),
  b_cpu_us_per_atom_step: median(tb), b_min: Math.min(...tb), b_max: Math.max(...tb),
  b_vs_a: median(ratio), a_shape: a.shape, b_shape: b.shape, peak_rss_mb: peakRssMb(),
});
