/** `tensormd run input.yaml`: an MD run described by an input file. */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildIntegrator, buildPotential, buildSystem, inputDirectory, readRunInput } from '../config.ts';
import { systemToFrame, writeExtxyz } from '../io/extxyz.ts';
import { ProgressBar } from '../observers/progress.ts';
import { ThermoLog } from '../observers/thermo-log.ts';
import { TrajectoryWriter } from '../observers/trajectory.ts';
import type { Observer } from '../observers/observer.ts';
import { Simulation } from '../simulation.ts';
import { parseOptions, type Command } from './command.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run molecular dynamics from an input file (YAML or JSON)',
  usage: `Usage: tensormd run <input.yaml> [--steps N] [--output-dir DIR] [--quiet]

Runs the MD simulation an input file describes and writes its outputs.

Input file (YAML or JSON; paths it reads are relative to the file itself):
  structure:   { lattice: fcc|bcc|sc|hcp|diamond, element: Ar, a: 5.26, repeat: [5, 5, 5] }
               or { file: start.xyz, frame: -1 }          extended XYZ, last frame by default
  masses:      { Ar: 39.948 }                             optional, overrides standard masses
  potential:   { kind: lj, epsilon: 0.0104, sigma: 3.4, cutoff: 8.5 }
               kinds: lj, morse, eam, eam/alloy, eam/fs, sum, scaled, …
               { kind: eam/alloy, file: Cu_mishin1.eam.alloy }  (bare names: /usr/share/lammps/potentials)
               and { kind: module, module: my_potential.ts, … } for a plugin
  velocities:  { temperature: 60, seed: 1 }               optional Maxwell–Boltzmann start
  integrator:  { name: nve, timestep: 2 }                 timestep in fs
               { name: langevin, timestep: 2, temperature: 60, damping: 200, seed: 7 }
               names: nve, langevin, csvr, nose-hoover, berendsen (temperature, damping in fs),
               npt, nph (MTK: pressure in GPa, coupling iso|aniso|xy|triclinic, barostatDamping),
               npt-rescale (stochastic cell rescaling: pressure as a scalar or diagonal [xx,yy,zz],
                 coupling iso|aniso, compressibility; reports its effective energy)
  steps:       5000
  neighbor:    { skin: 1.0 }                              Verlet skin in Å (default 1)
  output:
    directory: out                                        default: current directory
    thermo:     { every: 100, file: thermo.csv }          console table + CSV
    trajectory: { every: 500, file: traj.xyz, forces: true, velocities: false }
    final:      final.xyz                                 last frame
    progress:   true                                      progress bar on a terminal

Units: Å, eV, amu, fs, K; pressure in GPa.

Options:
  --steps N          override the number of steps
  --output-dir DIR   override output.directory
  --quiet            no console thermo table or progress bar`,

  async run(args) {
    const { options, positional } = parseOptions(args, ['quiet', 'help']);
    if (options.help || positional.length !== 1) {
      console.log(this.usage);
      return options.help ? 0 : 2;
    }
    const inputPath = positional[0];
    const input = readRunInput(inputPath);
    const baseDir = inputDirectory(inputPath);
    const steps = options.steps !== undefined ? Number(options.steps) : input.steps;
    if (!Number.isInteger(steps) || steps < 0) throw new Error(`--steps must be a non-negative integer, got ${options.steps}`);
    const outDir = resolve(typeof options['output-dir'] === 'string' ? options['output-dir'] : (input.output?.directory ?? '.'));
    mkdirSync(outDir, { recursive: true });
    const quiet = options.quiet === true;

    const system = buildSystem(input, baseDir);
    const potential = await buildPotential(input, baseDir);
    const integrator = buildIntegrator(input);
    const out = input.output ?? {};
    const observers: Observer[] = [];
    const thermo = new ThermoLog({
      every: out.thermo?.every ?? Math.max(1, Math.floor(steps / 20)),
      csv: out.thermo?.file ? resolve(outDir, out.thermo.file) : undefined,
      console: !quiet && (out.thermo?.console ?? true),
      keep: false,
    });
    observers.push(thermo);
    if (out.trajectory) {
      observers.push(new TrajectoryWriter({
        file: resolve(outDir, out.trajectory.file),
        every: out.trajectory.every ?? Math.max(1, Math.floor(steps / 10)),
        forces: out.trajectory.forces,
        velocities: out.trajectory.velocities,
      }));
    }
    if (!quiet && (out.progress ?? true)) observers.push(new ProgressBar({ totalSteps: steps }));

    if (!quiet) {
      console.log(`tensormd: ${system.n} atoms (${system.elements.join(', ')}), potential ${potential.kind}, ` +
        `integrator ${integrator.name}, dt ${integrator.dt} fs, ${steps} steps`);
    }
    const sim = new Simulation({ system, potential, integrator, skin: input.neighbor?.skin, observers, minDistance: input.minDistance });
    const t0 = performance.now();
    try {
      sim.run(steps);
    } finally {
      sim.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    if (out.final) writeExtxyz(resolve(outDir, out.final), [systemToFrame(system, { energy: sim.current.energy, forces: true })]);
    if (!quiet) {
      const perAtomStep = steps > 0 ? (seconds * 1e6) / (steps * system.n) : 0;
      console.log(`done: ${steps} steps in ${seconds.toFixed(2)} s (${perAtomStep.toFixed(3)} µs/atom-step), ` +
        `${sim.forces.neighbors.builds} neighbour-list builds`);
    }
    return 0;
  },
};
