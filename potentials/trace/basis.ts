/**
 * The ACE / tensor-reduced ACE basis: channels, enumeration of invariants up to
 * correlation order 4 under a total-degree truncation, symmetrisation over
 * permutations, removal of linearly dependent couplings, and compilation into
 * monomials ("AA" products of atomic-base entries) with sparse coefficients.
 *
 * One-particle functions are φ_{c l m}(r_ij) = R_{c l}(z_j, r) Y_lm(r̂) where the
 * channel radial R_{cl} mixes the base radial functions g_n (radial.ts):
 * - full ACE ('full'): c = (z, n), R = δ(z_j, z) g_n — every element its own channel;
 * - species mixing ('species', TRACE): c = (k, n), R = W_{k z_j} g_n;
 * - radial + species mixing ('radial-species', TRACE): c = (k, q), R = Σ_n M^{(l)}_{kq, z_j n} g_n.
 * Channels carry a group; a product only couples channels of one group (the TRACE
 * "element-wise" coupling in k; full ACE has a single group). So the number of
 * functions is K × (single-element count) for TRACE, whatever the number of elements.
 *
 * Truncation: Σ_t (deg(c_t) + w_L l_t) ≤ D_ν with deg = n + 1 (or q + 1).
 * A function for a sorted tuple ((c_t, l_t)) is B = Σ_m U_m Π_t A_{c_t l_t m_t};
 * U runs over the generalised Clebsch–Gordan couplings (clebsch.ts); collapsing
 * m-tuples that permutations of equal (c, l) factors map onto each other gives the
 * coefficients of distinct monomials, and an eigen-decomposition of their Gram
 * matrix keeps an orthonormal set of rank-many independent functions.
 */
import { Rng } from '../../src/rng.ts';
import { realCouplings } from './clebsch.ts';
import { symmetricEigen } from './linalg.ts';
import { RadialBasis, type RadialSpec } from './radial.ts';

export type ChannelSpec =
  | { kind: 'full' }
  | { kind: 'species'; K: number; seed?: number; W?: number[][] }
  | { kind: 'radial-species'; K: number; Q: number; seed?: number };

export interface BasisSpec {
  /** Elements in the model's order (species index = position). */
  elements: string[];
  radial: RadialSpec;
  /** Maximal correlation order ν (1..4). */
  order: number;
  /** Total-degree bound D_ν for ν = 1..order. */
  maxDegree: number[];
  /** Weight of l in the degree (default 1.5). */
  wL?: number;
  /** Channel construction (default full ACE). */
  channels?: ChannelSpec;
}

const MAX_L = 12;

/** Defaults of BasisSpec.wL and BasisSpec.channels. */
export const DEFAULT_WL = 1.5;
export const DEFAULT_CHANNELS: ChannelSpec = Object.freeze({ kind: 'full' });

interface Channel { group: number; degree: number; }

/** One basis function before compilation. */
interface RawFunction {
  pairs: number[]; // (c, l) item indices of the sorted tuple
  /** Canonical m-tuples (flat list of ν entries each) and their coefficients. */
  ms: number[];
  coef: number[];
}

export class AceBasis {
  readonly spec: BasisSpec;
  readonly elements: readonly string[];
  readonly nSpecies: number;
  readonly radial: RadialBasis;
  readonly order: number;
  readonly lmax: number;
  readonly nChannels: number;
  readonly channelGroup: Int32Array;
  readonly channelDegree: Int32Array;
  /** Used (channel, l) pairs, in (c, l) order. */
  readonly nPairs: number;
  readonly pairChannel: Int32Array;
  readonly pairL: Int32Array;
  /** Offset of the pair's 2l+1 entries in the atomic base A. */
  readonly pairOffset: Int32Array;
  /** Scaled one-hot radial: R = pairWeight[p·S + z_j] · g_{pairN[p]} (pairN ≥ 0), else dense. */
  readonly pairN: Int32Array;
  readonly pairWeight: Float64Array;
  /** Dense mixing for pairN < 0: M[(p·S + z)·N + n]. */
  readonly pairDense: Float64Array;
  /** Length of the atomic base A. */
  readonly nA: number;
  /** Monomials: 4 A-indices each (unused padded with −1), grouped by order. */
  readonly nMono: number;
  readonly monoIdx: Int32Array;
  /** Monomials of order ν are [monoStart[ν−1], monoStart[ν]). */
  readonly monoStart: Int32Array;
  /** Basis functions as sparse rows over monomials (CSR). */
  readonly nFunctions: number;
  readonly fOffsets: Int32Array;
  readonly fMono: Int32Array;
  readonly fCoef: Float64Array;
  readonly fOrder: Int32Array;
  readonly fGroup: Int32Array;
  /** Distinct pairs of each function (CSR into fPairList). */
  readonly fPairOffsets: Int32Array;
  readonly fPairList: Int32Array;
  /** Per function: Σ_t l_t^4 and Σ_t deg_t^4 ingredients for the smoothness prior (Σ l_t⁴, Σ deg_t⁴). */
  readonly fL4: Float64Array;
  readonly fN4: Float64Array;
  /**
   * Per function: a key naming its sorted (channel:l) tuple and its rank among the
   * couplings of that tuple, e.g. "0:0,3:1,5:1#0". Functions are built per tuple
   * independently of the truncation, so a function with the same key in two bases of
   * the same elements and channels (and, for full channels with several species, the
   * same radial size) is the same function: this maps a smaller basis into a larger one.
   */
  readonly fKey: string[];

  constructor(spec: BasisSpec) {
    this.spec = spec;
    if (!Array.isArray(spec.elements) || spec.elements.length === 0) throw new Error('trace basis: elements must be a non-empty list');
    this.elements = spec.elements.slice();
    const S = (this.nSpecies = spec.elements.length);
    this.radial = new RadialBasis(spec.radial);
    const N = this.radial.n;
    if (!Number.isInteger(spec.order) || spec.order < 1 || spec.order > 4) throw new Error(`trace basis: order must be 1..4, got ${spec.order}`);
    this.order = spec.order;
    if (!Array.isArray(spec.maxDegree) || spec.maxDegree.length !== spec.order || spec.maxDegree.some((d) => !(d >= 1))) {
      throw new Error(`trace basis: maxDegree must list ${spec.order} positive degree bounds (one per order), got ${JSON.stringify(spec.maxDegree)}`);
    }
    const wL = spec.wL ?? DEFAULT_WL;
    if (!(wL > 0)) throw new Error(`trace basis: wL must be positive, got ${wL}`);
    const chSpec: ChannelSpec = spec.channels ?? DEFAULT_CHANNELS;

    // --- channels and their radial mixing (as a function of l) ---
    const channels: Channel[] = [];
    /** For each channel: mixing(l) → either {n, weights per z} or dense S×N. */
    let mixOneHot: (c: number) => { n: number; w: number[] } | null;
    let mixDense: (c: number, l: number) => Float64Array;
    if (chSpec.kind === 'full') {
      for (let z = 0; z < S; z++) for (let n = 0; n < N; n++) channels.push({ group: 0, degree: n + 1 });
      mixOneHot = (c) => {
        const z = Math.floor(c / N), w = new Array<number>(S).fill(0);
        w[z] = 1;
        return { n: c % N, w };
      };
      mixDense = () => new Float64Array(0);
    } else if (chSpec.kind === 'species') {
      const K = chSpec.K;
      if (!Number.isInteger(K) || K < 1) throw new Error(`trace basis: species channels need an integer K ≥ 1, got ${K}`);
      const W = chSpec.W ?? randomEmbedding(K, S, chSpec.seed ?? 1);
      if (W.length !== K || W.some((row) => row.length !== S)) throw new Error(`trace basis: embedding W must be ${K}×${S}`);
      for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) channels.push({ group: k, degree: n + 1 });
      mixOneHot = (c) => ({ n: c % N, w: W[Math.floor(c / N)].slice() });
      mixDense = () => new Float64Array(0);
    } else if (chSpec.kind === 'radial-species') {
      const { K, Q } = chSpec;
      if (!Number.isInteger(K) || K < 1 || !Number.isInteger(Q) || Q < 1) throw new Error(`trace basis: radial-species channels need integers K, Q ≥ 1`);
      for (let k = 0; k < K; k++) for (let q = 0; q < Q; q++) channels.push({ group: k, degree: q + 1 });
      const rng = new Rng(chSpec.seed ?? 1);
      const table = new Map<string, Float64Array>();
      mixOneHot = () => null;
      mixDense = (c, l) => {
        const key = `${c},${l}`;
        let m = table.get(key);
        if (!m) {
          // Random mixing whose radial part is biased towards smooth functions of degree ≈ q.
          const q = c % Q;
          m = new Float64Array(S * N);
          for (let z = 0; z < S; z++) for (let n = 0; n < N; n++) m[z * N + n] = rng.normal() / (1 + Math.abs(n - q));
          table.set(key, m);
        }
        return m;
      };
    } else {
      throw new Error(`trace basis: unknown channel kind '${(chSpec as { kind: string }).kind}' (full, species, radial-species)`);
    }
    this.nChannels = channels.length;
    this.channelGroup = Int32Array.from(channels, (c) => c.group);
    this.channelDegree = Int32Array.from(channels, (c) => c.degree);

    // --- candidate items (c, l), sorted by (c, l) ---
    const Dmax = Math.max(...spec.maxDegree);
    const items: { c: number; l: number; deg: number }[] = [];
    for (let c = 0; c < channels.length; c++) {
      for (let l = 0; l <= MAX_L; l++) {
        const deg = channels[c].degree + wL * l;
        if (deg <= Dmax + 1e-9) items.push({ c, l, deg });
      }
    }

    // --- enumerate tuples and couple ---
    const raw: RawFunction[] = [];
    const couplingCache = new Map<string, Float64Array[]>();
    const tuple: number[] = [];
    for (let nu = 1; nu <= spec.order; nu++) {
      const D = spec.maxDegree[nu - 1] + 1e-9;
      const walk = (start: number, degSum: number, lSum: number): void => {
        if (tuple.length === nu) {
          if (lSum % 2 !== 0) return;
          const ls = tuple.map((i) => items[i].l);
          if (nu === 1 && ls[0] !== 0) return;
          if (nu === 2 && ls[0] !== ls[1]) return;
          coupleTuple(tuple, ls, items, couplingCache, raw);
          return;
        }
        for (let i = start; i < items.length; i++) {
          const it = items[i];
          if (tuple.length > 0 && channels[it.c].group !== channels[items[tuple[0]].c].group) continue;
          if (degSum + it.deg + (nu - tuple.length - 1) * 1 > D) continue;
          tuple.push(i);
          walk(i, degSum + it.deg, lSum + it.l);
          tuple.pop();
        }
      };
      walk(0, 0, 0);
    }
    if (raw.length === 0) throw new Error('trace basis: the degree bounds leave no basis function');
    const tupleRank = new Map<string, number>();
    this.fKey = raw.map((f) => {
      const t = f.pairs.map((it) => `${items[it].c}:${items[it].l}`).join(',');
      const k = tupleRank.get(t) ?? 0;
      tupleRank.set(t, k + 1);
      return `${t}#${k}`;
    });

    // --- used pairs and A layout ---
    const usedItems = [...new Set(raw.flatMap((f) => f.pairs))].sort((a, b) => a - b);
    const pairOfItem = new Map<number, number>();
    usedItems.forEach((it, p) => pairOfItem.set(it, p));
    const P = (this.nPairs = usedItems.length);
    this.pairChannel = new Int32Array(P);
    this.pairL = new Int32Array(P);
    this.pairOffset = new Int32Array(P);
    this.pairN = new Int32Array(P);
    this.pairWeight = new Float64Array(P * S);
    const dense: number[] = [];
    let nA = 0, lmax = 0;
    usedItems.forEach((it, p) => {
      const { c, l } = items[it];
      this.pairChannel[p] = c;
      this.pairL[p] = l;
      this.pairOffset[p] = nA;
      nA += 2 * l + 1;
      lmax = Math.max(lmax, l);
      const oh = mixOneHot(c);
      if (oh) {
        this.pairN[p] = oh.n;
        for (let z = 0; z < S; z++) this.pairWeight[p * S + z] = oh.w[z];
        for (let k = 0; k < S * N; k++) dense.push(0);
      } else {
        this.pairN[p] = -1;
        for (const v of mixDense(c, l)) dense.push(v);
      }
    });
    this.pairDense = Float64Array.from(dense);
    this.nA = nA;
    this.lmax = lmax;

    // --- monomials and function rows ---
    const monoKey = new Map<number, number>();
    const monoLists: number[][][] = [[], [], [], []];
    const base = nA + 1;
    const fRows: { mono: number[]; coef: number[] }[] = [];
    const vs: number[] = [];
    for (const f of raw) {
      const nu = f.pairs.length;
      const mono: number[] = [], coef: number[] = [];
      for (let q = 0; q < f.coef.length; q++) {
        vs.length = 0;
        for (let t = 0; t < nu; t++) {
          const p = pairOfItem.get(f.pairs[t])!;
          vs.push(this.pairOffset[p] + this.pairL[p] + f.ms[q * nu + t]);
        }
        vs.sort((a, b) => a - b);
        let key = nu;
        for (const v of vs) key = key * base + v;
        let id = monoKey.get(key);
        if (id === undefined) {
          id = monoLists[nu - 1].length;
          monoLists[nu - 1].push(vs.slice());
          monoKey.set(key, id);
        }
        mono.push(nu * 1e9 + id); // provisional: order and local id
        coef.push(f.coef[q]);
      }
      fRows.push({ mono, coef });
    }
    const monoStart = new Int32Array(5);
    for (let nu = 1; nu <= 4; nu++) monoStart[nu] = monoStart[nu - 1] + monoLists[nu - 1].length;
    this.monoStart = monoStart;
    this.nMono = monoStart[4];
    this.monoIdx = new Int32Array(4 * this.nMono).fill(-1);
    for (let nu = 1; nu <= 4; nu++) {
      monoLists[nu - 1].forEach((v, id) => {
        for (let t = 0; t < nu; t++) this.monoIdx[4 * (monoStart[nu - 1] + id) + t] = v[t];
      });
    }
    const F = (this.nFunctions = raw.length);
    this.fOffsets = new Int32Array(F + 1);
    let nnz = 0;
    fRows.forEach((r, b) => { nnz += r.mono.length; this.fOffsets[b + 1] = nnz; });
    this.fMono = new Int32Array(nnz);
    this.fCoef = new Float64Array(nnz);
    this.fOrder = new Int32Array(F);
    this.fGroup = new Int32Array(F);
    this.fL4 = new Float64Array(F);
    this.fN4 = new Float64Array(F);
    const pairOffsets = [0], pairList: number[] = [];
    fRows.forEach((r, b) => {
      let k = this.fOffsets[b];
      for (let q = 0; q < r.mono.length; q++, k++) {
        const nu = Math.floor(r.mono[q] / 1e9), id = r.mono[q] - nu * 1e9;
        this.fMono[k] = monoStart[nu - 1] + id;
        this.fCoef[k] = r.coef[q];
      }
      const f = raw[b];
      this.fOrder[b] = f.pairs.length;
      this.fGroup[b] = channels[items[f.pairs[0]].c].group;
      for (const it of f.pairs) {
        this.fL4[b] += items[it].l ** 4;
        this.fN4[b] += channels[items[it].c].degree ** 4;
      }
      for (const it of new Set(f.pairs)) pairList.push(pairOfItem.get(it)!);
      pairOffsets.push(pairList.length);
    });
    this.fPairOffsets = Int32Array.from(pairOffsets);
    this.fPairList = Int32Array.from(pairList);
  }

  /** Number of functions per correlation order. */
  countsByOrder(): number[] {
    const counts = new Array<number>(this.order).fill(0);
    for (let b = 0; b < this.nFunctions; b++) counts[this.fOrder[b] - 1]++;
    return counts;
  }
}

function randomEmbedding(K: number, S: number, seed: number): number[][] {
  const rng = new Rng(seed);
  const W: number[][] = [];
  for (let k = 0; k < K; k++) {
    const row: number[] = [];
    for (let z = 0; z < S; z++) row.push(rng.normal());
    W.push(row);
  }
  return W;
}

/** Couples one sorted tuple, symmetrises, removes dependent couplings; pushes functions. */
function coupleTuple(
  tuple: readonly number[],
  ls: number[],
  items: readonly { c: number; l: number }[],
  cache: Map<string, Float64Array[]>,
  out: RawFunction[],
): void {
  const nu = tuple.length;
  const key = ls.join(',');
  let U = cache.get(key);
  if (!U) { U = realCouplings(ls); cache.set(key, U); }
  if (U.length === 0) return;
  const dims = ls.map((l) => 2 * l + 1);
  const size = dims.reduce((a, b) => a * b, 1);
  // Blocks of equal items (contiguous since the tuple is sorted).
  const blockStart: number[] = [];
  for (let t = 0; t < nu; t++) blockStart.push(t > 0 && tuple[t] === tuple[t - 1] ? blockStart[t - 1] : t);
  // Canonical index of each flat m-tuple: sort m within blocks.
  const canon = new Int32Array(size);
  const m = new Array<number>(nu);
  for (let f = 0; f < size; f++) {
    let rem = f;
    for (let t = nu - 1; t >= 0; t--) { m[t] = rem % dims[t]; rem = Math.floor(rem / dims[t]); }
    // insertion sort within blocks
    for (let t = 1; t < nu; t++) {
      if (blockStart[t] === t) continue;
      let s = t;
      while (s > blockStart[t] && m[s - 1] > m[s]) { const tmp = m[s]; m[s] = m[s - 1]; m[s - 1] = tmp; s--; }
    }
    let c = 0;
    for (let t = 0; t < nu; t++) c = c * dims[t] + m[t];
    canon[f] = c;
  }
  const nEta = U.length;
  const Wc = U.map((u) => {
    const w = new Float64Array(size);
    for (let f = 0; f < size; f++) if (u[f] !== 0) w[canon[f]] += u[f];
    return w;
  });
  const G = new Float64Array(nEta * nEta);
  for (let a = 0; a < nEta; a++) {
    for (let b = a; b < nEta; b++) {
      let s = 0;
      const wa = Wc[a], wb = Wc[b];
      for (let f = 0; f < size; f++) s += wa[f] * wb[f];
      G[a * nEta + b] = s;
      G[b * nEta + a] = s;
    }
  }
  const { values, vectors } = symmetricEigen(G, nEta);
  const tol = 1e-10 * Math.max(values[0], 1e-300);
  for (let k = 0; k < nEta; k++) {
    if (!(values[k] > tol) || values[k] < 1e-14) break;
    const scale = 1 / Math.sqrt(values[k]);
    const fn: RawFunction = { pairs: tuple.slice(), ms: [], coef: [] };
    for (let f = 0; f < size; f++) {
      if (canon[f] !== f) continue;
      let v = 0;
      for (let a = 0; a < nEta; a++) v += vectors[a * nEta + k] * Wc[a][f];
      v *= scale;
      if (Math.abs(v) < 1e-13) continue;
      let rem = f;
      const mm = new Array<number>(nu);
      for (let t = nu - 1; t >= 0; t--) { mm[t] = (rem % dims[t]) - ls[t]; rem = Math.floor(rem / dims[t]); }
      fn.ms.push(...mm);
      fn.coef.push(v);
    }
    if (fn.coef.length > 0) out.push(fn);
  }
  void items;
}
