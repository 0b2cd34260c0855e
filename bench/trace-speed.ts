/**
 * MD speed of the shipped silicon ACE model: µs per atom-step of velocity-Verlet MD
 * on a diamond-Si supercell (≥ 2,000 atoms, single thread), with LAMMPS `Si.sw`
 * (Stillinger–Weber) timed on the same system and steps in the same run for context.
 *
 *   npx tsx bench/trace-speed.ts [--model models/trace/Si.msgpack] [--repeat 7] [--steps 20]
 *
 * Timings are disturbed by other work on the shared cores.
 */
import { createTracePotential } from '../potentials/trace/potential.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { VelocityVerlet } from '../integrators/verlet.ts';
import { parseOptions } from '../src/cli/command.ts';
import { lammpsData } from '../test/oracles/lammps.ts';
import { peakRssMb, report, seconds, timeLammps } from './harness.ts';

const { options } = parseOptions(process.argv.slice(2));
const model = typeof options.model === 'string' ? options.model : 'models/trace/Si.msgpack';
const repeat = Number(options.repeat ?? 7), steps = Number(options.steps ?? 20), dt = 1;
const pot = createTracePotential({ kind: 'trace', model });
const system = lattice('diamond', { element: 'Si', a: 5.43, repeat });
system.setTemperature(600, new Rng(1));
const forces = new ForceEvaluator(pot, { skin: 1 });
const integrator = new VelocityVerlet({ dt });
forces.evaluate(system);
integrator.step(system, forces); // warm-up (JIT)
const t = seconds(() => { for (let s = 0; s < steps; s++) integrator.step(system, forces); });
const usPerAtomStep = (t * 1e6) / (steps * system.n);
console.log(`tensormd trace: ${system.n} atoms, ${pot.basis.nFunctions} functions (order ${pot.basis.order}), ${steps} steps in ${t.toFixed(2)} s: ${usPerAtomStep.toFixed(1)} µs/atom-step`);

const lmpSteps = 200;
const data = lammpsData({ cell: system.cell.matrix, positions: system.positions, species: system.species, elements: ['Si'], masses: [28.0855] });
const input = [
  'units metal', 'atom_style atomic', 'atom_modify map array', 'boundary p p p', 'read_data data.lmp',
  'pair_style sw', 'pair_coeff * * /usr/share/lammps/potentials/Si.sw Si',
  'velocity all create 600 1 mom yes rot no', 'neighbor 1.0 bin', 'timestep 0.001', 'thermo 100',
  'fix 1 all nve', `run ${lmpSteps}`,
].join('\n');
const lmp = timeLammps(input, { 'data.lmp': data });
const lmpUs = (lmp.loopSeconds * 1e6) / (lmpSteps * system.n);
console.log(`LAMMPS Si.sw: ${lmpUs.toFixed(2)} µs/atom-step`);
report({ atoms: system.n, functions: pot.basis.nFunctions, order: pot.basis.order, us_per_atom_step: usPerAtomStep, lammps_sw_us_per_atom_step: lmpUs, ratio: usPerAtomStep / lmpUs, rss_mb: peakRssMb() });
