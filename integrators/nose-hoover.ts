/**
 * Nosé–Hoover chain NVT (Martyna, Klein & Tuckerman, J. Chem. Phys. 97, 2635 (1992)),
 * integrated with the Trotter splitting of Martyna, Tuckerman, Tobias & Klein,
 * Mol. Phys. 87, 1117 (1996):
 *
 *   chain(Δt/2) · half kick · drift · force · half kick · chain(Δt/2).
 *
 * Deterministic and time-reversible; samples the canonical ensemble for ergodic
 * systems. Conserved quantity: E_pot + K + chain energy (NoseHooverChain.energy).
 */
import type { Evaluation, ForceEvaluator } from '../src/forces.ts';
import type { System } from '../src/system.ts';
import { requirePositive, type Integrator } from './integrator.ts';
import { drift, halfKick } from './verlet.ts';
import { requireTemperature, resolveDamping } from './defaults.ts';
import { NoseHooverChain, type NoseHooverChainState } from './nhc.ts';

export interface NoseHooverOptions {
  dt: number;
  /** Target temperature, K. */
  temperature: number;
  /** Period-like thermostat time τ, fs (default 100·dt). */
  damping?: number;
  /** Chain length (default 3). */
  chainLength?: number;
  /** Nested substeps per half step (default 1). */
  loops?: number;
  /** Suzuki–Yoshida order (default 3). */
  order?: 1 | 3 | 5;
  /** Thermostatted degrees of freedom (default system.degreesOfFreedom: 3n−3), fixed at the first step. */
  dof?: number;
}

export class NoseHoover implements Integrator {
  readonly name = 'nvt';
  readonly dt: number;
  readonly damping: number;
  private readonly options: NoseHooverOptions;
  private target: number;
  private chainState: NoseHooverChainState | null = null;
  /** The chain, created at the first step once the degrees of freedom are known. */
  chain: NoseHooverChain | null = null;

  constructor(options: NoseHooverOptions) {
    this.dt = requirePositive('Nosé–Hoover', 'dt', options.dt);
    this.target = requireTemperature('Nosé–Hoover', options.temperature);
    this.damping = resolveDamping('Nosé–Hoover', this.dt, options.damping);
    if (options.dof !== undefined) requirePositive('Nosé–Hoover', 'dof', options.dof);
    this.options = options;
    if (options.dof !== undefined) this.ensureChain(options.dof);
  }

  get temperature(): number {
    return this.target;
  }

  set temperature(T: number) {
    this.target = requireTemperature('Nosé–Hoover', T);
    if (this.chain) this.chain.temperature = T;
  }

  private ensureChain(dof: number): NoseHooverChain {
    if (this.chain) return this.chain;
    this.chain = new NoseHooverChain({
      temperature: this.target,
      damping: this.damping,
      dof,
      length: this.options.chainLength,
      loops: this.options.loops,
      order: this.options.order,
    });
    if (this.chainState) this.chain.setState(this.chainState);
    return this.chain;
  }

  step(system: System, forces: ForceEvaluator): Evaluation {
    const chain = this.ensureChain(system.degreesOfFreedom);
    const h = 0.5 * this.dt;
    scaleVelocities(system, chain.propagate(2 * system.kineticEnergy(), h));
    halfKick(system, h);
    drift(system, this.dt);
    const ev = forces.evaluate(system);
    halfKick(system, h);
    scaleVelocities(system, chain.propagate(2 * system.kineticEnergy(), h));
    return ev;
  }

  conservedEnergy(system: System, potentialEnergy: number): number {
    return potentialEnergy + system.kineticEnergy() + (this.chain ? this.chain.energy() : 0);
  }

  getState(): { chain: NoseHooverChainState | null; temperature: number } {
    return { chain: this.chain ? this.chain.getState() : this.chainState, temperature: this.target };
  }

  setState(state: unknown): void {
    const s = state as { chain: NoseHooverChainState | null; temperature: number };
    this.temperature = s.temperature;
    this.chainState = s.chain;
    if (this.chain && s.chain) this.chain.setState(s.chain);
  }
}

function scaleVelocities(system: System, s: number): void {
  const v = system.velocities;
  for (let k = 0; k < v.length; k++) v[k] *= s;
}
