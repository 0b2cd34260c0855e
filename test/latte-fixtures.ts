/** Shared structures for the LATTE tests. */
import { LatteModel } from '../potentials/latte/model.ts';
import { fitStatistics, prepareSystem, type TrainingStructure } from '../potentials/latte/train.ts';
import { LennardJones } from '../potentials/lj.ts';
import { Cell } from '../src/cell.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';

/** A triclinic periodic cell (row vectors `matrix`) with n atoms at random fractional positions; atom i is `symbolAt(i)`. */
export function randomTriclinic(seed: number, n: number, symbolAt: (i: number) => string, matrix: readonly number[]): System {
  const rng = new Rng(seed);
  const cell = new Cell([...matrix]);
  const frac: number[] = [];
  for (let k = 0; k < 3 * n; k++) frac.push(rng.uniform());
  return new System({ symbols: Array.from({ length: n }, (_, i) => symbolAt(i)), positions: cell.toCartesian(frac), cell });
}

/** Every third atom Ge, the rest Si. */
export const geSi = (i: number): string => (i % 3 === 0 ? 'Ge' : 'Si');

/** A small triclinic Ge–Si cell with random positions: with rc ≈ 4.2 Å an atom sees several images of one neighbour (and of itself). */
export function randomGeSiCell(seed: number, n = 8): System {
  return randomTriclinic(seed, n, geSi, [5.2, 0, 0, 0.4, 5.0, 0, -0.3, 0.2, 5.4]);
}

/** The slightly larger triclinic cell of the descriptor, MD-path and embedding tests. */
export const WIDE_TRICLINIC = [5.6, 0, 0, 0.7, 5.3, 0, -0.4, 0.5, 5.9] as const;

/** Lennard-Jones "argon-like" reference for perturbed fcc cells (an exact synthetic target), lattice 0.94–1.06 × 5.26 Å. */
export function ljData(count: number, seed: number): { system: System; energy: number; forces: Float64Array }[] {
  const lj = new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 6.0, shift: true });
  const ev = new ForceEvaluator(lj, { skin: 0 });
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, k) => {
    const s = lattice('fcc', { element: 'Ar', a: 5.26 * (0.94 + 0.12 * (k / count)), repeat: 2 });
    for (let q = 0; q < s.positions.length; q++) s.positions[q] += 0.1 * rng.normal();
    const energy = ev.evaluate(s).energy;
    return { system: s, energy, forces: s.forces.slice() };
  });
}

/** ljData prepared for training (rc 6 Å). */
export function ljStructures(count: number, seed: number): TrainingStructure[] {
  return ljData(count, seed).map((d, k) => prepareSystem(d.system, `lj${k}`, { energy: d.energy, forces: d.forces }, ['Ar'], 6.0));
}

/** The small argon model the LJ training tests start from (seed 2), standardised on `prep`. */
export function ljModel(prep: TrainingStructure[]): LatteModel {
  const model = new LatteModel({ elements: ['Ar'], cutoff: 6.0, width: 1.5, hidden: [8], activation: 'tanh', descriptor: '6,-:4,a,a' });
  model.initialise(2);
  fitStatistics(model, prep);
  return model;
}

/**
 * randomGeSiCell(seed) for each seed with random targets drawn from Rng(rngSeed), in
 * this order per structure: energy −3 eV/atom + N(0, 1), forces 0.3·N(0, 1), and a
 * virial N(0, 1) when `virial`. Not a physical fit: the loss and its gradients are what
 * the tests compare.
 */
export function noisyGeSiStructures(model: LatteModel, seeds: readonly number[], rngSeed: number, virial: boolean): TrainingStructure[] {
  const rng = new Rng(rngSeed);
  return seeds.map((seed) => {
    const s = randomGeSiCell(seed);
    const energy = -3 * s.n + rng.normal();
    const forces = Array.from({ length: 3 * s.n }, () => 0.3 * rng.normal());
    const ref = virial ? { energy, forces, virial: Array.from({ length: 6 }, () => rng.normal()) } : { energy, forces };
    return prepareSystem(s, `s${seed}`, ref, model.config.elements, model.config.cutoff);
  });
}
