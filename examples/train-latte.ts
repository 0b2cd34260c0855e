/**
 * Fitting a LATTE potential from a script, then running MD with it.
 *   npx tsx examples/train-latte.ts [train.xyz] [epochs]
 * (The CLI equivalent: tensormd train train.xyz --out model.msgpack …)
 */
import { saveModel } from '../potentials/latte/io.ts';
import { latteFromSpec } from '../potentials/latte/potential.ts';
import { trainLatte } from '../potentials/latte/train.ts';
import { Langevin } from '../integrators/langevin.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';

const data = process.argv[2] ?? '/work/shared/datasets/zuo2020/Si_train.xyz';
const epochs = Number(process.argv[3] ?? 5);

// 1. Train: a small descriptor (2-, 3- and 4-body blocks), one 16-unit hidden layer.
const result = trainLatte({
  model: { cutoff: 4.5, width: 1.5, descriptor: '6,-:6,a,a:4,ab,ab:2,a,b,ab', hidden: [16], activation: 'gaussian' },
  train: [data],
  validationFraction: 0.1,
  seed: 1,
  epochs,
  batchSize: 4,
  learningRate: 0.01,
  decay: 0.98,
  weights: { energy: 300, forces: 1 },
  forceGradient: 'forward',
  curves: '/tmp/latte-example-curves.csv',
  log: console.log,
});
saveModel('/tmp/latte-example.msgpack', result.model);
console.log(`saved /tmp/latte-example.msgpack: ${result.model.describe()}`);

// 2. Use it: the same spec MD input files take.
const potential = latteFromSpec({ kind: 'latte', model: '/tmp/latte-example.msgpack' });
const system = lattice('diamond', { element: 'Si', a: 5.43, repeat: 2 });
system.setTemperature(600, new Rng(1));
const forces = new ForceEvaluator(potential);
forces.evaluate(system);
const md = new Langevin({ dt: 1, temperature: 600, seed: 2 });
for (let s = 1; s <= 100; s++) {
  const ev = md.step(system, forces);
  if (s % 20 === 0) console.log(`step ${s}: E_pot ${ev.energy.toFixed(4)} eV, T ${system.temperature().toFixed(0)} K`);
}
