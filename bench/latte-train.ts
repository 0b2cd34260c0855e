/**
 * LATTE training speed on Si (zuo2020 training set, the shipped Si model's shape,
 * lr 0.01, batch 8, seed 1, 10 % validation): seconds per epoch with 1 thread and
 * with N threads (default 2), alternated over rounds on the same prepared data and
 * the same initial model; checks that both give identical parameters. Usage:
 *   npx tsx bench/latte-train.ts [epochs per run = 2] [rounds = 2] [threads = 2]
 * Wall time per epoch excludes thread start-up (waitForWorkers), which is reported
 * separately; CPU time is the whole process's (all threads). No LAMMPS equivalent.
 * Timings are disturbed by other work on the machine's shared cores: the load
 * average is printed beside them.
 */
import { loadavg } from 'node:os';
import { loadModel } from '../potentials/latte/io.ts';
import { LatteModel } from '../potentials/latte/model.ts';
import { resolveModelPath } from '../src/model-path.ts';
import { fitStatistics, prepareStructure, readTrainingFrames, trainModel, type TrainingStructure } from '../potentials/latte/train.ts';
import { ParallelLoss } from '../potentials/latte/train-parallel.ts';
import { Rng } from '../src/rng.ts';
import { report } from './harness.ts';
import { dataset } from '../test/oracles/datasets.ts';

const epochs = Number(process.argv[2] ?? 2), rounds = Number(process.argv[3] ?? 2), threads = Number(process.argv[4] ?? 2);
const DATA = dataset('zuo2020', 'Si_train.xyz');
const shipped = loadModel(resolveModelPath('models/latte/Si.msgpack')).model;
const load0 = loadavg()[0];

const frames = readTrainingFrames([DATA]);
const all: TrainingStructure[] = frames.map((f) => prepareStructure(f.frame, f.name, shipped.config.elements, shipped.config.cutoff));
// The same seeded split as trainLatte (validationFraction 0.1, seed 1).
const rng = new Rng(1);
const order = Array.from({ length: all.length }, (_, k) => k);
for (let k = order.length - 1; k > 0; k--) { const j = Math.floor(rng.uniform() * (k + 1)); const t = order[k]; order[k] = order[j]; order[j] = t; }
const nVal = Math.round(0.1 * all.length);
const validation = order.slice(0, nVal).map((k) => all[k]), train = order.slice(nVal).map((k) => all[k]);
const initial = new LatteModel(shipped.config);
initial.initialise(1);
fitStatistics(initial, train);
const atoms = train.reduce((a, s) => a + s.nLocal, 0);
console.log(`Si: ${train.length} training structures (${atoms} atoms), ${validation.length} validation; model ${initial.describe()}`);

// Thread start-up alone (load the sources in a worker and wait until it serves batches).
const ts = performance.now();
const probe = new ParallelLoss(initial, { energy: 100, forces: 1, virial: 1 }, 'central', train, 0, { workers: threads, maxBatch: 8 });
probe.waitReady();
const startupSeconds = (performance.now() - ts) / 1000;
probe.close();

const runs: { workers: number; wall: number[]; cpu: number; theta: Float64Array; share: number }[] = [];
for (let r = 0; r < rounds; r++) {
  for (const workers of [1, threads]) {
    const model = initial.clone();
    const c0 = process.cpuUsage();
    const res = trainModel(model, train, validation, { epochs, batchSize: 8, learningRate: 0.01, decay: 0.98, seed: 1, workers, waitForWorkers: true, patience: 1000 }, new Rng(2));
    const c = process.cpuUsage(c0);
    const wall = res.history.map((h, k) => h.seconds - (k > 0 ? res.history[k - 1].seconds : 0));
    runs.push({ workers, wall, cpu: (c.user + c.system) / 1e6, theta: Float64Array.from(res.model.theta), share: res.workerShare });
    const last = res.history[res.history.length - 1];
    console.log(
      `round ${r + 1}, ${workers} thread(s): ${wall.map((w) => w.toFixed(2)).join(', ')} s per epoch, CPU ${((c.user + c.system) / 1e6).toFixed(1)} s` +
        `${workers > 1 ? `, ${(100 * res.workerShare).toFixed(0)}% of structures on the worker thread(s)` : ''}; val E ${last.valEnergyMae.toFixed(2)} meV/atom F ${last.valForceMae.toFixed(4)} eV/Å; load ${loadavg()[0].toFixed(2)}`,
    );
  }
}
const identical = runs.every((r) => r.theta.length === runs[0].theta.length && r.theta.every((t, k) => Object.is(t, runs[0].theta[k])));
const perEpoch = (w: number): number => {
  const xs = runs.filter((r) => r.workers === w).flatMap((r) => r.wall);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
const bestEpoch = (w: number): number => Math.min(...runs.filter((r) => r.workers === w).flatMap((r) => r.wall));
const s1 = perEpoch(1), sN = perEpoch(threads);
console.log(`mean s/epoch: 1 thread ${s1.toFixed(2)}, ${threads} threads ${sN.toFixed(2)} (speed-up ${(s1 / sN).toFixed(2)}; best epochs ${bestEpoch(1).toFixed(2)} / ${bestEpoch(threads).toFixed(2)}); thread start-up ${startupSeconds.toFixed(2)} s; identical parameters: ${identical}`);
report({
  element: 'Si',
  epochs_per_run: epochs,
  rounds,
  threads,
  train_structures: train.length,
  seconds_per_epoch_1: s1,
  seconds_per_epoch_n: sN,
  best_seconds_per_epoch_1: bestEpoch(1),
  best_seconds_per_epoch_n: bestEpoch(threads),
  speedup: s1 / sN,
  cpu_seconds_1: runs.filter((r) => r.workers === 1).reduce((a, r) => a + r.cpu, 0),
  cpu_seconds_n: runs.filter((r) => r.workers === threads).reduce((a, r) => a + r.cpu, 0),
  worker_share: runs.filter((r) => r.workers === threads).reduce((a, r) => a + r.share, 0) / rounds,
  startup_seconds: startupSeconds,
  identical_parameters: identical,
  load_average_start: load0,
  load_average_end: loadavg()[0],
});
