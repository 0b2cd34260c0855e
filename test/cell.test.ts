/**
 * Cell geometry against independent computations: fractional/Cartesian round trip,
 * wrap, volume (triple product), heights (1/|column of h⁻¹|, not the cross-product
 * formula the code uses), minimum image against exhaustive enumeration of images
 * for strongly skewed cells.
 */
import { describe, expect, it } from 'vitest';
import { Cell } from '../src/cell.ts';
import { Rng } from '../src/rng.ts';

function randomCell(rng: Rng, skew: number): number[] {
  const h: number[] = [];
  for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) h.push((i === k ? 5 + 5 * rng.uniform() : 0) + skew * (rng.uniform() - 0.5) * 8);
  return h;
}

function det(h: ArrayLike<number>): number {
  return h[0] * (h[4] * h[8] - h[5] * h[7]) - h[1] * (h[3] * h[8] - h[5] * h[6]) + h[2] * (h[3] * h[7] - h[4] * h[6]);
}

describe('Cell', () => {
  const rng = new Rng(2718);

  it('fractional ↔ Cartesian round trip and inverse', () => {
    for (let t = 0; t < 50; t++) {
      const cell = new Cell(randomCell(rng, 1));
      const r = Float64Array.from({ length: 30 }, () => 40 * (rng.uniform() - 0.5));
      const back = cell.toCartesian(cell.toFractional(r));
      for (let k = 0; k < r.length; k++) expect(back[k]).toBeCloseTo(r[k], 10);
      // s = r·h⁻¹: the rows of h have fractional coordinates e_1, e_2, e_3.
      const s = cell.toFractional(cell.matrix);
      for (let k = 0; k < 9; k++) expect(s[k]).toBeCloseTo(k % 4 === 0 ? 1 : 0, 12);
    }
  });

  it('volume is |a·(b×c)| and heights are 1/|h⁻¹ column|', () => {
    for (let t = 0; t < 50; t++) {
      const h = randomCell(rng, 1.5);
      const cell = new Cell(h);
      expect(cell.volume).toBeCloseTo(Math.abs(det(h)), 9);
      const g = cell.inverse;
      const heights = cell.heights();
      for (let k = 0; k < 3; k++) {
        const col = Math.hypot(g[k], g[3 + k], g[6 + k]);
        expect(heights[k]).toBeCloseTo(1 / col, 10);
      }
    }
    expect(Cell.orthorhombic(2, 3, 4).heights()).toEqual([2, 3, 4]);
    expect(Cell.lammps(10, 8, 6, 4.9, -4.8, 3.9).volume).toBeCloseTo(480, 12);
  });

  it('wrap maps periodic axes into [0,1), leaves others and moves only by lattice vectors', () => {
    for (let t = 0; t < 30; t++) {
      const pbc: [boolean, boolean, boolean] = [rng.uniform() < 0.6, rng.uniform() < 0.6, rng.uniform() < 0.6];
      if (!pbc.some((p) => p)) pbc[0] = true;
      const cell = new Cell(randomCell(rng, 1), pbc);
      const r = Float64Array.from({ length: 60 }, () => 80 * (rng.uniform() - 0.5));
      const w = Float64Array.from(r);
      cell.wrap(w);
      const s0 = cell.toFractional(r), s1 = cell.toFractional(w);
      for (let k = 0; k < r.length; k++) {
        const a = k % 3;
        if (pbc[a]) {
          expect(s1[k]).toBeGreaterThanOrEqual(-1e-12);
          expect(s1[k]).toBeLessThan(1 + 1e-12);
          expect(Math.abs(s0[k] - s1[k] - Math.round(s0[k] - s1[k]))).toBeLessThan(1e-9);
        } else {
          expect(s1[k]).toBeCloseTo(s0[k], 12);
        }
      }
    }
  });

  it('minimum image equals the shortest image by exhaustive enumeration (strongly skewed cells)', () => {
    const d = new Float64Array(3);
    for (let t = 0; t < 40; t++) {
      const lx = 10;
      const cell = t % 2 === 0
        ? Cell.lammps(lx, 9, 8, (rng.uniform() - 0.5) * lx, (rng.uniform() - 0.5) * lx, (rng.uniform() - 0.5) * 9)
        : new Cell(randomCell(rng, 2.5), [true, rng.uniform() < 0.5, true]);
      const h = cell.matrix;
      for (let q = 0; q < 25; q++) {
        const v = [0, 1, 2].map(() => 30 * (rng.uniform() - 0.5));
        let best = Infinity;
        // Any image w = v + n·h shorter than v has |s_a(v) + n_a|·height_a ≤ |v| on each periodic axis: enumerate all of those.
        const len = Math.hypot(v[0], v[1], v[2]);
        const sv = cell.toFractional(v);
        const lo = [0, 1, 2].map((a) => (cell.pbc[a] ? Math.floor(-sv[a] - len / cell.heights()[a]) : 0));
        const hi = [0, 1, 2].map((a) => (cell.pbc[a] ? Math.ceil(-sv[a] + len / cell.heights()[a]) : 0));
        for (let a = lo[0]; a <= hi[0]; a++) for (let b = lo[1]; b <= hi[1]; b++) for (let c = lo[2]; c <= hi[2]; c++) {
          const x = v[0] + a * h[0] + b * h[3] + c * h[6], y = v[1] + a * h[1] + b * h[4] + c * h[7], z = v[2] + a * h[2] + b * h[5] + c * h[8];
          best = Math.min(best, x * x + y * y + z * z);
        }
        d[0] = v[0]; d[1] = v[1]; d[2] = v[2];
        const r2 = cell.minimumImage(d);
        expect(r2).toBeCloseTo(best, 9);
        expect(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).toBeCloseTo(r2, 9);
        // The returned vector is v plus a lattice vector on periodic axes only.
        const s = cell.toFractional([d[0] - v[0], d[1] - v[1], d[2] - v[2]]);
        for (let a = 0; a < 3; a++) {
          expect(Math.abs(s[a] - Math.round(s[a]))).toBeLessThan(1e-9);
          if (!cell.pbc[a]) expect(Math.abs(s[a])).toBeLessThan(1e-9);
        }
      }
    }
  });

  it('angles, lengths, LAMMPS form and errors', () => {
    const c = Cell.lammps(3, 4, 5, 0, 0, 0);
    expect(c.lengths()).toEqual([3, 4, 5]);
    expect(c.angles()).toEqual([90, 90, 90]);
    const hex = new Cell([2, 0, 0, -1, Math.sqrt(3), 0, 0, 0, 3]);
    expect(hex.angles()[2]).toBeCloseTo(120, 12);
    expect(() => new Cell([1, 0, 0, 2, 0, 0, 0, 0, 1])).toThrow(/non-zero volume/);
    expect(() => new Cell([1, 0, 0])).toThrow(/9 numbers/);
    expect(() => new Cell([1, 0, 0, 0, Number.NaN, 0, 0, 0, 1])).toThrow(/entry 4/);
    expect(Cell.none().hasVolume).toBe(false);
    expect(Cell.none().anyPeriodic).toBe(false);
  });
});
