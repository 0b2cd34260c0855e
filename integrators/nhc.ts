/**
 * A Nosé–Hoover chain (Martyna, Klein & Tuckerman, J. Chem. Phys. 97, 2635 (1992))
 * propagated with the Trotter factorisation and nested Suzuki–Yoshida substeps of
 * Martyna, Tuckerman, Tobias & Klein, Mol. Phys. 87, 1117 (1996), Appendix.
 *
 * The chain acts on a group of `dof` degrees of freedom whose kinetic energy it is
 * handed; it returns the factor by which their velocities must be scaled. It knows
 * nothing about atoms, so the same class thermostats particles (NVT) or a barostat's
 * cell degrees of freedom (NPT).
 *
 * Masses follow the usual choice (and LAMMPS's fix nvt): Q₁ = dof·kT·τ², Qⱼ = kT·τ²
 * for j > 1, with τ the damping (a period-like time, fs). Thermostat positions ξ
 * are dimensionless, velocities vξ in 1/fs, masses in eV·fs².
 */
import { kB } from '../src/units.ts';
import { requirePositive } from './integrator.ts';

export interface NoseHooverChainOptions {
  /** Target temperature, K (> 0). */
  temperature: number;
  /** Period-like relaxation time τ, fs. */
  damping: number;
  /** Number of thermostatted degrees of freedom. */
  dof: number;
  /** Chain length M (default 3). */
  length?: number;
  /** Number of nested substeps n_c per call (default 1). */
  loops?: number;
  /** Suzuki–Yoshida order (default 3). */
  order?: 1 | 3 | 5;
}

export interface NoseHooverChainState {
  temperature: number;
  positions: number[];
  velocities: number[];
}

/** Suzuki–Yoshida weights (MTK 1996, eq. 29 and following). */
function yoshidaWeights(order: 1 | 3 | 5): Float64Array {
  if (order === 1) return Float64Array.of(1);
  if (order === 3) {
    const w1 = 1 / (2 - Math.cbrt(2));
    return Float64Array.of(w1, 1 - 2 * w1, w1);
  }
  if (order === 5) {
    const w1 = 1 / (4 - Math.cbrt(4));
    return Float64Array.of(w1, w1, 1 - 4 * w1, w1, w1);
  }
  throw new Error(`NoseHooverChain: order must be 1, 3 or 5, got ${order as number}`);
}

export class NoseHooverChain {
  readonly damping: number;
  readonly dof: number;
  readonly length: number;
  readonly loops: number;
  readonly order: 1 | 3 | 5;
  /** Thermostat positions ξⱼ (dimensionless). */
  readonly positions: Float64Array;
  /** Thermostat velocities vξⱼ, 1/fs. */
  readonly velocities: Float64Array;
  /** Thermostat masses Qⱼ, eV·fs². */
  readonly masses: Float64Array;
  private readonly weights: Float64Array;
  private target = 0;

  constructor(options: NoseHooverChainOptions) {
    this.damping = requirePositive('NoseHooverChain', 'damping', options.damping);
    this.dof = requirePositive('NoseHooverChain', 'dof', options.dof);
    const length = options.length ?? 3;
    if (!Number.isInteger(length) || length < 1) {
      throw new Error(`NoseHooverChain: length must be an integer ≥ 1, got ${length}`);
    }
    const loops = options.loops ?? 1;
    if (!Number.isInteger(loops) || loops < 1) {
      throw new Error(`NoseHooverChain: loops must be an integer ≥ 1, got ${loops}`);
    }
    this.length = length;
    this.loops = loops;
    this.order = options.order ?? 3;
    this.weights = yoshidaWeights(this.order);
    this.positions = new Float64Array(length);
    this.velocities = new Float64Array(length);
    this.masses = new Float64Array(length);
    this.temperature = options.temperature;
  }

  /** Target temperature, K; setting it also resets the chain masses (as LAMMPS does). */
  get temperature(): number {
    return this.target;
  }

  set temperature(T: number) {
    requirePositive('NoseHooverChain', 'temperature', T);
    this.target = T;
    const kT = kB * T, tau2 = this.damping * this.damping;
    this.masses[0] = this.dof * kT * tau2;
    for (let j = 1; j < this.length; j++) this.masses[j] = kT * tau2;
  }

  /**
   * Propagates the chain over dt given 2K (Σ m v², eV) of the thermostatted degrees
   * of freedom; returns the factor by which their velocities must be scaled. Call
   * with dt/2 at the start and end of a step (Trotter splitting, MTK 1996).
   */
  propagate(twiceKinetic: number, dt: number): number {
    const M = this.length, v = this.velocities, xi = this.positions;
    const kT = kB * this.target, gkT = this.dof * kT;
    let k2 = twiceKinetic, scale = 1;
    const nw = this.weights.length;
    for (let c = 0; c < this.loops; c++) {
      for (let w = 0; w < nw; w++) {
        const h = (this.weights[w] * dt) / this.loops; // time covered by this substep
        // Backward sweep: last thermostat, then down the chain.
        v[M - 1] += 0.5 * h * this.force(M - 1, k2, gkT, kT);
        for (let j = M - 2; j >= 0; j--) {
          const a = Math.exp(-0.25 * h * v[j + 1]);
          v[j] = v[j] * a * a + 0.5 * h * this.force(j, k2, gkT, kT) * a;
        }
        // Scale the particle velocities and advance the thermostat positions.
        const s = Math.exp(-h * v[0]);
        scale *= s;
        k2 *= s * s;
        for (let j = 0; j < M; j++) xi[j] += h * v[j];
        // Forward sweep.
        for (let j = 0; j < M - 1; j++) {
          const a = Math.exp(-0.25 * h * v[j + 1]);
          v[j] = v[j] * a * a + 0.5 * h * this.force(j, k2, gkT, kT) * a;
        }
        v[M - 1] += 0.5 * h * this.force(M - 1, k2, gkT, kT);
      }
    }
    return scale;
  }

  /** G_j: the generalised force on thermostat j, 1/fs². */
  private force(j: number, twiceKinetic: number, gkT: number, kT: number): number {
    if (j === 0) return (twiceKinetic - gkT) / this.masses[0];
    const vp = this.velocities[j - 1];
    return (this.masses[j - 1] * vp * vp - kT) / this.masses[j];
  }

  /** Chain contribution to the conserved quantity, eV: Σ ½Qⱼvⱼ² + dof·kT·ξ₁ + kT·Σ_{j>1} ξⱼ. */
  energy(): number {
    const kT = kB * this.target;
    let e = this.dof * kT * this.positions[0];
    for (let j = 0; j < this.length; j++) {
      e += 0.5 * this.masses[j] * this.velocities[j] * this.velocities[j];
      if (j > 0) e += kT * this.positions[j];
    }
    return e;
  }

  getState(): NoseHooverChainState {
    return { temperature: this.target, positions: Array.from(this.positions), velocities: Array.from(this.velocities) };
  }

  setState(state: unknown): void {
    const s = state as NoseHooverChainState;
    if (!s || !Array.isArray(s.positions) || !Array.isArray(s.velocities) ||
        s.positions.length !== this.length || s.velocities.length !== this.length) {
      throw new Error(`NoseHooverChain.setState: expected positions and velocities of length ${this.length}`);
    }
    this.temperature = s.temperature;
    this.positions.set(s.positions);
    this.velocities.set(s.velocities);
  }
}
