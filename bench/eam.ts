/**
 * EAM benchmark after LAMMPS's `bench/in.eam`: Cu_u3.eam, 32,000 atoms of fcc Cu
 * (a = 3.615 Å, 20×20×20 cells), velocities at 300 K, 100 NVE steps of 5 fs, skin
 * 1 Å; tensormd and `lmp` in the same run.
 *
 * Neighbour lists: both rebuild when an atom has moved more than skin/2 (LAMMPS
 * `neigh_modify every 1 delay 0 check yes`). Timing: LAMMPS's "Loop time" (setup
 * excluded); ours times the 100 steps after the first force evaluation, likewise.
 * RSS: peak of each process. Both are disturbed by other work on the same cores.
 */
import { ForceEvaluator, type Evaluation } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { FS_PER_PS } from '../src/units.ts';
import { createPotential } from '../potentials/registry.ts';
import '../potentials/eam/eam.ts';
import { VelocityVerlet } from '../integrators/verlet.ts';
import type { Integrator } from '../integrators/integrator.ts';
import { peakRssMb, report, seconds, timeLammps } from './harness.ts';

const A = 3.615, REPEAT = 20, STEPS = 100, T = 300, DT = 5, SKIN = 1.0;
const FILE = 'Cu_u3.eam';
const MASS = 63.55; // the mass in Cu_u3.eam, which LAMMPS's pair_coeff assigns

function runTensormd() {
  const system = lattice('fcc', { element: 'Cu', a: A, repeat: REPEAT, masses: { Cu: MASS } });
  system.setTemperature(T, new Rng(87287));
  const evaluator = new ForceEvaluator(createPotential({ kind: 'eam', files: { Cu: FILE } }), { skin: SKIN });
  const integrator: Integrator = new VelocityVerlet({ dt: DT });
  let ev: Evaluation = evaluator.evaluate(system);
  const e0 = ev.energy + system.kineticEnergy();
  const buildsBefore = evaluator.neighbors.builds;
  const time = seconds(() => {
    for (let s = 0; s < STEPS; s++) ev = integrator.step(system, evaluator, ev);
  });
  const e1 = ev.energy + system.kineticEnergy();
  return {
    n: system.n,
    time,
    rebuilds: evaluator.neighbors.builds - buildsBefore,
    energyChangePerAtom: (e1 - e0) / system.n,
    temperature: system.temperature(),
  };
}

function runLammps() {
  const input = [
    'units metal',
    'atom_style atomic',
    `lattice fcc ${A}`,
    `region box block 0 ${REPEAT} 0 ${REPEAT} 0 ${REPEAT}`,
    'create_box 1 box',
    'create_atoms 1 box',
    'pair_style eam',
    `pair_coeff 1 1 ${FILE}`,
    `velocity all create ${T} 87287 loop geom`,
    `neighbor ${SKIN} bin`,
    'neigh_modify every 1 delay 0 check yes',
    'fix 1 all nve',
    `timestep ${DT / FS_PER_PS}`,
    'thermo 50',
    `run ${STEPS}`,
  ].join('\n');
  const t = timeLammps(input);
  const builds = Number(/Neighbor list builds = (\d+)/.exec(t.log)?.[1] ?? NaN);
  return { ...t, builds };
}

const lmp = runLammps();
const ours = runTensormd();
const atomSteps = ours.n * STEPS;
const us = (ours.time / atomSteps) * 1e6;
const lus = (lmp.loopSeconds / atomSteps) * 1e6;
const rss = peakRssMb();
console.log(
  `tensormd: ${ours.time.toFixed(3)} s, ${ours.rebuilds} rebuilds, ` +
    `ΔE = ${ours.energyChangePerAtom.toExponential(2)} eV/atom, T = ${ours.temperature.toFixed(1)} K`,
);
console.log(`lammps:   ${lmp.loopSeconds.toFixed(3)} s, ${lmp.builds} rebuilds`);
report({
  bench: 'eam',
  atoms: ours.n,
  steps: STEPS,
  us_per_atom_step: us,
  lammps_us_per_atom_step: lus,
  ratio: us / lus,
  rss_mb: rss,
  lammps_rss_mb: lmp.rssMb,
  rebuilds: ours.rebuilds,
  lammps_rebuilds: lmp.builds,
});
