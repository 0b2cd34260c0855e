/**
 * Berendsen weak-coupling thermostat (Berendsen et al., J. Chem. Phys. 81, 3684
 * (1984)): after each velocity-Verlet step the velocities are scaled by
 * λ = √(1 + (Δt/τ)(T₀/T − 1)), relaxing the temperature exponentially towards T₀.
 *
 * NOT CANONICAL: it suppresses the fluctuations of the kinetic energy (its variance
 * is well below the canonical (N_f/2)(kT)²) and can cause the "flying ice cube"
 * artefact. Use it for equilibration only; sample with CSVR, Nosé–Hoover or Langevin.
 */
import { kB } from '../src/units.ts';
import type { Evaluation, ForceEvaluator } from '../src/forces.ts';
import type { System } from '../src/system.ts';
import { requirePositive, type Integrator } from './integrator.ts';
import { drift, halfKick } from './verlet.ts';
import { requireTemperature, resolveDamping } from './defaults.ts';

export interface BerendsenOptions {
  dt: number;
  /** Target temperature, K. */
  temperature: number;
  /** Coupling time τ, fs (default 100·dt). */
  damping?: number;
  /** Degrees of freedom for the temperature (default system.degreesOfFreedom). */
  dof?: number;
}

/** Berendsen thermostat — non-canonical, for equilibration only (see the module comment). */
export class Berendsen implements Integrator {
  readonly name = 'berendsen';
  readonly dt: number;
  readonly damping: number;
  private target: number;
  private readonly dofOverride: number | undefined;
  /** Energy the thermostat has added to the system so far, eV. */
  heat = 0;

  constructor(options: BerendsenOptions) {
    this.dt = requirePositive('Berendsen', 'dt', options.dt);
    this.target = requireTemperature('Berendsen', options.temperature);
    this.damping = resolveDamping('Berendsen', this.dt, options.damping);
    this.dofOverride = options.dof === undefined ? undefined : requirePositive('Berendsen', 'dof', options.dof);
  }

  get temperature(): number {
    return this.target;
  }

  set temperature(T: number) {
    this.target = requireTemperature('Berendsen', T);
  }

  step(system: System, forces: ForceEvaluator): Evaluation {
    const h = 0.5 * this.dt;
    halfKick(system, h);
    drift(system, this.dt);
    const ev = forces.evaluate(system);
    halfKick(system, h);
    const K = system.kineticEnergy();
    if (K > 0) {
      const nf = this.dofOverride ?? system.degreesOfFreedom;
      const T = (2 * K) / (nf * kB);
      const lambda = Math.sqrt(Math.max(0, 1 + (this.dt / this.damping) * (this.target / T - 1)));
      const v = system.velocities;
      for (let k = 0; k < v.length; k++) v[k] *= lambda;
      this.heat += (lambda * lambda - 1) * K;
    }
    return ev;
  }

  /** E_pot + K minus the heat added by the rescaling (not a true invariant: Berendsen has none). */
  conservedEnergy(system: System, potentialEnergy: number): number {
    return potentialEnergy + system.kineticEnergy() - this.heat;
  }

  getState(): { heat: number; temperature: number } {
    return { heat: this.heat, temperature: this.target };
  }

  setState(state: unknown): void {
    const s = state as { heat: number; temperature: number };
    this.heat = s.heat;
    this.temperature = s.temperature;
  }
}
