/**
 * Argon (LJ) in the canonical ensemble at 90 K with CSVR or a Nosé–Hoover chain,
 * printing temperature and the conserved quantity every 500 steps and comparing the
 * kinetic-energy statistics with the canonical ones at the end.
 *
 *   npx tsx examples/nvt.ts            # CSVR
 *   npx tsx examples/nvt.ts nhc        # Nosé–Hoover chain
 */
import { lattice } from '../src/lattice.ts';
import { LennardJones } from '../potentials/lj.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { Rng } from '../src/rng.ts';
import { kB } from '../src/units.ts';
import { Csvr } from '../integrators/csvr.ts';
import { NoseHoover } from '../integrators/nose-hoover.ts';
import type { Integrator } from '../integrators/integrator.ts';

const T = 90, dt = 4, steps = 10000;
const system = lattice('fcc', { element: 'Ar', a: 5.4, repeat: 3 }); // 108 atoms
system.setTemperature(T, new Rng(1));
const forces = new ForceEvaluator(new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 8.5, shift: true }));
const integrator: Integrator = process.argv[2] === 'nhc'
  ? new NoseHoover({ dt, temperature: T, damping: 100 * dt })
  : new Csvr({ dt, temperature: T, damping: 100 * dt, seed: 2 });

let ev = forces.evaluate(system);
let sK = 0, sK2 = 0, count = 0;
console.log(`${integrator.name}: ${system.n} Ar atoms, T = ${T} K, dt = ${dt} fs`);
console.log(' step      T (K)     E_pot (eV)    conserved (eV)');
for (let s = 1; s <= steps; s++) {
  ev = integrator.step(system, forces, ev);
  if (s > steps / 5) { const K = system.kineticEnergy(); sK += K; sK2 += K * K; count++; }
  if (s % 500 === 0) {
    const H = integrator.conservedEnergy!(system, ev.energy);
    console.log(`${String(s).padStart(5)} ${system.temperature().toFixed(2).padStart(10)} ${ev.energy.toFixed(6).padStart(14)} ${H.toFixed(6).padStart(16)}`);
  }
}
const nf = system.degreesOfFreedom, mean = sK / count, variance = sK2 / count - mean * mean;
console.log(`<K> = ${mean.toFixed(5)} eV (canonical ${(0.5 * nf * kB * T).toFixed(5)}), ` +
  `var(K) = ${variance.toExponential(3)} eV² (canonical ${(0.5 * nf * (kB * T) ** 2).toExponential(3)}; a short run: expect ~20% noise)`);
