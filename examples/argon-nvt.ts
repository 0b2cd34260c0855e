/**
 * Liquid argon at 100 K in the canonical ensemble with Langevin (BAOAB) dynamics,
 * writing a thermo CSV and an extended-XYZ trajectory to out/.
 *
 *   npx tsx examples/argon-nvt.ts
 */
import { mkdirSync } from 'node:fs';
import { Langevin, LennardJones, Rng, Simulation, ThermoLog, TrajectoryWriter, lattice } from '../src/index.ts';

mkdirSync('out', { recursive: true });
// A density close to the liquid's at 100 K (about 1.2 g/cm³).
const system = lattice('fcc', { element: 'Ar', a: 5.9, repeat: 4 });
system.setTemperature(100, new Rng(7));

const thermo = new ThermoLog({ every: 200, csv: 'out/argon-nvt.csv' });
const sim = new Simulation({
  system,
  potential: new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 8.5, shift: true }),
  integrator: new Langevin({ dt: 4, temperature: 100, damping: 400, seed: 11 }),
  observers: [thermo, new TrajectoryWriter({ file: 'out/argon-nvt.xyz', every: 500 })],
});
sim.run(4000);
sim.close();

const late = thermo.samples.slice(thermo.samples.length / 2);
const meanT = late.reduce((s, t) => s + t.temperature, 0) / late.length;
console.log(`mean temperature over the second half: ${meanT.toFixed(1)} K (target 100 K)`);
