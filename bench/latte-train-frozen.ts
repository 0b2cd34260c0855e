/**
 * Cost of one full-batch loss-and-gradient evaluation of LATTE training, the general
 * path (LossEvaluator, 'central' force gradient, one thread) against the frozen-descriptor
 * path (FrozenLossEvaluator: MLP parameters only), on a zuo2020 training set with the
 * shipped model, plus the one-off cost and memory of storing the descriptors and
 * Jacobians. Usage:
 *   npx tsx bench/latte-train-frozen.ts [element = Cu] [frozen evaluations = 3]
 * CPU seconds (process.cpuUsage) of the calling thread's work; timings are disturbed
 * by other work on the shared cores (load average printed). No LAMMPS equivalent.
 */
import { loadavg } from 'node:os';
import { loadModel } from '../potentials/latte/io.ts';
import { resolveModelPath } from '../src/model-path.ts';
import { LossEvaluator, prepareStructure, readTrainingFrames } from '../potentials/latte/train.ts';
import { FrozenLossEvaluator, freezeStructure, frozenBytes } from '../potentials/latte/train-frozen.ts';
import { peakRssMb, report } from './harness.ts';
import { dataset } from '../test/oracles/datasets.ts';

const el = process.argv[2] ?? 'Cu', reps = Number(process.argv[3] ?? 3);
const model = loadModel(resolveModelPath(`models/latte/${el}.msgpack`)).model;
const frames = readTrainingFrames([dataset('zuo2020', `${el}_train.xyz`)]);
const all = frames.map((f) => prepareStructure(f.frame, f.name, model.config.elements, model.config.cutoff));
const atoms = all.reduce((a, s) => a + s.nLocal, 0);
const weights = { energy: 100, forces: 1, virial: 1 };
const cpu = (c0: NodeJS.CpuUsage): number => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1e6; };
console.log(`${el}: ${all.length} structures, ${atoms} atoms; model ${model.describe()}; load ${loadavg()[0].toFixed(2)}`);

let c0 = process.cpuUsage();
const frozen = all.map((s) => freezeStructure(model, s));
const freezeSeconds = cpu(c0);
const mib = frozenBytes(frozen) / 2 ** 20;
console.log(`freeze: ${freezeSeconds.toFixed(1)} s CPU, ${mib.toFixed(0)} MiB`);

const fl = new FrozenLossEvaluator(model, weights);
const gF = new Float64Array(model.nParameters);
const frozenTimes: number[] = [];
let rF = fl.batch(frozen, gF);
for (let k = 0; k < reps; k++) {
  gF.fill(0);
  c0 = process.cpuUsage();
  rF = fl.batch(frozen, gF);
  frozenTimes.push(cpu(c0));
}
console.log(`frozen: ${frozenTimes.map((t) => t.toFixed(3)).join(', ')} s CPU per full-batch gradient`);

const full = new LossEvaluator(model, weights, 'central');
const g = new Float64Array(model.nParameters);
c0 = process.cpuUsage();
const r = full.batch(all, g);
const fullSeconds = cpu(c0);
let dmax = 0, gmax = 0;
for (let k = model.offMlp[0]; k < g.length; k++) { dmax = Math.max(dmax, Math.abs(g[k] - gF[k])); gmax = Math.max(gmax, Math.abs(g[k])); }
const best = Math.min(...frozenTimes);
console.log(`general: ${fullSeconds.toFixed(2)} s CPU per full-batch gradient; ratio ${(fullSeconds / best).toFixed(1)}×; loss ${r.loss} vs frozen ${rF.loss}; MLP gradient max |Δ|/max ${(dmax / gmax).toExponential(2)}`);
report({
  element: el, structures: all.length, atoms, descriptor: model.config.descriptor, hidden: model.config.hidden.join('-'),
  freeze_cpu_s: freezeSeconds, frozen_mib: mib, frozen_cpu_s_per_gradient: best, general_cpu_s_per_gradient: fullSeconds,
  speedup: fullSeconds / best, loss_rel_diff: Math.abs(r.loss - rF.loss) / r.loss, mlp_grad_rel_diff: dmax / gmax,
  peak_rss_mb: peakRssMb(), load: loadavg()[0],
});
