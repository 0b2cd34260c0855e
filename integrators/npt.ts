/**
 * Isothermal–isobaric (NPT) and isenthalpic (NPH) dynamics with the barostat of
 * Martyna, Tobias & Klein (J. Chem. Phys. 101, 4177 (1994)), integrated with the
 * time-reversible Trotter splitting of Tuckerman, Alejandre, López-Rendón, Jochim
 * & Martyna (J. Phys. A 39, 5629 (2006)) in the form of Shinoda, Shiga & Mikami
 * (Phys. Rev. B 69, 134103 (2004)) that LAMMPS's fix npt uses: Nosé–Hoover chains
 * on the particles and on the barostat.
 *
 * The cell moves by a strain rate ω̇ (3×3, acting on column vectors):
 *   ṙᵢ = vᵢ + ω̇ rᵢ,   v̇ᵢ = Fᵢ/mᵢ − (ω̇ + tr ω̇/N_f) vᵢ − v_ξ vᵢ,   ḣ = ω̇ h
 * (every cell vector a: ȧ = ω̇ a), with ω̇ = Σ_k c_k B_k restricted to a pattern:
 *   iso:       B = I                                  (1 component)
 *   aniso:     B = E_xx, E_yy, E_zz                   (3)
 *   xy:        B = E_xx + E_yy, E_zz                  (x and y coupled, 2)
 *   triclinic: E_xx, E_yy, E_zz, E_yz, E_xz, E_xy    (upper triangular in the
 *              column convention, so a cell in LAMMPS form — a along x, b in the
 *              xy plane — keeps that form; 6)
 * and each c_k has mass W_k = |B_k|²·W₀, W₀ = (N+1)·kT·τ_p² (LAMMPS's choice, so a
 * damping τ_p gives the same cell oscillation as fix npt), driven by
 *   W_k ċ_k = B_k : [V(Π − S) + (2K/N_f) I] − v_η c_k W_k,
 * Π = (Σ m v⊗v + Σ r⊗f)/V the instantaneous pressure tensor, S the target pressure
 * tensor, N_f the particle degrees of freedom (3N − 3: the total momentum is zero
 * and conserved). The conserved quantity is
 *   H' = K + U + Σ ½W_k c_k² + P̄V + ∫ V D:ω̇ dt + chain energies,
 * with P̄ = tr S/3 and D = S − P̄I its deviatoric part (zero for a scalar pressure;
 * the integral is accumulated along the trajectory). A non-hydrostatic target is a
 * target for the true (Cauchy) stress: the cell settles where ⟨Π⟩ = S.
 *
 * Ensemble (isotropic, ideal gas, from the generalised Liouville theorem with the
 * compressibility of these equations): ρ(V) ∝ V^{N_f/3} e^{−βPV}, i.e.
 * ⟨V⟩ = (N_f/3 + 1)kT/P = N·kT/P for N_f = 3N − 3 (the N−1 relative positions of
 * N atoms whose centre of mass is fixed in fractional coordinates).
 *
 * A cell that becomes too skewed is re-reduced (src/cell-reduce.ts) and the
 * neighbour list invalidated; a collapsing or exploding cell stops with an error.
 */
import { reduceCellInPlace, DEFAULT_REDUCE_TOLERANCE } from '../src/cell-reduce.ts';
import { GPA_TO_EV_PER_A3, kB, ACCEL } from '../src/units.ts';
import type { Evaluation, ForceEvaluator } from '../src/forces.ts';
import type { System } from '../src/system.ts';
import { requirePositive, type Integrator } from './integrator.ts';
import { NoseHooverChain, type NoseHooverChainState } from './nhc.ts';

export type BarostatCoupling = 'iso' | 'aniso' | 'xy' | 'triclinic';

export interface MtkOptions {
  /** Time step, fs. */
  dt: number;
  /** Target temperature, K; for NPH (thermostat: false) only the reference for the barostat mass. */
  temperature: number;
  /**
   * Target pressure, GPa: a scalar (hydrostatic), or a pressure tensor in Voigt order
   * xx yy zz yz xz xy (positive = compressive, LAMMPS's sign).
   */
  pressure: number | readonly number[];
  /** Cell degrees of freedom (default 'iso'). */
  coupling?: BarostatCoupling;
  /** Thermostat the particles (NPT, default) or not (NPH). */
  thermostat?: boolean;
  /** Particle thermostat period τ_T, fs (default 100·dt). */
  damping?: number;
  /** Barostat period τ_p, fs (default 1000·dt). */
  barostatDamping?: number;
  /** Nosé–Hoover chain lengths on particles and barostat (default 3, 3; 0 on the barostat = none). */
  chainLength?: number;
  barostatChainLength?: number;
  /** Re-reduce the cell once a tilt exceeds ½ + this (default 0.01); null disables. */
  reduceTolerance?: number | null;
  /** Stop when V/V₀ leaves [1/maxVolumeRatio, maxVolumeRatio] (default 1000). */
  maxVolumeRatio?: number;
  /** Receives warnings (default console.warn). */
  warn?: (message: string) => void;
}

export interface MtkState {
  rates: number[];
  work: number;
  initialVolume: number;
  thermostat: NoseHooverChainState | null;
  barostatThermostat: NoseHooverChainState | null;
  reductions: number;
}

/** Basis matrices (row-major 3×3, column-vector convention) of each coupling. */
function couplingBasis(coupling: BarostatCoupling): Float64Array[] {
  const e = (...entries: [number, number][]) => {
    const m = new Float64Array(9);
    for (const [a, b] of entries) m[3 * a + b] = 1;
    return m;
  };
  switch (coupling) {
    case 'iso': return [e([0, 0], [1, 1], [2, 2])];
    case 'aniso': return [e([0, 0]), e([1, 1]), e([2, 2])];
    case 'xy': return [e([0, 0], [1, 1]), e([2, 2])];
    case 'triclinic': return [e([0, 0]), e([1, 1]), e([2, 2]), e([1, 2]), e([0, 2]), e([0, 1])];
    default: throw new Error(`MTK barostat: coupling must be 'iso', 'aniso', 'xy' or 'triclinic', got '${coupling as string}'`);
  }
}

/** Voigt index of the symmetric tensor entry (a, b). */
const VOIGT = [0, 5, 4, 5, 1, 3, 4, 3, 2];

export class MtkBarostat implements Integrator {
  readonly name: string;
  readonly dt: number;
  readonly temperature: number;
  readonly coupling: BarostatCoupling;
  /** Target pressure tensor, eV/Å³, Voigt. */
  readonly target = new Float64Array(6);
  readonly damping: number;
  readonly barostatDamping: number;
  /** Strain-rate coefficients c_k, 1/fs. */
  readonly rates: Float64Array;
  /** Barostat masses W_k, eV·fs² (set at the first step from N). */
  readonly masses: Float64Array;
  /** Number of cell re-reductions so far. */
  reductions = 0;
  private readonly basis: Float64Array[];
  private readonly thermostatOn: boolean;
  private readonly chainLength: number;
  private readonly barostatChainLength: number;
  private thermostat: NoseHooverChain | null = null;
  private barostatThermostat: NoseHooverChain | null = null;
  private readonly reduceTolerance: number | null;
  private readonly maxVolumeRatio: number;
  private readonly meanPressure: number;
  private readonly deviatoric = new Float64Array(9);
  private work = 0;
  private initialVolume = 0;
  private dof = 0;
  private readonly omega = new Float64Array(9);
  private readonly expo = new Float64Array(9);
  private readonly scratch = new Float64Array(9);
  private readonly kinetic = new Float64Array(6);
  private readonly cellScratch = new Float64Array(9);
  private pendingState: MtkState | null = null;

  constructor(options: MtkOptions) {
    const who = 'MTK barostat';
    this.dt = requirePositive(who, 'dt', options.dt);
    this.temperature = requirePositive(who, 'temperature', options.temperature);
    this.coupling = options.coupling ?? 'iso';
    this.basis = couplingBasis(this.coupling);
    this.thermostatOn = options.thermostat ?? true;
    this.name = this.thermostatOn ? 'npt' : 'nph';
    this.damping = requirePositive(who, 'damping', options.damping ?? 100 * this.dt);
    this.barostatDamping = requirePositive(who, 'barostatDamping', options.barostatDamping ?? 1000 * this.dt);
    this.chainLength = chainLengthOption(who, 'chainLength', options.chainLength ?? 3, 1);
    this.barostatChainLength = chainLengthOption(who, 'barostatChainLength', options.barostatChainLength ?? 3, 0);
    this.reduceTolerance = options.reduceTolerance === null ? null : (options.reduceTolerance ?? DEFAULT_REDUCE_TOLERANCE);
    this.maxVolumeRatio = options.maxVolumeRatio ?? 1000;
    if (!(this.maxVolumeRatio > 1) || !Number.isFinite(this.maxVolumeRatio)) {
      throw new Error(`${who}: maxVolumeRatio must be a finite number > 1, got ${options.maxVolumeRatio}`);
    }
    const p = options.pressure;
    if (typeof p === 'number') {
      if (!Number.isFinite(p)) throw new Error(`${who}: pressure must be a finite number (GPa), got ${p}`);
      this.target.fill(0);
      this.target[0] = this.target[1] = this.target[2] = p * GPA_TO_EV_PER_A3;
    } else {
      if (!p || p.length !== 6) throw new Error(`${who}: pressure tensor must have 6 components (xx yy zz yz xz xy, GPa), got ${p?.length}`);
      p.forEach((v, k) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${who}: pressure component ${['xx', 'yy', 'zz', 'yz', 'xz', 'xy'][k]} must be a finite number (GPa), got ${v}`);
        this.target[k] = v * GPA_TO_EV_PER_A3;
      });
      if (this.coupling === 'iso' && !(p[0] === p[1] && p[1] === p[2] && p[3] === 0 && p[4] === 0 && p[5] === 0)) {
        throw new Error(`${who}: coupling 'iso' needs a hydrostatic pressure; use 'aniso' or 'triclinic' for a stress tensor`);
      }
      if (this.coupling !== 'triclinic' && (p[3] !== 0 || p[4] !== 0 || p[5] !== 0)) {
        throw new Error(`${who}: shear components of the target pressure need coupling 'triclinic'`);
      }
    }
    this.meanPressure = (this.target[0] + this.target[1] + this.target[2]) / 3;
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) this.deviatoric[3 * a + b] = this.target[VOIGT[3 * a + b]] - (a === b ? this.meanPressure : 0);
    this.rates = new Float64Array(this.basis.length);
    this.masses = new Float64Array(this.basis.length);

    const warn = options.warn ?? ((m: string) => console.warn(m));
    if (this.barostatDamping < 100 * this.dt) {
      warn(`${who}: barostat damping ${this.barostatDamping} fs is under 100 time steps (${100 * this.dt} fs); the cell may oscillate violently — 1000·dt is a safe choice`);
    }
    if (this.thermostatOn && this.damping < 10 * this.dt) {
      warn(`${who}: thermostat damping ${this.damping} fs is under 10 time steps; the chain is integrated inaccurately — 100·dt is a safe choice`);
    }
  }

  /** Sets up masses and chains for this system (first step). */
  private setup(system: System): void {
    if (!system.cell.hasVolume || !system.cell.pbc.every((p) => p)) {
      throw new Error('MTK barostat: needs a cell periodic along all three axes');
    }
    if (this.coupling === 'triclinic') {
      const h = system.cell.matrix;
      const scale = Math.max(Math.abs(h[0]), Math.abs(h[4]), Math.abs(h[8]));
      if (Math.abs(h[1]) > 1e-12 * scale || Math.abs(h[2]) > 1e-12 * scale || Math.abs(h[5]) > 1e-12 * scale) {
        throw new Error("MTK barostat: coupling 'triclinic' needs the cell in LAMMPS form (a along x, b in the xy plane: rows (lx,0,0), (xy,ly,0), (xz,yz,lz))");
      }
    }
    const kT = kB * this.temperature;
    this.dof = system.degreesOfFreedom;
    const w0 = (system.n + 1) * kT * this.barostatDamping * this.barostatDamping;
    this.basis.forEach((b, k) => {
      let norm2 = 0;
      for (let q = 0; q < 9; q++) norm2 += b[q] * b[q];
      this.masses[k] = norm2 * w0;
    });
    if (this.thermostatOn) {
      this.thermostat = new NoseHooverChain({ temperature: this.temperature, damping: this.damping, dof: this.dof, length: this.chainLength });
    }
    if (this.thermostatOn && this.barostatChainLength > 0) {
      this.barostatThermostat = new NoseHooverChain({
        temperature: this.temperature, damping: this.barostatDamping, dof: this.basis.length, length: this.barostatChainLength,
      });
    }
    this.initialVolume = system.cell.volume;
    if (this.pendingState) {
      const s = this.pendingState;
      this.pendingState = null;
      this.applyState(s);
    }
  }

  step(system: System, forces: ForceEvaluator, current: Evaluation): Evaluation {
    if (this.dof === 0) this.setup(system);
    const dt = this.dt, h = 0.5 * dt;
    this.thermostatHalf(system, h);
    this.kickBarostat(system, current.virial, h);
    this.velocityHalf(system, h);
    this.driftAndDeform(system, forces);
    const ev = forces.evaluate(system);
    this.velocityHalf(system, h);
    this.kickBarostat(system, ev.virial, h);
    this.thermostatHalf(system, h);
    return ev;
  }

  /** Barostat chain then particle chain (the mirror order at the end of a step is equivalent: they commute). */
  private thermostatHalf(system: System, h: number): void {
    if (this.barostatThermostat) {
      let twiceKinetic = 0;
      for (let k = 0; k < this.rates.length; k++) twiceKinetic += this.masses[k] * this.rates[k] * this.rates[k];
      const s = this.barostatThermostat.propagate(twiceKinetic, h);
      for (let k = 0; k < this.rates.length; k++) this.rates[k] *= s;
    }
    if (this.thermostat) {
      const s = this.thermostat.propagate(2 * system.kineticEnergy(), h);
      const v = system.velocities;
      for (let k = 0; k < v.length; k++) v[k] *= s;
    }
  }

  /** c_k += h·G_k/W_k with G_k = B_k : [V(Π − S) + (2K/N_f) I]. */
  private kickBarostat(system: System, virial: Float64Array, h: number): void {
    const K = system.kineticTensor(this.kinetic);
    const V = system.cell.volume;
    const twoKOverDof = (K[0] + K[1] + K[2]) / this.dof;
    for (let k = 0; k < this.rates.length; k++) {
      const b = this.basis[k];
      let g = 0;
      for (let q = 0; q < 9; q++) {
        if (b[q] === 0) continue;
        const voigt = VOIGT[q];
        const diag = q === 0 || q === 4 || q === 8;
        g += b[q] * (K[voigt] + virial[voigt] - V * this.target[voigt] + (diag ? twoKOverDof : 0));
      }
      this.rates[k] += (h * g) / this.masses[k];
      if (!Number.isFinite(this.rates[k])) {
        throw new Error(`MTK barostat: cell velocity became ${this.rates[k]} at step ${system.step} (virial or masses not finite)`);
      }
    }
  }

  /** Fills this.omega with ω̇ = Σ c_k B_k. */
  private strainRate(): Float64Array {
    const w = this.omega;
    w.fill(0);
    for (let k = 0; k < this.rates.length; k++) {
      const b = this.basis[k], c = this.rates[k];
      for (let q = 0; q < 9; q++) w[q] += c * b[q];
    }
    return w;
  }

  /** v ← e^{−Aτ}(e^{−Aτ}v + h F/m), A = ω̇ + tr ω̇/N_f, τ = h/2. */
  private velocityHalf(system: System, h: number): void {
    const w = this.strainRate();
    const m = this.scratch;
    const trace = (w[0] + w[4] + w[8]) / this.dof;
    for (let q = 0; q < 9; q++) m[q] = -0.5 * h * (w[q] + (q === 0 || q === 4 || q === 8 ? trace : 0));
    const e = expm3(m, this.expo);
    const v = system.velocities, f = system.forces, mass = system.masses;
    for (let i = 0; i < system.n; i++) {
      const p = 3 * i;
      let x = v[p], y = v[p + 1], z = v[p + 2];
      let nx = e[0] * x + e[1] * y + e[2] * z;
      let ny = e[3] * x + e[4] * y + e[5] * z;
      let nz = e[6] * x + e[7] * y + e[8] * z;
      const c = (h * ACCEL) / mass[i];
      x = nx + c * f[p]; y = ny + c * f[p + 1]; z = nz + c * f[p + 2];
      nx = e[0] * x + e[1] * y + e[2] * z;
      ny = e[3] * x + e[4] * y + e[5] * z;
      nz = e[6] * x + e[7] * y + e[8] * z;
      v[p] = nx; v[p + 1] = ny; v[p + 2] = nz;
    }
  }

  /** r ← e^{ω̇dt/2}(e^{ω̇dt/2}r + dt·v), h ← e^{ω̇dt}h; checks and re-reduces the cell. */
  private driftAndDeform(system: System, forces: ForceEvaluator): void {
    const dt = this.dt;
    const w = this.strainRate();
    const m = this.scratch;
    for (let q = 0; q < 9; q++) m[q] = 0.5 * dt * w[q];
    const e = expm3(m, this.expo);
    const x = system.positions, v = system.velocities;
    for (let i = 0; i < system.n; i++) {
      const p = 3 * i;
      const x0 = x[p], y0 = x[p + 1], z0 = x[p + 2];
      const a = e[0] * x0 + e[1] * y0 + e[2] * z0 + dt * v[p];
      const b = e[3] * x0 + e[4] * y0 + e[5] * z0 + dt * v[p + 1];
      const c = e[6] * x0 + e[7] * y0 + e[8] * z0 + dt * v[p + 2];
      x[p] = e[0] * a + e[1] * b + e[2] * c;
      x[p + 1] = e[3] * a + e[4] * b + e[5] * c;
      x[p + 2] = e[6] * a + e[7] * b + e[8] * c;
    }
    // Cell vectors (rows) transform like positions: a ← e^{ω̇dt} a.
    const cell = system.cell, hm = cell.matrix, out = this.cellScratch;
    const volumeBefore = cell.volume;
    for (let r = 0; r < 3; r++) {
      let a = hm[3 * r], b = hm[3 * r + 1], c = hm[3 * r + 2];
      for (let pass = 0; pass < 2; pass++) {
        const na = e[0] * a + e[1] * b + e[2] * c;
        const nb = e[3] * a + e[4] * b + e[5] * c;
        const nc = e[6] * a + e[7] * b + e[8] * c;
        a = na; b = nb; c = nc;
      }
      out[3 * r] = a; out[3 * r + 1] = b; out[3 * r + 2] = c;
    }
    this.checkCell(system, out);
    cell.setMatrix(out);
    const volumeAfter = cell.volume;
    // ∫V D:ω̇ dt over the step (trapezoid in V; ω̇ is constant during the drift).
    let dw = 0;
    for (let q = 0; q < 9; q++) dw += this.deviatoric[q] * w[q];
    if (dw !== 0) this.work += 0.5 * (volumeBefore + volumeAfter) * dw * dt;
    if (this.reduceTolerance !== null && reduceCellInPlace(cell, this.reduceTolerance)) {
      this.reductions++;
      forces.neighbors.invalidate();
    }
  }

  private checkCell(system: System, h: Float64Array): void {
    const det = h[0] * (h[4] * h[8] - h[5] * h[7]) - h[1] * (h[3] * h[8] - h[5] * h[6]) + h[2] * (h[3] * h[7] - h[4] * h[6]);
    const ratio = Math.abs(det) / this.initialVolume;
    const bad = !Number.isFinite(det) || !(ratio < this.maxVolumeRatio) || !(ratio > 1 / this.maxVolumeRatio);
    if (bad) {
      const what = !Number.isFinite(det) ? 'became non-finite' : ratio >= this.maxVolumeRatio ? 'exploded' : 'collapsed';
      throw new Error(
        `MTK barostat: the cell ${what} at step ${system.step}: volume ${Math.abs(det).toPrecision(6)} Å³ vs ${this.initialVolume.toPrecision(6)} Å³ ` +
          `initially (limit ×${this.maxVolumeRatio}); check the target pressure, temperature and barostat damping`,
      );
    }
  }

  conservedEnergy(system: System, potentialEnergy: number): number {
    let e = potentialEnergy + system.kineticEnergy() + this.meanPressure * system.cell.volume + this.work;
    for (let k = 0; k < this.rates.length; k++) e += 0.5 * this.masses[k] * this.rates[k] * this.rates[k];
    if (this.thermostat) e += this.thermostat.energy();
    if (this.barostatThermostat) e += this.barostatThermostat.energy();
    return e;
  }

  getState(): MtkState {
    return {
      rates: Array.from(this.rates),
      work: this.work,
      initialVolume: this.initialVolume,
      thermostat: this.thermostat?.getState() ?? null,
      barostatThermostat: this.barostatThermostat?.getState() ?? null,
      reductions: this.reductions,
    };
  }

  setState(state: unknown): void {
    const s = state as MtkState;
    if (!s || !Array.isArray(s.rates) || s.rates.length !== this.rates.length) {
      throw new Error(`MTK barostat.setState: expected ${this.rates.length} cell rates for coupling '${this.coupling}'`);
    }
    if (this.dof === 0) this.pendingState = s; // chains exist only after the first step sees the system
    else this.applyState(s);
  }

  private applyState(s: MtkState): void {
    this.rates.set(s.rates);
    this.work = s.work;
    this.initialVolume = s.initialVolume;
    this.reductions = s.reductions;
    if (s.thermostat && this.thermostat) this.thermostat.setState(s.thermostat);
    if (s.barostatThermostat && this.barostatThermostat) this.barostatThermostat.setState(s.barostatThermostat);
  }
}

function chainLengthOption(who: string, name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`${who}: ${name} must be an integer ≥ ${min}, got ${value}`);
  return value;
}

/**
 * Matrix exponential of a 3×3 matrix (row-major) by scaling and squaring of the
 * Taylor series; the argument here is a strain increment, so it is small and a
 * dozen terms reach machine precision.
 */
export function expm3(m: Float64Array, out: Float64Array = new Float64Array(9)): Float64Array {
  let norm = 0;
  for (let r = 0; r < 3; r++) norm = Math.max(norm, Math.abs(m[3 * r]) + Math.abs(m[3 * r + 1]) + Math.abs(m[3 * r + 2]));
  let s = 0;
  while (norm > 0.25 && s < 60) { norm *= 0.5; s++; }
  const f = 2 ** -s;
  const a0 = m[0] * f, a1 = m[1] * f, a2 = m[2] * f, a3 = m[3] * f, a4 = m[4] * f, a5 = m[5] * f, a6 = m[6] * f, a7 = m[7] * f, a8 = m[8] * f;
  // Horner: e = I + A(I + A/2(I + A/3(...)))
  let t0 = 1, t1 = 0, t2 = 0, t3 = 0, t4 = 1, t5 = 0, t6 = 0, t7 = 0, t8 = 1;
  for (let n = 14; n >= 1; n--) {
    const c = 1 / n;
    const u0 = (a0 * t0 + a1 * t3 + a2 * t6) * c, u1 = (a0 * t1 + a1 * t4 + a2 * t7) * c, u2 = (a0 * t2 + a1 * t5 + a2 * t8) * c;
    const u3 = (a3 * t0 + a4 * t3 + a5 * t6) * c, u4 = (a3 * t1 + a4 * t4 + a5 * t7) * c, u5 = (a3 * t2 + a4 * t5 + a5 * t8) * c;
    const u6 = (a6 * t0 + a7 * t3 + a8 * t6) * c, u7 = (a6 * t1 + a7 * t4 + a8 * t7) * c, u8 = (a6 * t2 + a7 * t5 + a8 * t8) * c;
    t0 = 1 + u0; t1 = u1; t2 = u2; t3 = u3; t4 = 1 + u4; t5 = u5; t6 = u6; t7 = u7; t8 = 1 + u8;
  }
  for (let k = 0; k < s; k++) {
    const u0 = t0 * t0 + t1 * t3 + t2 * t6, u1 = t0 * t1 + t1 * t4 + t2 * t7, u2 = t0 * t2 + t1 * t5 + t2 * t8;
    const u3 = t3 * t0 + t4 * t3 + t5 * t6, u4 = t3 * t1 + t4 * t4 + t5 * t7, u5 = t3 * t2 + t4 * t5 + t5 * t8;
    const u6 = t6 * t0 + t7 * t3 + t8 * t6, u7 = t6 * t1 + t7 * t4 + t8 * t7, u8 = t6 * t2 + t7 * t5 + t8 * t8;
    t0 = u0; t1 = u1; t2 = u2; t3 = u3; t4 = u4; t5 = u5; t6 = u6; t7 = u7; t8 = u8;
  }
  out[0] = t0; out[1] = t1; out[2] = t2; out[3] = t3; out[4] = t4; out[5] = t5; out[6] = t6; out[7] = t7; out[8] = t8;
  return out;
}
