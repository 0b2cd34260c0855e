/**
 * How well a descriptor pins down surface energies: each slab of a training file is
 * held out in turn, a model is fitted to the rest, and the held-out slab's energy
 * error is reported (meV/atom, signed). A training set with few surfaces gives large
 * errors here whatever the fit quality on bulk frames; that is what LATTE Mo's test
 * frame 16 (a surface outside the training slabs' range) ran into.
 *
 *   npx tsx bench/slab-holdout.ts TRAIN.xyz --latte MODEL.msgpack [--add-blocks S] [--cutoff R]
 *        [--lambdas 1e-8,1e-6,1e-4] [--trace MODEL.msgpack [--teacher-slabs IDEAL.xyz]] [--gap 5]
 *        [--energy-weight 30]
 *
 * --latte: a linear model in the LATTE model's descriptors (E_i = c0 + Σ_d w_d G_id,
 *   inputs standardised on the training file) fitted by ridge least squares to energies
 *   and forces, the rows weighted as `tensormd fit` weighs them (energy rows w_E/√N with
 *   w_E = --energy-weight, forces 1), for each ridge strength of --lambdas (relative to the
 *   mean diagonal of the normal matrix; the constant is not penalised).
 *   It measures what the descriptors carry, not the MLP: a proxy that is cheap to refit.
 *   --add-blocks (and --cutoff) first extend the descriptor as `tensormd train --add-blocks`
 *   does, so candidate blocks can be compared. Also prints a 5-fold cross-validated
 *   energy MAE over all frames, for the bulk fit quality.
 * --trace: the ACE model's own fit (its basis, λ and weights, stored in the model
 *   file) refitted with each slab held out, for comparison (about a minute per slab).
 * --teacher-slabs IDEAL.xyz (with --latte and --trace): each held-out ACE refit also
 *   labels these unlabelled frames as `tensormd label --relax 0.01 --rattle 0,0.05,0.1
 *   --seed 7` would (--relax, --rattle, --seed change that), and the LATTE proxy is fitted
 *   again with them added: does ACE-labelled synthetic data carry what ACE knows about
 *   surfaces into LATTE's descriptors? The teacher never sees the held-out slab.
 *   (`tensormd train --augment` trains LATTE Mo with such frames.)
 * A slab is a frame whose atoms leave an empty layer wider than --gap Å (default 5)
 * along one of its cell vectors. Last line: one JSON object with every figure.
 */
import { Cell } from '../src/cell.ts';
import { frameEnergy, frameForces, readExtxyz, type Frame } from '../src/io/extxyz.ts';
import { evaluateErrors } from '../src/analysis/errors.ts';
import { optionNumber, parseOptions } from '../src/cli/command.ts';
import { loadModel as loadLatte } from '../potentials/latte/io.ts';
import { extendDescriptor, prepareStructure, widenModel } from '../potentials/latte/train.ts';
import { freezeStructure, type FrozenStructure } from '../potentials/latte/train-frozen.ts';
import { labelFrames, type LabelOptions } from '../src/workflows/label.ts';
import { loadModel as loadTrace } from '../potentials/trace/model.ts';
import { fitTrace } from '../potentials/trace/fit.ts';
import { Rng } from '../src/rng.ts';
import { report } from './harness.ts';

const { options, positional } = parseOptions(process.argv.slice(2));
const file = positional[0];
if (!file || (typeof options.latte !== 'string' && typeof options.trace !== 'string')) {
  throw new Error('usage: slab-holdout.ts TRAIN.xyz --latte MODEL.msgpack [--add-blocks S] [--cutoff R] [--lambdas …] [--trace MODEL.msgpack [--teacher-slabs IDEAL.xyz]] [--gap 5]');
}
const known = ['latte', 'trace', 'add-blocks', 'cutoff', 'lambdas', 'gap', 'energy-weight', 'teacher-slabs', 'relax', 'rattle', 'seed'];
const unknown = Object.keys(options).filter((name) => !known.includes(name));
if (unknown.length) throw new Error(`slab-holdout.ts: unknown option(s) ${unknown.map((n) => `--${n}`).join(', ')} (known: ${known.map((n) => `--${n}`).join(' ')})`);
const gap = optionNumber(options, 'gap', 5);
const energyWeight = optionNumber(options, 'energy-weight', 30);
const lambdas = (typeof options.lambdas === 'string' ? options.lambdas : '1e-8,1e-6,1e-4').split(',').map(Number);
if (!lambdas.every((l) => l >= 0 && Number.isFinite(l))) throw new Error(`--lambdas must be non-negative numbers, got '${String(options.lambdas)}'`);

const teacher = teacherOptions();
const frames = readExtxyz(file);
frames.forEach((f, k) => {
  if (frameEnergy(f) === undefined || frameForces(f) === undefined) throw new Error(`${file}: frame ${k} has no ${frameEnergy(f) === undefined ? 'energy' : 'forces'}; every frame needs both`);
});
const slabs = frames.flatMap((f, k) => (vacuumWidth(f) > gap ? [k] : []));
if (slabs.length < 2) throw new Error(`${file}: ${slabs.length} slab(s) with an empty layer wider than ${gap} Å; need at least 2`);
console.log(`${file}: ${frames.length} frames, slabs (empty layer > ${gap} Å): ${slabs.join(' ')}`);
const figures: Record<string, unknown> = { file, frames: frames.length, slabs };
const mae = (xs: number[]): number => xs.reduce((s, x) => s + Math.abs(x), 0) / xs.length;
const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(' ');

const normal = typeof options.latte === 'string' ? latteNormalEquations(options.latte) : null;
if (normal) {
  figures.latte_descriptor = normal.describe;
  console.log(`LATTE linear proxy: ${normal.describe}`);
  for (const lambda of lambdas) {
    const tag = lambda.toExponential();
    const held = slabs.map((s) => normal.heldOutErrors([s], lambda)[0]);
    const folds = 5, order = seededPermutation(frames.length, 1), cv: number[] = [];
    for (let f = 0; f < folds; f++) cv.push(...normal.heldOutErrors(order.filter((_, k) => k % folds === f), lambda));
    console.log(`  λ ${tag}: held-out slab MAE ${mae(held).toFixed(2)} meV/atom [${fmt(held)}]; 5-fold CV energy MAE ${mae(cv).toFixed(2)}`);
    figures[`latte_lambda_${tag}_slab_mae`] = mae(held);
    figures[`latte_lambda_${tag}_slab_errors`] = held;
    figures[`latte_lambda_${tag}_cv_energy_mae`] = mae(cv);
  }
}

if (typeof options.trace === 'string') {
  const model = loadTrace(options.trace);
  const meta = (model.meta ?? {}) as { lambda?: number; weights?: { energy?: number; force?: number; virial?: number }; prior?: { wl?: number; wn?: number } };
  if (typeof meta.lambda !== 'number') throw new Error(`${options.trace}: the model's fit report has no λ to refit with`);
  const held: number[] = [];
  const taught = lambdas.map((): number[] => []);
  for (const s of slabs) {
    const fit = fitTrace({ basis: model.basis, train: frames.filter((_, k) => k !== s), lambda: meta.lambda, weights: meta.weights, prior: meta.prior });
    let error = NaN;
    evaluateErrors(fit.potential, [frames[s]], { onFrame: (_, r) => { error = r.energy_error_mev_per_atom; } });
    held.push(error);
    console.log(`  ACE, slab ${s} held out: ${error.toFixed(2)} meV/atom`);
    if (teacher) {
      // The refitted ACE, which has not seen slab s, labels the synthetic slabs for the proxy.
      const extra = normal!.rowsOf(labelFrames(fit.potential, teacher.frames, teacher.label));
      lambdas.forEach((lambda, j) => taught[j].push(normal!.heldOutErrors([s], lambda, extra)[0]));
      console.log(`    LATTE proxy with its labelled slabs: ${lambdas.map((l, j) => `λ ${l.toExponential()} ${taught[j][taught[j].length - 1].toFixed(2)}`).join(', ')} meV/atom`);
    }
  }
  console.log(`ACE refits (${model.nFunctions} functions, λ ${meta.lambda}): held-out slab MAE ${mae(held).toFixed(2)} meV/atom [${fmt(held)}]`);
  figures.trace_functions = model.nFunctions;
  figures.trace_slab_mae = mae(held);
  figures.trace_slab_errors = held;
  if (teacher) lambdas.forEach((lambda, j) => {
    const tag = lambda.toExponential();
    console.log(`LATTE proxy + ACE-labelled synthetic slabs, λ ${tag}: held-out slab MAE ${mae(taught[j]).toFixed(2)} meV/atom [${fmt(taught[j])}]`);
    figures[`taught_lambda_${tag}_slab_mae`] = mae(taught[j]);
    figures[`taught_lambda_${tag}_slab_errors`] = taught[j];
  });
}
report(figures);

/** --teacher-slabs: unlabelled frames the held-out ACE labels as `tensormd label` would (relaxed, rattled copies). */
function teacherOptions(): { frames: Frame[]; label: LabelOptions } | null {
  const path = options['teacher-slabs'];
  if (path === undefined) return null;
  if (typeof path !== 'string' || typeof options.latte !== 'string' || typeof options.trace !== 'string') {
    throw new Error('--teacher-slabs FILE needs --latte MODEL (the proxy it extends) and --trace MODEL (the teacher)');
  }
  const rattle = (typeof options.rattle === 'string' ? options.rattle : '0,0.05,0.1').split(',').map(Number);
  return { frames: readExtxyz(path), label: { relaxFmax: optionNumber(options, 'relax', 0.01), rattle, seed: optionNumber(options, 'seed', 7) } };
}

/** Widest empty layer (Å) between the atoms' planes along any periodic cell vector. */
function vacuumWidth(f: Frame): number {
  const cell = new Cell(f.cell, true);
  if (!(cell.volume > 0)) return 0;
  const s = cell.toFractional(f.positions), heights = cell.heights(), n = f.symbols.length;
  let widest = 0;
  for (let a = 0; a < 3; a++) {
    const t = Array.from({ length: n }, (_, i) => s[3 * i + a] - Math.floor(s[3 * i + a])).sort((x, y) => x - y);
    let g = t[0] + 1 - t[n - 1];
    for (let i = 1; i < n; i++) g = Math.max(g, t[i] - t[i - 1]);
    widest = Math.max(widest, g * heights[a]);
  }
  return widest;
}

/**
 * Per-frame pieces of the weighted normal equations of the linear LATTE proxy, so that
 * any set of frames can be held out by subtraction (why normal equations and Cholesky
 * here, not the streaming QR of `tensormd fit`: a QR cannot remove rows, and refactoring
 * the whole design per held-out set is what this avoids). Column 0 is the per-atom constant.
 */
function latteNormalEquations(path: string): {
  describe: string;
  /** The normal-equation pieces of further (labelled) frames, to add to a fit. */
  rowsOf(labelled: Frame[]): NormalPart;
  /** Energy errors (meV/atom) of the frames `out` when they are held out of the fit (and `extra` added to it). */
  heldOutErrors(out: number[], lambda: number, extra?: NormalPart): number[];
} {
  let { model } = loadLatte(path);
  if (options.cutoff !== undefined) model = widenModel(model, { cutoff: optionNumber(options, 'cutoff', model.config.cutoff) });
  const elements = [...model.config.elements], rc = model.config.cutoff;
  const prepared = frames.map((f, k) => prepareStructure(f, `${file}: frame ${k}`, elements, rc));
  if (typeof options['add-blocks'] === 'string') model = extendDescriptor(model, options['add-blocks'], prepared, 1);
  if (model.nSpecies !== 1) throw new Error(`${path}: the linear proxy handles one species; the model has ${model.nSpecies}`);
  const D = model.nDescriptors, P = D + 1, K = frames.length;
  const ata = new Float64Array(K * P * P), atb = new Float64Array(K * P);
  const mean = new Float64Array(D), sq = new Float64Array(D);
  /** Σ_i G_id over a structure's atoms. */
  const atomSums = (fs: FrozenStructure): Float64Array => {
    const sums = new Float64Array(D);
    for (let i = 0; i < fs.nLocal; i++) for (let d = 0; d < D; d++) sums[d] += fs.G[i * D + d];
    return sums;
  };
  const frozen = prepared.map((s) => freezeStructure(model, s));
  const gsum = frozen.map(atomSums);
  gsum.forEach((sums, k) => {
    for (let d = 0; d < D; d++) { const g = sums[d] / frozen[k].nLocal; mean[d] += g / K; sq[d] += (g * g) / K; }
  });
  // Standardised on the frames' per-atom averages, as the proxy's columns.
  const scale = Float64Array.from(mean, (m, d) => 1 / (Math.sqrt(Math.max(sq[d] - m * m, 0)) + 1e-30));
  /** Adds one frame's energy and force rows (weighted as `tensormd fit` weighs them) to A, b. */
  const addFrame = (fs: FrozenStructure, sums: Float64Array, A: Float64Array, b: Float64Array): void => {
    const n = fs.nLocal, row = new Float64Array(P);
    // Energy row: Σ_i of the atom's columns, weighted w_E/√N.
    const w = energyWeight / Math.sqrt(n);
    row[0] = n * w;
    for (let d = 0; d < D; d++) row[d + 1] = (sums[d] - n * mean[d]) * scale[d] * w;
    addOuter(A, b, row, fs.source.energy * w, P);
    // Force rows: F_kc = −Σ_i Σ_d w_d ∂G_id/∂x_kc (the constant has no force).
    const F = new Float64Array(3 * n * P);
    for (let bl = 0; bl < fs.blockAtom.length; bl++) {
      const a = fs.blockAtom[bl];
      for (let d = fs.blockLo[bl]; d < fs.blockHi[bl]; d++) {
        for (let c = 0; c < 3; c++) F[(3 * a + c) * P + d + 1] -= fs.jac[fs.blockJac[bl] + 3 * d + c] * scale[d];
      }
    }
    for (let r = 0; r < 3 * n; r++) addOuter(A, b, F.subarray(r * P, (r + 1) * P), fs.source.forces[r], P);
  };
  frozen.forEach((fs, k) => addFrame(fs, gsum[k], ata.subarray(k * P * P, (k + 1) * P * P), atb.subarray(k * P, (k + 1) * P)));
  const total = new Float64Array(P * P), totalB = new Float64Array(P);
  for (let k = 0; k < K; k++) {
    for (let q = 0; q < P * P; q++) total[q] += ata[k * P * P + q];
    for (let q = 0; q < P; q++) totalB[q] += atb[k * P + q];
  }
  return {
    describe: model.describe(),
    rowsOf(labelled) {
      const part = { A: new Float64Array(P * P), b: new Float64Array(P) };
      labelled.forEach((f, k) => {
        const fs = freezeStructure(model, prepareStructure(f, `labelled frame ${k}`, elements, rc));
        addFrame(fs, atomSums(fs), part.A, part.b);
      });
      return part;
    },
    heldOutErrors(out, lambda, extra) {
      const A = total.slice(), b = totalB.slice();
      if (extra) {
        for (let q = 0; q < P * P; q++) A[q] += extra.A[q];
        for (let q = 0; q < P; q++) b[q] += extra.b[q];
      }
      for (const k of out) {
        for (let q = 0; q < P * P; q++) A[q] -= ata[k * P * P + q];
        for (let q = 0; q < P; q++) b[q] -= atb[k * P + q];
      }
      // Ridge on the descriptor weights, relative to the mean diagonal (not on the constant).
      let trace = 0;
      for (let q = 0; q < P; q++) trace += A[q * P + q];
      for (let q = 1; q < P; q++) A[q * P + q] += (lambda * trace) / P;
      const c = choleskySolve(A, b, P);
      return out.map((k) => {
        const n = frozen[k].nLocal;
        let e = c[0] * n;
        for (let d = 0; d < D; d++) e += c[d + 1] * (gsum[k][d] - n * mean[d]) * scale[d];
        return (1000 * (e - frozen[k].source.energy)) / n;
      });
    },
  };
}

/** AᵀA and Aᵀb of some rows of the proxy's least-squares problem. */
interface NormalPart { A: Float64Array; b: Float64Array }

function addOuter(A: Float64Array, b: Float64Array, x: Float64Array, y: number, P: number): void {
  for (let p = 0; p < P; p++) {
    const xp = x[p];
    if (xp === 0) continue;
    b[p] += xp * y;
    for (let q = 0; q < P; q++) A[p * P + q] += xp * x[q];
  }
}

/** Solves A c = b for symmetric positive definite A (P×P, row-major); A is overwritten. */
function choleskySolve(A: Float64Array, b: Float64Array, P: number): Float64Array {
  for (let j = 0; j < P; j++) {
    let s = A[j * P + j];
    for (let k = 0; k < j; k++) s -= A[j * P + k] * A[j * P + k];
    if (!(s > 0)) throw new Error(`the normal equations are not positive definite at column ${j}: raise --lambdas`);
    const l = Math.sqrt(s);
    A[j * P + j] = l;
    for (let i = j + 1; i < P; i++) {
      let t = A[i * P + j];
      for (let k = 0; k < j; k++) t -= A[i * P + k] * A[j * P + k];
      A[i * P + j] = t / l;
    }
  }
  const c = Float64Array.from(b);
  for (let i = 0; i < P; i++) { for (let k = 0; k < i; k++) c[i] -= A[i * P + k] * c[k]; c[i] /= A[i * P + i]; }
  for (let i = P - 1; i >= 0; i--) { for (let k = i + 1; k < P; k++) c[i] -= A[k * P + i] * c[k]; c[i] /= A[i * P + i]; }
  return c;
}

/** A permutation of 0..n−1, the same on every run for a seed. */
function seededPermutation(n: number, seed: number): number[] {
  const rng = new Rng(seed), order = Array.from({ length: n }, (_, k) => k);
  for (let k = n - 1; k > 0; k--) { const j = Math.floor(rng.uniform() * (k + 1)); [order[k], order[j]] = [order[j], order[k]]; }
  return order;
}
