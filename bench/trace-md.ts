/**
 * Stability of the shipped silicon ACE model in MD: NVT (Langevin) at 1,000 K on a
 * 512-atom diamond supercell for 10 ps, then NVE from the final state with the drift
 * of the total energy. Reports the temperature, the largest force seen, and the NVE
 * drift in meV/atom/ps.
 *
 *   npx tsx bench/trace-md.ts [--model models/trace/Si.msgpack] [--ps 10] [--dt 1] [--nve-ps 1]
 */
import { createTracePotential } from '../potentials/trace/potential.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { Langevin } from '../integrators/langevin.ts';
import { VelocityVerlet } from '../integrators/verlet.ts';
import { parseOptions } from '../src/cli/command.ts';
import { FS_PER_PS } from '../src/units.ts';
import { report, seconds } from './harness.ts';

const { options } = parseOptions(process.argv.slice(2));
const model = typeof options.model === 'string' ? options.model : 'models/trace/Si.msgpack';
const ps = Number(options.ps ?? 10), dt = Number(options.dt ?? 1), nvePs = Number(options['nve-ps'] ?? 1);
const pot = createTracePotential({ kind: 'trace', model });
const system = lattice('diamond', { element: 'Si', a: 5.43, repeat: 4 });
system.setTemperature(1000, new Rng(3));
const forces = new ForceEvaluator(pot, { skin: 1 });
const nvt = new Langevin({ dt, temperature: 1000, damping: 100, seed: 5 });
forces.evaluate(system);
const nvtSteps = Math.round((ps * FS_PER_PS) / dt);
let tSum = 0, tCount = 0, fmax = 0;
const tNvt = seconds(() => {
  for (let s = 1; s <= nvtSteps; s++) {
    nvt.step(system, forces);
    if (s > nvtSteps / 2) { tSum += system.temperature(); tCount++; }
    if (s % 100 === 0) {
      for (let k = 0; k < system.forces.length; k++) fmax = Math.max(fmax, Math.abs(system.forces[k]));
      if (s % 1000 === 0) console.log(`NVT step ${s}: T = ${system.temperature().toFixed(1)} K, max |F| so far ${fmax.toFixed(2)} eV/Å`);
    }
  }
});
const nve = new VelocityVerlet({ dt });
let ev = forces.evaluate(system);
const e0 = nve.conservedEnergy(system, ev.energy);
const nveSteps = Math.round((nvePs * FS_PER_PS) / dt);
const energies: number[] = [];
for (let s = 1; s <= nveSteps; s++) {
  ev = nve.step(system, forces);
  energies.push(nve.conservedEnergy(system, ev.energy));
}
// Linear fit of the conserved energy against time: drift = slope.
const n = energies.length, tm = (n + 1) / 2;
let num = 0, den = 0, em = 0;
for (const e of energies) em += e / n;
energies.forEach((e, k) => { num += (k + 1 - tm) * (e - em); den += (k + 1 - tm) ** 2; });
const slopePerStep = num / den;
const driftMevPerAtomPs = (slopePerStep * 1000 * (FS_PER_PS / dt)) / system.n;
const maxDev = Math.max(...energies.map((e) => Math.abs(e - e0))) * 1000 / system.n;
report({
  atoms: system.n, nvt_ps: ps, dt_fs: dt, mean_T_second_half: tSum / tCount, max_force: fmax,
  nve_ps: nvePs, nve_drift_mev_per_atom_ps: driftMevPerAtomPs, nve_max_dev_mev_per_atom: maxDev,
  nvt_us_per_atom_step: (tNvt * 1e6) / (nvtSteps * system.n),
});
