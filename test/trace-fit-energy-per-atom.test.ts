import { describe, expect, it } from 'vitest';
import { AceBasis, type BasisSpec } from '../potentials/trace/basis.ts';
import { TracePotential } from '../potentials/trace/potential.ts';
import { assemble, type FitWeights } from '../potentials/trace/fit.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { frameEnergy, frameToSystem, systemToFrame, type Frame } from '../src/io/extxyz.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';

/**
 * fit.ts weights.energyPerAtom: each frame's energy row is weighted w_E·√N̄/N (N̄ the mean
 * frame size) instead of w_E/√N. Checked on the factorised energy rows of one fold: the
 * Gram matrix RᵀR and Rᵀz of the energy QR must equal Σ_f r_f r_fᵀ and Σ_f r_f y_f, with
 * the rows built independently here: r_f = w_f·[N_f, Σ_i B_1(i), …] where Σ_i B_k(i) is
 * the energy of a TracePotential with unit coefficient on function k (the evaluator's
 * energy route, not the design route), and y_f = w_f·E_f.
 */
const SPEC: BasisSpec = { elements: ['Si'], radial: { kind: 'chebexpcos', n: 4, cutoff: 4.2, lambda: 0.5 }, order: 3, maxDegree: [4, 4, 4] };

function frames(): Frame[] {
  const rng = new Rng(11), out: Frame[] = [];
  // Frames of 8, 16 and 64 atoms (diamond conventional cell ×1, 1×1×2, ×2) at different
  // densities, so their per-atom rows differ; energies are arbitrary labels.
  const sizes: [number, number, number][] = [[1, 1, 1], [1, 1, 2], [2, 2, 2]], scale = [0.92, 1.08, 1];
  for (let f = 0; f < 3; f++) {
    const s = lattice('diamond', { element: 'Si', a: 5.43 * scale[f], repeat: sizes[f] });
    for (let k = 0; k < s.positions.length; k++) s.positions[k] += 0.1 * rng.normal();
    s.forces.fill(0);
    const fr = systemToFrame(s, { energy: (-5.4 + 0.5 * f) * s.n + 0.3 * rng.normal(), forces: true });
    out.push(fr);
  }
  return out;
}

/** Σ_i B_k(i) for every function k of frame `fr`, through the potential's energy. */
function functionSums(basis: AceBasis, fr: Frame): Float64Array {
  const F = basis.nFunctions, sums = new Float64Array(F);
  for (let k = 0; k < F; k++) {
    const coefficients = new Array<number>(F).fill(0);
    coefficients[k] = 1;
    const pot = new TracePotential({ basis: SPEC, nFunctions: F, coefficients, e0: [0] }, { basis });
    const s = frameToSystem(fr);
    sums[k] = new ForceEvaluator(pot, { skin: 0 }).evaluate(s).energy;
  }
  return sums;
}

/** Gram RᵀR (n×n) and Rᵀz of an upper-triangular row-major R. */
function gram(R: Float64Array, z: Float64Array, n: number): { G: Float64Array; g: Float64Array } {
  const G = new Float64Array(n * n), g = new Float64Array(n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += R[r * n + a] * R[r * n + b];
      G[a * n + b] = s;
    }
    let t = 0;
    for (let r = 0; r < n; r++) t += R[r * n + a] * z[r];
    g[a] = t;
  }
  return { G, g };
}

function expected(basis: AceBasis, train: Frame[], rowWeight: (n: number) => number): { G: Float64Array; g: Float64Array } {
  const n = 1 + basis.nFunctions, G = new Float64Array(n * n), g = new Float64Array(n);
  for (const fr of train) {
    const N = fr.symbols.length, w = rowWeight(N);
    const row = new Float64Array(n);
    row[0] = w * N;
    row.set(functionSums(basis, fr), 1);
    for (let k = 1; k < n; k++) row[k] *= w;
    const y = w * frameEnergy(fr)!;
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) G[a * n + b] += row[a] * row[b];
      g[a] += row[a] * y;
    }
  }
  return { G, g };
}

function maxRelDiff(a: Float64Array, b: Float64Array): number {
  let scale = 0, d = 0;
  for (let k = 0; k < a.length; k++) { scale = Math.max(scale, Math.abs(b[k])); d = Math.max(d, Math.abs(a[k] - b[k])); }
  return d / scale;
}

describe('trace fit: energy rows per atom (weights.energyPerAtom)', () => {
  const train = frames(), basis = new AceBasis(SPEC), wE = 7;
  const Nbar = train.reduce((s, f) => s + f.symbols.length, 0) / train.length; // (8 + 16 + 64) / 3

  function energyGram(weights: FitWeights) {
    const asm = assemble({ basis: SPEC, train, folds: 1, weights }, basis);
    const qr = asm.folds[0].energy;
    return gram(qr.R, qr.z, qr.n);
  }

  it('energy rows weighted w_E·√N̄/N: factorised Gram equals the independently built rows', () => {
    const got = energyGram({ energy: wE, energyPerAtom: true });
    const want = expected(basis, train, (N) => (wE * Math.sqrt(Nbar)) / N);
    expect(maxRelDiff(got.G, want.G)).toBeLessThan(1e-10);
    expect(maxRelDiff(got.g, want.g)).toBeLessThan(1e-10);
    // The check discriminates: the default w_E/√N rows give a Gram matrix 5 % away (here), far outside 1e-10.
    const other = expected(basis, train, (N) => wE / Math.sqrt(N));
    expect(maxRelDiff(got.G, other.G)).toBeGreaterThan(1e-3);
  });

  it('default energy rows weighted w_E/√N', () => {
    const got = energyGram({ energy: wE });
    const want = expected(basis, train, (N) => wE / Math.sqrt(N));
    expect(maxRelDiff(got.G, want.G)).toBeLessThan(1e-10);
    expect(maxRelDiff(got.g, want.g)).toBeLessThan(1e-10);
  });
});
