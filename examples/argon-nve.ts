/**
 * Argon in the microcanonical ensemble: a 500-atom fcc crystal started at 80 K
 * (it equilibrates near 40 K as kinetic energy flows into the lattice), with
 * Lennard-Jones parameters for argon (ε/kB = 120 K, σ = 3.4 Å).
 *
 *   npx tsx examples/argon-nve.ts
 */
import { LennardJones, Rng, Simulation, ThermoLog, VelocityVerlet, lattice } from '../src/index.ts';

const system = lattice('fcc', { element: 'Ar', a: 5.26, repeat: 5 });
system.setTemperature(80, new Rng(2024));

const thermo = new ThermoLog({ every: 250 });
const sim = new Simulation({
  system,
  potential: new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 8.5, shift: true }),
  integrator: new VelocityVerlet({ dt: 2 }),
  observers: [thermo],
});
sim.run(2500);
sim.close();

const e = thermo.samples.map((s) => s.totalEnergy);
console.log(`total energy drift over ${system.time / 1000} ps: ${(e[e.length - 1] - e[0]).toExponential(2)} eV ` +
  `(${((e[e.length - 1] - e[0]) / system.n).toExponential(2)} eV/atom)`);
