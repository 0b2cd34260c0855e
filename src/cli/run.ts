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
import { ForceEvaluator } from '../forces.ts';
import type { System } from '../system.ts';
import type { Potential } from '../../potentials/potential.ts';
import { ParallelForceEvaluator } from '../parallel/evaluator.ts';
import { runReplicas } from '../parallel/replicas.ts';
import { availableParallelism } from 'node:os';
import { basename, extname } from 'node:path';
import { parseOptions, rejectUnknownOptions, type Command } from './command.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run molecular dynamics from an input file (YAML or JSON)',
  usage: `Usage: tensormd run <input.yaml> [--steps N] [--output-dir DIR] [--workers N] [--quiet]
       tensormd run <a.yaml> <b.yaml> … [--workers N] [--output-dir DIR]

Runs the MD simulation an input file describes and writes its outputs. With
several input files, runs them as independent replicas (e.g. different
temperatures or seeds), --workers at a time, each in its own thread with its own
outputs, and prints a summary line per replica.

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
  --workers N        one input: threads computing forces (N > 1 splits each force
                     evaluation over a worker pool; results do not depend on N).
                     Default: all cores when the run is long enough to repay the
                     pool's start-up (about 1.5 s a thread), else 1.
                     Several inputs: replicas run at once (default: cores)
  --quiet            no console thermo table or progress bar`,

  async run(args) {
    const { options, positional } = parseOptions(args, ['quiet', 'help']);
    rejectUnknownOptions(options, this);
    if (options.help || positional.length === 0) {
      console.log(this.usage);
      return options.help ? 0 : 2;
    }
    const workersOption = options.workers === undefined ? undefined : Number(options.workers);
    if (workersOption !== undefined && !(Number.isInteger(workersOption) && workersOption >= 1)) {
      throw new Error(`--workers must be a positive integer, got ${options.workers}`);
    }
    if (positional.length > 1) return runReplicaInputs(positional, workersOption, options);
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
    const workers = workersOption ?? autoWorkers(system, potential, steps, input.neighbor?.skin);
    const forces = workers > 1 ? await ParallelForceEvaluator.create(potential, { workers, skin: input.neighbor?.skin }) : undefined;
    if (forces && !quiet) console.log(`tensormd: forces on ${workers} threads`);
    try {
      const sim = new Simulation({ system, potential, integrator, skin: input.neighbor?.skin, observers, minDistance: input.minDistance, forces });
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
    } finally {
      await forces?.close();
    }
    return 0;
  },
};

/** Several inputs: independent replicas on a pool, one summary line each. */
async function runReplicaInputs(paths: string[], workers: number | undefined, options: Record<string, string | true>): Promise<number> {
  if (options.steps !== undefined) throw new Error('--steps applies to a single input; set steps in each replica input');
  const outRoot = typeof options['output-dir'] === 'string' ? resolve(options['output-dir']) : null;
  const names = paths.map((p) => basename(p, extname(p)));
  if (new Set(names).size !== names.length) throw new Error(`replica inputs need distinct file names (outputs go to a folder per name): ${paths.join(', ')}`);
  const replicas = paths.map((path, k) => {
    const input = readRunInput(path);
    const own = input.output?.directory;
    const outputDirectory = outRoot ? resolve(outRoot, names[k]) : own ? resolve(inputDirectory(path), own) : resolve(names[k]);
    return { input, baseDir: inputDirectory(path), outputDirectory, label: path };
  });
  const n = workers ?? Math.min(availableParallelism(), paths.length);
  console.log(`tensormd: ${paths.length} replicas, ${n} at a time`);
  const results = await runReplicas(replicas, { workers: n });
  for (const r of results) {
    const f = r.final;
    console.log(`${r.label}: ${r.atoms} atoms, ${r.steps} steps in ${r.seconds.toFixed(2)} s; final T ${f.temperature.toFixed(2)} K, ` +
      `E_pot ${f.potentialEnergy.toFixed(6)} eV, P ${f.pressure.toFixed(4)} GPa; outputs in ${r.outputDirectory}`);
  }
  return 0;
}

/**
 * The default worker count for one run: all cores when splitting the forces saves
 * clearly more than the pool costs to start, judged from one timed serial evaluation
 * (after a warm-up one) — so a short or cheap run stays on the single-thread path.
 */
function autoWorkers(system: System, potential: Potential, steps: number, skin: number | undefined): number {
  const cores = availableParallelism();
  if (cores < 2 || potential.parallel === 'serial') return 1;
  const probe = new ForceEvaluator(potential, { skin });
  probe.evaluate(system);
  const t0 = performance.now();
  probe.evaluate(system);
  const secondsPerStep = (performance.now() - t0) / 1000;
  const saved = steps * secondsPerStep * (1 - 1 / cores);
  const startup = POOL_START_SECONDS_PER_THREAD * (cores - 1);
  return saved > 2 * startup ? cores : 1;
}

/** Measured cost of starting one worker thread (tsx loading the sources, building the potential). */
const POOL_START_SECONDS_PER_THREAD = 1.5;
