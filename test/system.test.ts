/**
 * System: Maxwell–Boltzmann velocities at exactly T with zero momentum, kinetic
 * energy and temperature against direct sums, input validation naming the culprit.
 */
import { describe, expect, it } from 'vitest';
import { Cell } from '../src/cell.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';
import { kB, MVV_TO_EV } from '../src/units.ts';

function mixture(n: number): System {
  const symbols = Array.from({ length: n }, (_, i) => ['Ar', 'Cu', 'H'][i % 3]);
  const rng = new Rng(9);
  return new System({ symbols, positions: Array.from({ length: 3 * n }, () => 20 * rng.uniform()), cell: Cell.orthorhombic(20, 20, 20) });
}

describe('System', () => {
  it('setTemperature gives exactly T and zero total momentum', () => {
    for (const T of [1, 300, 2500]) {
      const s = mixture(101);
      s.setTemperature(T, new Rng(T));
      expect(s.temperature()).toBeCloseTo(T, 9);
      // Direct: T = Σ m v² / (dof kB), dof = 3n − 3.
      let mv2 = 0;
      const p = [0, 0, 0];
      let pscale = 0;
      for (let i = 0; i < s.n; i++) for (let c = 0; c < 3; c++) {
        const v = s.velocities[3 * i + c];
        mv2 += s.masses[i] * v * v;
        p[c] += s.masses[i] * v;
        pscale += Math.abs(s.masses[i] * v);
      }
      expect(((mv2 * MVV_TO_EV) / ((3 * s.n - 3) * kB)) / T).toBeCloseTo(1, 12);
      for (const pc of p) expect(Math.abs(pc)).toBeLessThan(1e-13 * pscale);
    }
  });

  it('Maxwell–Boltzmann: lighter atoms are faster, ⟨m v²⟩ equal per species', () => {
    const s = mixture(3000);
    s.setTemperature(500, new Rng(5));
    const sums = new Map<number, { mv2: number; count: number }>();
    for (let i = 0; i < s.n; i++) {
      const v2 = s.velocities[3 * i] ** 2 + s.velocities[3 * i + 1] ** 2 + s.velocities[3 * i + 2] ** 2;
      const e = sums.get(s.species[i]) ?? { mv2: 0, count: 0 };
      e.mv2 += s.masses[i] * v2; e.count++;
      sums.set(s.species[i], e);
    }
    // Each species: ⟨m v²⟩ = 3kT/MVV_TO_EV within 5 standard errors (relative error √(2/3N)).
    const expected = (3 * kB * 500) / MVV_TO_EV;
    for (const { mv2, count } of sums.values()) {
      expect(Math.abs(mv2 / count / expected - 1)).toBeLessThan(5 * Math.sqrt(2 / (3 * count)));
    }
  });

  it('kinetic tensor trace is twice the kinetic energy', () => {
    const s = mixture(30);
    s.setTemperature(100, new Rng(1));
    const K = s.kineticTensor();
    expect(K[0] + K[1] + K[2]).toBeCloseTo(2 * s.kineticEnergy(), 14);
  });

  it('rejects unknown elements and inconsistent input, naming them', () => {
    expect(() => new System({ symbols: ['Ar', 'Xx'], positions: [0, 0, 0, 1, 1, 1] })).toThrow(/unknown element 'Xx'/);
    expect(() => new System({ symbols: ['Ar'], positions: [0, 0] })).toThrow(/1 symbols/);
    expect(() => new System({ symbols: ['Ar', 'Ar'], positions: [0, 0, 0, 1, Number.NaN, 1] })).toThrow(/atom 1/);
    expect(() => new System({ symbols: ['Ar'], positions: [0, 0, 0], masses: { Ar: -1 } })).toThrow(/mass of Ar/);
    expect(() => mixture(3).setTemperature(-5, new Rng(1))).toThrow(/temperature/);
  });

  it('clone is deep and keeps masses', () => {
    const s = new System({ symbols: ['Ar', 'Cu'], positions: [0, 0, 0, 1, 1, 1], masses: { Ar: 40 }, cell: Cell.orthorhombic(5, 5, 5) });
    const c = s.clone();
    c.positions[0] = 3;
    c.cell.setMatrix([6, 0, 0, 0, 6, 0, 0, 0, 6]);
    expect(s.positions[0]).toBe(0);
    expect(s.cell.matrix[0]).toBe(5);
    expect(Array.from(c.masses)).toEqual(Array.from(s.masses));
    expect(c.masses[0]).toBe(40);
  });
});
