/**
 * Langevin dynamics with the BAOAB splitting (Leimkuhler & Matthews, 2013):
 * half kick, half drift, exact Ornstein–Uhlenbeck velocity update, half drift,
 * force, half kick. Samples the canonical ensemble with configurational error
 * O(dt²) and no systematic drift of the temperature.
 */
import { Rng, type RngState } from '../src/rng.ts';
import { kB, MVV_TO_EV } from '../src/units.ts';
import type { Evaluation, ForceEvaluator } from '../src/forces.ts';
import type { System } from '../src/system.ts';
import { requirePositive, type Integrator } from './integrator.ts';
import { drift, halfKick } from './verlet.ts';

export interface LangevinOptions {
  dt: number;
  /** Target temperature, K. */
  temperature: number;
  /** Velocity relaxation time 1/γ, fs (default 100·dt). */
  damping?: number;
  seed?: number;
}

export class Langevin implements Integrator {
  readonly name = 'langevin';
  readonly dt: number;
  readonly temperature: number;
  readonly damping: number;
  readonly rng: Rng;
  /** This step's normal deviates, 3 per atom, drawn in the order the loop uses them. */
  private noise = new Float64Array(0);

  constructor(options: LangevinOptions) {
    this.dt = requirePositive('Langevin', 'dt', options.dt);
    if (!Number.isFinite(options.temperature) || options.temperature < 0) {
      throw new Error(`Langevin: temperature must be a finite number ≥ 0 K, got ${options.temperature}`);
    }
    this.temperature = options.temperature;
    this.damping = requirePositive('Langevin', 'damping', options.damping ?? 100 * this.dt);
    this.rng = new Rng(options.seed ?? 12345);
  }

  step(system: System, forces: ForceEvaluator): Evaluation {
    const h = 0.5 * this.dt;
    halfKick(system, h);
    drift(system, h);
    this.ornsteinUhlenbeck(system);
    drift(system, h);
    const ev = forces.evaluate(system);
    halfKick(system, h);
    return ev;
  }

  private ornsteinUhlenbeck(system: System): void {
    const c1 = Math.exp(-this.dt / this.damping);
    const c2 = Math.sqrt(1 - c1 * c1);
    const v = system.velocities, m = system.masses, n = system.n;
    if (this.noise.length < 3 * n) this.noise = new Float64Array(3 * n);
    const g = this.noise;
    this.rng.normals(g, 0, 3 * n);
    const kT = kB * this.temperature;
    for (let i = 0; i < n; i++) {
      const sigma = c2 * Math.sqrt(kT / (m[i] * MVV_TO_EV));
      v[3 * i] = c1 * v[3 * i] + sigma * g[3 * i];
      v[3 * i + 1] = c1 * v[3 * i + 1] + sigma * g[3 * i + 1];
      v[3 * i + 2] = c1 * v[3 * i + 2] + sigma * g[3 * i + 2];
    }
  }

  getState(): { rng: RngState } {
    return { rng: this.rng.getState() };
  }

  setState(state: unknown): void {
    this.rng.setState((state as { rng: RngState }).rng);
  }
}
