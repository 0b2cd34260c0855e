/**
 * Writes frames to an extended-XYZ trajectory (readable by ASE, OVITO, VMD).
 * Each frame is written synchronously as it is produced, so a run that fails
 * later keeps every frame written before.
 */
import { ExtxyzWriter, systemToFrame } from '../io/extxyz.ts';
import type { Simulation } from '../simulation.ts';
import { stress } from '../thermo.ts';
import type { Observer } from './observer.ts';

export interface TrajectoryOptions {
  file: string;
  every: number;
  /** Include forces (default true). */
  forces?: boolean;
  /** Include velocities (default false). */
  velocities?: boolean;
  append?: boolean;
}

export class TrajectoryWriter implements Observer {
  readonly every: number;
  private readonly writer: ExtxyzWriter;
  private readonly options: TrajectoryOptions;

  constructor(options: TrajectoryOptions) {
    if (!Number.isInteger(options.every) || options.every < 1) throw new Error(`trajectory: every must be a positive integer, got ${options.every}`);
    this.every = options.every;
    this.options = options;
    this.writer = new ExtxyzWriter(options.file, { append: options.append });
  }

  observe(sim: Simulation): void {
    const s = sim.system;
    const info: Record<string, number> = { step: s.step, time: s.time };
    const frame = systemToFrame(s, {
      energy: sim.current.energy,
      forces: this.options.forces ?? true,
      stress: s.cell.hasVolume ? stress(s, sim.current.virial, false) : undefined,
      info,
    });
    if (this.options.velocities) {
      frame.arrays.velocities = { type: 'R', columns: 3, data: Float64Array.from(s.velocities) };
    }
    this.writer.write(frame);
  }

  close(): void {
    this.writer.close();
  }
}
