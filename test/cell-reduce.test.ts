import { describe, expect, it } from 'vitest';
import { Cell } from '../src/cell.ts';
import { maxSkew, reduceCell, reduceCellInPlace } from '../src/cell-reduce.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';
import { LennardJones } from '../potentials/lj.ts';

function det3(m: ArrayLike<number>): number {
  return (
    m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
  );
}

/**
 * All lattice points n·h inside a sphere of radius r, as sorted keys. A point s·h
 * with |s·h| ≤ r has |s_k| ≤ r·|column k of h⁻¹|, which bounds the index range.
 */
function latticePoints(h: ArrayLike<number>, radius: number): string[] {
  const g = new Cell(h).inverse;
  const range = [0, 1, 2].map((k) => Math.ceil(radius * Math.hypot(g[k], g[3 + k], g[6 + k])));
  const out: string[] = [];
  for (let i = -range[0]; i <= range[0]; i++)
    for (let j = -range[1]; j <= range[1]; j++)
      for (let k = -range[2]; k <= range[2]; k++) {
        const x = i * h[0] + j * h[3] + k * h[6];
        const y = i * h[1] + j * h[4] + k * h[7];
        const z = i * h[2] + j * h[5] + k * h[8];
        if (x * x + y * y + z * z > radius * radius) continue;
        out.push([x, y, z].map((v) => (Math.abs(v) < 1e-9 ? 0 : v).toFixed(6)).join(','));
      }
  return out.sort();
}

/** Skews a cell by an integer unimodular matrix: rows' = U · rows. */
function skew(h: ArrayLike<number>, u: number[]): Float64Array {
  const out = new Float64Array(9);
  for (let i = 0; i < 3; i++)
    for (let k = 0; k < 3; k++) out[3 * i + k] = u[3 * i] * h[k] + u[3 * i + 1] * h[3 + k] + u[3 * i + 2] * h[6 + k];
  return out;
}

describe('cell reduction', () => {
  it('applies the LAMMPS flip rules to a restricted triclinic cell and keeps its form', () => {
    // lx=10, ly=8, lz=7; xy = 7.3 > lx/2, xz = −13, yz = 9.5 > ly/2.
    const h = Cell.lammps(10, 8, 7, 7.3, -13, 9.5).matrix;
    const r = reduceCell(h);
    expect(r.changed).toBe(true);
    const m = r.matrix;
    // Still lower-triangular (a along x, b in the xy plane), same diagonal.
    expect([m[1], m[2], m[5]]).toEqual([0, 0, 0]);
    expect([m[0], m[4], m[8]]).toEqual([10, 8, 7]);
    // LAMMPS: yz 9.5 → 1.5 (c −= b, so xz −13 → −20.3), then xz −20.3 → −0.3 (c += 2a); xy 7.3 → −2.7.
    expect(m[3]).toBeCloseTo(-2.7, 12);
    expect(m[7]).toBeCloseTo(1.5, 12);
    expect(m[6]).toBeCloseTo(-0.3, 12);
    expect(Math.abs(m[3])).toBeLessThanOrEqual(5);
    expect(maxSkew(m)).toBeLessThanOrEqual(0.5);
  });

  it('leaves a cell within tolerance alone', () => {
    const h = Cell.lammps(10, 8, 7, 5.05, 0, 0).matrix;
    expect(reduceCell(h).changed).toBe(false);
    expect(reduceCell(h, { tolerance: 0 }).changed).toBe(true);
  });

  it('gives a cell generating the same lattice (same volume, same lattice points) for general cells', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      // A random, not-too-flat general cell (no particular orientation), then skewed by a unimodular matrix.
      const base = new Float64Array(9);
      for (let k = 0; k < 9; k++) base[k] = (k % 4 === 0 ? 6 : 0) + 2 * (rng.uniform() - 0.5);
      const u = [1, 0, 0, 3, 1, 0, -2, 4, 1]; // det 1
      const u2 = [1, 2, 0, 0, 1, 0, 0, -1, 1]; // det 1
      const h = skew(skew(base, u), u2);
      const r = reduceCell(h);
      expect(r.changed).toBe(true);
      expect(det3(r.transform)).toBe(1);
      expect(det3(r.matrix)).toBeCloseTo(det3(h), 8);
      expect(maxSkew(r.matrix)).toBeLessThanOrEqual(0.5 + 1e-12);
      // transform · h reproduces the reduced cell
      const th = skew(h, Array.from(r.transform));
      for (let k = 0; k < 9; k++) expect(th[k]).toBeCloseTo(r.matrix[k], 9);
      // Same set of lattice points inside a sphere (index range large enough for both cells).
      const radius = 14;
      const a = latticePoints(h, radius);
      const b = latticePoints(r.matrix, radius);
      expect(b.length).toBeGreaterThan(20);
      expect(b).toEqual(a);
      // The reduced cell is less skewed: its smallest face height is larger.
      const hb = Math.min(...new Cell(h).heights()), hr = Math.min(...new Cell(r.matrix).heights());
      expect(hr).toBeGreaterThan(hb);
    }
  });

  it('does not combine a non-periodic vector into a periodic one', () => {
    const h = Cell.lammps(10, 8, 7, 7.3, -13, 9.5).matrix;
    const r = reduceCell(h, { pbc: [true, true, false] });
    // Only b is reduced by a; c (non-periodic) is untouched.
    expect(r.matrix[3]).toBeCloseTo(-2.7, 12);
    expect(Array.from(r.matrix.subarray(6))).toEqual([-13, 9.5, 7]);
  });

  it('leaves energies and forces unchanged (LJ, distorted fcc in a skewed cell)', () => {
    const base = lattice('fcc', { element: 'Ar', a: 5.26, repeat: [3, 3, 3] });
    const rng = new Rng(3);
    // Same atoms, a skewed but equivalent cell (b + 2a, c − a + b).
    const skewed = skew(base.cell.matrix, [1, 0, 0, 2, 1, 0, -1, 1, 1]);
    const pos = Float64Array.from(base.positions, (x) => x + 0.15 * (rng.uniform() - 0.5));
    const sys = new System({ symbols: base.symbols, positions: pos, cell: new Cell(skewed) });
    const lj = new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 8.5 });
    const fe = new ForceEvaluator(lj, { skin: 0.5 });
    const e1 = fe.evaluate(sys, { atomEnergies: true });
    const f1 = Float64Array.from(sys.forces);
    const positionsBefore = Float64Array.from(sys.positions);
    expect(reduceCellInPlace(sys.cell)).toBe(true);
    // The positions are not touched by the reduction itself.
    expect(Array.from(sys.positions)).toEqual(Array.from(positionsBefore));
    fe.neighbors.invalidate();
    const e2 = fe.evaluate(sys, { atomEnergies: true });
    expect(Math.abs(e2.energy - e1.energy)).toBeLessThan(1e-11 * Math.abs(e1.energy));
    for (let i = 0; i < sys.n; i++) expect(e2.atomEnergies![i]).toBeCloseTo(e1.atomEnergies![i], 11);
    let maxDiff = 0;
    for (let k = 0; k < f1.length; k++) maxDiff = Math.max(maxDiff, Math.abs(sys.forces[k] - f1[k]));
    expect(maxDiff).toBeLessThan(1e-11);
    for (let k = 0; k < 6; k++) expect(e2.virial[k]).toBeCloseTo(e1.virial[k], 9);
    // And they equal the energy of the same atoms in the original orthorhombic cell.
    const plain = new System({ symbols: base.symbols, positions: pos, cell: base.cell.clone() });
    const e0 = new ForceEvaluator(lj, { skin: 0.5 }).evaluate(plain);
    expect(Math.abs(e0.energy - e1.energy)).toBeLessThan(1e-11 * Math.abs(e1.energy));
  });
});
