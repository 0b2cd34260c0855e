/**
 * MD speed of the shipped silicon ACE model: µs per atom-step of velocity-Verlet MD
 * on a diamond-Si supercell (≥ 2,000 atoms, single thread), with LAMMPS `Si.sw`
 * (Stillinger–Weber) timed on the same system and steps in the same run for context.
 *
 *   npx tsx bench/trace-speed.ts [--model models/trace/Si.msgpack] [--repeat 7] [--steps 20]
 *
 * Timings are disturbed by other work on the shared cores: besides wall-clock time the
 * benchmark reports CPU time (this process's user+system time; for LAMMPS its loop time
 * times its reported "% CPU use"), which is less sensitive to time-sharing with other
 * jobs, and the load average at the start.
 */
import { loadavg } from 'node:os';
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
const load = loadavg()[0];
const cpu0 = process.cpuUsage();
const t = seconds(() => { for (let s = 0; s < steps; s++) integrator.step(system, forces); });
const cpu1 = process.cpuUsage(cpu0);
const usPerAtomStep = (t * 1e6) / (steps * system.n);
const cpuUsPerAtomStep = (cpu1.user + cpu1.system) / (steps * system.n);
console.log(`tensormd trace: ${system.n} atoms, ${pot.basis.nFunctions} functions (order ${pot.basis.order}), ${steps} steps in ${t.toFixed(2)} s: ${usPerAtomStep.toFixed(1)} µs/atom-step wall, ${cpuUsPerAtomStep.toFixed(1)} CPU (load average ${load.toFixed(2)})`);

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
const cpuUse = /([0-9.]+)% CPU use/.exec(lmp.log);
const lmpCpuUs = cpuUse ? (lmpUs * Number(cpuUse[1])) / 100 : lmpUs;
console.log(`LAMMPS Si.sw: ${lmpUs.toFixed(2)} µs/atom-step wall, ${lmpCpuUs.toFixed(2)} CPU`);
report({
  atoms: system.n, functions: pot.basis.nFunctions, order: pot.basis.order, load_average: load,
  us_per_atom_step: usPerAtomStep, cpu_us_per_atom_step: cpuUsPerAtomStep,
  lammps_sw_us_per_atom_step: lmpUs, lammps_sw_cpu_us_per_atom_step: lmpCpuUs,
  ratio: usPerAtomStep / lmpUs, cpu_ratio: cpuUsPerAtomStep / lmpCpuUs, rss_mb: peakRssMb(),
});
