/**
 * How finely a test file can tell models apart on energy: each model's per-atom energy
 * MAE with its standard error (the standard deviation of the per-frame |ΔE| over √frames)
 * and a bootstrap 95 % interval (frames resampled with replacement), the share of
 * bootstrap draws at or below a target, and, for a second model, the paired difference
 * of the MAEs with its standard error (the same frames, so frame-to-frame scatter they
 * share cancels). --leave-out K,… drops frames (0-based) first, to see what one frame
 * carries. Usage:
 *   npx tsx bench/test-resolution.ts TEST.xyz MODEL_A.msgpack [MODEL_B.msgpack] [--target 2.80] [--draws 20000] [--seed 1] [--leave-out 16]
 * e.g. with models/latte/Mo.msgpack and models/trace/Mo.msgpack on zuo2020's Mo_test.xyz.
 * Prints a line per figure and, last, one JSON object.
 */
import { evaluateErrors } from '../src/analysis/errors.ts';
import { optionNumber, optionNumberList, parseOptions } from '../src/cli/command.ts';
import { modelSpec } from '../src/cli/eval.ts';
import { readExtxyz } from '../src/io/extxyz.ts';
import { Rng } from '../src/rng.ts';
import '../potentials/builtin.ts';
import { loadPotential } from '../potentials/registry.ts';
import { report } from './harness.ts';

const { options, positional } = parseOptions(process.argv.slice(2));
const [testFile, ...models] = positional;
if (!testFile || models.length === 0 || models.length > 2) {
  console.log('Usage: npx tsx bench/test-resolution.ts TEST.xyz MODEL_A.msgpack [MODEL_B.msgpack] [--target X] [--draws N] [--seed S] [--leave-out K,…]');
  process.exit(2);
}
const target = options.target !== undefined ? optionNumber(options, 'target', 0) : undefined;
const draws = optionNumber(options, 'draws', 20000), seed = optionNumber(options, 'seed', 1);
const leaveOut = new Set(optionNumberList(options, 'leave-out', [], 'comma-separated frame indices'));
const frames = readExtxyz(testFile).filter((_, k) => !leaveOut.has(k));

/** |ΔE| per frame, meV/atom. */
async function absErrors(model: string): Promise<Float64Array> {
  const out = new Float64Array(frames.length);
  evaluateErrors(await loadPotential(modelSpec(model)), frames, { onFrame: (i, r) => { out[i] = Math.abs(r.energy_error_mev_per_atom); } });
  return out;
}

const mean = (x: Float64Array): number => x.reduce((s, v) => s + v, 0) / x.length;
/** Standard error of the mean of x: sample standard deviation over √n. */
function standardError(x: Float64Array): number {
  const m = mean(x);
  return Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / (x.length - 1) / x.length);
}

const n = frames.length, errors = await Promise.all(models.map(absErrors));
const figures: Record<string, unknown> = { test: testFile, frames: n, left_out: [...leaveOut], draws, seed };
const boot = new Float64Array(draws);
errors.forEach((e, m) => {
  // The same resampled frames for every model: draw the indices afresh from one seed.
  const r = new Rng(seed);
  for (let d = 0; d < draws; d++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += e[Math.floor(r.uniform() * n)];
    boot[d] = s / n;
  }
  const sorted = Float64Array.from(boot).sort();
  const lo = sorted[Math.floor(0.025 * draws)], hi = sorted[Math.ceil(0.975 * draws) - 1];
  const key = m === 0 ? 'a' : 'b';
  console.log(`${models[m]}: energy MAE ${mean(e).toFixed(3)} ± ${standardError(e).toFixed(3)} meV/atom (standard error), bootstrap 95 % ${lo.toFixed(2)}–${hi.toFixed(2)}`);
  Object.assign(figures, { [`${key}_model`]: models[m], [`${key}_mae`]: mean(e), [`${key}_standard_error`]: standardError(e), [`${key}_bootstrap_lo`]: lo, [`${key}_bootstrap_hi`]: hi });
  if (target !== undefined) {
    const share = boot.reduce((c, v) => c + (v <= target ? 1 : 0), 0) / draws;
    console.log(`  share of bootstrap draws at or below ${target}: ${share.toFixed(3)}`);
    figures[`${key}_share_at_or_below_target`] = share;
  }
});
if (errors.length === 2) {
  const diff = errors[0].map((v, k) => v - errors[1][k]);
  console.log(`${models[0]} − ${models[1]}: ${mean(diff).toFixed(3)} ± ${standardError(diff).toFixed(3)} meV/atom (paired standard error)`);
  Object.assign(figures, { paired_difference: mean(diff), paired_standard_error: standardError(diff) });
}
report(figures);
