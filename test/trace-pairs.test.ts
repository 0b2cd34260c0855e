import { describe, expect, it } from 'vitest';
import { AceBasis, type BasisSpec } from '../potentials/trace/basis.ts';
import { AceEvaluator } from '../potentials/trace/evaluator.ts';
import { TracePotential, foldCoefficients } from '../potentials/trace/potential.ts';
import type { Neighborhood } from '../potentials/potential.ts';
import { NeighborList } from '../src/neighbors.ts';
import { System } from '../src/system.ts';
import { Cell } from '../src/cell.ts';
import { Rng } from '../src/rng.ts';

// The pair-symmetric serial path (energyPairs: each unordered pair once, ω_i ± ω_j)
// against the per-pair reference (energyReference) and the row path (energyRows), on
// cells small enough that atoms meet their own periodic images (the ±T tie-break),
// with several elements (blocks of different species on the two sides of a pair).
// Forces are compared folded onto owners, and the virial Σ_k x_k ⊗ f_k over the
// extended atoms (how ForceEvaluator obtains it), which checks that the force on
// each ghost image is the right one, not just their sum.

const SPECS: Record<string, BasisSpec> = {
  'full ACE, 3 elements, order 3': { elements: ['Ti', 'Al', 'Ni'], radial: { kind: 'chebexpcos', n: 5, cutoff: 4.6 }, order: 3, maxDegree: [5, 6, 6] },
  'full ACE, 1 element, order 4 (poly)': { elements: ['Si'], radial: { kind: 'poly', n: 6, cutoff: 4.6 }, order: 4, maxDegree: [6, 7, 6, 6] },
};

function randomModel(spec: BasisSpec, seed: number): TracePotential {
  const basis = new AceBasis(spec), rng = new Rng(seed), S = spec.elements.length;
  const coefficients = Array.from({ length: S * basis.nFunctions }, () => rng.normal() * 0.05);
  return new TracePotential({ basis: spec, nFunctions: basis.nFunctions, coefficients, e0: spec.elements.map((_, z) => -1 - z) }, { basis });
}

function randomStructure(symbols: string[], cell: Cell, n: number, seed: number, runs = false): System {
  const rng = new Rng(seed);
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
  // Elements cycling (neighbouring indices differ) or in runs (the WebAssembly polynomial
  // takes two rows of one species at a time).
  const sym = Array.from({ length: n }, (_, k) => symbols[runs ? Math.floor((k * symbols.length) / n) : k % symbols.length]);
  return new System({ symbols: sym, positions, cell });
}

const CELLS: Record<string, { cell: Cell; n: number; runs?: boolean }> = {
  'small triclinic cell (own images within the cutoff)': { cell: new Cell([4.1, 0, 0, 0.5, 3.9, 0, -0.3, 0.4, 4.3]), n: 3 },
  'orthorhombic cell, one short axis': { cell: new Cell([3.6, 0, 0, 0, 6.8, 0, 0, 0, 7.1]), n: 6 },
  'orthorhombic cell, one short axis, elements in runs': { cell: new Cell([3.7, 0, 0, 0, 6.1, 0, 0, 0, 6.6]), n: 9, runs: true },
  'dense cubic cell (over 64 neighbours: per-neighbour tables regrow)': { cell: new Cell([4.3, 0, 0, 0, 4.3, 0, 0, 0, 4.3]), n: 10 },
};

function virial(nl: NeighborList, f: Float64Array): number[] {
  const x = nl.positions, w = [0, 0, 0, 0, 0, 0];
  for (let k = 0; k < nl.nTotal; k++) {
    const X = x[3 * k], Y = x[3 * k + 1], Z = x[3 * k + 2], fx = f[3 * k], fy = f[3 * k + 1], fz = f[3 * k + 2];
    w[0] += X * fx; w[1] += Y * fy; w[2] += Z * fz; w[3] += Y * fz; w[4] += X * fz; w[5] += X * fy;
  }
  return w;
}

describe('trace pair-symmetric MD path equals the reference and the row path', () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    for (const [cname, { cell, n, runs }] of Object.entries(CELLS)) {
      it(`${name}, ${cname}`, () => {
        const pot = randomModel(spec, 7);
        const sys = randomStructure([...spec.elements].reverse(), cell, n, 3, runs);
        const nl = new NeighborList({ cutoff: pot.cutoff, skin: 0.6, full: true });
        nl.update(sys);
        // Own images present: some ghost of atom i lies within the cutoff of i.
        let selfImages = 0;
        for (let i = 0; i < sys.n; i++) {
          for (let q = nl.full!.offsets[i]; q < nl.full!.offsets[i + 1]; q++) {
            const j = nl.full!.neighbors[q];
            if (nl.owner[j] !== i) continue;
            const d = Math.hypot(nl.positions[3 * j] - nl.positions[3 * i], nl.positions[3 * j + 1] - nl.positions[3 * i + 1], nl.positions[3 * j + 2] - nl.positions[3 * i + 2]);
            if (d < spec.radial.cutoff) selfImages++;
          }
        }
        expect(selfImages).toBeGreaterThan(0);
        const maxRow = Math.max(...Array.from({ length: sys.n }, (_, i) => nl.full!.offsets[i + 1] - nl.full!.offsets[i]));
        if (cname.startsWith('dense')) expect(maxRow).toBeGreaterThan(64);
        const ev = new AceEvaluator(pot.basis);
        ev.bind(sys.elements);
        // The same path with the JavaScript kernels (what runs without WebAssembly SIMD),
        // and the row path on an evaluator of its own (its tables grow inside gatherFast).
        const evJs = new AceEvaluator(pot.basis, { wasm: false });
        evJs.bind(sys.elements);
        const evRows = new AceEvaluator(pot.basis);
        evRows.bind(sys.elements);
        const coef = foldCoefficients(pot.basis, Float64Array.from(pot.model.coefficients)), e0 = Float64Array.from(pot.model.e0);
        const nT = nl.nTotal, nL = sys.n;
        const run = (which: 'pairs' | 'pairs-js' | 'rows' | 'ref') => {
          const f = new Float64Array(3 * nT), a = new Float64Array(nT);
          let e: number;
          if (which === 'pairs') e = ev.energyPairs(nl, coef, e0, f, a);
          else if (which === 'pairs-js') e = evJs.energyPairs(nl, coef, e0, f, a);
          else if (which === 'ref') e = ev.energyReference(nl, coef, e0, f, a);
          else {
            // Rows in two chunks, as the parallel evaluator splits them.
            const half = Math.floor(nL / 2);
            const chunk = (rowStart: number, rowEnd: number): Neighborhood => ({
              nLocal: nl.nLocal, nTotal: nl.nTotal, positions: nl.positions, species: nl.species, owner: nl.owner,
              half: null, full: nl.full, listCutoff: nl.listCutoff, rowStart, rowEnd,
            });
            e = evRows.energyRows(chunk(0, half), coef, e0, f, a) + evRows.energyRows(chunk(half, nL), coef, e0, f, a);
          }
          const F = new Float64Array(3 * nL);
          for (let k = 0; k < nT; k++) for (let c = 0; c < 3; c++) F[3 * nl.owner[k] + c] += f[3 * k + c];
          return { e, F, a, W: virial(nl, f) };
        };
        const P = run('pairs'), PJ = run('pairs-js'), R = run('ref'), Q = run('rows');
        const fmax = Math.max(...R.F.map(Math.abs)), amax = Math.max(...R.a.map(Math.abs)), wmax = Math.max(...R.W.map(Math.abs));
        expect(fmax).toBeGreaterThan(1e-3);
        for (const X of [P, PJ, Q]) {
          expect(Math.abs(X.e - R.e)).toBeLessThan(1e-12 * Math.abs(R.e));
          for (let i = 0; i < nL; i++) expect(Math.abs(X.a[i] - R.a[i])).toBeLessThan(1e-12 * amax);
          for (let k = 0; k < 3 * nL; k++) expect(Math.abs(X.F[k] - R.F[k])).toBeLessThan(1e-12 * fmax);
          for (let c = 0; c < 6; c++) expect(Math.abs(X.W[c] - R.W[c])).toBeLessThan(1e-12 * wmax);
        }
      });
    }
  }

  it('the potential takes the pair path when serial and full ACE, the row path for a chunk', () => {
    const pot = randomModel(SPECS['full ACE, 3 elements, order 3'], 2);
    const ev = new AceEvaluator(pot.basis);
    expect((ev as unknown as { pairwiseOk: boolean }).pairwiseOk).toBe(true);
    const trace = randomModel({ ...SPECS['full ACE, 3 elements, order 3'], channels: { kind: 'species', K: 2 } }, 2);
    expect((new AceEvaluator(trace.basis) as unknown as { pairwiseOk: boolean }).pairwiseOk).toBe(false);
  });
});
