/**
 * Crystal builders: sc, fcc, bcc, hcp and diamond conventional cells (row-vector
 * cells, ASE convention) repeated into supercells.
 */
import { Cell } from './cell.ts';
import { System } from './system.ts';

export type LatticeKind = 'sc' | 'fcc' | 'bcc' | 'hcp' | 'diamond';

/** Fractional basis of each conventional cell. */
const BASES: Record<Exclude<LatticeKind, 'hcp'>, number[][]> = {
  sc: [[0, 0, 0]],
  bcc: [[0, 0, 0], [0.5, 0.5, 0.5]],
  fcc: [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
  diamond: [
    [0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5],
    [0.25, 0.25, 0.25], [0.75, 0.75, 0.25], [0.75, 0.25, 0.75], [0.25, 0.75, 0.75],
  ],
};

export interface LatticeOptions {
  /** Element symbol (or one per basis atom). */
  element: string | string[];
  /** Lattice constant a, Å. */
  a: number;
  /** hcp only: c (default a·√(8/3), ideal). */
  c?: number;
  /** Repetitions along a, b, c (default 1×1×1). */
  repeat?: [number, number, number] | number;
  /** Masses per element, overriding the standard ones. */
  masses?: Record<string, number>;
}

/** Builds a periodic crystal. Orthorhombic conventional cells except hcp (hexagonal, 2 atoms). */
export function lattice(kind: LatticeKind, options: LatticeOptions): System {
  const { a } = options;
  if (!(a > 0) || !Number.isFinite(a)) throw new Error(`lattice: a must be a positive number, got ${a}`);
  const rep = typeof options.repeat === 'number' ? [options.repeat, options.repeat, options.repeat] : (options.repeat ?? [1, 1, 1]);
  if (rep.some((r) => !Number.isInteger(r) || r < 1)) throw new Error(`lattice: repeat must be positive integers, got ${rep.join('×')}`);
  let cellVectors: number[];
  let basis: number[][];
  if (kind === 'hcp') {
    const c = options.c ?? a * Math.sqrt(8 / 3);
    cellVectors = [a, 0, 0, -a / 2, (a * Math.sqrt(3)) / 2, 0, 0, 0, c];
    basis = [[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]];
  } else {
    const b = BASES[kind];
    if (!b) throw new Error(`lattice: unknown kind '${kind}' (sc, fcc, bcc, hcp, diamond)`);
    cellVectors = [a, 0, 0, 0, a, 0, 0, 0, a];
    basis = b;
  }
  const elements = typeof options.element === 'string' ? basis.map(() => options.element as string) : options.element;
  if (elements.length !== basis.length) throw new Error(`lattice: ${kind} has ${basis.length} basis atoms, got ${elements.length} elements`);
  const unit = new Cell(cellVectors);
  const frac: number[] = [];
  const symbols: string[] = [];
  for (let i = 0; i < rep[0]; i++)
    for (let j = 0; j < rep[1]; j++)
      for (let k = 0; k < rep[2]; k++)
        basis.forEach((p, q) => {
          frac.push(p[0] + i, p[1] + j, p[2] + k);
          symbols.push(elements[q]);
        });
  const positions = unit.toCartesian(frac);
  const cell = new Cell(cellVectors.map((v, idx) => v * rep[Math.floor(idx / 3)]));
  return new System({ symbols, positions, cell, masses: options.masses });
}

/** A supercell of a periodic system repeated na×nb×nc times. */
export function supercell(system: System, repeat: [number, number, number]): System {
  const [na, nb, nc] = repeat;
  if (![na, nb, nc].every((r) => Number.isInteger(r) && r >= 1)) throw new Error(`supercell: repeat must be positive integers`);
  const h = system.cell.matrix;
  const symbols: string[] = [];
  const positions: number[] = [];
  const velocities: number[] = [];
  const sym = system.symbols;
  for (let i = 0; i < na; i++)
    for (let j = 0; j < nb; j++)
      for (let k = 0; k < nc; k++)
        for (let q = 0; q < system.n; q++) {
          for (let d = 0; d < 3; d++) {
            positions.push(system.positions[3 * q + d] + i * h[d] + j * h[3 + d] + k * h[6 + d]);
            velocities.push(system.velocities[3 * q + d]);
          }
          symbols.push(sym[q]);
        }
  const cell = new Cell(Array.from(h, (v, idx) => v * repeat[Math.floor(idx / 3)]), system.cell.pbc);
  return new System({ symbols, positions, velocities, cell, masses: system.elementMasses() });
}
