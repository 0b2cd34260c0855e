/**
 * Shared driver of the SW and Tersoff benchmarks: diamond Si (16×16×16
 * conventional cells, 32,768 atoms), velocities at 1000 K, 100 NVE steps of 1 fs,
 * skin 1 Å; tensormd and `lmp` in the same run.
 *
 * Neighbour lists: both rebuild when an atom has moved more than skin/2 (LAMMPS
 * `neigh_modify every 1 delay 0 check yes`). Timing: LAMMPS's "Loop time" (setup
 * excluded); ours times the 100 steps after the first force evaluation, likewise.
 * RSS: peak of each process. Both are disturbed by other work on the same cores;
 * CPU-time figures (ours from process.cpuUsage, LAMMPS's loop time × its
 * reported CPU share) are printed too, being less sensitive to that.
 */
import { ForceEvaluator, type Evaluation } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { FS_PER_PS } from '../src/units.ts';
import { createPotential } from '../potentials/registry.ts';
import type { PotentialSpec } from '../potentials/potential.ts';
import { VelocityVerlet } from '../integrators/verlet.ts';
import type { Integrator } from '../integrators/integrator.ts';
import { peakRssMb, report, seconds, timeLammps } from './harness.ts';

export interface ManybodyBench {
  name: string;
  spec: PotentialSpec;
  /** pair_style and pair_coeff lines for LAMMPS. */
  pairCommands: string[];
  /** Lattice constant, Å. */
  a: number;
}

const REPEAT = Number(process.env.BENCH_REPEAT ?? 16), STEPS = Number(process.env.BENCH_STEPS ?? 100);
const T = 1000, DT = 1, SKIN = 1.0, MASS = 28.0855;

function runTensormd(b: ManybodyBench) {
  const system = lattice('diamond', { element: 'Si', a: b.a, repeat: REPEAT, masses: { Si: MASS } });
  system.setTemperature(T, new Rng(4928459));
  const evaluator = new ForceEvaluator(createPotential(b.spec), { skin: SKIN });
  const integrator: Integrator = new VelocityVerlet({ dt: DT });
  let ev: Evaluation = evaluator.evaluate(system);
  const e0 = ev.energy + system.kineticEnergy();
  const buildsBefore = evaluator.neighbors.builds;
  const cpu0 = process.cpuUsage();
  const time = seconds(() => {
    for (let s = 0; s < STEPS; s++) ev = integrator.step(system, evaluator, ev);
  });
  const cpuSeconds = process.cpuUsage(cpu0).user / 1e6;
  const e1 = ev.energy + system.kineticEnergy();
  return { n: system.n, time, cpuSeconds, rebuilds: evaluator.neighbors.builds - buildsBefore, drift: (e1 - e0) / system.n, temperature: system.temperature() };
}

function runLammps(b: ManybodyBench) {
  const input = [
    'units metal',
    'atom_style atomic',
    `lattice diamond ${b.a}`,
    `region box block 0 ${REPEAT} 0 ${REPEAT} 0 ${REPEAT}`,
    'create_box 1 box',
    'create_atoms 1 box',
    `mass 1 ${MASS}`,
    ...b.pairCommands,
    `velocity all create ${T} 4928459 loop geom`,
    `neighbor ${SKIN} bin`,
    'neigh_modify every 1 delay 0 check yes',
    'fix 1 all nve',
    `timestep ${DT / FS_PER_PS}`,
    'thermo 50',
    `run ${STEPS}`,
  ].join('\n');
  const t = timeLammps(input);
  const builds = Number(/Neighbor list builds = (\d+)/.exec(t.log)?.[1] ?? NaN);
  // LAMMPS prints the share of the loop's wall time its process was on a CPU.
  const cpuShare = Number(/([0-9.]+)% CPU use/.exec(t.log)?.[1] ?? NaN) / 100;
  return { ...t, builds, cpuSeconds: t.loopSeconds * cpuShare };
}

export function runBench(b: ManybodyBench): void {
  const lmp = runLammps(b);
  const ours = runTensormd(b);
  const atomSteps = ours.n * STEPS;
  const us = (ours.time / atomSteps) * 1e6;
  const lus = (lmp.loopSeconds / atomSteps) * 1e6;
  console.log(
    `tensormd: ${ours.time.toFixed(3)} s, ${ours.rebuilds} rebuilds, ` +
      `ΔE = ${ours.drift.toExponential(2)} eV/atom, T = ${ours.temperature.toFixed(1)} K`,
  );
  console.log(`lammps:   ${lmp.loopSeconds.toFixed(3)} s, ${lmp.builds} rebuilds`);
  report({
    bench: b.name,
    atoms: ours.n,
    steps: STEPS,
    us_per_atom_step: us,
    lammps_us_per_atom_step: lus,
    ratio: us / lus,
    rss_mb: peakRssMb(),
    lammps_rss_mb: lmp.rssMb,
    // The same in CPU time (less disturbed by other work on shared cores).
    cpu_us_per_atom_step: (ours.cpuSeconds / atomSteps) * 1e6,
    lammps_cpu_us_per_atom_step: (lmp.cpuSeconds / atomSteps) * 1e6,
    cpu_ratio: ours.cpuSeconds / lmp.cpuSeconds,
  });
}
