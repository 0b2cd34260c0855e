/**
 * NPT molecular dynamics of solid argon (Lennard-Jones) with the MTK barostat:
 * 256 atoms at 50 K and 0.1 GPa, isotropic cell, Nosé–Hoover chains on particles
 * and cell. Prints a thermo line every 250 steps and the mean volume and number density at the end.
 * Run: npx tsx examples/npt.ts
 */
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { pressure } from '../src/thermo.ts';
import { EV_PER_A3_TO_GPA } from '../src/units.ts';
import { MtkBarostat } from '../integrators/npt.ts';
import { LennardJones } from '../potentials/lj.ts';

const system = lattice('fcc', { element: 'Ar', a: 5.3, repeat: 4 });
system.setTemperature(50, new Rng(2024));
const forces = new ForceEvaluator(new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 8.5, shift: true }), { skin: 1 });
const dt = 4; // fs
// Damping: thermostat 100·dt, barostat 125·dt (the default 1000·dt is safer but slower to equilibrate).
const npt = new MtkBarostat({ dt, temperature: 50, pressure: 0.1, damping: 100 * dt, barostatDamping: 500 });

let ev = forces.evaluate(system);
const steps = 5000;
let volumeSum = 0, samples = 0;
console.log('step   time/ps   T/K     P/GPa    V/Å³      H\'/eV');
for (let s = 1; s <= steps; s++) {
  ev = npt.step(system, forces, ev);
  system.step++;
  system.time += dt;
  if (s > steps / 2) { volumeSum += system.cell.volume; samples++; }
  if (s % 250 === 0) {
    console.log(
      [s, (system.time / 1000).toFixed(2), system.temperature().toFixed(1), (pressure(system, ev.virial) * EV_PER_A3_TO_GPA).toFixed(4),
        system.cell.volume.toFixed(1), npt.conservedEnergy(system, ev.energy).toFixed(5)].join('  '),
    );
  }
}
const meanVolume = volumeSum / samples;
console.log(`mean volume ${meanVolume.toFixed(1)} Å³, number density ${(system.n / meanVolume).toFixed(5)} atoms/Å³`);
