/**
 * Training LATTE models on energies, forces and (when present) virials.
 *
 * Loss of a batch of B structures (N_s atoms each, Nf force components in all):
 *   L = wE · mean_s((E_s − E_s^ref)/N_s)² + wF · Σ (F − F^ref)²/Nf + wV · mean_s Σ_voigt ((W − W^ref)/N_s)²/6
 * Gradients: the energy term uses ∂E/∂θ directly. The force and virial terms need
 * Σ_k d_k · ∂(−∂E/∂x_k)/∂θ for a fixed displacement field d of the extended atoms
 * (d_k = c_F (F − F^ref)_owner(k) + V x_k, V from the virial residual); that equals
 * −∂/∂θ [dE(x + εd)/dε], evaluated as a central difference of ∂E/∂θ at x ± h·d/|d|∞
 * (h = 1e-5 Å, error O(h²)) — the route described in /work/shared/specs/latte.md.
 *
 * Adam with exponential learning-rate decay per epoch, mini-batches, a seeded
 * train/validation split, early stopping on the validation loss (the best
 * parameters are kept), learning curves as CSV.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { frameEnergy, frameForces, frameToSystem, frameVirial, readExtxyz, type Frame } from '../../src/io/extxyz.ts';
import { NeighborList } from '../../src/neighbors.ts';
import { Rng } from '../../src/rng.ts';
import type { System } from '../../src/system.ts';
import { LatteModel, type LatteConfig, type LatteAtoms } from './model.ts';
import { ParallelLoss, type ParallelLossOptions } from './train-parallel.ts';
import { freezeStructures } from './freeze-parallel.ts';
import { FrozenLossEvaluator, freezeStructure, frozenBytes, type FrozenStructure } from './train-frozen.ts';

/** One reference structure prepared for training: extended atoms and a full list (model species indices). */
export interface TrainingStructure {
  /** "file:frame" for messages. */
  name: string;
  nLocal: number;
  nTotal: number;
  positions: Float64Array;
  species: Int32Array;
  owner: Int32Array;
  full: { offsets: Int32Array; neighbors: Int32Array };
  energy: number;
  /** Reference forces of the local atoms, 3·nLocal. */
  forces: Float64Array;
  /** Reference virial W = Σ r⊗f, Voigt xx yy zz yz xz xy (eV), or null. */
  virial: Float64Array | null;
  /**
   * Factor on this structure's loss terms (energy, forces, virial): 1 for measured data,
   * less to let e.g. frames labelled by another model count for less (TrainOptions.augmentWeights).
   */
  weight: number;
}

/** Neighbour-list skin used for training structures: covers the ±h displacements. */
const TRAIN_SKIN = 0.05;
/** Displacement step of the force/virial-loss gradient, Å. */
const FD_STEP = 1e-5;
/** Smaller step for the one-sided scheme, whose error is O(h). */
const FD_STEP_FORWARD = 1e-6;

/** Reads extxyz files; every frame must have an energy and forces (errors name file and frame). */
export function readTrainingFrames(paths: readonly string[]): { frame: Frame; name: string }[] {
  const out: { frame: Frame; name: string }[] = [];
  for (const path of paths) {
    const frames = readExtxyz(path);
    if (frames.length === 0) throw new Error(`training file '${path}' has no frames`);
    frames.forEach((frame, k) => {
      const name = `${path}: frame ${k}`;
      if (frameEnergy(frame) === undefined) throw new Error(`${name} has no energy (header key 'energy'); LATTE training needs energies and forces`);
      if (frameForces(frame) === undefined) throw new Error(`${name} has no forces (per-atom column 'force' or 'forces'); LATTE training needs energies and forces`);
      out.push({ frame, name });
    });
  }
  return out;
}

/** Distinct elements of frames, sorted. */
export function framesElements(frames: readonly { frame: Frame }[]): string[] {
  return [...new Set(frames.flatMap((f) => f.frame.symbols))].sort();
}

export function prepareStructure(frame: Frame, name: string, elements: readonly string[], cutoff: number): TrainingStructure {
  for (const s of new Set(frame.symbols)) {
    if (!elements.includes(s)) throw new Error(`${name}: element ${s} is not in the model (it covers ${elements.join(', ')})`);
  }
  const forces = frameForces(frame)!;
  const w = frameVirial(frame);
  const virial = w ? Float64Array.from([w[0], w[4], w[8], w[5], w[2], w[1]]) : null;
  return prepareSystem(frameToSystem(frame), name, { energy: frameEnergy(frame)!, forces, virial }, elements, cutoff);
}

/** A training structure from a System and reference energy, forces (3n) and optional virial (Voigt). */
export function prepareSystem(
  system: System,
  name: string,
  ref: { energy: number; forces: ArrayLike<number>; virial?: ArrayLike<number> | null },
  elements: readonly string[],
  cutoff: number,
): TrainingStructure {
  const nl = new NeighborList({ cutoff, skin: TRAIN_SKIN, full: true });
  nl.update(system);
  const nTotal = nl.nTotal;
  const map = system.elements.map((e) => {
    const t = elements.indexOf(e);
    if (t < 0) throw new Error(`${name}: element ${e} is not in the model (it covers ${elements.join(', ')})`);
    return t;
  });
  const species = new Int32Array(nTotal);
  for (let k = 0; k < nTotal; k++) species[k] = map[nl.species[k]];
  const full = nl.full!;
  if (ref.forces.length !== 3 * system.n) throw new Error(`${name}: ${ref.forces.length / 3} force rows for ${system.n} atoms`);
  return {
    name,
    nLocal: system.n,
    nTotal,
    positions: nl.positions.slice(0, 3 * nTotal),
    species,
    owner: nl.owner.slice(0, nTotal),
    full: { offsets: full.offsets.slice(0, system.n + 1), neighbors: full.neighbors.slice(0, full.offsets[system.n]) },
    energy: ref.energy,
    forces: Float64Array.from(ref.forces),
    virial: ref.virial ? Float64Array.from(ref.virial) : null,
    weight: 1,
  };
}

export interface LossWeights {
  energy: number;
  forces: number;
  virial: number;
}

/**
 * How the force/virial-loss gradient differences ∂E/∂θ along the displacement:
 * 'central' (two extra passes, error O(h²)) or 'forward' (one extra pass reusing
 * ∂E/∂θ at x, h = 1e-6 Å, error O(h) ≈ 1e-5 relative; a third cheaper per training step).
 */
export type ForceGradientScheme = 'central' | 'forward';

export interface BatchResult {
  loss: number;
  /** Σ |ΔE|/N and Σ (ΔE/N)² over structures, Σ |ΔF| and Σ ΔF² over components. */
  eAbs: number;
  eSq: number;
  fAbs: number;
  fSq: number;
  structures: number;
  components: number;
}

/** Loss terms per structure: loss, Σ|ΔE/N|, Σ(ΔE/N)², Σ|ΔF|, ΣΔF². */
export const TERMS = 5;

/** Adds one structure's terms (terms[at ..]) and gradient (slot, if grad is given) to a batch result. */
export function addStructure(res: BatchResult, terms: Float64Array, at: number, grad: Float64Array | null, slot: Float64Array | null): void {
  res.loss += terms[at];
  res.eAbs += terms[at + 1];
  res.eSq += terms[at + 2];
  res.fAbs += terms[at + 3];
  res.fSq += terms[at + 4];
  if (grad && slot) for (let k = 0; k < grad.length; k++) grad[k] += slot[k];
}

/**
 * Loss of a batch and (if grad is given) its gradient with respect to theta, added to grad.
 * Scratch arrays are reused across calls through `work`.
 */
export class LossEvaluator {
  readonly model: LatteModel;
  readonly weights: LossWeights;
  private readonly identity: Int32Array;
  private fext = new Float64Array(0);
  private disp = new Float64Array(0);
  private shifted = new Float64Array(0);
  private resid = new Float64Array(0);
  private readonly gE: Float64Array;
  private readonly slot: Float64Array;
  private readonly terms = new Float64Array(TERMS);

  readonly scheme: ForceGradientScheme;

  constructor(model: LatteModel, weights: LossWeights, scheme: ForceGradientScheme = 'central') {
    this.model = model;
    this.weights = weights;
    this.scheme = scheme;
    this.identity = Int32Array.from({ length: model.nSpecies }, (_, k) => k);
    this.gE = new Float64Array(model.nParameters);
    this.slot = new Float64Array(model.nParameters);
  }

  /**
   * Loss terms of a batch and (if grad is given) the gradient added to grad. Each
   * structure's terms and gradient are computed on their own (`structure`), then
   * added in structure order (`addStructure`) — the same arithmetic as the parallel
   * path (train-parallel.ts), so results have identical bits for any thread count.
   */
  batch(structures: readonly TrainingStructure[], grad: Float64Array | null): BatchResult {
    const B = structures.length;
    let Nf = 0;
    for (const s of structures) Nf += 3 * s.nLocal;
    const res: BatchResult = { loss: 0, eAbs: 0, eSq: 0, fAbs: 0, fSq: 0, structures: B, components: Nf };
    const slot = grad ? this.slot : null, terms = this.terms;
    for (const s of structures) {
      this.structure(s, B, Nf, slot, terms, 0);
      addStructure(res, terms, 0, grad, slot);
    }
    return res;
  }

  /**
   * One structure of a batch of B structures with Nf force components: its loss
   * terms go to terms[at .. at+TERMS) (loss, Σ|ΔE/N|, Σ(ΔE/N)², Σ|ΔF|, ΣΔF²) and, if
   * slot is given, its whole gradient contribution overwrites slot.
   */
  structure(s: TrainingStructure, B: number, Nf: number, slot: Float64Array | null, terms: Float64Array, at: number): void {
    const model = this.model, ws = s.weight;
    const wE = ws * this.weights.energy, wF = ws * this.weights.forces, wV = ws * this.weights.virial;
    const n = s.nLocal, nT = s.nTotal;
    const grad = slot; // overwritten by the energy term's gradient below
    let loss = 0, eAbs = 0, fAbs = 0;
    if (this.fext.length < 3 * nT) {
      this.fext = new Float64Array(3 * nT);
      this.disp = new Float64Array(3 * nT);
      this.shifted = new Float64Array(3 * nT);
      this.resid = new Float64Array(3 * nT);
    }
    const fext = this.fext;
    fext.fill(0, 0, 3 * nT);
    const gE = this.gE;
    if (grad) gE.fill(0);
    const atoms: LatteAtoms = { nLocal: n, positions: s.positions, species: s.species, full: s.full };
    const E = model.evaluate(atoms, this.identity, { forces: fext, paramGrad: grad ? gE : null, gradScale: 1 });
    // Energy term.
    const dE = (E - s.energy) / n;
    loss += (wE * dE * dE) / B;
    eAbs += Math.abs(dE);
    if (grad) {
      const c = (2 * wE * dE) / (n * B);
      for (let k = 0; k < gE.length; k++) grad[k] = c * gE[k];
    }
    // Forces of local atoms (ghost contributions folded into owners), residual v.
    const x = s.positions, owner = s.owner;
    const v = this.resid;
    for (let k = 0; k < 3 * n; k++) v[k] = fext[k];
    for (let g = n; g < nT; g++) {
      const o = owner[g];
      v[3 * o] += fext[3 * g]; v[3 * o + 1] += fext[3 * g + 1]; v[3 * o + 2] += fext[3 * g + 2];
    }
    let fSq = 0;
    for (let k = 0; k < 3 * n; k++) {
      v[k] -= s.forces[k];
      fAbs += Math.abs(v[k]);
      fSq += v[k] * v[k];
    }
    loss += (wF * fSq) / Nf;
    // Virial term.
    let V: number[] | null = null;
    if (s.virial && wV > 0) {
      let wxx = 0, wyy = 0, wzz = 0, wyz = 0, wxz = 0, wxy = 0;
      for (let k = 0; k < nT; k++) {
        const fx = fext[3 * k], fy = fext[3 * k + 1], fz = fext[3 * k + 2];
        const rx = x[3 * k], ry = x[3 * k + 1], rz = x[3 * k + 2];
        wxx += rx * fx; wyy += ry * fy; wzz += rz * fz; wyz += ry * fz; wxz += rx * fz; wxy += rx * fy;
      }
      const W = [wxx, wyy, wzz, wyz, wxz, wxy];
      const r = W.map((w, q) => (w - s.virial![q]) / n);
      let sq = 0;
      for (const q of r) sq += q * q;
      loss += (wV * sq) / (6 * B);
      const c = (2 * wV) / (6 * B * n);
      // Symmetric matrix V with off-diagonal Voigt residuals split over (a,b) and (b,a).
      V = [c * r[0], 0.5 * c * r[5], 0.5 * c * r[4], 0.5 * c * r[5], c * r[1], 0.5 * c * r[3], 0.5 * c * r[4], 0.5 * c * r[3], c * r[2]];
    }
    terms[at] = loss; terms[at + 1] = eAbs; terms[at + 2] = dE * dE; terms[at + 3] = fAbs; terms[at + 4] = fSq;
    if (!grad) return;
    // Displacement field d_k = cF v_owner(k) + V x_k over extended atoms.
    const cF = (2 * wF) / Nf;
    const d = this.disp;
    let dmax = 0;
    for (let k = 0; k < nT; k++) {
      const o = owner[k];
      let dx = cF * v[3 * o], dy = cF * v[3 * o + 1], dz = cF * v[3 * o + 2];
      if (V) {
        const rx = x[3 * k], ry = x[3 * k + 1], rz = x[3 * k + 2];
        dx += V[0] * rx + V[1] * ry + V[2] * rz;
        dy += V[3] * rx + V[4] * ry + V[5] * rz;
        dz += V[6] * rx + V[7] * ry + V[8] * rz;
      }
      d[3 * k] = dx; d[3 * k + 1] = dy; d[3 * k + 2] = dz;
      dmax = Math.max(dmax, Math.abs(dx), Math.abs(dy), Math.abs(dz));
    }
    if (dmax === 0) return;
    const h = FD_STEP / dmax; // positions move by at most FD_STEP Å
    const xs = this.shifted;
    const shifted: LatteAtoms = { nLocal: n, positions: xs, species: s.species, full: s.full };
    if (this.scheme === 'forward') {
      // −∂/∂θ dE(x+εd)/dε ≈ −[g(x+hd) − g(x)]/h, with g(x) = gE from the first pass.
      const h = FD_STEP_FORWARD / dmax;
      for (let k = 0; k < 3 * nT; k++) xs[k] = x[k] + h * d[k];
      model.evaluate(shifted, this.identity, { paramGrad: grad, gradScale: -1 / h });
      const c = 1 / h;
      for (let k = 0; k < gE.length; k++) grad[k] += c * gE[k];
      return;
    }
    for (const sign of [1, -1]) {
      for (let k = 0; k < 3 * nT; k++) xs[k] = x[k] + sign * h * d[k];
      // −∂/∂θ dE(x+εd)/dε ≈ −[g(x+hd) − g(x−hd)]/(2h)
      model.evaluate(shifted, this.identity, { paramGrad: grad, gradScale: -sign / (2 * h) });
    }
  }
}

export interface TrainOptions {
  /** Model shape; elements default to those of the training data. Ignored when `initial` is given. */
  model: Omit<LatteConfig, 'elements'> & { elements?: string[] };
  /**
   * Continue from this model (e.g. a checkpoint) instead of a fresh initialisation: its
   * shape, parameters and standardisation are kept (a copy is trained). The validation
   * split is drawn from the seed as usual, so the same seed and files give the same split.
   */
  initial?: LatteModel;
  /**
   * With `initial`: append these descriptor blocks first (extendDescriptor), standardised
   * over the training structures, with zero first-layer weights (same energies at the start).
   */
  addBlocks?: string;
  /** Radial functions of the appended blocks (default: spread over [width, rc − width] at the model's width). */
  addRadial?: AddedRadial;
  /** With `initial`: drop these blocks, or single terms of blocks, first (dropDescriptorTerms; before addBlocks). */
  dropTerms?: DescriptorTerm[];
  /** Training extxyz files. */
  train: string[];
  /**
   * Training-only files: their frames always train and are never drawn for validation,
   * so `validationFraction` splits `train` alone and the split is the same with or without
   * them (e.g. synthetic frames labelled by another model, `labelFrames`).
   */
  augment?: string[];
  /**
   * Loss weight of each augment file's frames (TrainingStructure.weight), in the order of
   * `augment`, or one number for all of them; default 1 (a measured frame's weight).
   * The frames still count in a batch's totals of structures and force components (the
   * loss's means), so weight 0 is not quite the same as leaving a file out.
   */
  augmentWeights?: number[];
  /** Validation files; when absent, `validationFraction` of the training frames (seeded) is held out. */
  validation?: string[];
  validationFraction?: number;
  seed?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Learning rate multiplied by this every epoch (default 0.99; exponential schedule). */
  decay?: number;
  /**
   * 'exponential' (default): lr·decay^(epoch−1). 'cosine': lrMin + (lr − lrMin)·(1 + cos(π·(epoch−1)/(epochs−1)))/2,
   * reaching lrMin at the last epoch (SGDR without restarts, Loshchilov & Hutter 2017).
   */
  schedule?: 'exponential' | 'cosine';
  /** Final learning rate of the cosine schedule (default lr/100). */
  learningRateMin?: number;
  /**
   * Which epoch's parameters are kept (and early stopping): 'loss' (default) the lowest
   * validation loss; 'mae' the lowest √wE·MAE(E/N) + √wF·MAE(F), the loss's weights put
   * on mean absolute errors (the benchmarked figures), less dominated by a few outliers.
   */
  select?: 'loss' | 'mae';
  /** Stop after this many epochs without a better validation loss (default 50). */
  patience?: number;
  weights?: Partial<LossWeights>;
  /** Learning-curve CSV path. */
  curves?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Stop after this many seconds (default: no limit). */
  maxSeconds?: number;
  /** Force/virial-loss gradient scheme (default 'central'). */
  forceGradient?: ForceGradientScheme;
  /**
   * Threads computing each batch's structures, the calling one included (default:
   * available cores; 1: no worker threads). The trained model has identical bits
   * for any count (train-parallel.ts).
   */
  workers?: number;
  /** Settings of the worker threads (testing and tuning: stall timeout, spinning, callerComputes). */
  parallel?: Partial<Omit<ParallelLossOptions, 'workers' | 'maxBatch'>>;
  /** Wait until the worker threads have started before the first batch (default false: the calling thread computes meanwhile). */
  waitForWorkers?: boolean;
  /** Called after every epoch that improved the validation loss (e.g. to save a checkpoint). */
  onImproved?: (model: LatteModel, record: EpochRecord) => void;
  /**
   * 'adam' (default): mini-batches, learning-rate schedule. 'lbfgs': full-batch L-BFGS
   * with a backtracking (Armijo) line search, deterministic; an "epoch" is one
   * iteration, `learningRate` bounds the first step (largest parameter change), and
   * batchSize, decay and schedule are not used.
   */
  optimizer?: Optimizer;
  /**
   * L2 penalty λ on the MLPs' weights (default 0, none): the optimisers minimise the
   * data loss + λ Σ w² (LatteModel.weightPenalty; with Adam a term of the loss, not
   * decoupled decay). The training loss reported includes it; the validation loss does
   * not, so neither does a selection on validation (without validation structures the
   * selection is on the training loss, penalty included).
   */
  weightDecay?: number;
  /** Pairs (s, y) kept by L-BFGS (default 20). */
  lbfgsMemory?: number;
  /**
   * Train only the MLPs (default false): the radial centres, widths and species weights
   * stay fixed, the descriptors and their position Jacobians are computed once per
   * structure (train-frozen.ts) and every loss/gradient evaluation uses them: exact
   * force-loss gradients, no neighbour loops. Memory ~ atoms × neighbours × D × 24
   * bytes, in shared memory when `workers` > 1 (the worker threads share it, and
   * the trained bits are the same for any number of threads).
   */
  freezeDescriptor?: boolean;
}

export type Optimizer = 'adam' | 'lbfgs';
export const OPTIMIZERS: readonly Optimizer[] = ['adam', 'lbfgs'];

export interface EpochRecord {
  epoch: number;
  lr: number;
  trainLoss: number;
  valLoss: number;
  trainEnergyMae: number;
  trainForceMae: number;
  valEnergyMae: number;
  valForceMae: number;
  seconds: number;
  /** CPU seconds of the process (all threads) since training began. */
  cpuSeconds: number;
}

export interface TrainResult {
  model: LatteModel;
  history: EpochRecord[];
  bestEpoch: number;
  seconds: number;
  trainStructures: number;
  validationStructures: number;
  /** Threads that computed the batches (the calling one included), and the fraction of structure evaluations worker threads did. */
  workers: number;
  workerShare: number;
  /** L-BFGS only: full-batch loss-and-gradient evaluations (the line searches' included). */
  evaluations?: number;
}

/** Sets the model's standardisation (per species mean and 1/std of each descriptor over the structures) for descriptors d ≥ from. */
function fitStandardisation(model: LatteModel, structures: readonly TrainingStructure[], from = 0): void {
  const D = model.nDescriptors, ns = model.nSpecies;
  const sum = new Float64Array(ns * D), sq = new Float64Array(ns * D), count = new Float64Array(ns);
  const identity = Int32Array.from({ length: ns }, (_, k) => k);
  for (const s of structures) {
    const G = new Float64Array(s.nLocal * D);
    model.evaluate({ nLocal: s.nLocal, positions: s.positions, species: s.species, full: s.full }, identity, { descriptors: G, descriptorOnly: true });
    for (let i = 0; i < s.nLocal; i++) {
      const t = s.species[i];
      count[t]++;
      for (let d = from; d < D; d++) { const g = G[i * D + d]; sum[t * D + d] += g; sq[t * D + d] += g * g; }
    }
  }
  for (let t = 0; t < ns; t++) {
    for (let d = from; d < D; d++) {
      const k = t * D + d;
      if (count[t] === 0) { model.mean[k] = 0; model.invStd[k] = 1; continue; }
      const m = sum[k] / count[t];
      const variance = Math.max(0, sq[k] / count[t] - m * m);
      model.mean[k] = m;
      model.invStd[k] = variance > 1e-16 ? 1 / Math.sqrt(variance) : 1;
    }
  }
}

/** Standardisation (per species mean and 1/std of the descriptors over the structures) and e0 by least squares. */
export function fitStatistics(model: LatteModel, structures: readonly TrainingStructure[]): void {
  const ns = model.nSpecies;
  fitStandardisation(model, structures);
  // e0: least squares of E ≈ Σ_t n_t e0_t (normal equations, ridge-regularised for absent species).
  const A = new Float64Array(ns * ns), b = new Float64Array(ns);
  for (const s of structures) {
    const nt = new Float64Array(ns);
    for (let i = 0; i < s.nLocal; i++) nt[s.species[i]]++;
    for (let p = 0; p < ns; p++) {
      b[p] += nt[p] * s.energy;
      for (let q = 0; q < ns; q++) A[p * ns + q] += nt[p] * nt[q];
    }
  }
  for (let p = 0; p < ns; p++) A[p * ns + p] += 1e-8 * (1 + A[p * ns + p]);
  model.e0.set(solve(A, b, ns));
  // Output scale: spread of the per-atom energy residual, or a tenth of the force RMS (× 1 Å) if larger.
  let eSq = 0, fSq = 0, fCount = 0;
  for (const s of structures) {
    let base = 0;
    for (let i = 0; i < s.nLocal; i++) base += model.e0[s.species[i]];
    const r = (s.energy - base) / s.nLocal;
    eSq += r * r;
    for (const f of s.forces) { fSq += f * f; fCount++; }
  }
  const scale = Math.max(Math.sqrt(eSq / Math.max(1, structures.length)), 0.1 * Math.sqrt(fSq / Math.max(1, fCount)), 1e-3);
  model.outScale.fill(scale);
}

function solve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const M = Float64Array.from(A), x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[piv * n + c])) piv = r;
    for (let k = 0; k < n; k++) { const t = M[c * n + k]; M[c * n + k] = M[piv * n + k]; M[piv * n + k] = t; }
    const t = x[c]; x[c] = x[piv]; x[piv] = t;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r * n + c] / M[c * n + c];
      for (let k = 0; k < n; k++) M[r * n + k] -= f * M[c * n + k];
      x[r] -= f * x[c];
    }
  }
  for (let c = 0; c < n; c++) x[c] /= M[c * n + c];
  return x;
}

/**
 * The same model with more freedom for training: a larger cutoff and/or learned widths
 * in [widthMin, widthMax] (which must contain every current width). Centres, widths,
 * weights, MLP and standardisation are copied, so the descriptors and energies are
 * unchanged (every support [c − s, c + s] stays inside the larger cutoff).
 */
export function widenModel(model: LatteModel, change: { cutoff?: number; widthMin?: number; widthMax?: number }): LatteModel {
  const cfg = model.config;
  const cutoff = change.cutoff ?? cfg.cutoff;
  if (cutoff < cfg.cutoff) throw new Error(`widenModel: cutoff ${cutoff} is smaller than the model's ${cfg.cutoff}`);
  const trainWidths = cfg.trainWidths || change.widthMin !== undefined || change.widthMax !== undefined;
  const widthMin = change.widthMin ?? cfg.widthMin, widthMax = change.widthMax ?? cfg.widthMax;
  const F = model.nFunctions;
  for (let f = 0; f < F; f++) {
    const s = model.theta[model.offWidths + f];
    if (s < widthMin || s > widthMax) throw new Error(`widenModel: ${model.functionLabel(f)} has width ${s} outside [${widthMin}, ${widthMax}]`);
  }
  const m = new LatteModel({ ...cfg, cutoff, trainWidths, widthMin, widthMax }, model.theta);
  m.mean.set(model.mean);
  m.invStd.set(model.invStd);
  m.e0.set(model.e0);
  m.outScale.set(model.outScale);
  return m;
}

/**
 * The same model with wider hidden layers (each at least its current size, same number
 * of layers): existing weights are copied, new neurons get N(0, 2/(in+out)) input
 * weights (seeded) and zero bias, and every weight from a new neuron into an existing
 * one or into the output is zero — the energies are unchanged.
 */
export function widenHidden(model: LatteModel, hidden: readonly number[], seed = 1): LatteModel {
  const cfg = model.config;
  if (hidden.length !== cfg.hidden.length) throw new Error(`widenHidden: ${hidden.length} hidden layers given, the model has ${cfg.hidden.length}`);
  hidden.forEach((h, l) => {
    if (!Number.isInteger(h) || h < cfg.hidden[l]) throw new Error(`widenHidden: hidden layer ${l + 1} size ${h} is smaller than the model's ${cfg.hidden[l]} (or not an integer)`);
  });
  const m = new LatteModel({ ...cfg, hidden: [...hidden] });
  const rng = new Rng(seed);
  m.theta.set(model.theta.subarray(0, model.offMlp[0]));
  m.trainable.set(model.trainable.subarray(0, model.offMlp[0]));
  const oldSizes = model.layerSizes, newSizes = m.layerSizes, L = oldSizes.length - 1;
  for (let t = 0; t < model.nSpecies; t++) {
    let o = model.offMlp[t], n = m.offMlp[t];
    for (let l = 0; l < L; l++) {
      const ni = oldSizes[l], no = oldSizes[l + 1], Ni = newSizes[l], No = newSizes[l + 1];
      const sd = Math.sqrt(2 / (Ni + No));
      for (let k = 0; k < No; k++) {
        for (let q = 0; q < Ni; q++) {
          let w = 0;
          if (k < no && q < ni) w = model.theta[o + k * ni + q];
          else if (k >= no && l < L - 1) w = sd * rng.normal();
          m.theta[n + k * Ni + q] = w;
        }
        m.theta[n + No * Ni + k] = k < no ? model.theta[o + no * ni + k] : 0;
      }
      o += no * (ni + 1);
      n += No * (Ni + 1);
    }
  }
  m.mean.set(model.mean);
  m.invStd.set(model.invStd);
  m.e0.set(model.e0);
  m.outScale.set(model.outScale);
  return m;
}

/**
 * Copies `from`'s parameters into `to`, a model of the same elements and MLP whose
 * functions and descriptors are a re-indexing of `from`'s: to's function f takes from's
 * fMap[f] (centres, widths, species weights) and to's input d takes from's gMap[d]
 * (first-layer column, standardisation); −1 leaves to's own function parameters and
 * standardisation, with a zero first-layer column. Later layers, e0 and the output
 * scales are copied as they are.
 */
function transplantParameters(from: LatteModel, to: LatteModel, fMap: readonly number[], gMap: readonly number[]): void {
  const ns = from.nSpecies, F = from.nFunctions, Fn = to.nFunctions, D = from.nDescriptors, Dn = to.nDescriptors;
  const src = from.theta, dst = to.theta, K = from.embeddingDim;
  for (let f = 0; f < Fn; f++) {
    const g = fMap[f];
    if (g < 0) continue;
    for (let t = 0; t < ns; t++) dst[to.offCentres + t * Fn + f] = src[from.offCentres + t * F + g];
    dst[to.offWidths + f] = src[from.offWidths + g];
    if (K > 0) for (let a = 0; a < K; a++) dst[to.offWeights + f * K + a] = src[from.offWeights + g * K + a];
    else for (let p = 0; p < ns * ns; p++) dst[to.offWeights + p * Fn + f] = src[from.offWeights + p * F + g];
  }
  if (K > 0) dst.set(src.subarray(from.offEmbCentral, from.offEmbCentral + 2 * ns * K), to.offEmbCentral);
  const H = from.layerSizes[1];
  for (let t = 0; t < ns; t++) {
    const o = from.offMlp[t], n = to.offMlp[t];
    for (let d = 0; d < Dn; d++) {
      const g = gMap[d];
      for (let k = 0; k < H; k++) dst[n + k * Dn + d] = g < 0 ? 0 : src[o + k * D + g];
      if (g < 0) continue;
      to.mean[t * Dn + d] = from.mean[t * D + g];
      to.invStd[t * Dn + d] = from.invStd[t * D + g];
    }
    // First-layer biases and every later layer have the same shapes and order.
    const oldEnd = t + 1 < ns ? from.offMlp[t + 1] : src.length;
    dst.set(src.subarray(o + H * D, oldEnd), n + H * Dn);
  }
  to.e0.set(from.e0);
  to.outScale.set(from.outScale);
}

/** Where the radial functions of appended blocks go (LatteModel.placeRadial). */
export interface AddedRadial {
  width: number;
  /** [lo, hi], Å: centres spread from lo towards hi as the defaults are (spreadCentre). */
  centres: [number, number];
}

/**
 * The same model with more descriptor blocks appended (`extra`, e.g. '8,abc,abc:6,abcd,abcd'):
 * the existing centres, widths, species weights, MLP and standardisation are copied;
 * the new functions get the usual initial centres, widths and weights (seeded), or with
 * `radial` the given width and centres spread from its lo towards its hi; their
 * descriptors are standardised over `structures`, and their first-layer MLP weights are
 * zero — the energies are unchanged until training uses the new inputs.
 */
export function extendDescriptor(
  model: LatteModel,
  extra: string,
  structures: readonly TrainingStructure[],
  seed = 1,
  radial?: AddedRadial,
): LatteModel {
  const m = new LatteModel({ ...model.config, descriptor: `${model.config.descriptor}:${extra}` });
  m.initialise(seed);
  if (radial) m.placeRadial(model.blocks.length, radial.width, radial.centres[0], radial.centres[1]);
  // The old blocks' functions and descriptors keep their indices; the new blocks follow.
  const F = model.nFunctions, D = model.nDescriptors;
  transplantParameters(model, m, Array.from({ length: m.nFunctions }, (_, f) => (f < F ? f : -1)), Array.from({ length: m.nDescriptors }, (_, d) => (d < D ? d : -1)));
  fitStandardisation(m, structures, D);
  return m;
}

/**
 * The same model without the given descriptor blocks (1-based numbers): the kept
 * functions keep their centres, widths and species weights, the MLP keeps the columns
 * of the kept inputs. A dropped input is replaced by its training mean (standardised
 * value 0), so the energies change: retrain afterwards (e.g. frozen-descriptor L-BFGS).
 */
export function dropDescriptorBlocks(model: LatteModel, blocks: readonly number[]): LatteModel {
  return dropDescriptorTerms(model, blocks.map((block) => ({ block })));
}

/** A descriptor block (1-based), or one term of it (1-based, u of G_{b,u}). */
export interface DescriptorTerm {
  block: number;
  term?: number;
}

/**
 * Descriptor terms from text: `4,5.2,5.3` is block 4, and terms 2 and 3 of block 5 (all
 * numbered from 1). `what` names the option in the error.
 */
export function parseDescriptorTerms(text: string, what = 'drop list'): DescriptorTerm[] {
  const bad = () => new Error(`${what} needs block numbers from 1, or BLOCK.TERM for one term of a block, e.g. 4 or 2,4 or 5.4,5.5, got '${text}'`);
  const items = text.split(',');
  return items.map((item) => {
    const [b, u, extra] = item.split('.').map(Number);
    const whole = !item.includes('.');
    if (extra !== undefined || !Number.isInteger(b) || b < 1 || (!whole && (!Number.isInteger(u) || u < 1))) throw bad();
    return whole ? { block: b } : { block: b, term: u };
  });
}

/**
 * The same model without the given descriptor terms: a whole block, or single terms of a
 * block (e.g. the terms whose radial functions reach far, which are the costly ones).
 * As dropDescriptorBlocks: kept functions and MLP columns carry over, a dropped input is
 * replaced by its training mean, so the energies change: retrain afterwards.
 */
export function dropDescriptorTerms(model: LatteModel, terms: readonly DescriptorTerm[]): LatteModel {
  const nb = model.blocks.length;
  const keep = model.blocks.map((block) => new Array<boolean>(block.n).fill(true));
  for (const { block: b, term: u } of terms) {
    if (!Number.isInteger(b) || b < 1 || b > nb) throw new Error(`dropDescriptorTerms: block ${b} does not exist (the model has blocks 1–${nb}: ${model.config.descriptor})`);
    const n = model.blocks[b - 1].n;
    if (u === undefined) keep[b - 1].fill(false);
    else if (!Number.isInteger(u) || u < 1 || u > n) throw new Error(`dropDescriptorTerms: block ${b} (${model.blocks[b - 1].text}) has terms 1–${n}, got ${u}`);
    else keep[b - 1][u - 1] = false;
  }
  const counts = keep.map((k) => k.filter(Boolean).length);
  if (counts.every((c) => c === 0)) throw new Error('dropDescriptorTerms: would drop every block');
  const texts = model.config.descriptor.split(':');
  const kept = texts.flatMap((text, q) => (counts[q] === 0 ? [] : [`${counts[q]}${text.slice(text.indexOf(','))}`]));
  const m = new LatteModel({ ...model.config, descriptor: kept.join(':') });
  // Old function and descriptor indices of the kept terms, in order: functions are
  // numbered block by block, body by body, term by term (f0 + body·n + u); descriptors
  // block by block, term by term.
  const fMap: number[] = [], gMap: number[] = [];
  let f0 = 0, g0 = 0;
  model.blocks.forEach((block, q) => {
    const n = block.n;
    for (let k = 0; k < block.bodies.length; k++) for (let u = 0; u < n; u++) if (keep[q][u]) fMap.push(f0 + k * n + u);
    for (let u = 0; u < n; u++) if (keep[q][u]) gMap.push(g0 + u);
    f0 += n * block.bodies.length;
    g0 += n;
  });
  transplantParameters(model, m, fMap, gMap);
  return m;
}

/** Trains a LATTE model from extxyz files (see TrainOptions). */
export function trainLatte(options: TrainOptions): TrainResult {
  const seed = options.seed ?? 1;
  const trainFrames = readTrainingFrames(options.train);
  const valFrames = options.validation ? readTrainingFrames(options.validation) : [];
  const augmentFrames = readAugmentFrames(options.augment ?? [], options.augmentWeights);
  const elements = options.initial ? [...options.initial.config.elements] : (options.model.elements ?? framesElements([...trainFrames, ...augmentFrames, ...valFrames]));
  const model = options.initial ? options.initial.clone() : new LatteModel({ ...options.model, elements });
  const prep = (f: { frame: Frame; name: string }): TrainingStructure => prepareStructure(f.frame, f.name, elements, model.config.cutoff);
  let train = trainFrames.map(prep);
  let validation = valFrames.map(prep);
  const rng = new Rng(seed);
  if (!options.validation) {
    const split = validationSplit(train.length, options.validationFraction ?? 0.1, rng);
    validation = split.validation.map((k) => train[k]);
    train = split.train.map((k) => train[k]);
  }
  train = [...train, ...augmentFrames.map((f) => ({ ...prep(f), weight: f.weight }))];
  if (train.length === 0) throw new Error('no training structures left after the validation split');
  if (options.addRadial !== undefined && options.addBlocks === undefined) throw new Error('addRadial places the functions of appended blocks: give addBlocks too');
  if (!options.initial) {
    if (options.addBlocks !== undefined) throw new Error('addBlocks extends an initial model: give initial too');
    if (options.dropTerms?.length) throw new Error('dropTerms changes an initial model: give initial too');
    model.initialise(seed);
    fitStatistics(model, train);
  }
  const kept = options.dropTerms?.length ? dropDescriptorTerms(model, options.dropTerms) : model;
  const trained = options.addBlocks !== undefined ? extendDescriptor(kept, options.addBlocks, train, seed, options.addRadial) : kept;
  return trainModel(trained, train, validation, { ...options, seed }, rng);
}

/**
 * The loss weight of each augment file (TrainOptions.augmentWeights expanded: one per file,
 * or one for all; all 1 when absent), checked finite and ≥ 0.
 */
export function augmentFileWeights(paths: readonly string[], weights: readonly number[] | undefined): number[] {
  if (weights === undefined) return paths.map(() => 1);
  if (paths.length === 0) throw new Error('augmentWeights weigh augment files: give augment too');
  if (weights.length !== 1 && weights.length !== paths.length) {
    throw new Error(`augmentWeights: ${weights.length} weights for ${paths.length} augment files (give one per file, or one for all)`);
  }
  const perFile = paths.map((_, k) => weights[weights.length === 1 ? 0 : k]);
  perFile.forEach((w, k) => {
    if (!(Number.isFinite(w) && w >= 0)) throw new Error(`augmentWeights: the weight of ${paths[k]} must be a finite number ≥ 0, got ${w}`);
  });
  return perFile;
}

/** The frames of training-only files, each with its file's loss weight. */
function readAugmentFrames(paths: readonly string[], weights: readonly number[] | undefined): { frame: Frame; name: string; weight: number }[] {
  const perFile = augmentFileWeights(paths, weights);
  return paths.flatMap((path, k) => readTrainingFrames([path]).map((f) => ({ ...f, weight: perFile[k] })));
}

/**
 * The frames trainLatte holds out when no validation files are given: a seeded shuffle of
 * 0 … n−1, the first round(fraction·n) for validation. `rng` is the training's own stream
 * (new Rng(seed)), so with the same seed this is the split a training run used, and a
 * model's validation figures can be measured again afterwards (bench/latte-validation.ts).
 */
export function validationSplit(n: number, fraction: number, rng: Rng): { validation: number[]; train: number[] } {
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`validationFraction must be in [0, 1), got ${fraction}`);
  const order = shuffle(n, rng);
  const nVal = Math.round(fraction * n);
  return { validation: order.slice(0, nVal), train: order.slice(nVal) };
}

/** The optimisation loop over prepared structures (a model already initialised and standardised). */
export function trainModel(
  model: LatteModel,
  train: readonly TrainingStructure[],
  validation: readonly TrainingStructure[],
  options: Omit<TrainOptions, 'model' | 'train' | 'validation'>,
  rng = new Rng(options.seed ?? 1),
): TrainResult {
  const epochs = options.epochs ?? 200;
  const batchSize = Math.max(1, options.batchSize ?? 8);
  const lr0 = options.learningRate ?? 0.005;
  const decay = options.decay ?? 0.99;
  const schedule = options.schedule ?? 'exponential';
  if (schedule !== 'exponential' && schedule !== 'cosine') throw new Error(`unknown learning-rate schedule '${String(schedule)}' (exponential, cosine)`);
  const lrMin = options.learningRateMin ?? lr0 / 100;
  const select = options.select ?? 'loss';
  if (select !== 'loss' && select !== 'mae') throw new Error(`unknown model selection '${String(select)}' (loss, mae)`);
  const selectMae = select === 'mae';
  const patience = options.patience ?? 50;
  const weightDecay = options.weightDecay ?? 0;
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) throw new Error(`weightDecay must be a finite number ≥ 0, got ${weightDecay}`);
  const weights: LossWeights = { energy: 100, forces: 1, virial: 1, ...options.weights };
  const log = options.log ?? (() => {});
  const scheme = options.forceGradient ?? 'central';
  const loss = new LossEvaluator(model, weights, scheme);
  const optimizer = options.optimizer ?? 'adam';
  if (!OPTIMIZERS.includes(optimizer)) throw new Error(`unknown optimizer '${String(optimizer)}' (${OPTIMIZERS.join(', ')})`);
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`LATTE training: workers must be a positive integer, got ${String(workers)}`);
  // The optimisers project onto the parameter bounds (clip) before their first step: do it
  // before freezing, so the stored descriptors are those of the parameters trained with.
  if (options.freezeDescriptor) model.clip();
  const frozen = options.freezeDescriptor ? freezeAll(model, train, validation, weights, log, workers, options.parallel?.stallTimeoutMs) : null;
  const saved = model.trainable.slice();
  if (frozen) model.trainable.fill(0, 0, model.offMlp[0]);
  // Worker threads see train ++ validation; batches name structures by index into it.
  const all = frozen ? [...frozen.train, ...frozen.validation] : [...train, ...validation];
  const parallel = workers > 1 ? new ParallelLoss(model, weights, scheme, all, validation.length, { ...options.parallel, workers, maxBatch: optimizer === 'lbfgs' ? train.length : batchSize }) : null;
  try {
    if (parallel && options.waitForWorkers) parallel.waitReady();
    return (optimizer === 'lbfgs' ? optimiseLbfgs : optimise)(model, train, validation, options, rng, { epochs, batchSize, lr0, decay, schedule, lrMin, selectMae, patience, weightDecay, weights, log, loss, parallel, frozen });
  } finally {
    parallel?.close();
    model.trainable.set(saved);
  }
}

interface FrozenSets {
  train: FrozenStructure[];
  validation: FrozenStructure[];
  loss: FrozenLossEvaluator;
}

/**
 * Descriptors and Jacobians of every structure at the model's current parameters
 * (logged: time, memory); on `threads` threads, in shared memory for the worker threads, when threads > 1.
 */
function freezeAll(model: LatteModel, train: readonly TrainingStructure[], validation: readonly TrainingStructure[], weights: LossWeights, log: (line: string) => void, threads: number, stallTimeoutMs?: number): FrozenSets {
  const t0 = process.cpuUsage(), w0 = performance.now();
  let ft: FrozenStructure[], fv: FrozenStructure[];
  if (threads > 1) {
    const { frozen } = freezeStructures(model, [...train, ...validation], threads, { stallTimeoutMs });
    ft = frozen.slice(0, train.length); fv = frozen.slice(train.length);
  } else {
    ft = train.map((s) => freezeStructure(model, s)); fv = validation.map((s) => freezeStructure(model, s));
  }
  const bytes = frozenBytes(ft) + frozenBytes(fv);
  log(`frozen descriptor: ${ft.length + fv.length} structures' descriptors and Jacobians in ${((performance.now() - w0) / 1000).toFixed(1)} s on ${threads} thread(s) (${cpuSince(t0).toFixed(1)} s CPU), ${(bytes / 2 ** 20).toFixed(0)} MiB`);
  return { train: ft, validation: fv, loss: new FrozenLossEvaluator(model, weights) };
}

interface LoopSettings {
  epochs: number;
  batchSize: number;
  lr0: number;
  decay: number;
  schedule: 'exponential' | 'cosine';
  lrMin: number;
  selectMae: boolean;
  patience: number;
  weightDecay: number;
  weights: LossWeights;
  log: (line: string) => void;
  loss: LossEvaluator;
  parallel: ParallelLoss | null;
  frozen: FrozenSets | null;
}

function optimise(
  model: LatteModel,
  train: readonly TrainingStructure[],
  validation: readonly TrainingStructure[],
  options: Omit<TrainOptions, 'model' | 'train' | 'validation'>,
  rng: Rng,
  settings: LoopSettings,
): TrainResult {
  const { epochs, batchSize, lr0, decay, schedule, lrMin, parallel } = settings;
  const valIndices = Array.from(validation, (_, k) => train.length + k);
  const evalBatch = batchEvaluator(model, train, validation, settings);
  const P = model.nParameters;
  const grad = new Float64Array(P), m1 = new Float64Array(P), m2 = new Float64Array(P);
  const mask = model.trainable;
  const beta1 = 0.9, beta2 = 0.999, epsAdam = 1e-8;
  let step = 0;
  const progress = new TrainingProgress(model, options, settings, 'epoch');
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const lr = schedule === 'cosine'
      ? lrMin + (lr0 - lrMin) * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / Math.max(1, epochs - 1)))
      : lr0 * decay ** (epoch - 1);
    const order = shuffle(train.length, rng);
    let lossSum = 0, eAbs = 0, fAbs = 0, comps = 0;
    for (let b0 = 0; b0 < order.length; b0 += batchSize) {
      const batch = order.slice(b0, b0 + batchSize);
      grad.fill(0);
      const r = evalBatch(batch, grad);
      lossSum += r.loss * batch.length;
      eAbs += r.eAbs;
      fAbs += r.fAbs;
      comps += r.components;
      step++;
      const c1 = 1 - beta1 ** step, c2 = 1 - beta2 ** step;
      const th = model.theta;
      for (let k = 0; k < P; k++) {
        if (mask[k] === 0) continue;
        const g = grad[k];
        m1[k] = beta1 * m1[k] + (1 - beta1) * g;
        m2[k] = beta2 * m2[k] + (1 - beta2) * g * g;
        th[k] -= (lr * (m1[k] / c1)) / (Math.sqrt(m2[k] / c2) + epsAdam);
      }
      model.clip();
    }
    const val = validation.length > 0 ? evalBatch(valIndices, null) : null;
    const trainFigures = { loss: lossSum / train.length, energyMae: (1000 * eAbs) / train.length, forceMae: fAbs / comps };
    if (progress.record(epoch, lr, trainFigures, val, `epoch ${epoch} lr ${lr.toExponential(2)}`)) break;
  }
  model.theta.set(progress.bestTheta);
  return { ...progress.result(train.length, validation.length, parallel), model };
}

/**
 * Full-batch L-BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 7.4/7.5:
 * two-loop recursion, H0 = (s·y / y·y) I) with a backtracking Armijo line search
 * (c1 = 1e-4, halving, trial points projected by model.clip(); a parameter on its bound
 * whose gradient points outward is held fixed for that step). A pair (s, y) is kept
 * only when s·y > 0; a direction that is not a descent direction resets the memory.
 * Each iteration is logged, validated and selected like an Adam epoch.
 */
function optimiseLbfgs(
  model: LatteModel,
  train: readonly TrainingStructure[],
  validation: readonly TrainingStructure[],
  options: Omit<TrainOptions, 'model' | 'train' | 'validation'>,
  _rng: Rng,
  settings: LoopSettings,
): TrainResult {
  const { epochs, lr0, log, parallel } = settings;
  const all = Array.from(train, (_, k) => k);
  const valIndices = Array.from(validation, (_, k) => train.length + k);
  const evalBatch = batchEvaluator(model, train, validation, settings);
  const P = model.nParameters, mask = model.trainable, th = model.theta;
  const M = Math.max(1, Math.floor(options.lbfgsMemory ?? 20));
  const S = Array.from({ length: M }, () => new Float64Array(P)), Y = Array.from({ length: M }, () => new Float64Array(P));
  const rho = new Float64Array(M), alpha = new Float64Array(M);
  let stored = 0, head = 0; // pairs kept; next slot to overwrite
  const g = new Float64Array(P), gNew = new Float64Array(P), d = new Float64Array(P), x0 = new Float64Array(P);
  let evaluations = 0;
  const full = (grad: Float64Array): BatchResult => {
    evaluations++;
    grad.fill(0);
    const r = evalBatch(all, grad);
    for (let k = 0; k < P; k++) if (mask[k] === 0) grad[k] = 0;
    freezeActiveBounds(model, grad);
    return r;
  };
  model.clip();
  let cur = full(g);
  const progress = new TrainingProgress(model, options, settings, 'iteration');
  const c1 = 1e-4, maxTrials = 12;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    // Direction d = −H g by the two-loop recursion.
    for (let k = 0; k < P; k++) d[k] = -g[k];
    for (let q = 0; q < stored; q++) {
      const j = (head - 1 - q + M) % M;
      let a = 0;
      for (let k = 0; k < P; k++) a += S[j][k] * d[k];
      a *= rho[j];
      alpha[j] = a;
      const y = Y[j];
      for (let k = 0; k < P; k++) d[k] -= a * y[k];
    }
    if (stored > 0) {
      const j = (head - 1 + M) % M;
      let sy = 0, yy = 0;
      for (let k = 0; k < P; k++) { sy += S[j][k] * Y[j][k]; yy += Y[j][k] * Y[j][k]; }
      const gamma = sy / yy;
      for (let k = 0; k < P; k++) d[k] *= gamma;
    }
    for (let q = stored - 1; q >= 0; q--) {
      const j = (head - 1 - q + M) % M;
      let b = 0;
      for (let k = 0; k < P; k++) b += Y[j][k] * d[k];
      b *= rho[j];
      const s = S[j], a = alpha[j];
      for (let k = 0; k < P; k++) d[k] += (a - b) * s[k];
    }
    let slope = 0, dmax = 0;
    for (let k = 0; k < P; k++) { slope += g[k] * d[k]; dmax = Math.max(dmax, Math.abs(d[k])); }
    if (!(slope < 0)) {
      // Not a descent direction: forget the curvature pairs, steepest descent.
      stored = 0;
      slope = 0; dmax = 0;
      for (let k = 0; k < P; k++) { d[k] = -g[k]; slope -= g[k] * g[k]; dmax = Math.max(dmax, Math.abs(g[k])); }
    }
    if (dmax === 0) { log(`L-BFGS: zero gradient at iteration ${epoch}`); break; }
    // First step (no curvature yet) bounded by lr0 per parameter; later steps start at 1.
    let t = stored === 0 ? Math.min(1, lr0 / dmax) : 1;
    x0.set(th);
    let next: BatchResult | null = null, trials = 0;
    for (; trials < maxTrials; trials++) {
      for (let k = 0; k < P; k++) th[k] = x0[k] + t * d[k];
      model.clip();
      let dec = 0;
      for (let k = 0; k < P; k++) dec += g[k] * (th[k] - x0[k]);
      const r = full(gNew);
      if (Number.isFinite(r.loss) && r.loss <= cur.loss + c1 * Math.min(dec, 0)) { next = r; break; }
      t *= 0.5;
    }
    if (!next) {
      th.set(x0);
      if (stored === 0) { log(`L-BFGS: line search failed at iteration ${epoch} along steepest descent; stopping`); break; }
      log(`L-BFGS: line search failed at iteration ${epoch}; memory reset`);
      stored = 0;
      epoch--; // retry along −g (no record: nothing changed)
      continue;
    }
    // Curvature pair.
    const sNew = S[head], yNew = Y[head];
    let sy = 0;
    for (let k = 0; k < P; k++) { sNew[k] = th[k] - x0[k]; yNew[k] = gNew[k] - g[k]; sy += sNew[k] * yNew[k]; }
    if (sy > 1e-12) {
      rho[head] = 1 / sy;
      head = (head + 1) % M;
      stored = Math.min(M, stored + 1);
    }
    g.set(gNew);
    cur = next;
    const val = validation.length > 0 ? evalBatch(valIndices, null) : null;
    const trainFigures = { loss: cur.loss, energyMae: (1000 * cur.eAbs) / cur.structures, forceMae: cur.fAbs / cur.components };
    const prefix = `iteration ${epoch} step ${t.toExponential(2)} (${trials + 1} evaluation${trials > 0 ? 's' : ''})`;
    if (progress.record(epoch, t, trainFigures, val, prefix)) break;
  }
  th.set(progress.bestTheta);
  return { ...progress.result(train.length, validation.length, parallel), model, evaluations };
}

/**
 * Projected gradient for L-BFGS: zeroes the gradient of a centre (or trained width) that
 * sits on its bound while descent would push it outside — clip() would undo that move,
 * so it must not enter the direction or the curvature pairs.
 */
function freezeActiveBounds(model: LatteModel, grad: Float64Array): void {
  const th = model.theta, F = model.nFunctions, rc = model.config.cutoff, tol = 1e-12;
  const { widthMin, widthMax } = model.config;
  for (let f = 0; f < F; f++) {
    const w = model.offWidths + f, s = th[w];
    if ((s <= widthMin + tol && grad[w] > 0) || (s >= widthMax - tol && grad[w] < 0)) grad[w] = 0;
    for (let t = 0; t < model.nSpecies; t++) {
      const k = model.offCentres + t * F + f;
      if ((th[k] <= s + tol && grad[k] > 0) || (th[k] >= rc - s - tol && grad[k] < 0)) grad[k] = 0;
    }
  }
}

/** Loss and gradient of structures by index: training set first, then validation. */
function batchEvaluator(model: LatteModel, train: readonly TrainingStructure[], validation: readonly TrainingStructure[], settings: LoopSettings) {
  const { loss, parallel, frozen, weightDecay } = settings;
  type Evaluate = (indices: number[], grad: Float64Array | null) => BatchResult;
  const data: Evaluate = parallel
    ? (indices, grad) => parallel.batch(indices, grad)
    : frozen
      ? (indices, grad) => frozen.loss.batch(indices.map((k) => (k < train.length ? frozen.train[k] : frozen.validation[k - train.length])), grad)
      : (indices, grad) => loss.batch(indices.map((k) => (k < train.length ? train[k] : validation[k - train.length])), grad);
  if (weightDecay === 0) return data;
  // The penalty belongs to the objective (evaluations with a gradient), not to validation.
  return (indices: number[], grad: Float64Array | null): BatchResult => {
    const r = data(indices, grad);
    return grad ? { ...r, loss: r.loss + model.weightPenalty(weightDecay, grad) } : r;
  };
}

/**
 * What the optimisers share after each epoch (Adam) or iteration (L-BFGS): the record,
 * learning curves, log line, selection of the best parameters by validation loss (or
 * MAE score), early stopping and the time limit.
 */
class TrainingProgress {
  readonly history: EpochRecord[] = [];
  readonly bestTheta: Float64Array;
  bestEpoch = 0;
  private best = Infinity;
  private readonly curveRows = ['epoch,lr,train_loss,val_loss,train_energy_mae_mev_per_atom,train_force_mae_ev_per_a,val_energy_mae_mev_per_atom,val_force_mae_ev_per_a,seconds,cpu_seconds'];
  private readonly t0 = Date.now();
  private readonly cpu0 = process.cpuUsage();

  constructor(
    private readonly model: LatteModel,
    private readonly options: Omit<TrainOptions, 'model' | 'train' | 'validation'>,
    private readonly settings: LoopSettings,
    private readonly unit: 'epoch' | 'iteration',
  ) {
    this.bestTheta = Float64Array.from(model.theta);
  }

  /** Records one epoch or iteration (log line starts with `prefix`); true: stop training. */
  record(epoch: number, lr: number, trainFigures: { loss: number; energyMae: number; forceMae: number }, val: BatchResult | null, prefix: string): boolean {
    const { selectMae, weights, patience, log } = this.settings;
    const rec: EpochRecord = {
      epoch,
      lr,
      trainLoss: trainFigures.loss,
      valLoss: val ? val.loss : NaN,
      trainEnergyMae: trainFigures.energyMae,
      trainForceMae: trainFigures.forceMae,
      valEnergyMae: val ? (1000 * val.eAbs) / val.structures : NaN,
      valForceMae: val ? val.fAbs / val.components : NaN,
      seconds: (Date.now() - this.t0) / 1000,
      cpuSeconds: cpuSince(this.cpu0),
    };
    this.history.push(rec);
    this.curveRows.push([rec.epoch, rec.lr, rec.trainLoss, rec.valLoss, rec.trainEnergyMae, rec.trainForceMae, rec.valEnergyMae, rec.valForceMae, rec.seconds, rec.cpuSeconds].map((v) => String(v)).join(','));
    if (this.options.curves) writeFileSync(this.options.curves, this.curveRows.join('\n') + '\n');
    log(
      `${prefix} loss ${rec.trainLoss.toExponential(3)} val ${rec.valLoss.toExponential(3)} ` +
        `E ${rec.trainEnergyMae.toFixed(2)}/${rec.valEnergyMae.toFixed(2)} meV/at F ${rec.trainForceMae.toFixed(4)}/${rec.valForceMae.toFixed(4)} eV/Å ${rec.seconds.toFixed(0)} s (CPU ${rec.cpuSeconds.toFixed(0)} s)`,
    );
    const score = selectMae
      ? Math.sqrt(weights.energy) * (val ? rec.valEnergyMae : rec.trainEnergyMae) / 1000 + Math.sqrt(weights.forces) * (val ? rec.valForceMae : rec.trainForceMae)
      : val ? val.loss : rec.trainLoss;
    if (score < this.best) {
      this.best = score;
      this.bestEpoch = epoch;
      this.bestTheta.set(this.model.theta);
      this.options.onImproved?.(this.model, rec);
    } else if (epoch - this.bestEpoch >= patience) {
      const criterion = `${val ? 'validation' : 'training'} ${selectMae ? 'MAE score' : 'loss'}`;
      log(`early stop: no better ${criterion} for ${patience} ${this.unit}s (best ${this.unit} ${this.bestEpoch})`);
      return true;
    }
    if (this.options.maxSeconds !== undefined && rec.seconds > this.options.maxSeconds) {
      log(`stopping: time limit of ${this.options.maxSeconds} s reached`);
      return true;
    }
    return false;
  }

  result(trainStructures: number, validationStructures: number, parallel: ParallelLoss | null) {
    return {
      history: this.history, bestEpoch: this.bestEpoch, seconds: (Date.now() - this.t0) / 1000, trainStructures, validationStructures,
      workers: parallel?.workers ?? 1, workerShare: parallel?.workerShare ?? 0,
    };
  }
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(start);
  return (c.user + c.system) / 1e6;
}

function shuffle(n: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, k) => k);
  for (let k = n - 1; k > 0; k--) {
    const j = Math.floor(rng.uniform() * (k + 1));
    const t = a[k]; a[k] = a[j]; a[j] = t;
  }
  return a;
}
