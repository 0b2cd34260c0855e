/**
 * Observers watch a running Simulation: every `every` steps they are handed the
 * simulation and read what they need. close() is always called when a run ends,
 * also when it ends with an error, so files hold everything written so far.
 */
import type { Simulation } from '../simulation.ts';

export interface Observer {
  /** Observe every this many steps (step 0 included). */
  readonly every: number;
  observe(sim: Simulation): void;
  /** Called once when the simulation is closed; must leave its files complete. */
  close?(): void;
}
