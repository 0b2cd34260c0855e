/**
 * A running simulation: a System, a ForceEvaluator over a Potential, an Integrator
 * and Observers. run(n) advances n steps; observers see step 0 and every step that
 * is a multiple of their `every`. A failure during a step (e.g. non-finite forces)
 * closes the observers first — so every trajectory frame and thermo line written
 * so far is on disk — and then throws with the step number.
 */
import { checkOverlaps, DEFAULT_MIN_DISTANCE } from './checks.ts';
import { ForceEvaluator, type Evaluation } from './forces.ts';
import type { Observer } from './observers/observer.ts';
import type { System } from './system.ts';
import { pressure } from './thermo.ts';
import { EV_PER_A3_TO_GPA } from './units.ts';
import type { Integrator } from '../integrators/integrator.ts';
import type { Potential } from '../potentials/potential.ts';

export interface SimulationOptions {
  system: System;
  potential: Potential;
  integrator: Integrator;
  /** Verlet skin, Å (default 1). */
  skin?: number;
  observers?: Observer[];
  /** Refuse to start when two atoms are closer than this, Å (default 0.5; 0 disables). */
  minDistance?: number;
  /**
   * The force evaluator to use (e.g. a started ParallelForceEvaluator over the same
   * potential); default: a serial ForceEvaluator built with `skin`.
   */
  forces?: ForceEvaluator;
}

/** One line of thermodynamic output. */
export interface ThermoSample {
  step: number;
  /** fs */
  time: number;
  /** K */
  temperature: number;
  /** eV */
  potentialEnergy: number;
  kineticEnergy: number;
  totalEnergy: number;
  /** The integrator's conserved quantity, eV (equals totalEnergy for NVE). */
  conservedEnergy: number;
  /** GPa */
  pressure: number;
  /** Å³ (0 for an isolated system) */
  volume: number;
}

export class Simulation {
  readonly system: System;
  readonly forces: ForceEvaluator;
  integrator: Integrator;
  readonly observers: Observer[];
  /** Evaluation at the current positions. */
  current: Evaluation;
  private closed = false;

  constructor(options: SimulationOptions) {
    this.system = options.system;
    this.integrator = options.integrator;
    this.observers = [...(options.observers ?? [])];
    if (options.forces && options.forces.potential !== options.potential) {
      throw new Error('simulation: options.forces evaluates a different potential than options.potential');
    }
    this.forces = options.forces ?? new ForceEvaluator(options.potential, { skin: options.skin });
    this.forces.bind(this.system);
    checkOverlaps(this.system, options.minDistance ?? DEFAULT_MIN_DISTANCE);
    this.current = this.forces.evaluate(this.system);
  }

  get potential(): Potential {
    return this.forces.potential;
  }

  addObserver(observer: Observer): void {
    this.observers.push(observer);
  }

  /** Advances `steps` time steps. */
  run(steps: number): void {
    if (!Number.isInteger(steps) || steps < 0) throw new Error(`run: steps must be a non-negative integer, got ${steps}`);
    if (this.closed) throw new Error('run: this simulation has been closed');
    const system = this.system;
    if (system.step === 0) this.notify();
    try {
      for (let k = 0; k < steps; k++) {
        this.current = this.integrator.step(system, this.forces, this.current);
        system.step++;
        system.time += this.integrator.dt;
        this.notify();
      }
    } catch (err) {
      this.close();
      const e = err as Error;
      e.message = `simulation stopped at step ${system.step + 1}: ${e.message}`;
      throw e;
    }
  }

  private notify(): void {
    const step = this.system.step;
    for (const o of this.observers) if (step % o.every === 0) o.observe(this);
  }

  /** Thermodynamic state at the current step. */
  thermo(): ThermoSample {
    const s = this.system;
    const pe = this.current.energy;
    const ke = s.kineticEnergy();
    const conserved = this.integrator.conservedEnergy ? this.integrator.conservedEnergy(s, pe) : pe + ke;
    return {
      step: s.step,
      time: s.time,
      temperature: s.temperature(),
      potentialEnergy: pe,
      kineticEnergy: ke,
      totalEnergy: pe + ke,
      conservedEnergy: conserved,
      pressure: pressure(s, this.current.virial) * EV_PER_A3_TO_GPA,
      volume: s.cell.hasVolume ? s.cell.volume : 0,
    };
  }

  /** Closes every observer (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    let first: unknown = null;
    for (const o of this.observers) {
      try { o.close?.(); } catch (err) { first ??= err; }
    }
    if (first) throw first;
  }
}
