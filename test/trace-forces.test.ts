import { describe, expect, it } from 'vitest';
import { AceBasis, type BasisSpec } from '../potentials/trace/basis.ts';
import { AceEvaluator } from '../potentials/trace/evaluator.ts';
import { TracePotential } from '../potentials/trace/potential.ts';
import { createPotential } from '../potentials/registry.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { NeighborList } from '../src/neighbors.ts';
import { System } from '../src/system.ts';
import { Cell } from '../src/cell.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';

function randomModel(spec: BasisSpec, seed: number, scale = 0.02): TracePotential {
  const basis = new AceBasis(spec), rng = new Rng(seed), S = spec.elements.length;
  const coefficients = Array.from({ length: S * basis.nFunctions }, () => rng.normal() * scale);
  return new TracePotential({ basis: spec, nFunctions: basis.nFunctions, coefficients, e0: spec.elements.map((_, z) => -1.5 - z) }, { basis });
}

function perturbedTiAl(seed: number): System {
  const s = lattice('fcc', { element: ['Ti', 'Al', 'Al', 'Ti'], a: 4.0, repeat: [2, 1, 1] });
  s.cell = new Cell([8.0, 0, 0, 0.3, 4.0, 0, -0.2, 0.25, 4.0]);
  const rng = new Rng(seed);
  for (let k = 0; k < s.positions.length; k++) s.positions[k] += 0.2 * rng.normal();
  return s;
}

const SPECS: Record<string, BasisSpec> = {
  'full ACE order 4': { elements: ['Ti', 'Al'], radial: { kind: 'chebexpcos', n: 5, cutoff: 4.5 }, order: 4, maxDegree: [5, 6, 6, 6] },
  'species TRACE order 4': { elements: ['Ti', 'Al'], radial: { kind: 'poly', n: 5, cutoff: 4.5 }, order: 4, maxDegree: [5, 6, 6, 6], channels: { kind: 'species', K: 2 } },
  'radial+species TRACE order 3': { elements: ['Ti', 'Al'], radial: { kind: 'poly', n: 6, cutoff: 4.5 }, order: 3, maxDegree: [4, 6, 6], channels: { kind: 'radial-species', K: 2, Q: 3 } },
};

describe('trace potential: forces and virial', () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    it(`${name}: forces equal −∇E by central differences`, () => {
      const pot = randomModel(spec, 3), sys = perturbedTiAl(1);
      const ev = new ForceEvaluator(pot, { skin: 0.5 });
      ev.evaluate(sys);
      const f = sys.forces.slice();
      const fmax = Math.max(...f.map(Math.abs));
      expect(fmax).toBeGreaterThan(1e-3);
      const h = 1e-5;
      for (let k = 0; k < 3 * sys.n; k++) {
        const x0 = sys.positions[k];
        sys.positions[k] = x0 + h; const ep = ev.evaluate(sys).energy;
        sys.positions[k] = x0 - h; const em = ev.evaluate(sys).energy;
        sys.positions[k] = x0;
        expect(Math.abs(-(ep - em) / (2 * h) - f[k])).toBeLessThan(1e-7 * Math.max(1, fmax));
      }
    });
  }

  it('virial equals −∂E/∂ε under homogeneous strain (triclinic cell)', () => {
    const pot = randomModel(SPECS['full ACE order 4'], 4), sys = perturbedTiAl(2);
    const ev = new ForceEvaluator(pot, { skin: 0 });
    const W = ev.evaluate(sys).virial;
    const h0 = sys.cell.matrix.slice(), x0 = sys.positions.slice();
    const voigt: [number, number][] = [[0, 0], [1, 1], [2, 2], [1, 2], [0, 2], [0, 1]];
    const strained = (a: number, b: number, eps: number): number => {
      // x → x(I + ε) with symmetric ε (row vectors).
      const E = [1, 0, 0, 0, 1, 0, 0, 0, 1];
      E[3 * a + b] += a === b ? eps : eps / 2;
      if (a !== b) E[3 * b + a] += eps / 2;
      const apply = (v: ArrayLike<number>, out: Float64Array, n: number): void => {
        for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[3 * i + c] = v[3 * i] * E[c] + v[3 * i + 1] * E[3 + c] + v[3 * i + 2] * E[6 + c];
      };
      const h = new Float64Array(9);
      apply(h0, h, 3);
      sys.cell.setMatrix(h);
      apply(x0, sys.positions, sys.n);
      return ev.evaluate(sys).energy;
    };
    voigt.forEach(([a, b], k) => {
      const d = 1e-6;
      const dE = (strained(a, b, d) - strained(a, b, -d)) / (2 * d);
      expect(Math.abs(-dE - W[k])).toBeLessThan(1e-6 * Math.max(1, Math.abs(W[k])));
    });
    sys.cell.setMatrix(h0);
  });

  it('design-matrix rows equal the potential for the same coefficients (energy, forces, virial)', () => {
    const spec = SPECS['species TRACE order 4'];
    const pot = randomModel(spec, 8), sys = perturbedTiAl(3);
    const ev = new ForceEvaluator(pot, { skin: 0 });
    const r = ev.evaluate(sys);
    const nl = new NeighborList({ cutoff: pot.cutoff, skin: 0, full: true });
    nl.update(sys);
    const de = new AceEvaluator(pot.basis);
    de.bind(sys.elements);
    const block = de.design(nl);
    const c = pot.model.coefficients, cols = c.length;
    const e0 = pot.model.e0;
    // counts and e0 are both in model species order.
    let e = block.counts[0] * e0[0] + block.counts[1] * e0[1];
    for (let k = 0; k < cols; k++) e += block.energy[k] * c[k];
    expect(e).toBeCloseTo(r.energy, 10);
    for (let row = 0; row < 3 * sys.n; row++) {
      let f = 0;
      for (let k = 0; k < cols; k++) f += block.forces[k * 3 * sys.n + row] * c[k];
      expect(f).toBeCloseTo(sys.forces[row], 10);
    }
    for (let v = 0; v < 6; v++) {
      let w = 0;
      for (let k = 0; k < cols; k++) w += block.virial[v * cols + k] * c[k];
      expect(w).toBeCloseTo(r.virial[v], 10);
    }
  });

  it('per-atom energies sum to the energy; an isolated atom has its reference energy', () => {
    const pot = randomModel(SPECS['full ACE order 4'], 5);
    const sys = new System({ symbols: ['Ti', 'Al', 'Al', 'Ti'], positions: [0, 0, 0, 2.5, 0, 0, 0, 2.6, 0.3, 20, 20, 20] });
    const r = new ForceEvaluator(pot).evaluate(sys, { atomEnergies: true });
    const sum = r.atomEnergies!.reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(r.energy, 12);
    expect(r.atomEnergies![3]).toBe(-1.5); // Ti reference, no neighbours
    expect(Array.from(sys.forces.slice(9, 12))).toEqual([0, 0, 0]);
  });

  it('energy and force go continuously to zero at the cutoff', () => {
    const pot = randomModel(SPECS['full ACE order 4'], 6, 1);
    const ev = new ForceEvaluator(pot, { skin: 0 });
    const rc = pot.cutoff;
    const at = (r: number): { e: number; f: number } => {
      const sys = new System({ symbols: ['Ti', 'Al'], positions: [0, 0, 0, r, 0, 0] });
      const res = ev.evaluate(sys);
      return { e: res.energy - (-1.5 - 2.5), f: sys.forces[3] };
    };
    const inner = at(rc - 1e-4), outer = at(rc + 1e-4), mid = at(rc - 0.5);
    expect(Math.abs(mid.e)).toBeGreaterThan(1e-4);
    expect(Math.abs(inner.e)).toBeLessThan(1e-6 * Math.abs(mid.e) + 1e-12);
    expect(Math.abs(inner.f)).toBeLessThan(1e-3 * Math.abs(mid.f) + 1e-12);
    expect(outer.e).toBe(0);
  });

  it('rejects an element missing from the model, naming it', () => {
    const pot = randomModel(SPECS['full ACE order 4'], 7);
    const sys = new System({ symbols: ['Ti', 'Ni'], positions: [0, 0, 0, 2.5, 0, 0] });
    expect(() => new ForceEvaluator(pot).evaluate(sys)).toThrow(/does not cover element Ni/);
  });

  it('rebuilds from its serialisable spec through the registry', () => {
    const pot = randomModel(SPECS['radial+species TRACE order 3'], 9);
    const copy = createPotential(pot.spec());
    const sys = perturbedTiAl(4);
    const e1 = new ForceEvaluator(pot).evaluate(sys).energy;
    const e2 = new ForceEvaluator(copy).evaluate(sys).energy;
    expect(e2).toBe(e1);
  });
});
