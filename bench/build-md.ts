/**
 * The MD run of bench/build-ab.ts and bench/md-alloc.ts, built from the modules of one
 * compiled build (a `dist` folder inside the repository): the model's potential (the kind
 * its file names), the speed benches' system for its element
 * (diamond Si 7×7×7 = 2,744 atoms, fcc Cu 8×8×8 = 2,048, bcc Mo 10×10×10 = 2,000) at
 * 300 K, and Langevin MD (1 fs, 300 K, one thread) after `warmup` untimed steps.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { modelSpec } from '../src/cli/eval.ts';
import { speedLattice } from './harness.ts';

export interface BuildMd {
  n: number;
  step(): void;
  energy(): number;
  forces(): Float64Array;
}

export async function buildMd(dist: string, model: string, warmup: number): Promise<BuildMd> {
  const from = (path: string): Promise<Record<string, unknown>> => import(pathToFileURL(resolve(dist, path)).href);
  // Modules of another build are untyped here; the library entry registers the built-in kinds.
  const { loadPotential } = (await from('src/index.js')) as any;
  const { ForceEvaluator } = (await from('src/forces.js')) as any;
  const { lattice } = (await from('src/lattice.js')) as any;
  const { Rng } = (await from('src/rng.js')) as any;
  const { Langevin } = (await from('integrators/langevin.js')) as any;
  const potential = await loadPotential(modelSpec(model));
  const element: string = potential.elements?.[0] ?? 'Si';
  const system = lattice(...speedLattice(element));
  system.setTemperature(300, new Rng(1));
  const forces = new ForceEvaluator(potential, { skin: 1 });
  const integrator = new Langevin({ dt: 1, temperature: 300, seed: 2 });
  let last = forces.evaluate(system);
  for (let s = 0; s < warmup; s++) last = integrator.step(system, forces);
  return {
    n: system.n,
    step: () => { last = integrator.step(system, forces); },
    energy: () => last.energy,
    forces: () => system.forces,
  };
}
