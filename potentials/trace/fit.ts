/**
 * Linear least-squares fit of an (tensor-reduced) ACE model to reference data in
 * extended-XYZ frames (spec §4).
 *
 * Rows per configuration: one energy row Σ_i B_{i,b} (per centre species) plus the
 * per-element reference-energy columns (atom counts), weighted w_E/√N; 3N force rows
 * −∂(Σ_i B)/∂x weighted w_F; 6 virial rows weighted w_V/√N when the frame has a virial
 * or stress. Columns are scaled to unit norm and regularised by a smoothness prior
 * λ Σ_b γ_b d_b² with γ_b = 1 + Σ_t (l_t/w_l)⁴ + Σ_t (deg_t/w_n)⁴.
 *
 * Solver: rows stream into Householder QR factorisations, two per cross-validation
 * fold — energy rows and force/virial rows apart (memory O(n²) each, never the
 * normal equations). A fit for a given λ and energy-weight multiplier α stacks the
 * folds' R factors (energy factors scaled by α) with the prior rows √λ·Γ and solves
 * the triangular system. λ (and α, when a grid is given) are chosen by K-fold
 * cross-validation on the training frames only: by the weighted loss at the stated
 * weights, or, with `select`, by RMSE_E/e + RMSE_F/f for given error scales.
 */
import { NeighborList } from '../../src/neighbors.ts';
import { frameEnergy, frameForces, frameToSystem, frameVirial, type Frame } from '../../src/io/extxyz.ts';
import { evaluateErrors, type ErrorReport } from '../../src/analysis/errors.ts';
import { AceBasis, type BasisSpec } from './basis.ts';
import { AceEvaluator } from './evaluator.ts';
import { backSubstitute, StreamingQR } from './linalg.ts';
import { TracePotential } from './potential.ts';
import type { TraceModel } from './model.ts';

export interface FitWeights {
  /** Energy weight w_E (rows weighted w_E/√N; default 30). */
  energy?: number;
  /** Force weight w_F (default 1). */
  force?: number;
  /** Virial weight w_V (rows weighted w_V/√N; default 1). */
  virial?: number;
}

export interface FitOptions {
  basis: BasisSpec;
  /** Training frames (each needs an energy and forces). */
  train: Frame[];
  /** Optional test frames for the error report. */
  test?: Frame[];
  weights?: FitWeights;
  /** Fixed reference energies per element (eV); the default fits them. */
  e0?: Record<string, number>;
  /** Regularisation λ, or a grid searched by cross-validation (default 10^−9..10^−1). */
  lambda?: number | number[];
  /** Smoothness prior scales (default w_l = 2, w_n = 6). */
  prior?: { wl?: number; wn?: number };
  /** Cross-validation folds (default 5). */
  folds?: number;
  /**
   * Multipliers α of the energy weight tried by cross-validation (default [1]); each
   * costs only small n×n factorisations, the design is built once.
   */
  energyScales?: number[];
  /**
   * Selection criterion for λ and α: minimise RMSE_E/energy + RMSE_F/force on the
   * held-out folds (energy in meV/atom, atom-weighted; force components in eV/Å,
   * virial rows included when present). Default: the weighted loss at α = 1.
   */
  select?: { energy: number; force: number };
  /** Also estimate errors by cross-validation with the chosen λ (refits per fold; default false). */
  crossValidate?: boolean;
  /** Name of the training data (for error messages). */
  source?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface FitResult {
  model: TraceModel;
  potential: TracePotential;
  lambda: number;
  /** Energy weight used (w_E·α). */
  energyWeight: number;
  /** Validation criterion per (λ, α) tried, with the held-out RMSEs. */
  lambdaScan: { lambda: number; energyScale: number; loss: number; rmse_E: number; rmse_F: number }[];
  train: ErrorReport;
  test?: ErrorReport;
  crossValidation?: ErrorReport;
  timings: { design_s: number; solve_s: number; total_s: number };
  nFunctions: number;
  nParameters: number;
}

/** Rows of one cross-validation fold: energy rows and force/virial rows factorised apart. */
export interface FoldFactors {
  energy: StreamingQR;
  rest: StreamingQR;
  atoms: number;
  /** Force components plus virial rows. */
  restRows: number;
}

/** Rows of all training frames, factorised per fold. */
export interface Assembled {
  basis: AceBasis;
  folds: FoldFactors[];
  foldOf: Int32Array;
  weights: { energy: number; force: number; virial: number };
  nCols: number;
  /** Columns of fitted reference energies (species index), −1 when fixed. */
  e0Fixed: Float64Array | null;
}

const DEFAULT_LAMBDAS = [1e-13, 1e-11, 1e-9, 1e-7, 1e-5, 1e-3];

/** Builds the design rows of every frame and streams them into per-fold QR factorisations. */
export function assemble(options: FitOptions, basis = new AceBasis(options.basis)): Assembled {
  const frames = options.train, src = options.source ?? 'training data';
  if (frames.length === 0) throw new Error(`${src}: no training frames`);
  const S = basis.nSpecies, F = basis.nFunctions, nCols = S + S * F;
  const wE = options.weights?.energy ?? 30, wF = options.weights?.force ?? 1, wV = options.weights?.virial ?? 1;
  const K = Math.max(1, Math.min(options.folds ?? 5, frames.length));
  const folds: FoldFactors[] = Array.from({ length: K }, () => ({ energy: new StreamingQR(nCols), rest: new StreamingQR(nCols), atoms: 0, restRows: 0 }));
  const foldOf = new Int32Array(frames.length);
  let e0Fixed: Float64Array | null = null;
  if (options.e0) {
    e0Fixed = new Float64Array(S);
    basis.elements.forEach((el, z) => {
      const v = options.e0![el];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`fit: reference energy for ${el} missing from e0`);
      e0Fixed![z] = v;
    });
  }
  const evaluator = new AceEvaluator(basis);
  const nl = new NeighborList({ cutoff: basis.radial.cutoff, skin: 0, full: true });
  let rowsBuf = new Float64Array(0), rhsBuf = new Float64Array(0);
  const eRow = new Float64Array(nCols), eRhs = new Float64Array(1);
  frames.forEach((frame, index) => {
    const energy = frameEnergy(frame), forces = frameForces(frame);
    if (energy === undefined) throw new Error(`${src}: frame ${index} has no energy (info key 'energy')`);
    if (forces === undefined) throw new Error(`${src}: frame ${index} has no forces (per-atom column 'force' or 'forces')`);
    const virial = frameVirial(frame);
    const system = frameToSystem(frame);
    try {
      evaluator.bind(system.elements);
    } catch (err) {
      throw new Error(`${src}: frame ${index}: ${(err as Error).message}`);
    }
    nl.invalidate();
    nl.update(system);
    const block = evaluator.design(nl, virial !== undefined);
    const n = system.n;
    const nRows = 3 * n + (virial ? 6 : 0);
    if (rowsBuf.length < nRows * nCols) rowsBuf = new Float64Array(nRows * nCols);
    if (rhsBuf.length < nRows) rhsBuf = new Float64Array(nRows);
    const C = rowsBuf, b = rhsBuf, m = nRows, SF = S * F;
    C.fill(0, 0, nRows * nCols);
    eRow.fill(0);
    // Energy row (eRow), then column-major force/virial rows C[col·m + row]: 3n forces, then 6 virial rows.
    const we = wE / Math.sqrt(n);
    let eRef = energy;
    for (let z = 0; z < S; z++) {
      if (e0Fixed) eRef -= block.counts[z] * e0Fixed[z];
      else eRow[z] = we * block.counts[z];
    }
    eRhs[0] = we * eRef;
    for (let r = 0; r < 3 * n; r++) b[r] = wF * forces[r];
    const wv = wV / Math.sqrt(n);
    if (virial) {
      const ref = [virial[0], virial[4], virial[8], virial[5], virial[2], virial[1]];
      for (let v = 0; v < 6; v++) b[3 * n + v] = wv * ref[v];
    }
    for (let k = 0; k < SF; k++) {
      const col = (S + k) * m;
      eRow[S + k] = we * block.energy[k];
      const src = k * 3 * n;
      for (let r = 0; r < 3 * n; r++) C[col + r] = wF * block.forces[src + r];
      if (virial) for (let v = 0; v < 6; v++) C[col + 3 * n + v] = wv * block.virial[v * SF + k];
    }
    const fold = index % K;
    foldOf[index] = fold;
    folds[fold].energy.addColumnMajor(eRow, eRhs, 1);
    folds[fold].rest.addColumnMajor(C, b, nRows);
    folds[fold].atoms += n;
    folds[fold].restRows += nRows;
  });
  return { basis, folds, foldOf, weights: { energy: wE, force: wF, virial: wV }, nCols, e0Fixed };
}

/** Prior weights γ_b per column (reference-energy columns nearly free). */
export function priorWeights(basis: AceBasis, prior: { wl?: number; wn?: number } = {}): Float64Array {
  const wl = prior.wl ?? 2, wn = prior.wn ?? 6;
  const S = basis.nSpecies, F = basis.nFunctions, g = new Float64Array(S + S * F);
  for (let z = 0; z < S; z++) g[z] = 1e-6;
  for (let z = 0; z < S; z++) for (let b = 0; b < F; b++) g[S + z * F + b] = 1 + basis.fL4[b] / wl ** 4 + basis.fN4[b] / wn ** 4;
  return g;
}

/**
 * Solves min ‖R c − z‖² + λ Σ γ_b s_b² c_b² for the stacked factorisation `qr`, where
 * s_b = ‖column b‖ (from R). Returns the coefficients c.
 */
export function solveRegularised(qr: StreamingQR, gamma: Float64Array, lambda: number): Float64Array {
  const n = qr.n, R = qr.R;
  const s = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let ss = 0;
    for (let i = 0; i <= j; i++) ss += R[i * n + j] * R[i * n + j];
    s[j] = Math.sqrt(ss) || 1;
  }
  // Scaled problem in d = s·c: columns R_{:,b}/s_b, prior rows √(λ γ_b) on the diagonal.
  const work = new StreamingQR(n);
  const Rs = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) Rs[i * n + j] = R[i * n + j] / s[j];
  work.addRows(Rs, Float64Array.from(qr.z), n);
  const P = new Float64Array(n * n);
  for (let j = 0; j < n; j++) P[j * n + j] = Math.sqrt(lambda * gamma[j]);
  work.addRows(P, new Float64Array(n), n);
  const d = backSubstitute(work.R, work.z, n);
  for (let j = 0; j < n; j++) d[j] /= s[j];
  return d;
}

/** Loss ‖A c − b‖² of the rows factorised in `qr`. */
export function foldLoss(qr: StreamingQR, c: Float64Array): number {
  const n = qr.n, R = qr.R, z = qr.z;
  let loss = qr.residual2;
  for (let i = 0; i < n; i++) {
    let s = -z[i];
    for (let j = i; j < n; j++) s += R[i * n + j] * c[j];
    loss += s * s;
  }
  return loss;
}

/** A factorisation with its rows scaled by α. */
function scaled(qr: StreamingQR, alpha: number): StreamingQR {
  const q = qr.clone();
  if (alpha === 1) return q;
  for (let k = 0; k < q.R.length; k++) q.R[k] *= alpha;
  for (let k = 0; k < q.z.length; k++) q.z[k] *= alpha;
  q.residual2 *= alpha * alpha;
  return q;
}

/** All folds but `skip` stacked, energy rows scaled by α. */
function stack(folds: FoldFactors[], skip: number, alpha: number): StreamingQR {
  let acc: StreamingQR | null = null;
  folds.forEach((f, k) => {
    if (k === skip) return;
    if (!acc) acc = f.rest.clone();
    else acc.merge(f.rest);
    acc.merge(scaled(f.energy, alpha));
  });
  if (!acc) throw new Error('fit: cross-validation needs at least two folds');
  return acc;
}

function modelFrom(basis: AceBasis, spec: BasisSpec, c: Float64Array, e0Fixed: Float64Array | null, meta: Record<string, unknown>): TraceModel {
  const S = basis.nSpecies;
  const e0 = e0Fixed ? Array.from(e0Fixed) : Array.from(c.subarray(0, S));
  return { basis: spec, nFunctions: basis.nFunctions, coefficients: Array.from(c.subarray(S)), e0, meta };
}

/** Fits a model; reports train (and test, and optionally cross-validation) errors. */
export function fitTrace(options: FitOptions): FitResult {
  const log = options.log ?? (() => {});
  const t0 = performance.now();
  const basis = new AceBasis(options.basis);
  log(`basis: ${basis.nFunctions} functions per species (by order ${basis.countsByOrder().join('/')}), ${basis.nSpecies} species`);
  const asm = assemble(options, basis);
  const t1 = performance.now();
  log(`design: ${options.train.length} frames, ${asm.folds.reduce((a, f) => a + f.energy.rows + f.rest.rows, 0)} rows × ${asm.nCols} columns in ${((t1 - t0) / 1000).toFixed(1)} s`);
  const gamma = priorWeights(basis, options.prior);
  const grid = typeof options.lambda === 'number' ? [options.lambda] : (options.lambda ?? DEFAULT_LAMBDAS);
  const alphas = options.energyScales ?? [1];
  if (alphas.length === 0 || alphas.some((a) => !(a > 0) || !Number.isFinite(a))) throw new Error(`fit: energyScales must be positive numbers, got ${JSON.stringify(alphas)}`);
  if (options.select && !(options.select.energy > 0 && options.select.force > 0)) throw new Error('fit: select needs positive energy and force scales');
  const K = asm.folds.length, W = asm.weights;
  const scan: FitResult['lambdaScan'] = [];
  let best = grid[0], bestAlpha = alphas[0];
  if ((grid.length > 1 || alphas.length > 1) && K > 1) {
    const heldAtoms = asm.folds.reduce((a, f) => a + f.atoms, 0), heldRest = asm.folds.reduce((a, f) => a + f.restRows, 0);
    let bestLoss = Infinity;
    for (const alpha of alphas) {
      const trainingStacks = asm.folds.map((_, k) => stack(asm.folds, k, alpha));
      for (const lam of grid) {
        let lossE = 0, lossR = 0;
        trainingStacks.forEach((st, k) => {
          const ck = solveRegularised(st, gamma, lam);
          lossE += foldLoss(asm.folds[k].energy, ck);
          lossR += foldLoss(asm.folds[k].rest, ck);
        });
        // Energy rows carry w_E/√N: Σ (w_E/√N)² ΔE² = w_E² Σ N Δe², Δe per atom.
        const rmseE = (1000 * Math.sqrt(lossE / heldAtoms)) / W.energy, rmseF = Math.sqrt(lossR / heldRest) / W.force;
        const loss = options.select ? rmseE / options.select.energy + rmseF / options.select.force : alpha * alpha * lossE + lossR;
        scan.push({ lambda: lam, energyScale: alpha, loss, rmse_E: rmseE, rmse_F: rmseF });
        log(`  λ = ${lam.toExponential(1)}, α = ${alpha}: held-out RMSE ${rmseE.toFixed(3)} meV/atom, ${rmseF.toFixed(4)} eV/Å; criterion ${loss.toExponential(4)}`);
        if (loss < bestLoss) { bestLoss = loss; best = lam; bestAlpha = alpha; }
      }
    }
  }
  const all = stack(asm.folds, -1, bestAlpha);
  const c = solveRegularised(all, gamma, best);
  if (c.some((v) => !Number.isFinite(v))) throw new Error(`fit: the least-squares solution is not finite (λ = ${best}); check the training data for extreme values`);
  const t2 = performance.now();
  const meta: Record<string, unknown> = {
    lambda: best,
    weights: { energy: W.energy * bestAlpha, force: W.force, virial: W.virial },
    prior: { wl: options.prior?.wl ?? 2, wn: options.prior?.wn ?? 6 },
    trainFrames: options.train.length,
    source: options.source,
  };
  const model = modelFrom(basis, options.basis, c, asm.e0Fixed, meta);
  const potential = new TracePotential(model, { basis });
  const train = evaluateErrors(potential, options.train);
  const test = options.test && options.test.length > 0 ? evaluateErrors(potential, options.test) : undefined;
  let crossValidation: ErrorReport | undefined;
  if (options.crossValidate && K > 1) {
    const reports: ErrorReport[] = [];
    for (let k = 0; k < K; k++) {
      const ck = solveRegularised(stack(asm.folds, k, bestAlpha), gamma, best);
      const pk = new TracePotential(modelFrom(basis, options.basis, ck, asm.e0Fixed, {}), { basis });
      reports.push(evaluateErrors(pk, options.train.filter((_, i) => asm.foldOf[i] === k)));
    }
    crossValidation = poolReports(reports);
  }
  const t3 = performance.now();
  meta.train = train;
  if (test) meta.test = test;
  if (crossValidation) meta.crossValidation = crossValidation;
  return {
    model, potential, lambda: best, energyWeight: W.energy * bestAlpha, lambdaScan: scan, train, test, crossValidation,
    timings: { design_s: (t1 - t0) / 1000, solve_s: (t2 - t1) / 1000, total_s: (t3 - t0) / 1000 },
    nFunctions: basis.nFunctions, nParameters: asm.nCols,
  };
}

/** Pools per-fold error reports (MAE weighted by counts, RMSE from pooled squares). */
function poolReports(rs: ErrorReport[]): ErrorReport {
  let frames = 0, atoms = 0, eA = 0, eS = 0, fA = 0, fS = 0, fc = 0;
  for (const r of rs) {
    frames += r.frames; atoms += r.atoms;
    eA += r.energy_mae_mev_per_atom * r.frames; eS += r.energy_rmse_mev_per_atom ** 2 * r.frames;
    fA += r.force_mae_ev_per_a * r.force_components; fS += r.force_rmse_ev_per_a ** 2 * r.force_components; fc += r.force_components;
  }
  return {
    frames, atoms,
    energy_mae_mev_per_atom: eA / frames, energy_rmse_mev_per_atom: Math.sqrt(eS / frames),
    force_mae_ev_per_a: fA / fc, force_rmse_ev_per_a: Math.sqrt(fS / fc), force_components: fc,
  };
}

/** Convenience: errors of any potential on frames (the generic src/analysis/errors.ts). */
export { evaluateErrors };
export type { ErrorReport };

/** Reads extxyz files (several joined) with a clear error naming the file. */
export function readFrames(paths: string | string[], readExtxyz: (p: string) => Frame[]): Frame[] {
  const list = Array.isArray(paths) ? paths : [paths];
  return list.flatMap((p) => readExtxyz(p));
}

/** Elements of the frames in order of first appearance. */
export function elementsOf(frames: Frame[]): string[] {
  const seen: string[] = [];
  for (const f of frames) for (const s of f.symbols) if (!seen.includes(s)) seen.push(s);
  return seen;
}

/** Default basis for given elements: order 3, ~300 functions per element channel, ChebExpCos radial. */
export function defaultBasisSpec(elements: string[], overrides: Partial<BasisSpec> = {}): BasisSpec {
  const maxDegree = overrides.maxDegree ?? [20, 16, 12];
  const order = overrides.order ?? maxDegree.length;
  return {
    elements,
    radial: overrides.radial ?? { kind: 'chebexpcos', n: maxDegree[0], cutoff: 5.5, lambda: 1 },
    order,
    maxDegree,
    wL: overrides.wL ?? 1.5,
    channels: overrides.channels ?? { kind: 'full' },
  };
}
