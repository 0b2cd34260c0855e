/**
 * Fit a small linear ACE model for silicon from extended-XYZ data with the script
 * API, save it, and run a short NVT simulation with it.
 *
 *   npx tsx examples/fit-si.ts [train.xyz] [test.xyz]
 *
 * Defaults to the zuo2020 silicon data; a small basis keeps this under a minute or
 * two (models/trace/Si.msgpack is the full-size shipped model).
 */
import { readExtxyz } from '../src/io/extxyz.ts';
import { defaultBasisSpec, fitTrace } from '../potentials/trace/fit.ts';
import { saveModel } from '../potentials/trace/model.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { Langevin } from '../integrators/langevin.ts';

const trainPath = process.argv[2] ?? '/work/shared/datasets/zuo2020/Si_train.xyz';
const testPath = process.argv[3] ?? '/work/shared/datasets/zuo2020/Si_test.xyz';
const train = readExtxyz(trainPath), test = readExtxyz(testPath);

const basis = defaultBasisSpec(['Si'], { maxDegree: [12, 10, 8], radial: { kind: 'chebexpcos', n: 12, cutoff: 5.5, lambda: 1 } });
// λ and the energy weight (30 × 0.1, 0.3 or 1) are chosen by 5-fold cross-validation on the training data.
const fit = fitTrace({ basis, train, test, weights: { energy: 30, force: 1 }, energyScales: [0.1, 0.3, 1], select: { energy: 2.5, force: 0.06 }, source: trainPath, log: console.log });
console.log(`train: ${fit.train.energy_mae_mev_per_atom.toFixed(2)} meV/atom, ${fit.train.force_mae_ev_per_a.toFixed(3)} eV/Å`);
console.log(`test:  ${fit.test!.energy_mae_mev_per_atom.toFixed(2)} meV/atom, ${fit.test!.force_mae_ev_per_a.toFixed(3)} eV/Å`);
saveModel('Si-small.msgpack', fit.model);

// 216 atoms of diamond silicon, 200 steps of Langevin NVT at 1000 K with the fitted model.
const system = lattice('diamond', { element: 'Si', a: 5.43, repeat: 3 });
system.setTemperature(1000, new Rng(1));
const forces = new ForceEvaluator(fit.potential);
const integrator = new Langevin({ dt: 1, temperature: 1000, damping: 100, seed: 2 });
forces.evaluate(system);
for (let step = 1; step <= 200; step++) {
  const ev = integrator.step(system, forces);
  if (step % 50 === 0) console.log(`step ${step}: T = ${system.temperature().toFixed(0)} K, E_pot = ${(ev.energy / system.n).toFixed(4)} eV/atom`);
}
