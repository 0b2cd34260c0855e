/**
 * Stochastic cell rescaling (Bernetti & Bussi, J. Chem. Phys. 153, 114107 (2020)):
 * a first-order stochastic barostat — Berendsen's relaxation plus the noise that
 * makes it sample the isothermal–isobaric ensemble — with velocity rescaling
 * (CSVR, integrators/csvr.ts) on the particles.
 *
 * Isotropic, for ε = ln V (Itô stochastic differential equation):
 *   dε = −(β_T/τ_p)(P₀ − P_int − kT/V)dt + √(2kTβ_T/(Vτ_p)) dW,
 * positions and cell scaled by e^{dε/3}, velocities by e^{−dε/3}. Anisotropic
 * (independent orthogonal axes), for ε_a = ln L_a, a = x, y, z, with γ = β_T/(3τ_p):
 *   dε_a = −γ(P₀_a − Π_aa − kT/V)dt + √(2kTγ/V) dW_a,
 * Cartesian component a of positions and cell vectors scaled by e^{Δε_a}, of
 * velocities by e^{−Δε_a}. P_int = tr Π/3, Π = (Σ m v⊗v + Σ r⊗f)/V.
 *
 * Ensemble: in the scaled coordinates (ε, r_a/L_a, v_a·L_a) that the barostat
 * leaves unchanged, the zero-flux solution of the Fokker–Planck equation
 * of these updates is ρ ∝ V² e^{−β(U + K + P₀V)}, i.e. ρ ∝ V^N e^{−β(U + K + P₀V)}
 * in (V, r, p) (N atoms, N_f = 3N − 3 thermostatted degrees of freedom); for an
 * ideal gas ⟨V⟩ = (N + 1)kT/P₀ and Var V = (N + 1)(kT/P₀)².
 *
 * Discretisation. The same stochastic dynamics are integrated in variables whose
 * noise is additive, so that the path probabilities below are exact Gaussians:
 * λ = √V (the paper's variable; Itô from the ε equation above)
 *   Δλ = (D_λ/kT) f_λ Δt + √(2D_λΔt) R,  D_λ = kTβ_T/(4τ_p),  f_λ = −2λ(P̄₀ − P_int − 3kT/(2V)),
 * and, for 'aniso', the traceless shape strain η (ε_a = ln V/3 + η_a)
 *   Δη_a = −γ(V/V₀)[(P₀_a − P̄₀) − (Π_aa − P_int)]Δt + √(2kTγΔt/V₀) R⊥_a
 * (R⊥ three normals projected onto traceless vectors). The shape mobility is taken
 * at the initial volume V₀ instead of V: the sampled ensemble is unchanged (V does not
 * depend on η), the shape relaxation rate differs by V/V₀ (a few % for a solid).
 *
 * Step (the "T" splitting of the paper's reference code, bussilab/crescale): CSVR(Δt/2) ·
 * kick(Δt/2) · [barostat(Δt) fused with drift(Δt)] · forces · kick(Δt/2) · CSVR(Δt/2).
 * The barostat move uses Π at the present positions (virial of the last force
 * evaluation, exact there) and the velocities after the first kick; the drift is
 * the exact flow of ṙ = v + ε̇r, v̇ = −ε̇v at a constant rate over the step:
 * r' = e^{Δε}r + (sinh Δε/Δε)·vΔt, v' = e^{−Δε}v (per axis), which is time-reversible.
 *
 * Effective energy (the paper's conserved quantity; Sivak, Chodera & Crooks,
 * Phys. Rev. X 3, 011007 (2013) for the path-probability argument): for a step
 * z → z' that preserved ρ ∝ e^{−βH} exactly, detailed balance would give
 * ΔH = −kT ln[p(z→z')/p(z̄'→z̄)] (z̄: velocities reversed). The energy each stochastic
 * move puts in is counted as −kT ln of that ratio and subtracted:
 *   H̃ = U + K + P̄V − (3/2)kT ln V + ∫ V (P₀_a − P̄) dε_a − Q_CSVR − W_baro,
 * with Q_CSVR the kinetic energy added by CSVR (exact, as in csvr.ts), W_baro the sum
 * over barostat moves of −kT ln[p_f/p_b] for the Gaussian kernels above — forward
 * with the drift at the start z, backward with the drift at the end z̄' (after the
 * force evaluation) — P̄ = tr P₀/3, and −(3/2)kT ln V from ρ ∝ λ³e^{−βH} in
 * (λ, η, r_a/L_a, v_a·L_a). The integral term is zero for a hydrostatic target; for
 * distinct diagonal targets the force on ε_a is not a gradient (as for MTK,
 * integrators/npt.ts) and the work along the path is accumulated (trapezoidal V).
 * H̃ is constant for exact dynamics; its drift measures the sampling error of the
 * discretisation (Verlet and barostat together) and shrinks with the step.
 * (With multiplicative noise — Euler–Maruyama directly in ε — the path ratio carries
 * an O(√Δt) error per step and H̃ random-walks by an amount that does not shrink
 * with Δt; hence λ and η.)
 *
 * Target stress: a scalar P₀, or diagonal [xx, yy, zz] ('aniso'), or a Voigt
 * tensor [xx, yy, zz, yz, xz, xy] whose shear components are zero. This variant
 * scales each Cartesian axis independently (a diagonal strain), so the cell never
 * shears and no average stress can be driven to a non-zero shear target; a shear
 * target is rejected with an error pointing to the MTK barostat's 'triclinic'
 * coupling. (The fully triclinic scheme of Del Tatto, Raiteri, Bernetti & Bussi,
 * Appl. Sci. 12, 1139 (2022) is not implemented here.) Non-hydrostatic targets are
 * for the true (Cauchy) stress: the cell settles where ⟨Π_aa⟩ = P₀_a.
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
import { halfKick } from './verlet.ts';

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
  /**
   * Target pressure, GPa (positive = compressive): a scalar, [xx, yy, zz] for coupling
   * 'aniso', or a Voigt tensor [xx, yy, zz, yz, xz, xy] whose shear components are 0.
   */
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
  /** Energy the barostat moves put in, eV (−kT ln of forward/backward path probabilities). */
  work: number;
  /** ∫ V (P₀_a − P̄) dε_a, eV (non-hydrostatic targets). */
  deviatoricWork: number;
}

const VOIGT_NAMES = ['xx', 'yy', 'zz', 'yz', 'xz', 'xy'];

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
  /** Energy the barostat moves have put in so far, eV (see the effective energy above). */
  work = 0;
  /** ∫ V (P₀_a − P̄) dε_a along the path so far, eV. */
  deviatoricWork = 0;
  private readonly meanTarget: number;
  private readonly maxVolumeRatio: number;
  private initialVolume = 0;
  private readonly kinetic = new Float64Array(6);
  /** Strain increments Δε_a = Δ ln L_a of the last move. */
  private readonly strain = new Float64Array(3);
  /** Traceless (shape) part Δη_a of the last move. */
  private readonly shape = new Float64Array(3);
  private dLambda = 0;
  private readonly noise = new Float64Array(3);
  private readonly drift = new Float64Array(4);

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
    if (values.length !== 3 && values.length !== 6) {
      throw new Error(`${who}: pressure must be a number, [xx, yy, zz] or [xx, yy, zz, yz, xz, xy] in GPa, got ${values.length} components`);
    }
    values.forEach((v, a) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${who}: pressure component ${VOIGT_NAMES[a]} must be a finite number (GPa), got ${v}`);
    });
    for (let a = 3; a < values.length; a++) {
      if (values[a] !== 0) {
        throw new Error(
          `${who}: shear target ${VOIGT_NAMES[a]} = ${values[a]} GPa is not supported: this barostat scales each Cartesian axis ` +
            `independently, so the cell cannot shear and a shear stress target can never be reached; use the MTK barostat ` +
            `(integrator 'npt') with coupling 'triclinic' for a full stress tensor`,
        );
      }
    }
    for (let a = 0; a < 3; a++) this.target[a] = values[a] * GPA_TO_EV_PER_A3;
    if (this.coupling === 'iso' && !(values[0] === values[1] && values[1] === values[2])) {
      throw new Error(`${who}: coupling 'iso' needs a scalar pressure; use 'aniso' for different axes`);
    }
    this.meanTarget = (this.target[0] + this.target[1] + this.target[2]) / 3;
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
    const V0 = system.cell.volume;
    const logForward = this.barostatMove(system, current.virial);
    const ev = forces.evaluate(system);
    const V1 = system.cell.volume;
    const logBackward = this.logBackward(system, ev.virial);
    this.work -= kB * this.temperature * (logForward - logBackward);
    if (this.coupling === 'aniso') {
      const e = this.shape, P = this.target, Pm = this.meanTarget;
      this.deviatoricWork += 0.5 * (V0 + V1) * ((P[0] - Pm) * e[0] + (P[1] - Pm) * e[1] + (P[2] - Pm) * e[2]);
    }
    halfKick(system, h);
    this.thermostat.rescale(system, h);
    return ev;
  }

  /**
   * Drift (per fs) of λ = √V and, for 'aniso', of the traceless shape strain η into
   * `this.drift` ([λ, η_x, η_y, η_z]) at the present state.
   */
  private computeDrift(system: System, virial: Float64Array): void {
    const K = system.kineticTensor(this.kinetic), out = this.drift;
    const V = system.cell.volume, kT = kB * this.temperature, lambda = Math.sqrt(V);
    const pint = (K[0] + K[1] + K[2] + virial[0] + virial[1] + virial[2]) / (3 * V);
    // (D_λ/kT)·f_λ with f_λ = −2λ(P̄₀ − P_int − 3kT/(2V)).
    out[0] = -(this.compressibility / (2 * this.barostatDamping)) * lambda * (this.meanTarget - pint - (1.5 * kT) / V);
    if (this.coupling === 'aniso') {
      const g = (this.compressibility / (3 * this.barostatDamping)) * (V / this.initialVolume);
      for (let a = 0; a < 3; a++) out[1 + a] = -g * (this.target[a] - this.meanTarget - ((K[a] + virial[a]) / V - pint));
    }
  }

  /**
   * Draws the volume (and shape) increments, moves cell, positions (fused with the
   * drift) and velocities; returns ln of the forward transition density (constants
   * that cancel against the backward one dropped).
   */
  private barostatMove(system: System, virial: Float64Array): number {
    const dt = this.dt, mu = this.drift, kT = kB * this.temperature;
    this.computeDrift(system, virial);
    const V = system.cell.volume, lambda = Math.sqrt(V);
    const rl = this.rng.normal();
    this.dLambda = mu[0] * dt + Math.sqrt((kT * this.compressibility * dt) / (2 * this.barostatDamping)) * rl;
    let logForward = -0.5 * rl * rl;
    const lambdaNew = lambda + this.dLambda;
    const ratio = (lambdaNew * lambdaNew) / this.initialVolume;
    if (!(lambdaNew > 0) || !Number.isFinite(ratio) || !(ratio < this.maxVolumeRatio) || !(ratio > 1 / this.maxVolumeRatio)) {
      const what = !Number.isFinite(ratio) ? 'became non-finite' : lambdaNew > 0 && ratio >= this.maxVolumeRatio ? 'exploded' : 'collapsed';
      const shown = lambdaNew > 0 ? ratio * this.initialVolume : 0;
      throw new Error(
        `stochastic cell rescaling: the cell ${what} at step ${system.step}: volume ${shown.toPrecision(6)} Å³ vs ` +
          `${this.initialVolume.toPrecision(6)} Å³ initially (limit ×${this.maxVolumeRatio}); check the target pressure, compressibility and damping`,
      );
    }
    const e = this.strain, eta = this.shape;
    const dVol = (2 / 3) * Math.log(lambdaNew / lambda); // Δ ln V / 3
    eta[0] = eta[1] = eta[2] = 0;
    if (this.coupling === 'aniso') {
      const sigma = Math.sqrt((2 * kT * this.compressibility * dt) / (3 * this.barostatDamping * this.initialVolume));
      const r = this.noise;
      for (let a = 0; a < 3; a++) r[a] = this.rng.normal();
      const mean = (r[0] + r[1] + r[2]) / 3;
      for (let a = 0; a < 3; a++) {
        r[a] -= mean; // projected onto traceless strains
        logForward -= 0.5 * r[a] * r[a];
        eta[a] = mu[1 + a] * dt + sigma * r[a];
      }
    }
    for (let a = 0; a < 3; a++) e[a] = dVol + eta[a];
    const s0 = Math.exp(e[0]), s1 = Math.exp(e[1]), s2 = Math.exp(e[2]);
    // Exact flow of ṙ = v + ε̇ r, v̇ = −ε̇ v at constant ε̇ over dt, per axis.
    const c0 = sinhc(e[0]) * dt, c1 = sinhc(e[1]) * dt, c2 = sinhc(e[2]) * dt;
    const i0 = 1 / s0, i1 = 1 / s1, i2 = 1 / s2;
    const x = system.positions, v = system.velocities;
    for (let p = 0; p < x.length; p += 3) {
      x[p] = s0 * x[p] + c0 * v[p];
      x[p + 1] = s1 * x[p + 1] + c1 * v[p + 1];
      x[p + 2] = s2 * x[p + 2] + c2 * v[p + 2];
      v[p] *= i0; v[p + 1] *= i1; v[p + 2] *= i2;
    }
    const hm = system.cell.matrix;
    system.cell.setMatrix([hm[0] * s0, hm[1] * s1, hm[2] * s2, hm[3] * s0, hm[4] * s1, hm[5] * s2, hm[6] * s0, hm[7] * s1, hm[8] * s2]);
    return logForward;
  }

  /** ln of the density of the reverse move (from the new state, velocities reversed, back to the old cell). */
  private logBackward(system: System, virial: Float64Array): number {
    const dt = this.dt, mu = this.drift, kT = kB * this.temperature;
    this.computeDrift(system, virial);
    const varLambda = (kT * this.compressibility * dt) / (2 * this.barostatDamping); // 2D_λΔt
    const rl = -this.dLambda - mu[0] * dt;
    let log = -(rl * rl) / (2 * varLambda);
    if (this.coupling === 'aniso') {
      const varShape = (2 * kT * this.compressibility * dt) / (3 * this.barostatDamping * this.initialVolume);
      const m = (mu[1] + mu[2] + mu[3]) / 3; // project the drift (traceless up to rounding)
      for (let a = 0; a < 3; a++) {
        const r = -this.shape[a] - (mu[1 + a] - m) * dt;
        log -= (r * r) / (2 * varShape);
      }
    }
    return log;
  }

  /**
   * Effective energy, eV: U + K + P̄V − (3/2)kT ln(V/V₀) + ∫V(P₀_a − P̄)dε_a minus the
   * energy the thermostat and barostat moves put in (see the header).
   */
  conservedEnergy(system: System, potentialEnergy: number): number {
    const V = system.cell.volume;
    if (this.initialVolume === 0) this.initialVolume = V;
    const kT = kB * this.temperature;
    return potentialEnergy + system.kineticEnergy() + this.meanTarget * V - 1.5 * kT * Math.log(V / this.initialVolume) +
      this.deviatoricWork - this.thermostat.heat - this.work;
  }

  getState(): CellRescaleState {
    return {
      rng: this.rng.getState(), thermostat: this.thermostat.getState(), initialVolume: this.initialVolume,
      work: this.work, deviatoricWork: this.deviatoricWork,
    };
  }

  setState(state: unknown): void {
    const s = state as CellRescaleState;
    if (!s || !s.rng || !s.thermostat) throw new Error('stochastic cell rescaling.setState: expected { rng, thermostat, initialVolume, work, deviatoricWork }');
    this.rng.setState(s.rng);
    this.thermostat.setState(s.thermostat);
    this.initialVolume = s.initialVolume;
    this.work = s.work ?? 0;
    this.deviatoricWork = s.deviatoricWork ?? 0;
  }
}

/** sinh(x)/x, accurate near 0. */
function sinhc(x: number): number {
  return Math.abs(x) < 1e-4 ? 1 + (x * x) / 6 : Math.sinh(x) / x;
}
