/**
 * LATTE models on the validation frames that `tensormd train` held out of a training
 * file (no --validation files: the seeded split of trainLatte, validationSplit), so a
 * model made afterwards from trained ones (an ensemble, tensormd ensemble) is measured on
 * the frames its members never trained on. Usage:
 *   npx tsx bench/latte-validation.ts TRAIN.xyz MODEL.msgpack [MORE.msgpack …] [--seed 1] [--fraction 0.1]
 * Seed and fraction must be those of the training runs (train's defaults: 1 and 0.1);
 * --augment files are never held out, so they play no part. Prints one line per model
 * and, last, one JSON object with every figure.
 */
import { evaluateErrors } from '../src/analysis/errors.ts';
import { optionNumber, parseOptions } from '../src/cli/command.ts';
import { Rng } from '../src/rng.ts';
import { loadModel } from '../potentials/latte/io.ts';
import { LattePotential } from '../potentials/latte/potential.ts';
import { readTrainingFrames, validationSplit } from '../potentials/latte/train.ts';
import { report } from './harness.ts';

const { options, positional } = parseOptions(process.argv.slice(2), []);
const [trainFile, ...models] = positional;
if (!trainFile || models.length === 0) {
  console.log('Usage: npx tsx bench/latte-validation.ts TRAIN.xyz MODEL.msgpack [MORE.msgpack …] [--seed 1] [--fraction 0.1]');
  process.exit(2);
}
const seed = optionNumber(options, 'seed', 1);
const fraction = optionNumber(options, 'fraction', 0.1);
const frames = readTrainingFrames([trainFile]);
const split = validationSplit(frames.length, fraction, new Rng(seed));
const validation = split.validation.map((k) => frames[k].frame);
console.log(`${trainFile}: ${validation.length} of ${frames.length} frames held out (seed ${seed}, fraction ${fraction}): ${split.validation.join(' ')}`);
const figures: Record<string, unknown> = { train: trainFile, seed, fraction, frames: validation.length };
for (const path of models) {
  const r = evaluateErrors(new LattePotential(loadModel(path).model, path), validation);
  console.log(`${path}: validation E MAE ${r.energy_mae_mev_per_atom.toFixed(3)} meV/atom, F MAE ${r.force_mae_ev_per_a.toFixed(4)} eV/Å`);
  figures[path] = { energy_mae_mev_per_atom: r.energy_mae_mev_per_atom, force_mae_ev_per_a: r.force_mae_ev_per_a };
}
report(figures);
