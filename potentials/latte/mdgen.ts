/**
 * Load-time code generation for LATTE's MD path (LatteModel.evaluateMd): the
 * contraction G = Σ coef Π T (and its adjoint ∂E/∂T), and each species' MLP
 * (standardisation, hidden layers, linear output, and the backward pass to ∂E/∂G)
 * become straight-line JavaScript with the model's numbers as literals, so the hot
 * code has no index loads, no loops with tiny trip counts and no weight loads.
 *
 * Only numbers enter the generated source (every literal goes through `lit`, which
 * rejects anything but a finite number), so a model file cannot inject code.
 *
 * Each kernel performs exactly the floating-point operations of the loop code it
 * replaces (LatteModel.contract, contractBackward, mlpForward, mlpBackward), in
 * the same order, so the results are the same to the bit: sums run left to right
 * from the first term, products left to right from the coefficient.
 *
 * Long code is cut into chunks (separate functions) so that each stays well under
 * V8's size limit for its optimising compiler.
 */

import { ACT_GAUSS, ACT_TANH } from './activation.ts';

/** Terms (multiply-adds) per generated chunk. */
const CHUNK_TERMS = 480;

/**
 * Hidden neurons whose sums the forward kernel writes interleaved (z_j = b_j, then
 * z_j += w·a_q for q in order, neuron after neuron at each q): each sum still runs
 * left to right, so the bits are those of one neuron at a time. Its speed against one
 * neuron at a time is in the README (bench/build-ab.ts: within this host's noise); the
 * backward kernel stays one sum at a time.
 */
const INTERLEAVE = 4;

/** A finite number as a JavaScript literal (parenthesised when negative). */
export function lit(c: number): string {
  if (typeof c !== 'number' || !Number.isFinite(c)) throw new Error(`LATTE code generation: non-finite parameter ${String(c)}`);
  if (Object.is(c, -0)) return '(-0)'; // String(-0) is "0"
  return c < 0 ? `(${String(c)})` : String(c);
}

/** Integer index literal. */
function int(k: number): string {
  if (!Number.isInteger(k) || k < 0) throw new Error(`LATTE code generation: bad index ${String(k)}`);
  return String(k);
}

type Chunk2 = (a: Float64Array, b: Float64Array) => void;
type Chunk3 = (a: Float64Array, b: Float64Array, c: Float64Array) => void;

/** A strict-mode function of the named (typed-array) parameters from generated statements. */
export function compile<F>(params: readonly string[], body: readonly string[]): F {
  return new Function(...params, `'use strict';\n${body.join('\n')}`) as F;
}

/** How many of values(0 … n−1) are not zero. */
function countNonzero(n: number, value: (k: number) => number): number {
  let c = 0;
  for (let k = 0; k < n; k++) if (value(k) !== 0) c++;
  return c;
}

/** Whether some value(k), k in [k0, k1), is not zero. */
function someNonzero(k0: number, k1: number, value: (k: number) => number): boolean {
  for (let k = k0; k < k1; k++) if (value(k) !== 0) return true;
  return false;
}

/**
 * Splits 0 … n−1 into consecutive ranges of about CHUNK_TERMS terms (item k having
 * terms(k), counted as at least 1): generated functions small enough to be optimised.
 */
function chunkRanges(n: number, terms: (k: number) => number): [number, number][] {
  const ranges: [number, number][] = [];
  let start = 0, count = 0;
  for (let k = 0; k < n; k++) {
    const t = Math.max(1, terms(k));
    if (k > start && count + t > CHUNK_TERMS) { ranges.push([start, k]); start = k; count = 0; }
    count += t;
  }
  if (n > start) ranges.push([start, n]);
  return ranges;
}

/** Calls the chunks in order (fixed arity: a rest parameter would allocate per call). */
function join2(chunks: Chunk2[]): Chunk2 {
  if (chunks.length === 1) return chunks[0];
  return (a, b) => { for (let k = 0; k < chunks.length; k++) chunks[k](a, b); };
}

function join3(chunks: Chunk3[]): Chunk3 {
  if (chunks.length === 1) return chunks[0];
  return (a, b, c) => { for (let k = 0; k < chunks.length; k++) chunks[k](a, b, c); };
}

/** Absolute T index of each body of term t of block b at u. */
function termIndices(b: BlockPlan, t: number, u: number): number[] {
  const m = b.stride.length, idx: number[] = [];
  for (let k = 0; k < m; k++) idx.push(b.abs[t * m + k] + u * b.stride[k]);
  return idx;
}

/** Contraction plan of one block as the model stores it. */
export interface BlockPlan {
  n: number;
  coef: Float64Array;
  /** Absolute T index of each (term, body) at u = 0. */
  abs: Int32Array;
  /** Each body's T stride in u. */
  stride: Int32Array;
  /** First descriptor index of the block. */
  g0: number;
}

/** The product `coef·T[i0]·T[i1]…` written left to right (a unit coefficient dropped: 1·x = x exactly). */
function product(c: number, idx: number[], arr: string): string {
  const f = idx.map((i) => `${arr}[${int(i)}]`);
  return c === 1 ? f.join(' * ') : [lit(c), ...f].join(' * ');
}

/** G (descriptor) from T, as LatteModel.contract. */
export function compileContract(blocks: readonly BlockPlan[]): (T: Float64Array, G: Float64Array) => void {
  const chunks: Chunk2[] = [];
  let body: string[] = [], terms = 0;
  for (const b of blocks) {
    const nTerms = b.coef.length;
    for (let u = 0; u < b.n; u++) {
      const parts: string[] = [];
      for (let t = 0; t < nTerms; t++) parts.push(product(b.coef[t], termIndices(b, t, u), 'T'));
      // sum = 0; sum += term…: 0 + x = x except for x = −0, which the loop code also turns into +0.
      body.push(`G[${int(b.g0 + u)}] = 0 + ${parts.join(' + ')};`);
      terms += nTerms;
      if (terms >= CHUNK_TERMS) { chunks.push(compile<Chunk2>(['T', 'G'], body)); body = []; terms = 0; }
    }
  }
  if (body.length > 0) chunks.push(compile<Chunk2>(['T', 'G'], body));
  return join2(chunks);
}

/** ∂E/∂T from ∂E/∂G (dG) and T, written into gT (every entry), as LatteModel.contractBackward. */
export function compileContractBackward(blocks: readonly BlockPlan[], tSize: number): (T: Float64Array, dG: Float64Array, gT: Float64Array) => void {
  // Per gT entry, its terms in the loop code's order (block, u, term, body).
  const termsOf: string[][] = Array.from({ length: tSize }, () => []);
  for (const b of blocks) {
    const m = b.stride.length, nTerms = b.coef.length;
    for (let u = 0; u < b.n; u++) {
      const d = `dG[${int(b.g0 + u)}]`;
      for (let t = 0; t < nTerms; t++) {
        const c = b.coef[t];
        // ct = gg·coef (gg·1 = gg exactly), then the other bodies' T in order.
        const ct = c === 1 ? d : `${d} * ${lit(c)}`;
        const idx = termIndices(b, t, u);
        for (let k = 0; k < m; k++) {
          const others = idx.filter((_, k2) => k2 !== k).map((i) => `T[${int(i)}]`);
          termsOf[idx[k]].push(others.length === 0 ? ct : `${ct} * ${others.join(' * ')}`);
        }
      }
    }
  }
  const chunks: Chunk3[] = [];
  let body: string[] = [], terms = 0;
  for (let i = 0; i < tSize; i++) {
    const list = termsOf[i];
    // gT = 0, then += each term: 0 + x + y … left to right.
    body.push(list.length === 0 ? `gT[${int(i)}] = 0;` : `gT[${int(i)}] = 0 + ${list.join(' + ')};`);
    terms += list.length;
    if (terms >= CHUNK_TERMS) { chunks.push(compile<Chunk3>(['T', 'dG', 'gT'], body)); body = []; terms = 0; }
  }
  if (body.length > 0) chunks.push(compile<Chunk3>(['T', 'dG', 'gT'], body));
  return join3(chunks);
}

/** What compileMlp needs of one species' network. */
export interface MlpSpec {
  /** Layer sizes [D, hidden…, 1]. */
  sizes: readonly number[];
  /** Parameters: per layer W (out×in, row-major) then b (out), from `offset`. */
  theta: Float64Array;
  offset: number;
  /** Standardisation of this species: G' = (G − mean)·invStd (D entries each, from `so`). */
  mean: Float64Array;
  invStd: Float64Array;
  so: number;
  outScale: number;
  /** activation.ts code: Gaussian exp(−x²), tanh or SiLU. */
  activation: number;
}

export interface MlpKernel {
  /**
   * Network output (before e0) from the raw descriptor G, written to S[out] (not returned:
   * a double returned from a call V8 does not inline is boxed, an allocation per atom);
   * keeps what the backward pass needs in S.
   */
  forward(G: Float64Array, S: Float64Array): void;
  /** Index of the output in S. */
  out: number;
  /** ∂E/∂G into dG from the state the last forward call left in S. */
  backward(S: Float64Array, dG: Float64Array): void;
  /** Scratch length S needs. */
  scratch: number;
}

/**
 * One species' MLP as straight-line code. Scratch S holds, per layer l ≥ 1, its
 * activations, then the activation derivatives (overwritten by the deltas in the
 * backward pass). The operations are those of mlpForward and mlpBackward in order,
 * less the products with a weight that is exactly zero: a merged ensemble's
 * block-diagonal layers (ensemble.ts) then cost what its members' do. Leaving out
 * 0·a (a finite) changes no sum beyond the sign of a zero.
 */
export function compileMlp(spec: MlpSpec): MlpKernel {
  const { sizes, theta: th, mean, invStd, so, outScale, activation } = spec;
  const L = sizes.length - 1;
  if (sizes[L] !== 1) throw new Error('LATTE code generation: the network must have one output');
  // Scratch offsets: activations of layer l at offA[l], derivatives/deltas at offD[l] (l ≥ 1); layer 0 reads G.
  const offA: number[] = [0], offD: number[] = [0];
  let s = 0;
  for (let l = 1; l <= L; l++) { offA.push(s); s += sizes[l]; offD.push(s); s += sizes[l]; }
  // The output after the layers' entries.
  const out = s;
  const scratch = s + 1;
  const woff: number[] = [];
  let o = spec.offset;
  for (let l = 0; l < L; l++) { woff.push(o); o += sizes[l + 1] * (sizes[l] + 1); }
  const W = (l: number, k: number, q: number): number => th[woff[l] + k * sizes[l] + q];
  const B = (l: number, k: number): number => th[woff[l] + sizes[l] * sizes[l + 1] + k];

  // Forward: per layer, chunks of neurons; each chunk loads the inputs its weights use into locals.
  const fwd: Chunk2[] = [];
  for (let l = 0; l < L; l++) {
    const nin = sizes[l], nout = sizes[l + 1];
    const rowTerms = (k: number) => countNonzero(nin, (q) => W(l, k, q));
    for (const [k0, k1] of chunkRanges(nout, rowTerms)) {
      const body: string[] = [];
      for (let q = 0; q < nin; q++) {
        if (!someNonzero(k0, k1, (k) => W(l, k, q))) continue;
        body.push(l === 0
          ? `const a${q} = (G[${int(q)}] - ${lit(mean[so + q])}) * ${lit(invStd[so + q])};`
          : `const a${q} = S[${int(offA[l] + q)}];`);
      }
      if (l === L - 1) {
        // Linear output (one neuron): z = b + Σ w·a, E = z·outScale.
        const terms = [lit(B(l, 0))];
        for (let q = 0; q < nin; q++) if (W(l, 0, q) !== 0) terms.push(`${lit(W(l, 0, q))} * a${q}`);
        body.push(`const z = ${terms.join(' + ')};`);
        body.push(`S[${int(out)}] = z * ${lit(outScale)};`);
      } else {
        for (let g0 = k0; g0 < k1; g0 += INTERLEAVE) {
          const g1 = Math.min(k1, g0 + INTERLEAVE);
          // A block per group: its z and e/g locals are scoped to it.
          body.push('{');
          for (let k = g0; k < g1; k++) body.push(`let z${k - g0} = ${lit(B(l, k))};`);
          for (let q = 0; q < nin; q++) {
            const line: string[] = [];
            for (let k = g0; k < g1; k++) if (W(l, k, q) !== 0) line.push(`z${k - g0} += ${lit(W(l, k, q))} * a${q};`);
            if (line.length) body.push(line.join(' '));
          }
          for (let k = g0; k < g1; k++) {
            const z = `z${k - g0}`, ia = int(offA[l + 1] + k), id = int(offD[l + 1] + k);
            if (activation === ACT_GAUSS) body.push(`{ const e = Math.exp(-${z} * ${z}); S[${ia}] = e; S[${id}] = -2 * ${z} * e; }`);
            else if (activation === ACT_TANH) body.push(`{ const e = Math.tanh(${z}); S[${ia}] = e; S[${id}] = 1 - e * e; }`);
            else body.push(`{ const g = 1 / (1 + Math.exp(-${z})); S[${ia}] = ${z} * g; S[${id}] = g * (1 + ${z} * (1 - g)); }`);
          }
          body.push('}');
        }
      }
      fwd.push(compile<Chunk2>(['G', 'S'], body));
    }
  }

  // Backward: delta of layer L is outScale; for l = L−1 … 0: s_q = Σ_k W[k][q]·δ_k (k in order),
  // hidden layers δ_q = dact_q·s_q, the input layer ∂E/∂G_q = s_q·invStd_q.
  const bwd: Chunk2[] = [];
  for (let l = L - 1; l >= 0; l--) {
    const nin = sizes[l], nout = sizes[l + 1];
    const columnTerms = (q: number) => countNonzero(nout, (k) => W(l, k, q));
    for (const [q0, q1] of chunkRanges(nin, columnTerms)) {
      const body: string[] = [];
      for (let k = 0; k < nout; k++) {
        if (!someNonzero(q0, q1, (q) => W(l, k, q))) continue;
        body.push(l === L - 1 ? `const d${k} = ${lit(outScale)};` : `const d${k} = S[${int(offD[l + 1] + k)}];`);
      }
      for (let q = q0; q < q1; q++) {
        const terms: string[] = [];
        for (let k = 0; k < nout; k++) if (W(l, k, q) !== 0) terms.push(`${lit(W(l, k, q))} * d${k}`);
        // s = 0; s += …: 0 + x = x (−0 aside, as in the loop code).
        const sum = ['0', ...terms].join(' + ');
        if (l > 0) body.push(`S[${int(offD[l] + q)}] *= ${sum};`);
        else body.push(`dG[${int(q)}] = (${sum}) * ${lit(invStd[so + q])};`);
      }
      bwd.push(compile<Chunk2>(['S', 'dG'], body));
    }
  }
  return { scratch, out, forward: join2(fwd), backward: join2(bwd) };
}

