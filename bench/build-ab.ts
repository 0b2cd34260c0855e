/**
 * Build-against-build speed A/B: the same MD run (Langevin, 300 K, one thread) with
 * two compiled builds of tensormd loaded into one process, their steps interleaved
 * (A, B, B, A, …) so that load from other work on the shared cores hits both alike.
 * For a change to the engine's code (not to a model file: bench/latte-speed-ab.ts).
 *
 *   git stash && npm run build && cp -r dist dist-a && git stash pop && npm run build
 *   node dist/bench/build-ab.js dist-a dist models/latte/Si.msgpack [steps = 20]
 *
 * Both builds must lie inside the repository (their imports resolve node_modules from
 * there); delete dist-a afterwards. The model is a LATTE (models/latte/) or ACE
 * (models/trace/) file; the system is the speed benches' for its element (diamond Si
 * 7×7×7 = 2,744 atoms, fcc Cu 8×8×8 = 2,048, bcc Mo 10×10×10 = 2,000), 5 untimed
 * warm-up steps each. Reported: the median per-step CPU time per atom of each (µs)
 * with its range, the median of the per-pair ratios B/A (the figure least disturbed by
 * the load), and whether the two builds' energies and forces after the run have
 * identical bits (a change meant to be exact must print `identical: true`).
 */
import { resolve } from 'node:path';
import { buildMd } from './build-md.ts';
import { cpuMicros, median, peakRssMb, report } from './harness.ts';

const [distA, distB, modelArg] = process.argv.slice(2, 5);
if (!distA || !distB || !modelArg) throw new Error('usage: build-ab.js DIST_A DIST_B MODEL.msgpack [steps]');
const steps = Number(process.argv[5] ?? 20);
const model = resolve(modelArg);
const WARMUP = 5;

const a = await buildMd(distA, model, WARMUP), b = await buildMd(distB, model, WARMUP);
const ta: number[] = [], tb: number[] = [], ratio: number[] = [];
for (let s = 0; s < steps; s++) {
  // Alternate which build goes first, so that neither always follows the other.
  let x: number, y: number;
  if (s % 2 === 0) { x = cpuMicros(a.step); y = cpuMicros(b.step); } else { y = cpuMicros(b.step); x = cpuMicros(a.step); }
  ta.push(x / a.n); tb.push(y / b.n); ratio.push(y / x);
}
const fa = a.forces(), fb = b.forces();
let identical = a.energy() === b.energy() && fa.length === fb.length;
for (let k = 0; identical && k < fa.length; k++) identical = Object.is(fa[k], fb[k]);
const show = (v: number[]): string => `${median(v).toFixed(2)} (${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)})`;
console.log(`${model}, ${a.n} atoms, ${steps} steps each: A ${show(ta)} µs, B ${show(tb)} µs CPU per atom-step; B/A median ${median(ratio).toFixed(3)}; identical: ${identical}`);
report({
  atoms: a.n, steps, a_cpu_us_per_atom_step: median(ta), b_cpu_us_per_atom_step: median(tb),
  b_over_a: median(ratio), identical, rss_mb: peakRssMb(),
});
