/**
 * Shared pieces of the many-body potential tests (SW, Tersoff): test structures,
 * the LAMMPS cross-check at round-off level and central finite differences.
 */
import { expect } from 'vitest';
import { Cell } from '../src/cell.ts';
import { ForceEvaluator, type Evaluation } from '../src/forces.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';
import type { Potential } from '../potentials/potential.ts';
import { lammpsSinglePoint, type LammpsSinglePoint } from './oracles/lammps.ts';

/** Displaces every atom by a uniform random vector in [-amp, amp)³. */
export function perturb(system: System, amp: number, rng: Rng): System {
  const x = system.positions;
  for (let k = 0; k < x.length; k++) x[k] += amp * (2 * rng.uniform() - 1);
  return system;
}

/**
 * n atoms placed at random in the cell with no two closer than minDist (periodic
 * minimum image), species drawn with the given probabilities.
 */
export function randomStructure(
  cell: Cell,
  n: number,
  minDist: number,
  rng: Rng,
  elements: string[],
  fractions: number[] = elements.map(() => 1 / elements.length),
): System {
  const positions: number[] = [];
  const symbols: string[] = [];
  const d = new Float64Array(3);
  let tries = 0;
  while (symbols.length < n) {
    if (++tries > 1_000_000) throw new Error('randomStructure: cannot place atoms; lower the density');
    const s = [rng.uniform(), rng.uniform(), rng.uniform()];
    const r = cell.toCartesian(s);
    let ok = true;
    for (let j = 0; j < symbols.length && ok; j++) {
      d[0] = r[0] - positions[3 * j]; d[1] = r[1] - positions[3 * j + 1]; d[2] = r[2] - positions[3 * j + 2];
      if (cell.minimumImage(d) < minDist * minDist) ok = false;
    }
    if (!ok) continue;
    positions.push(r[0], r[1], r[2]);
    let u = rng.uniform(), t = 0;
    while (t < elements.length - 1 && u >= fractions[t]) { u -= fractions[t]; t++; }
    symbols.push(elements[t]);
  }
  return new System({ symbols, positions, cell });
}

/** Applies the lattice's own affine map to a new (e.g. tilted) cell. */
export function deform(system: System, cell: Cell): System {
  const s = system.cell.toFractional(system.positions);
  return new System({ symbols: system.symbols, positions: cell.toCartesian(s), cell });
}

export function evaluate(system: System, potential: Potential, atomEnergies = true): Evaluation & { forces: Float64Array } {
  const ev = new ForceEvaluator(potential).evaluate(system, { atomEnergies });
  return { ...ev, forces: system.forces.slice() };
}

/** LAMMPS single point with `pair_style <style>` and the system's elements mapped in order. */
export function lammpsReference(system: System, style: string, file: string): LammpsSinglePoint {
  const masses = system.elements.map((_, t) => system.masses[system.species.indexOf(t)]);
  return lammpsSinglePoint(
    { cell: system.cell.matrix, positions: system.positions, species: system.species, elements: system.elements, masses },
    [`pair_style ${style}`, `pair_coeff * * ${file} ${system.elements.join(' ')}`],
  );
}

/** Largest |a−b| over all entries. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]));
  return m;
}

/**
 * Energy, every force component, the virial and per-atom energies agree with
 * LAMMPS to `rel` relative (force components and per-atom energies relative to
 * the largest of them, virial components to the largest virial component).
 */
export function expectMatchesLammps(system: System, potential: Potential, style: string, file: string, rel = 1e-9): { forceErr: number; energyErr: number } {
  const ours = evaluate(system, potential);
  const ref = lammpsReference(system, style, file);
  expect(Number.isFinite(ours.energy)).toBe(true);
  expect(Math.abs(ours.energy - ref.energy)).toBeLessThanOrEqual(rel * Math.abs(ref.energy));
  const fScale = maxAbs(ref.forces);
  expect(fScale).toBeGreaterThan(0);
  const forceErr = maxAbsDiff(ours.forces, ref.forces) / fScale;
  expect(forceErr).toBeLessThanOrEqual(rel);
  expect(maxAbsDiff(ours.virial, ref.virial)).toBeLessThanOrEqual(rel * maxAbs(ref.virial));
  expect(maxAbsDiff(ours.atomEnergies!, ref.atomEnergies)).toBeLessThanOrEqual(rel * maxAbs(ref.atomEnergies));
  return { forceErr, energyErr: Math.abs(ours.energy - ref.energy) / Math.abs(ref.energy) };
}

function energyAt(potential: Potential, system: System): number {
  return new ForceEvaluator(potential).evaluate(system).energy;
}

/**
 * Forces against central differences of the energy, for the first `count` atoms:
 * max |F − F_fd| relative to max |F|.
 */
export function finiteDifferenceForceError(system: System, potential: Potential, h = 1e-5, count = system.n): number {
  const analytic = evaluate(system, potential, false).forces;
  const x = system.positions;
  let err = 0;
  for (let k = 0; k < 3 * Math.min(count, system.n); k++) {
    const x0 = x[k];
    x[k] = x0 + h;
    const ep = energyAt(potential, system);
    x[k] = x0 - h;
    const em = energyAt(potential, system);
    x[k] = x0;
    err = Math.max(err, Math.abs(analytic[k] + (ep - em) / (2 * h)));
  }
  return err / maxAbs(analytic);
}

/**
 * Virial W = Σ r⊗f against −∂E/∂ε of a homogeneous strain ε (applied to cell and
 * positions), central differences; relative to the largest component.
 */
export function finiteDifferenceVirialError(system: System, potential: Potential, h = 1e-6): number {
  const analytic = evaluate(system, potential, false).virial;
  const pairs: [number, number][] = [[0, 0], [1, 1], [2, 2], [1, 2], [0, 2], [0, 1]];
  const h0 = Float64Array.from(system.cell.matrix), x0 = Float64Array.from(system.positions);
  const strained = (a: number, b: number, e: number): number => {
    // r' = r (I + ε) with symmetric ε: ε_ab = ε_ba = e (or e on the diagonal).
    const eps = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    if (a === b) eps[3 * a + b] += e;
    else { eps[3 * a + b] += e / 2; eps[3 * b + a] += e / 2; }
    const apply = (src: Float64Array, dst: Float64Array) => {
      for (let p = 0; p < src.length; p += 3) {
        for (let c = 0; c < 3; c++) dst[p + c] = src[p] * eps[c] + src[p + 1] * eps[3 + c] + src[p + 2] * eps[6 + c];
      }
    };
    const hm = new Float64Array(9);
    apply(h0, hm);
    const xm = new Float64Array(x0.length);
    apply(x0, xm);
    const s = new System({ symbols: system.symbols, positions: xm, cell: new Cell(hm, system.cell.pbc) });
    return energyAt(potential, s);
  };
  let err = 0;
  pairs.forEach(([a, b], v) => {
    const dEde = (strained(a, b, h) - strained(a, b, -h)) / (2 * h);
    err = Math.max(err, Math.abs(analytic[v] + dEde));
  });
  return err / maxAbs(analytic);
}
