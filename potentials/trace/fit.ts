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
 *
 * Energy loss (`energyLoss`): the benchmark scores the energy MAE, the fit minimises
 * squares, so a few frames with large energy residuals pull the whole fit. With 'l1' or
 * {huber: δ} the energy rows are refitted by iteratively reweighted least squares
 * (IRLS): each fold also keeps its raw (weighted) energy rows, and every iteration
 * re-solves [R_rest of the training folds; u_f·(energy rows)] with row factors u_f from
 * the per-atom energy residuals r_f (meV/atom) of the previous iterate, starting from the
 * L2 solution. The force/virial factors are never refactorised. Weights:
 *   huber δ:  u_f² = min(1, δ/|r_f|)                     (Huber loss, threshold δ)
 *   l1 δ:     u_f² = s / max(|r_f|, δ), s the mean of max(|r_f|, δ) over the rows at the L2
 *             solution (fixed for the iterations), so a frame with the typical L2 residual keeps
 *             its weight and Σ u_f² r_f² → s Σ |r_f| (an L1 loss with a floor δ).
 * Held-out folds are scored with coefficients reweighted on the training folds only.
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
  /**
   * Energy rows per atom (default false): weighted w_E·√N̄/N (N̄ the mean frame size)
   * instead of w_E/√N, so every frame's energy per atom counts the same, as in the
   * energy MAE per atom; frames of N̄ atoms keep their weight. The held-out energy
   * RMSE of the factorised rows is then weighted by N̄/N per frame.
   */
  energyPerAtom?: boolean;
}

/**
 * Loss on the energy rows: 'l2' (default, least squares), 'l1' (IRLS with floor δ =
 * DEFAULT_L1_FLOOR meV/atom), { l1: δ } or { huber: δ } (δ in meV/atom).
 */
export type EnergyLoss = 'l2' | 'l1' | { l1: number } | { huber: number };

/** Floor δ (meV/atom) of the 'l1' energy loss. */
export const DEFAULT_L1_FLOOR = 0.5;
/** IRLS iterations after the initial L2 solve (default of FitOptions.irlsIterations). */
export const DEFAULT_IRLS_ITERATIONS = 8;

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
  select?: FitSelect;
  /** Loss on the energy rows (default 'l2'); see EnergyLoss and the header. */
  energyLoss?: EnergyLoss;
  /** IRLS iterations for a non-L2 energy loss (default DEFAULT_IRLS_ITERATIONS). */
  irlsIterations?: number;
  /** Also estimate errors by cross-validation with the chosen λ (refits per fold; default false). */
  crossValidate?: boolean;
  /** Worker threads for the design assembly (fitTraceAsync only; default 1). */
  threads?: number;
  /** Name of the training data (for error messages). */
  source?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

/**
 * Cross-validation criterion: held-out errors scaled by `energy` (meV/atom) and `force`
 * (eV/Å). metric 'rmse' (default) uses the held-out residuals of the factorised rows;
 * 'mae' refits each fold and evaluates its held-out frames (energy MAE per atom, force
 * component MAE, as the benchmark reports them). combine 'sum' (default) minimises
 * e/energy + f/force, 'max' minimises max(e/energy, f/force) (the worse ratio, as in a
 * target "≤ k× the baseline on both").
 */
export interface FitSelect {
  energy: number;
  force: number;
  metric?: 'rmse' | 'mae';
  combine?: 'sum' | 'max';
}

export interface FitResult {
  model: TraceModel;
  potential: TracePotential;
  lambda: number;
  /** Energy weight used (w_E·α). */
  energyWeight: number;
  /** Validation criterion per (λ, α) tried, with the held-out RMSEs. */
  lambdaScan: { lambda: number; energyScale: number; loss: number; rmse_E: number; rmse_F: number; mae_E?: number; mae_F?: number }[];
  train: ErrorReport;
  test?: ErrorReport;
  crossValidation?: ErrorReport;
  timings: { design_s: number; solve_s: number; total_s: number };
  nFunctions: number;
  nParameters: number;
}

/**
 * The weighted energy rows of a fold as streamed into its energy factor (row-major
 * m × nCols), kept for the IRLS re-solves: right-hand sides, row weight (w_E/√N or
 * w_E·√N̄/N), atom count and training-frame index per row.
 */
export interface EnergyRows {
  m: number;
  A: Float64Array;
  b: Float64Array;
  weight: Float64Array;
  atoms: Float64Array;
  frame: Int32Array;
}

/** Rows of one cross-validation fold: energy rows and force/virial rows factorised apart. */
export interface FoldFactors {
  energy: StreamingQR;
  rest: StreamingQR;
  /** The raw energy rows (absent in design files written before IRLS existed). */
  energyRows?: EnergyRows;
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

/**
 * Frames are assembled in chunks: frame i belongs to fold i mod K and, within the fold,
 * to sub-chunk ⌊i/K⌋ mod CHUNKS_PER_FOLD. Each chunk streams its frames, in index order,
 * into its own pair of factorisations; a fold's chunks are then merged in chunk order.
 * The chunking is fixed (independent of the number of threads), so a parallel assembly
 * (chunks spread over worker threads) gives bit-for-bit the factors of the serial one.
 */
export const CHUNKS_PER_FOLD = 2;

/** Chunk of frame `index` with K folds (fold = ⌊chunk / CHUNKS_PER_FOLD⌋). */
export function chunkOfFrame(index: number, K: number): number {
  return (index % K) * CHUNKS_PER_FOLD + (Math.floor(index / K) % CHUNKS_PER_FOLD);
}

/** What a chunk assembler needs besides the frames (serialisable: sent to workers). */
export interface ChunkContext {
  spec: BasisSpec;
  weights: { energy: number; force: number; virial: number };
  /** Mean frame size N̄ when energy rows are weighted per atom (FitWeights.energyPerAtom), else 0. */
  perAtomRef: number;
  /** Fixed reference energies per species, or null when fitted. */
  e0Fixed: number[] | null;
  folds: number;
  source: string;
}

/** Number of folds actually used for a training set. */
function foldCount(options: FitOptions): number {
  return Math.max(1, Math.min(options.folds ?? 5, options.train.length));
}

/** Validates the options and the frames' labels (energy, forces) before any work. */
export function chunkContext(options: FitOptions, basis: AceBasis): ChunkContext {
  const frames = options.train, src = options.source ?? 'training data';
  if (frames.length === 0) throw new Error(`${src}: no training frames`);
  const wE = options.weights?.energy ?? 30, wF = options.weights?.force ?? 1, wV = options.weights?.virial ?? 1;
  let e0Fixed: number[] | null = null;
  if (options.e0) {
    e0Fixed = basis.elements.map((el) => {
      const v = options.e0![el];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`fit: reference energy for ${el} missing from e0`);
      return v;
    });
  }
  frames.forEach((frame, index) => {
    if (frameEnergy(frame) === undefined) throw new Error(`${src}: frame ${index} has no energy (info key 'energy')`);
    if (frameForces(frame) === undefined) throw new Error(`${src}: frame ${index} has no forces (per-atom column 'force' or 'forces')`);
  });
  const perAtomRef = options.weights?.energyPerAtom ? frames.reduce((a, f) => a + f.symbols.length, 0) / frames.length : 0;
  return { spec: options.basis, weights: { energy: wE, force: wF, virial: wV }, perAtomRef, e0Fixed, folds: foldCount(options), source: src };
}

/** Streams the design rows of the frames of one chunk into a fresh pair of factorisations. */
export class ChunkAssembler {
  private readonly evaluator: AceEvaluator;
  private readonly nl: NeighborList;
  private rowsBuf = new Float64Array(0);
  private rhsBuf = new Float64Array(0);
  private readonly eRow: Float64Array;
  private readonly eRhs = new Float64Array(1);
  readonly nCols: number;

  constructor(private readonly basis: AceBasis, private readonly ctx: ChunkContext) {
    this.nCols = basis.nSpecies + basis.nSpecies * basis.nFunctions;
    this.eRow = new Float64Array(this.nCols);
    this.evaluator = new AceEvaluator(basis);
    this.nl = new NeighborList({ cutoff: basis.radial.cutoff, skin: 0, full: true });
  }

  /** Factorises the rows of frames[i] for every i with chunkOfFrame(i, K) = chunk. */
  chunk(frames: readonly Frame[], chunk: number): FoldFactors {
    const K = this.ctx.folds, nCols = this.nCols;
    const out: FoldFactors = { energy: new StreamingQR(nCols), rest: new StreamingQR(nCols), atoms: 0, restRows: 0 };
    const rows: RowList = { A: [], b: [], weight: [], atoms: [], frame: [] };
    for (let index = 0; index < frames.length; index++) {
      if (chunkOfFrame(index, K) === chunk) this.frame(frames[index], index, out, rows);
    }
    out.energyRows = energyRowsOf(rows, nCols);
    return out;
  }

  private frame(frame: Frame, index: number, out: FoldFactors, rows: RowList): void {
    const { basis, ctx, evaluator, nl, nCols, eRow, eRhs } = this;
    const src = ctx.source, S = basis.nSpecies, F = basis.nFunctions;
    const wE = ctx.weights.energy, wF = ctx.weights.force, wV = ctx.weights.virial, e0Fixed = ctx.e0Fixed;
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
    if (this.rowsBuf.length < nRows * nCols) this.rowsBuf = new Float64Array(nRows * nCols);
    if (this.rhsBuf.length < nRows) this.rhsBuf = new Float64Array(nRows);
    const C = this.rowsBuf, b = this.rhsBuf, m = nRows, SF = S * F;
    C.fill(0, 0, nRows * nCols);
    eRow.fill(0);
    // Energy row (eRow), then column-major force/virial rows C[col·m + row]: 3n forces, then 6 virial rows.
    const we = ctx.perAtomRef > 0 ? (wE * Math.sqrt(ctx.perAtomRef)) / n : wE / Math.sqrt(n);
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
      const s0 = k * 3 * n;
      for (let r = 0; r < 3 * n; r++) C[col + r] = wF * block.forces[s0 + r];
      if (virial) for (let v = 0; v < 6; v++) C[col + 3 * n + v] = wv * block.virial[v * SF + k];
    }
    rows.A.push(Float64Array.from(eRow)); rows.b.push(eRhs[0]); rows.weight.push(we); rows.atoms.push(n); rows.frame.push(index);
    out.energy.addColumnMajor(eRow, eRhs, 1);
    out.rest.addColumnMajor(C, b, nRows);
    out.atoms += n;
    out.restRows += nRows;
  }
}

interface RowList { A: Float64Array[]; b: number[]; weight: number[]; atoms: number[]; frame: number[] }

function energyRowsOf(rows: RowList, nCols: number): EnergyRows {
  const m = rows.b.length, A = new Float64Array(m * nCols);
  rows.A.forEach((r, i) => A.set(r, i * nCols));
  return { m, A, b: Float64Array.from(rows.b), weight: Float64Array.from(rows.weight), atoms: Float64Array.from(rows.atoms), frame: Int32Array.from(rows.frame) };
}

/** Energy rows of several folds stacked (in the order given). */
function concatEnergyRows(list: EnergyRows[], nCols: number): EnergyRows {
  const m = list.reduce((a, r) => a + r.m, 0);
  const out: EnergyRows = { m, A: new Float64Array(m * nCols), b: new Float64Array(m), weight: new Float64Array(m), atoms: new Float64Array(m), frame: new Int32Array(m) };
  let at = 0;
  for (const r of list) {
    out.A.set(r.A.subarray(0, r.m * nCols), at * nCols);
    out.b.set(r.b, at); out.weight.set(r.weight, at); out.atoms.set(r.atoms, at); out.frame.set(r.frame, at);
    at += r.m;
  }
  return out;
}

/** Merges the chunks of each fold, in chunk order, into per-fold factors. */
function foldsFromChunks(chunks: FoldFactors[], K: number): FoldFactors[] {
  const folds: FoldFactors[] = [];
  for (let k = 0; k < K; k++) {
    const f = chunks[k * CHUNKS_PER_FOLD];
    for (let s = 1; s < CHUNKS_PER_FOLD; s++) {
      const g = chunks[k * CHUNKS_PER_FOLD + s];
      if (g.energy.rows === 0 && g.rest.rows === 0) continue;
      f.energy.merge(g.energy);
      f.rest.merge(g.rest);
      if (f.energyRows && g.energyRows) f.energyRows = concatEnergyRows([f.energyRows, g.energyRows], f.energy.n);
      else f.energyRows = undefined;
      f.atoms += g.atoms;
      f.restRows += g.restRows;
    }
    folds.push(f);
  }
  return folds;
}

function assembled(basis: AceBasis, ctx: ChunkContext, chunks: FoldFactors[], nFrames: number): Assembled {
  const K = ctx.folds;
  const foldOf = new Int32Array(nFrames);
  for (let i = 0; i < nFrames; i++) foldOf[i] = i % K;
  return {
    basis, folds: foldsFromChunks(chunks, K), foldOf, weights: ctx.weights,
    nCols: basis.nSpecies + basis.nSpecies * basis.nFunctions, e0Fixed: ctx.e0Fixed ? Float64Array.from(ctx.e0Fixed) : null,
  };
}

/** Builds the design rows of every frame and streams them into per-fold QR factorisations (one thread). */
export function assemble(options: FitOptions, basis = new AceBasis(options.basis)): Assembled {
  const ctx = chunkContext(options, basis);
  const asm = new ChunkAssembler(basis, ctx);
  const chunks: FoldFactors[] = [];
  for (let c = 0; c < ctx.folds * CHUNKS_PER_FOLD; c++) chunks.push(asm.chunk(options.train, c));
  return assembled(basis, ctx, chunks, options.train.length);
}

/** Serialised factorisation (as posted by a worker). */
export interface QrState { n: number; R: Float64Array; z: Float64Array; residual2: number; rows: number }

export function qrState(q: StreamingQR): QrState {
  return { n: q.n, R: q.R, z: q.z, residual2: q.residual2, rows: q.rows };
}

/** A factorisation rebuilt from its state (qrState, or a design file's). */
export function qrFromState(s: QrState): StreamingQR {
  const q = new StreamingQR(s.n);
  q.R.set(s.R); q.z.set(s.z);
  q.residual2 = s.residual2; q.rows = s.rows;
  return q;
}

const WORKER_ENTRY = new URL('./fit-worker.mjs', import.meta.url);

/**
 * As `assemble`, with the chunks spread over `threads` worker threads (each claims the
 * next chunk when done). The factors are identical to the serial ones.
 */
export async function assembleParallel(options: FitOptions, threads: number, basis = new AceBasis(options.basis)): Promise<Assembled> {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`fit: threads must be a positive integer, got ${threads}`);
  const ctx = chunkContext(options, basis);
  const nChunks = ctx.folds * CHUNKS_PER_FOLD;
  if (threads === 1 || nChunks === 1) return assemble(options, basis);
  const { Worker } = await import('node:worker_threads');
  const chunks: (FoldFactors | undefined)[] = new Array(nChunks);
  let next = 0;
  const workers = Array.from({ length: Math.min(threads, nChunks) }, () => new Worker(WORKER_ENTRY, { workerData: { ctx, frames: options.train } }));
  try {
    await Promise.all(workers.map((w, wi) => new Promise<void>((resolveWorker, reject) => {
      const claim = (): void => {
        if (next >= nChunks) { resolveWorker(); return; }
        w.postMessage({ chunk: next++ });
      };
      w.on('message', (m: { chunk: number; error?: string; energy?: QrState; rest?: QrState; energyRows?: EnergyRows; atoms?: number; restRows?: number }) => {
        if (m.error !== undefined) { reject(new Error(m.error)); return; }
        chunks[m.chunk] = { energy: qrFromState(m.energy!), rest: qrFromState(m.rest!), energyRows: m.energyRows, atoms: m.atoms!, restRows: m.restRows! };
        claim();
      });
      w.on('error', (err) => reject(new Error(`fit worker ${wi + 1}: ${err.message}`)));
      w.on('exit', (code) => { if (code !== 0) reject(new Error(`fit worker ${wi + 1} exited with code ${code}`)); });
      claim();
    })));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return assembled(basis, ctx, chunks as FoldFactors[], options.train.length);
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
  // R with scaled columns is still upper triangular: it is the factor of the data rows as is.
  const work = new StreamingQR(n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) work.R[i * n + j] = R[i * n + j] / s[j];
  work.z.set(qr.z);
  const P = new Float64Array(n * n);
  for (let j = 0; j < n; j++) P[j * n + j] = Math.sqrt(lambda * gamma[j]);
  work.addUpperTriangular(P, new Float64Array(n));
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

/** All folds' force/virial factors but `skip` stacked (the IRLS base). */
function stackRest(folds: FoldFactors[], skip: number): StreamingQR {
  let acc: StreamingQR | null = null;
  folds.forEach((f, k) => {
    if (k === skip) return;
    if (!acc) acc = f.rest.clone();
    else acc.merge(f.rest);
  });
  if (!acc) throw new Error('fit: cross-validation needs at least two folds');
  return acc;
}

/** Energy rows of all folds but `skip`. */
function trainingEnergyRows(folds: FoldFactors[], skip: number, nCols: number): EnergyRows {
  const list: EnergyRows[] = [];
  folds.forEach((f, k) => {
    if (k === skip) return;
    if (!f.energyRows) throw new Error('fit: a non-L2 energy loss needs the raw energy rows of every fold (this design has none: reassemble it)');
    list.push(f.energyRows);
  });
  return concatEnergyRows(list, nCols);
}

/** Validated (kind, δ) of an energy loss; null for L2. */
function parseEnergyLoss(loss: EnergyLoss | undefined): { kind: 'l1' | 'huber'; delta: number } | null {
  if (loss === undefined || loss === 'l2') return null;
  if (loss === 'l1') return { kind: 'l1', delta: DEFAULT_L1_FLOOR };
  if (typeof loss === 'object' && loss !== null) {
    // Exactly one of l1 / huber: an object with both would be ambiguous.
    const keys = Object.keys(loss), kind = keys[0];
    const delta = (loss as Record<string, unknown>)[kind];
    if (keys.length === 1 && (kind === 'l1' || kind === 'huber') && typeof delta === 'number' && Number.isFinite(delta) && delta > 0) return { kind, delta };
  }
  throw new Error(`fit: energyLoss must be 'l2', 'l1', { l1: δ } or { huber: δ } with δ > 0 (meV/atom), got ${JSON.stringify(loss)}`);
}

/** Parses a command-line energy loss: l2 | l1 | l1:δ | huber:δ (δ in meV/atom). */
export function energyLossFromText(text: string, name = '--energy-loss'): EnergyLoss {
  const [kind, d, extra] = text.split(':');
  const delta = Number(d);
  if (extra === undefined) {
    if (kind === 'l2' && d === undefined) return 'l2';
    if (kind === 'l1' && d === undefined) return 'l1';
    if ((kind === 'l1' || kind === 'huber') && d !== undefined && Number.isFinite(delta) && delta > 0) return kind === 'l1' ? { l1: delta } : { huber: delta };
  }
  throw new Error(`${name} must be l2, l1, l1:δ or huber:δ (δ > 0 in meV/atom), got '${text}'`);
}

/**
 * IRLS on the energy rows (header): `rest` the stacked force/virial factor of the training
 * folds, `rows` their raw energy rows (scaled by α). Iteration 0 is the L2 solution of
 * exactly these rows; each of the `iterations` further solves reweights the energy rows
 * from the previous iterate's per-atom residuals (meV/atom).
 */
function solveIrls(rest: StreamingQR, rows: EnergyRows, alpha: number, gamma: Float64Array, lambda: number,
  loss: { kind: 'l1' | 'huber'; delta: number }, iterations: number): Float64Array {
  const n = rest.n, m = rows.m;
  const u = new Float64Array(m).fill(1), r = new Float64Array(m);
  const A = new Float64Array(m * n), b = new Float64Array(m);
  let c: Float64Array = new Float64Array(n), scale = 0;
  for (let it = 0; it <= iterations; it++) {
    for (let i = 0; i < m; i++) {
      const s = alpha * u[i];
      for (let j = 0; j < n; j++) A[i * n + j] = s * rows.A[i * n + j];
      b[i] = s * rows.b[i];
    }
    const st = rest.clone();
    if (m > 0) st.addRows(A, b, m);
    c = solveRegularised(st, gamma, lambda);
    if (it === iterations) break;
    // Per-atom energy residual of each row, meV/atom: (b − A·c)/(w_row·N).
    for (let i = 0; i < m; i++) {
      let e = rows.b[i];
      for (let j = 0; j < n; j++) e -= rows.A[i * n + j] * c[j];
      r[i] = Math.abs((1000 * e) / (rows.weight[i] * rows.atoms[i]));
    }
    if (loss.kind === 'huber') {
      for (let i = 0; i < m; i++) u[i] = r[i] > loss.delta ? Math.sqrt(loss.delta / r[i]) : 1;
    } else {
      if (it === 0) {
        for (let i = 0; i < m; i++) scale += Math.max(r[i], loss.delta);
        scale /= m;
      }
      for (let i = 0; i < m; i++) u[i] = Math.sqrt(scale / Math.max(r[i], loss.delta));
    }
  }
  return c;
}

/**
 * Coefficients fitted on all folds but `skip` (−1: all folds) at (λ, α): the stacked
 * factors for L2, IRLS on the raw energy rows otherwise.
 */
function solveFolds(asm: Assembled, skip: number, alpha: number, gamma: Float64Array, lambda: number,
  loss: { kind: 'l1' | 'huber'; delta: number } | null, iterations: number, restStack?: StreamingQR): Float64Array {
  if (!loss) return solveRegularised(stack(asm.folds, skip, alpha), gamma, lambda);
  return solveIrls(restStack ?? stackRest(asm.folds, skip), trainingEnergyRows(asm.folds, skip, asm.nCols), alpha, gamma, lambda, loss, iterations);
}

function irlsIterationsOf(options: { irlsIterations?: number }): number {
  const it = options.irlsIterations ?? DEFAULT_IRLS_ITERATIONS;
  if (!Number.isInteger(it) || it < 0) throw new Error(`fit: irlsIterations must be a non-negative integer, got ${it}`);
  return it;
}

function modelFrom(basis: AceBasis, spec: BasisSpec, c: Float64Array, e0Fixed: Float64Array | null, meta: Record<string, unknown>): TraceModel {
  const S = basis.nSpecies;
  const e0 = e0Fixed ? Array.from(e0Fixed) : Array.from(c.subarray(0, S));
  return { basis: spec, nFunctions: basis.nFunctions, coefficients: Array.from(c.subarray(S)), e0, meta };
}

/** Validation criterion per (λ, α) tried, and the best pair. */
export interface CrossValidationScan {
  scan: FitResult['lambdaScan'];
  lambda: number;
  energyScale: number;
}

/**
 * Chooses λ and the energy-weight multiplier α by K-fold cross-validation on the
 * assembled folds (options.lambda, energyScales, select, log as in fitTrace).
 */
export function selectByCrossValidation(asm: Assembled, gamma: Float64Array, options: Pick<FitOptions, 'lambda' | 'energyScales' | 'select' | 'log' | 'energyLoss' | 'irlsIterations'> & { frames?: Frame[] }): CrossValidationScan {
  const log = options.log ?? (() => {});
  const eLoss = parseEnergyLoss(options.energyLoss), iterations = irlsIterationsOf(options);
  const grid = typeof options.lambda === 'number' ? [options.lambda] : (options.lambda ?? DEFAULT_LAMBDAS);
  const alphas = options.energyScales ?? [1];
  if (alphas.length === 0 || alphas.some((a) => !(a > 0) || !Number.isFinite(a))) throw new Error(`fit: energyScales must be positive numbers, got ${JSON.stringify(alphas)}`);
  const sel = options.select;
  if (sel && !(sel.energy > 0 && sel.force > 0)) throw new Error('fit: select needs positive energy and force scales');
  if (sel?.metric === 'mae' && !options.frames) throw new Error('fit: select metric \'mae\' needs the training frames');
  const combine = (e: number, f: number): number => (sel!.combine === 'max' ? Math.max(e / sel!.energy, f / sel!.force) : e / sel!.energy + f / sel!.force);
  const K = asm.folds.length, W = asm.weights;
  const scan: FitResult['lambdaScan'] = [];
  let best = grid[0], bestAlpha = alphas[0];
  if ((grid.length > 1 || alphas.length > 1) && K > 1) {
    const heldAtoms = asm.folds.reduce((a, f) => a + f.atoms, 0), heldRest = asm.folds.reduce((a, f) => a + f.restRows, 0);
    let bestLoss = Infinity;
    const restStacks = eLoss ? asm.folds.map((_, k) => stackRest(asm.folds, k)) : null;
    const energyRows = eLoss ? asm.folds.map((_, k) => trainingEnergyRows(asm.folds, k, asm.nCols)) : null;
    for (const alpha of alphas) {
      const trainingStacks = eLoss ? null : asm.folds.map((_, k) => stack(asm.folds, k, alpha));
      for (const lam of grid) {
        let lossE = 0, lossR = 0;
        const reports: ErrorReport[] = [];
        asm.folds.forEach((_, k) => {
          const ck = eLoss ? solveIrls(restStacks![k], energyRows![k], alpha, gamma, lam, eLoss, iterations) : solveRegularised(trainingStacks![k], gamma, lam);
          lossE += foldLoss(asm.folds[k].energy, ck);
          lossR += foldLoss(asm.folds[k].rest, ck);
          if (sel?.metric === 'mae') reports.push(heldOutErrors(asm, ck, options.frames!, k));
        });
        // Energy rows carry w_E/√N: Σ (w_E/√N)² ΔE² = w_E² Σ N Δe², Δe per atom.
        const rmseE = (1000 * Math.sqrt(lossE / heldAtoms)) / W.energy, rmseF = Math.sqrt(lossR / heldRest) / W.force;
        const pooled = reports.length > 0 ? poolReports(reports) : null;
        const loss = !sel ? alpha * alpha * lossE + lossR
          : pooled ? combine(pooled.energy_mae_mev_per_atom, pooled.force_mae_ev_per_a) : combine(rmseE, rmseF);
        const row: FitResult['lambdaScan'][number] = { lambda: lam, energyScale: alpha, loss, rmse_E: rmseE, rmse_F: rmseF };
        if (pooled) { row.mae_E = pooled.energy_mae_mev_per_atom; row.mae_F = pooled.force_mae_ev_per_a; }
        scan.push(row);
        const mae = pooled ? `, MAE ${pooled.energy_mae_mev_per_atom.toFixed(3)} meV/atom, ${pooled.force_mae_ev_per_a.toFixed(4)} eV/Å` : '';
        log(`  λ = ${lam.toExponential(1)}, α = ${alpha}: held-out RMSE ${rmseE.toFixed(3)} meV/atom, ${rmseF.toFixed(4)} eV/Å${mae}; criterion ${loss.toExponential(4)}`);
        if (loss < bestLoss) { bestLoss = loss; best = lam; bestAlpha = alpha; }
      }
    }
  }
  return { scan, lambda: best, energyScale: bestAlpha };
}

/** Errors of the coefficients `c` (fitted without fold k) on the training frames of fold k. */
function heldOutErrors(asm: Assembled, c: Float64Array, frames: Frame[], k: number): ErrorReport {
  const pk = new TracePotential(modelFrom(asm.basis, asm.basis.spec, c, asm.e0Fixed, {}), { basis: asm.basis });
  return evaluateErrors(pk, frames.filter((_, i) => asm.foldOf[i] === k));
}

/**
 * The assembly of a smaller basis from that of a larger one (hyper-parameter scans:
 * one design, many truncations). Every function of `basis` must be in `big.basis`
 * (same key, AceBasis.fKey; single-species full channels); each fold's factor of the
 * selected columns is R_big[:, cols] re-triangularised, exactly the least-squares
 * problem of the selected design columns.
 */
export function restrictAssembled(big: Assembled, basis: AceBasis): Assembled {
  const S = basis.nSpecies;
  if (S !== big.basis.nSpecies || basis.elements.some((e, z) => e !== big.basis.elements[z])) throw new Error('fit: restrictAssembled needs the same elements');
  const where = new Map<string, number>();
  big.basis.fKey.forEach((k, b) => where.set(k, b));
  const Fb = big.basis.nFunctions, F = basis.nFunctions, n = S + S * F, nb = big.nCols;
  const cols = new Int32Array(n);
  for (let z = 0; z < S; z++) cols[z] = z;
  for (let b = 0; b < F; b++) {
    const j = where.get(basis.fKey[b]);
    if (j === undefined) throw new Error(`fit: function ${basis.fKey[b]} is not in the larger basis`);
    for (let z = 0; z < S; z++) cols[S + z * F + b] = S + z * Fb + j;
  }
  let last = 0;
  for (const c of cols) last = Math.max(last, c);
  const m = last + 1; // rows of R_big below the last selected column are zero there
  const restrict = (q: StreamingQR): StreamingQR => {
    const out = new StreamingQR(n), A = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) A[i * n + j] = q.R[i * nb + cols[j]];
    out.addRows(A, Float64Array.from(q.z.subarray(0, m)), m);
    for (let i = m; i < nb; i++) out.residual2 += q.z[i] * q.z[i];
    out.residual2 += q.residual2;
    out.rows = q.rows;
    return out;
  };
  const restrictRows = (r: EnergyRows): EnergyRows => {
    const A = new Float64Array(r.m * n);
    for (let i = 0; i < r.m; i++) for (let j = 0; j < n; j++) A[i * n + j] = r.A[i * nb + cols[j]];
    return { ...r, A };
  };
  return {
    basis, foldOf: big.foldOf, weights: big.weights, nCols: n, e0Fixed: big.e0Fixed,
    folds: big.folds.map((f) => ({ energy: restrict(f.energy), rest: restrict(f.rest), energyRows: f.energyRows && restrictRows(f.energyRows), atoms: f.atoms, restRows: f.restRows })),
  };
}

/** Fits a model on the calling thread; reports train (and test, and optionally cross-validation) errors. */
export function fitTrace(options: FitOptions): FitResult {
  const t0 = performance.now();
  const basis = logBasis(options);
  return finishFit(options, basis, assemble(options, basis), t0);
}

/**
 * As `fitTrace`, with the design assembly spread over `options.threads` worker threads
 * (default 1). The result does not depend on the thread count.
 */
export async function fitTraceAsync(options: FitOptions): Promise<FitResult> {
  const t0 = performance.now();
  const basis = logBasis(options);
  return finishFit(options, basis, await assembleParallel(options, options.threads ?? 1, basis), t0);
}

function logBasis(options: FitOptions): AceBasis {
  const basis = new AceBasis(options.basis);
  options.log?.(`basis: ${basis.nFunctions} functions per species (by order ${basis.countsByOrder().join('/')}), ${basis.nSpecies} species`);
  return basis;
}

function finishFit(options: FitOptions, basis: AceBasis, asm: Assembled, t0: number): FitResult {
  const log = options.log ?? (() => {});
  const t1 = performance.now();
  log(`design: ${options.train.length} frames, ${asm.folds.reduce((a, f) => a + f.energy.rows + f.rest.rows, 0)} rows × ${asm.nCols} columns in ${((t1 - t0) / 1000).toFixed(1)} s`);
  const gamma = priorWeights(basis, options.prior);
  const { scan, lambda: best, energyScale: bestAlpha } = selectByCrossValidation(asm, gamma, { ...options, frames: options.train });
  const W = asm.weights, K = asm.folds.length;
  const loss = parseEnergyLoss(options.energyLoss), iterations = irlsIterationsOf(options);
  const c = solveFolds(asm, -1, bestAlpha, gamma, best, loss, iterations);
  if (c.some((v) => !Number.isFinite(v))) throw new Error(`fit: the least-squares solution is not finite (λ = ${best}); check the training data for extreme values`);
  const t2 = performance.now();
  const meta: Record<string, unknown> = {
    lambda: best,
    weights: { energy: W.energy * bestAlpha, force: W.force, virial: W.virial },
    prior: { wl: options.prior?.wl ?? 2, wn: options.prior?.wn ?? 6 },
    ...(loss ? { energyLoss: { [loss.kind]: loss.delta }, irlsIterations: iterations } : {}),
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
      const ck = solveFolds(asm, k, bestAlpha, gamma, best, loss, iterations);
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
