/**
 * The state of a simulation as structure-of-arrays: positions, velocities and
 * forces as Float64Array(3n), species as small integers into an element table,
 * per-atom masses. No per-atom objects.
 */
import { Cell } from './cell.ts';
import { atomicMass, atomicNumber } from './elements.ts';
import { Rng } from './rng.ts';
import { kB, MVV_TO_EV } from './units.ts';

export interface SystemInit {
  /** One element symbol per atom. */
  symbols: readonly string[];
  /** Cartesian positions, Å, length 3n. */
  positions: ArrayLike<number>;
  cell?: Cell;
  /** Å/fs, length 3n; zero if omitted. */
  velocities?: ArrayLike<number>;
  /** Mass per element symbol, overriding the standard atomic weight. */
  masses?: Readonly<Record<string, number>>;
}

export class System {
  readonly n: number;
  readonly positions: Float64Array;
  readonly velocities: Float64Array;
  readonly forces: Float64Array;
  /** Index of each atom's element in `elements`. */
  readonly species: Int32Array;
  /** The element table: distinct symbols in order of first appearance. */
  readonly elements: readonly string[];
  /** Mass of each atom, amu. */
  readonly masses: Float64Array;
  cell: Cell;
  /** Simulation time in fs and the step counter. */
  time = 0;
  step = 0;

  constructor(init: SystemInit) {
    const n = init.symbols.length;
    if (init.positions.length !== 3 * n) {
      throw new Error(`System: ${n} symbols but ${init.positions.length / 3} positions`);
    }
    this.n = n;
    this.positions = Float64Array.from(init.positions);
    for (let k = 0; k < 3 * n; k++) {
      if (!Number.isFinite(this.positions[k])) {
        throw new Error(`System: position of atom ${Math.floor(k / 3)} is not finite (${this.positions[k]})`);
      }
    }
    this.velocities = init.velocities ? Float64Array.from(init.velocities) : new Float64Array(3 * n);
    if (this.velocities.length !== 3 * n) throw new Error(`System: velocities must have length ${3 * n}`);
    this.forces = new Float64Array(3 * n);
    const elements: string[] = [];
    const index = new Map<string, number>();
    this.species = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = init.symbols[i];
      let t = index.get(s);
      if (t === undefined) {
        atomicNumber(s); // validates the symbol
        t = elements.length;
        index.set(s, t);
        elements.push(s);
      }
      this.species[i] = t;
    }
    this.elements = elements;
    this.masses = new Float64Array(n);
    const elementMass = elements.map((s) => init.masses?.[s] ?? atomicMass(s));
    elementMass.forEach((m, t) => {
      if (!(m > 0) || !Number.isFinite(m)) throw new Error(`System: mass of ${elements[t]} must be positive, got ${m}`);
    });
    for (let i = 0; i < n; i++) this.masses[i] = elementMass[this.species[i]];
    this.cell = init.cell ?? Cell.none();
  }

  /** Element symbol of every atom. */
  get symbols(): string[] {
    return Array.from(this.species, (t) => this.elements[t]);
  }

  /** Kinetic energy, eV. */
  kineticEnergy(): number {
    const v = this.velocities, m = this.masses;
    let sum = 0;
    for (let i = 0; i < this.n; i++) {
      const vx = v[3 * i], vy = v[3 * i + 1], vz = v[3 * i + 2];
      sum += m[i] * (vx * vx + vy * vy + vz * vz);
    }
    return 0.5 * sum * MVV_TO_EV;
  }

  /**
   * Degrees of freedom used for the temperature: 3n minus the 3 of the centre of
   * mass (as LAMMPS's default temperature compute) when there is more than one atom.
   */
  get degreesOfFreedom(): number {
    return this.n > 1 ? 3 * this.n - 3 : 3 * this.n;
  }

  /** Instantaneous temperature, K. */
  temperature(): number {
    const dof = this.degreesOfFreedom;
    return dof > 0 ? (2 * this.kineticEnergy()) / (dof * kB) : 0;
  }

  /** Kinetic part of the virial, Σ m v⊗v in eV, Voigt order xx yy zz yz xz xy. */
  kineticTensor(out: Float64Array = new Float64Array(6)): Float64Array {
    out.fill(0);
    const v = this.velocities, m = this.masses;
    for (let i = 0; i < this.n; i++) {
      const vx = v[3 * i], vy = v[3 * i + 1], vz = v[3 * i + 2], mi = m[i] * MVV_TO_EV;
      out[0] += mi * vx * vx;
      out[1] += mi * vy * vy;
      out[2] += mi * vz * vz;
      out[3] += mi * vy * vz;
      out[4] += mi * vx * vz;
      out[5] += mi * vx * vy;
    }
    return out;
  }

  /** Removes the centre-of-mass velocity. */
  zeroMomentum(): void {
    const v = this.velocities, m = this.masses;
    let px = 0, py = 0, pz = 0, mt = 0;
    for (let i = 0; i < this.n; i++) {
      px += m[i] * v[3 * i];
      py += m[i] * v[3 * i + 1];
      pz += m[i] * v[3 * i + 2];
      mt += m[i];
    }
    if (mt === 0) return;
    px /= mt; py /= mt; pz /= mt;
    for (let i = 0; i < this.n; i++) {
      v[3 * i] -= px;
      v[3 * i + 1] -= py;
      v[3 * i + 2] -= pz;
    }
  }

  /**
   * Maxwell–Boltzmann velocities at temperature T (K) from a seeded generator,
   * with zero total momentum, rescaled so the instantaneous temperature is exactly T.
   */
  setTemperature(T: number, rng: Rng): void {
    if (!(T >= 0) || !Number.isFinite(T)) throw new Error(`temperature must be a finite number ≥ 0 K, got ${T}`);
    const v = this.velocities;
    for (let i = 0; i < this.n; i++) {
      const sigma = Math.sqrt((kB * T) / (this.masses[i] * MVV_TO_EV));
      v[3 * i] = sigma * rng.normal();
      v[3 * i + 1] = sigma * rng.normal();
      v[3 * i + 2] = sigma * rng.normal();
    }
    if (this.n > 1) this.zeroMomentum();
    const current = this.temperature();
    const scale = current > 0 ? Math.sqrt(T / current) : 0;
    for (let k = 0; k < 3 * this.n; k++) v[k] *= scale;
  }

  /** Mass of each element in the table, by symbol. */
  elementMasses(): Record<string, number> {
    const masses: Record<string, number> = {};
    for (let i = 0; i < this.n; i++) masses[this.elements[this.species[i]]] ??= this.masses[i];
    return masses;
  }

  /** A deep copy (cell included). */
  clone(): System {
    const s = new System({
      symbols: this.symbols,
      positions: this.positions,
      velocities: this.velocities,
      cell: this.cell.clone(),
      masses: this.elementMasses(),
    });
    s.forces.set(this.forces);
    s.time = this.time;
    s.step = this.step;
    return s;
  }
}
