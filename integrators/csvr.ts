/**
 * Canonical sampling through velocity rescaling (CSVR; Bussi, Donadio & Parrinello,
 * J. Chem. Phys. 126, 014101 (2007)). The total kinetic energy K follows the
 * stochastic differential equation of the paper (eq. 7), whose exact finite-time
 * solution (their Appendix A) is drawn every half step:
 *
 *   K' = c·K + (K̄/N_f)(1−c)(R₁² + Σ_{i=2}^{N_f} Rᵢ²) + 2·R₁·√(c(1−c)·K·K̄/N_f),
 *
 * with c = exp(−Δt/τ), K̄ = N_f·kT/2 and Rᵢ standard normals; velocities are scaled
 * by α = ±√(K'/K). The sum of N_f−1 squared normals is drawn as 2·Gamma((N_f−1)/2).
 * The conserved "effective energy" is E_pot + K minus the heat the thermostat put in.
 *
 * Step: rescale(Δt/2) · velocity Verlet · rescale(Δt/2).
 */
import { Rng, type RngState } from '../src/rng.ts';
import { kB } from '../src/units.ts';
import type { Evaluation, ForceEvaluator } from '../src/forces.ts';
import type { System } from '../src/system.ts';
import { requirePositive, type Integrator } from './integrator.ts';
import { drift, halfKick } from './verlet.ts';
import { requireTemperature, resolveDamping } from './defaults.ts';

export interface CsvrOptions {
  dt: number;
  /** Target temperature, K. */
  temperature: number;
  /** Relaxation time τ of the kinetic energy, fs (default 100·dt). */
  damping?: number;
  /** Thermostatted degrees of freedom (default system.degreesOfFreedom: 3n−3). */
  dof?: number;
  seed?: number;
}

export interface CsvrState {
  rng: RngState;
  heat: number;
  temperature: number;
}

export class Csvr implements Integrator {
  readonly name = 'csvr';
  readonly dt: number;
  readonly damping: number;
  readonly rng: Rng;
  private target: number;
  private readonly dofOverride: number | undefined;
  /** Energy the thermostat has added to the system so far, eV. */
  heat = 0;

  constructor(options: CsvrOptions) {
    this.dt = requirePositive('CSVR', 'dt', options.dt);
    this.target = requireTemperature('CSVR', options.temperature);
    this.damping = resolveDamping('CSVR', this.dt, options.damping);
    this.dofOverride = options.dof === undefined ? undefined : requirePositive('CSVR', 'dof', options.dof);
    this.rng = new Rng(options.seed ?? 12345);
  }

  get temperature(): number {
    return this.target;
  }

  set temperature(T: number) {
    this.target = requireTemperature('CSVR', T);
  }

  step(system: System, forces: ForceEvaluator): Evaluation {
    const h = 0.5 * this.dt;
    this.rescale(system, h);
    halfKick(system, h);
    drift(system, this.dt);
    const ev = forces.evaluate(system);
    halfKick(system, h);
    this.rescale(system, h);
    return ev;
  }

  /** Exact CSVR update of the kinetic energy over time t, applied as a velocity scaling. */
  rescale(system: System, t: number): void {
    const K = system.kineticEnergy();
    if (!(K > 0)) return; // nothing to scale (all atoms at rest)
    const nf = this.dofOverride ?? system.degreesOfFreedom;
    const Kbar = 0.5 * nf * kB * this.target;
    const c = Math.exp(-t / this.damping);
    const r1 = this.rng.normal();
    const rest = nf > 1 ? 2 * gammaDeviate(this.rng, 0.5 * (nf - 1)) : 0;
    const Knew = c * K + (Kbar / nf) * (1 - c) * (r1 * r1 + rest) + 2 * r1 * Math.sqrt((c * (1 - c) * K * Kbar) / nf);
    let alpha = Math.sqrt(Knew / K);
    // Sign of α as in Bussi's reference implementation: the rare reflection keeps the
    // map between R₁ and the velocities continuous.
    if (r1 + Math.sqrt((c * K * nf) / ((1 - c) * Kbar)) < 0) alpha = -alpha;
    const v = system.velocities;
    for (let k = 0; k < v.length; k++) v[k] *= alpha;
    this.heat += Knew - K;
  }

  conservedEnergy(system: System, potentialEnergy: number): number {
    return potentialEnergy + system.kineticEnergy() - this.heat;
  }

  getState(): CsvrState {
    return { rng: this.rng.getState(), heat: this.heat, temperature: this.target };
  }

  setState(state: unknown): void {
    const s = state as CsvrState;
    this.rng.setState(s.rng);
    this.heat = s.heat;
    this.temperature = s.temperature;
  }
}

/**
 * Gamma(shape, 1) deviate by Marsaglia & Tsang, ACM TOMS 26, 363 (2000); for
 * shape < 1 via Gamma(a) = Gamma(a+1)·U^{1/a} (same paper, section 6).
 */
export function gammaDeviate(rng: Rng, shape: number): number {
  if (!(shape > 0)) throw new Error(`gammaDeviate: shape must be positive, got ${shape}`);
  if (shape < 1) return gammaDeviate(rng, shape + 1) * Math.pow(rng.uniform(), 1 / shape);
  const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.uniform();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}
