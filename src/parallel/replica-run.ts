/**
 * One whole run described by a run input (src/config.ts), with its own outputs,
 * returning a summary: what a replica does inside a pool worker (and what the
 * calling thread does for a run without a pool). Quiet: no console output.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildIntegrator, buildPotential, buildSystem, validateRunInput, type RunInput } from '../config.ts';
import { systemToFrame, writeExtxyz } from '../io/extxyz.ts';
import { ThermoLog } from '../observers/thermo-log.ts';
import { TrajectoryWriter } from '../observers/trajectory.ts';
import type { Observer } from '../observers/observer.ts';
import { Simulation, type ThermoSample } from '../simulation.ts';

export interface ReplicaTask {
  /** The run input (as read from a file or built in a script). */
  input: RunInput;
  /** Directory that relative input paths (structure, potential files, plugins) resolve against. */
  baseDir: string;
  /** Directory the outputs go to (created if missing). */
  outputDirectory: string;
  /** Label in error messages and summaries (e.g. the input file name). */
  label: string;
}

export interface ReplicaSummary {
  label: string;
  atoms: number;
  steps: number;
  /** Thermodynamic state after the last step. */
  final: ThermoSample;
  /** Wall-clock seconds of the run itself. */
  seconds: number;
  neighborBuilds: number;
  outputDirectory: string;
}

export async function runReplica(task: ReplicaTask): Promise<ReplicaSummary> {
  const input = validateRunInput(task.input, task.label);
  const outDir = resolve(task.outputDirectory);
  mkdirSync(outDir, { recursive: true });
  const system = buildSystem(input, task.baseDir);
  const potential = await buildPotential(input, task.baseDir);
  const integrator = buildIntegrator(input);
  const out = input.output ?? {};
  const steps = input.steps;
  const observers: Observer[] = [];
  if (out.thermo?.file) {
    observers.push(new ThermoLog({
      every: out.thermo.every ?? Math.max(1, Math.floor(steps / 20)),
      csv: resolve(outDir, out.thermo.file),
      console: false,
      keep: false,
    }));
  }
  if (out.trajectory) {
    observers.push(new TrajectoryWriter({
      file: resolve(outDir, out.trajectory.file),
      every: out.trajectory.every ?? Math.max(1, Math.floor(steps / 10)),
      forces: out.trajectory.forces,
      velocities: out.trajectory.velocities,
    }));
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
  return {
    label: task.label,
    atoms: system.n,
    steps,
    final: sim.thermo(),
    seconds,
    neighborBuilds: sim.forces.neighbors.builds,
    outputDirectory: outDir,
  };
}
