/**
 * Stochastic cell rescaling (Bernetti & Bussi, J. Chem. Phys. 153, 114107 (2020)):
 * a first-order stochastic barostat — Berendsen's relaxation plus the noise that
 * makes it sample the isothermal–isobaric ensemble — with velocity rescaling
 * (CSVR, integrators/csvr.ts) on the particles.
 *
 * Isotropic, for ε = ln V over one step (Euler–Maruyama, Itô):
 *   Δε = −(β_T/τ_p)(P₀ − P_int − kT/V)Δt + √(2kTβ_T Δt/(Vτ_p)) R,
 * positions and cell scaled by λ = e^{Δε/3}, velocities by 1/λ. Anisotropic
 * (independent orthogonal axes), for ε_a = ln L_a, a = x, y, z, with γ = β_T/(3τ_p):
 *   Δε_a = −γ(P₀_a − Π_aa − kT/V)Δt + √(2kTγΔt/V) R_a,
 * Cartesian component a of positions and cell vectors scaled by e^{Δε_a}, of
 * velocities by e^{−Δε_a}. P_int = tr Π/3, Π = (Σ m v⊗v + Σ r⊗f)/V.
 *
 * Ensemble: the zero-flux solution of the Fokker–Planck equation of these updates,
 * with the kinetic energy rescaled with the cell, is ρ ∝ V^N e^{−β(U + K + P₀V)}
 * (N atoms, N_f = 3N − 3 thermostatted degrees of freedom); for an ideal gas
 * ⟨V⟩ = (N + 1)kT/P₀ and Var V = (N + 1)(kT/P₀)².
 *
 * Step: CSVR(Δt/2) · kick(Δt/2) · drift(Δt) · barostat(Δt) · forces · kick(Δt/2) ·
 * CSVR(Δt/2). The barostat uses the virial of the last force evaluation (the
 * positions have drifted by one step since, an O(Δt) lag in a coupling that is
 * weak by construction: τ_p ≫ Δt).
 *
 * The compressibility β_T sets only how fast the volume relaxes (≈ τ_p when β_T is
 * the true compressibility); the sampled ensemble does not depend on it.
 */
import { GPA_TO_EV_PER_A3, kB } from '../src/units.ts';
import { Rng, type RngState } from '../src/rng.ts';
import type { Evaluation, ForceEvaluator } from '../src/forces.ts';
import type { System } from '../src/system.ts';
import { requirePositive, type Integrator } from './integrator.ts';
import { Csvr, type CsvrState } from './csvr.ts';
import { drift, halfKick } from './verlet.ts';

/**
 * Default isothermal compressibility, 1/GPa: 4.6e-5 bar⁻¹, the water value GROMACS
 * and DL_POLY use by default (Berendsen et al., J. Chem. Phys. 81, 3684 (1984)).
 */
export const DEFAULT_COMPRESSIBILITY_PER_GPA = 4.6e-5 * 1e4;

export interface CellRescaleOptions {
  /** Time step, fs. */
  dt: number;
  /** Target temperature, K. */
  temperature: number;
  /** Target pressure, GPa: scalar, or [xx, yy, zz] for coupling 'aniso'. */
  pressure: number | readonly number[];
  coupling?: 'iso' | 'aniso';
  /** Isothermal compressibility β_T, 1/GPa (default 4.6e-5 bar⁻¹ = 0.46 GPa⁻¹). */
  compressibility?: number;
  /** Thermostat relaxation time, fs (default 100·dt). */
  damping?: number;
  /** Barostat relaxation time τ_p, fs (default 1000·dt). */
  barostatDamping?: number;
  seed?: number;
  /** Stop when V/V₀ leaves [1/maxVolumeRatio, maxVolumeRatio] (default 1000). */
  maxVolumeRatio?: number;
  warn?: (message: string) => void;
}

export interface CellRescaleState {
  rng: RngState;
  thermostat: CsvrState;
  initialVolume: number;
}

export class StochasticCellRescale implements Integrator {
  readonly name = 'npt-scr';
  readonly dt: number;
  readonly temperature: number;
  readonly coupling: 'iso' | 'aniso';
  /** Target diagonal pressures, eV/Å³. */
  readonly target = new Float64Array(3);
  /** β_T in Å³/eV. */
  readonly compressibility: number;
  readonly barostatDamping: number;
  readonly thermostat: Csvr;
  readonly rng: Rng;
  private readonly maxVolumeRatio: number;
  private initialVolume = 0;
  private readonly kinetic = new Float64Array(6);
  private readonly scale = new Float64Array(3);

  constructor(options: CellRescaleOptions) {
    const who = 'stochastic cell rescaling';
    this.dt = requirePositive(who, 'dt', options.dt);
    this.temperature = requirePositive(who, 'temperature', options.temperature);
    this.coupling = options.coupling ?? 'iso';
    if (this.coupling !== 'iso' && this.coupling !== 'aniso') {
      throw new Error(`${who}: coupling must be 'iso' or 'aniso', got '${this.coupling as string}'`);
    }
    const p = options.pressure;
    const values = typeof p === 'number' ? [p, p, p] : Array.from(p ?? []);
    if (values.length !== 3) throw new Error(`${who}: pressure must be a number or [xx, yy, zz] in GPa, got ${values.length} components`);
    values.forEach((v, a) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${who}: pressure component ${'xyz'[a]}${'xyz'[a]} must be a finite number (GPa), got ${v}`);
      this.target[a] = v * GPA_TO_EV_PER_A3;
    });
    if (this.coupling === 'iso' && !(values[0] === values[1] && values[1] === values[2])) {
      throw new Error(`${who}: coupling 'iso' needs a scalar pressure; use 'aniso' for different axes`);
    }
    this.compressibility = requirePositive(who, 'compressibility', options.compressibility ?? DEFAULT_COMPRESSIBILITY_PER_GPA) / GPA_TO_EV_PER_A3;
    this.barostatDamping = requirePositive(who, 'barostatDamping', options.barostatDamping ?? 1000 * this.dt);
    const warn = options.warn ?? ((m: string) => console.warn(m));
    if (this.barostatDamping < 100 * this.dt) {
      warn(`${who}: barostat damping ${this.barostatDamping} fs is under 100 time steps (${100 * this.dt} fs); the volume update becomes inaccurate — 1000·dt is a safe choice`);
    }
    this.maxVolumeRatio = options.maxVolumeRatio ?? 1000;
    if (!(this.maxVolumeRatio > 1) || !Number.isFinite(this.maxVolumeRatio)) {
      throw new Error(`${who}: maxVolumeRatio must be a finite number > 1, got ${options.maxVolumeRatio}`);
    }
    const seed = options.seed ?? 12345;
    this.thermostat = new Csvr({ dt: this.dt, temperature: this.temperature, damping: options.damping, seed });
    this.rng = new Rng(seed + 1);
  }

  step(system: System, forces: ForceEvaluator, current: Evaluation): Evaluation {
    if (this.initialVolume === 0) {
      if (!system.cell.hasVolume || !system.cell.pbc.every((q) => q)) {
        throw new Error('stochastic cell rescaling: needs a cell periodic along all three axes');
      }
      this.initialVolume = system.cell.volume;
    }
    const h = 0.5 * this.dt;
    this.thermostat.rescale(system, h);
    halfKick(system, h);
    drift(system, this.dt);
    this.barostat(system, current.virial);
    const ev = forces.evaluate(system);
    halfKick(system, h);
    this.thermostat.rescale(system, h);
    return ev;
  }

  private barostat(system: System, virial: Float64Array): void {
    const K = system.kineticTensor(this.kinetic);
    const V = system.cell.volume, kT = kB * this.temperature, dt = this.dt, s = this.scale;
    if (this.coupling === 'iso') {
      const pint = (K[0] + K[1] + K[2] + virial[0] + virial[1] + virial[2]) / (3 * V);
      const rate = this.compressibility / this.barostatDamping;
      const de = -rate * (this.target[0] - pint - kT / V) * dt + Math.sqrt((2 * kT * rate * dt) / V) * this.rng.normal();
      s[0] = s[1] = s[2] = Math.exp(de / 3);
    } else {
      const rate = this.compressibility / (3 * this.barostatDamping);
      for (let a = 0; a < 3; a++) {
        const pa = (K[a] + virial[a]) / V;
        const de = -rate * (this.target[a] - pa - kT / V) * dt + Math.sqrt((2 * kT * rate * dt) / V) * this.rng.normal();
        s[a] = Math.exp(de);
      }
    }
    const x = system.positions, v = system.velocities;
    for (let p = 0; p < x.length; p += 3) {
      x[p] *= s[0]; x[p + 1] *= s[1]; x[p + 2] *= s[2];
      v[p] /= s[0]; v[p + 1] /= s[1]; v[p + 2] /= s[2];
    }
    const hm = system.cell.matrix;
    const next = [hm[0] * s[0], hm[1] * s[1], hm[2] * s[2], hm[3] * s[0], hm[4] * s[1], hm[5] * s[2], hm[6] * s[0], hm[7] * s[1], hm[8] * s[2]];
    const ratio = (V * s[0] * s[1] * s[2]) / this.initialVolume;
    if (!Number.isFinite(ratio) || !(ratio < this.maxVolumeRatio) || !(ratio > 1 / this.maxVolumeRatio)) {
      const what = !Number.isFinite(ratio) ? 'became non-finite' : ratio >= this.maxVolumeRatio ? 'exploded' : 'collapsed';
      throw new Error(
        `stochastic cell rescaling: the cell ${what} at step ${system.step}: volume ${(ratio * this.initialVolume).toPrecision(6)} Å³ vs ` +
          `${this.initialVolume.toPrecision(6)} Å³ initially (limit ×${this.maxVolumeRatio}); check the target pressure, compressibility and damping`,
      );
    }
    system.cell.setMatrix(next);
  }

  getState(): CellRescaleState {
    return { rng: this.rng.getState(), thermostat: this.thermostat.getState(), initialVolume: this.initialVolume };
  }

  setState(state: unknown): void {
    const s = state as CellRescaleState;
    if (!s || !s.rng || !s.thermostat) throw new Error('stochastic cell rescaling.setState: expected { rng, thermostat, initialVolume }');
    this.rng.setState(s.rng);
    this.thermostat.setState(s.thermostat);
    this.initialVolume = s.initialVolume;
  }
}
