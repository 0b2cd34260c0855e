import { describe, expect, it } from 'vitest';
import { AceBasis, type BasisSpec } from '../potentials/trace/basis.ts';
import { AceEvaluator } from '../potentials/trace/evaluator.ts';
import { TracePotential, foldCoefficients } from '../potentials/trace/potential.ts';
import { NeighborList } from '../src/neighbors.ts';
import { System } from '../src/system.ts';
import { Cell } from '../src/cell.ts';
import { Rng } from '../src/rng.ts';

// The MD path (AceEvaluator.energy: fast layout, contracted gradients) against two
// independent evaluations of the same model: the straightforward per-pair reference
// (energyReference) and the unfolded per-function design rows (design), on random
// periodic structures with several elements and every channel kind.

const SPECS: Record<string, BasisSpec> = {
  'full ACE, 3 elements, order 3': { elements: ['Ti', 'Al', 'Ni'], radial: { kind: 'chebexpcos', n: 5, cutoff: 4.6 }, order: 3, maxDegree: [5, 6, 6] },
  'full ACE, 1 element, order 4 (chebexpcos)': { elements: ['Si'], radial: { kind: 'chebexpcos', n: 8, cutoff: 4.6, lambda: 4 }, order: 4, maxDegree: [8, 8, 7, 7] },
  'species TRACE K=2, 3 elements, order 4': { elements: ['Ti', 'Al', 'Ni'], radial: { kind: 'poly', n: 5, cutoff: 4.6 }, order: 4, maxDegree: [5, 6, 6, 6], channels: { kind: 'species', K: 2 } },
  'radial+species TRACE, 2 elements, order 3': { elements: ['Ti', 'Al'], radial: { kind: 'poly', n: 6, cutoff: 4.6 }, order: 3, maxDegree: [4, 6, 6], channels: { kind: 'radial-species', K: 2, Q: 3 } },
};

function randomModel(spec: BasisSpec, seed: number): TracePotential {
  const basis = new AceBasis(spec), rng = new Rng(seed), S = spec.elements.length;
  const coefficients = Array.from({ length: S * basis.nFunctions }, () => rng.normal() * 0.05);
  return new TracePotential({ basis: spec, nFunctions: basis.nFunctions, coefficients, e0: spec.elements.map((_, z) => -1 - z) }, { basis });
}

/** Random atoms in a triclinic periodic cell, no pair closer than 1.6 Å. */
function randomStructure(symbols: string[], n: number, seed: number): System {
  const rng = new Rng(seed);
  const cell = new Cell([7.2, 0, 0, 0.6, 6.9, 0, -0.4, 0.5, 7.4]);
  const frac: number[][] = [];
  while (frac.length < n) {
    const f = [rng.uniform(), rng.uniform(), rng.uniform()];
    const ok = frac.every((g) => {
      const d = [0, 1, 2].map((a) => { const x = f[a] - g[a]; return x - Math.round(x); });
      const c = cell.toCartesian(Float64Array.from(d));
      return Math.hypot(c[0], c[1], c[2]) > 1.6;
    });
    if (ok) frac.push(f);
  }
  const positions = frac.flatMap((f) => Array.from(cell.toCartesian(Float64Array.from(f))));
  const sym = Array.from({ length: n }, () => symbols[Math.floor(rng.uniform() * symbols.length)]);
  return new System({ symbols: sym, positions, cell });
}

describe('trace MD evaluation path equals reference evaluations', () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    it(name, () => {
      const pot = randomModel(spec, 11);
      // Element table of the system in a different order than the model's, with a
      // structure that lacks none of them.
      const sys = randomStructure([...spec.elements].reverse(), 24, 5);
      const nl = new NeighborList({ cutoff: pot.cutoff, skin: 0.7, full: true });
      nl.update(sys);
      const ev = new AceEvaluator(pot.basis);
      ev.bind(sys.elements);
      const coef = foldCoefficients(pot.basis, Float64Array.from(pot.model.coefficients)), e0 = Float64Array.from(pot.model.e0);
      const nT = nl.nTotal, nL = sys.n;
      const fFast = new Float64Array(3 * nT), fRef = new Float64Array(3 * nT);
      const aFast = new Float64Array(nL), aRef = new Float64Array(nL);
      const eFast = ev.energy(nl, coef, e0, fFast, aFast);
      const eRef = ev.energyReference(nl, coef, e0, fRef, aRef);
      expect(Math.abs(eFast - eRef)).toBeLessThan(1e-12 * Math.abs(eRef));
      // Fold ghosts onto owners, then compare per-atom energies and forces.
      const fold = (f: Float64Array): Float64Array => {
        const out = new Float64Array(3 * nL);
        for (let k = 0; k < nT; k++) for (let a = 0; a < 3; a++) out[3 * nl.owner[k] + a] += f[3 * k + a];
        return out;
      };
      const F = fold(fFast), Fr = fold(fRef);
      const fmax = Math.max(...Fr.map(Math.abs));
      expect(fmax).toBeGreaterThan(1e-2);
      for (let k = 0; k < 3 * nL; k++) expect(Math.abs(F[k] - Fr[k])).toBeLessThan(1e-12 * fmax);
      const amax = Math.max(...aRef.map(Math.abs));
      for (let i = 0; i < nL; i++) expect(Math.abs(aFast[i] - aRef[i])).toBeLessThan(1e-12 * amax);
      // Unfolded per-function rows (a third code path).
      const block = ev.design(nl, false);
      const c = pot.model.coefficients, cols = c.length;
      let e = 0;
      for (let z = 0; z < spec.elements.length; z++) e += block.counts[z] * pot.model.e0[z];
      for (let k = 0; k < cols; k++) e += block.energy[k] * c[k];
      expect(Math.abs(e - eFast)).toBeLessThan(1e-11 * Math.abs(eFast));
      for (let row = 0; row < 3 * nL; row++) {
        let f = 0;
        for (let k = 0; k < cols; k++) f += block.forces[k * 3 * nL + row] * c[k];
        expect(Math.abs(f - F[row])).toBeLessThan(1e-11 * fmax);
      }
    });
  }
});
