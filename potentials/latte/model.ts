/**
 * The LATTE model: descriptor (trainable compact radial functions, species weights,
 * tensor contractions) followed by one MLP per species, with analytic forces and
 * analytic gradients of the energy with respect to every parameter.
 *
 * Definition: /work/shared/specs/latte.md (after Pellegrini, de Gironcoli,
 * Küçükbenli, arXiv:2405.08137). Cost is linear in the number of neighbours: for
 * each atom, every body's tensor T_{u,c} = Σ_j R_u(r_ij) M_c(u_ij) is accumulated
 * over its neighbours (symmetric tensors in compact storage), then contracted.
 *
 * Parameters live in one flat Float64Array `theta` (what the optimiser updates):
 *   centres  [species][F]            (F = number of radial functions Σ_b n_b·m_b)
 *   widths   [F]
 *   species weights, in one of two modes (config.speciesMode):
 *     'specific'  (default): w [central species][neighbour species][F]   — ns²·F entries
 *     'embedding': mixing matrix C [F][K], then central-element embeddings
 *                  zc [species][K] and neighbour-element embeddings zn [species][K]
 *                  (K = config.embeddingDim), the weights being the rank-K factorisation
 *                    w_f(s_i, s_j) = Σ_a C[f][a] · zc[s_i][a] · zn[s_j][a]
 *                  — F·K + 2·ns·K entries: linear in the number of species, not ns².
 *   MLP of each species: per layer W (out×in, row-major) then b (out)
 * Not trained: descriptor standardisation (mean, 1/std per species), e0 and the output scale.
 */
import { Rng } from '../../src/rng.ts';
import { ACT_GAUSS, ACT_TANH, activationCode } from './activation.ts';
import { compileContract, compileContractBackward, compileMlp, type MlpKernel } from './mdgen.ts';
import { mdLoops, type Backward, type Forward } from './mdloops.ts';
import { compactSize, contractionPlan, descriptorSize, MAX_RANK, parseDescriptor, TUPLES, type BlockSpec } from './pattern.ts';

export type Activation = 'gaussian' | 'tanh' | 'silu';
export const ACTIVATIONS: readonly Activation[] = ['gaussian', 'tanh', 'silu'];
/** How the species weights w_f(s_i, s_j) are parametrised (see the file comment). */
export type SpeciesMode = 'specific' | 'embedding';
export const SPECIES_MODES: readonly SpeciesMode[] = ['specific', 'embedding'];
/** Default embedding dimension K in 'embedding' mode. */
export const DEFAULT_EMBEDDING_DIM = 4;

export interface LatteConfig {
  elements: string[];
  /** Global cutoff, Å. */
  cutoff: number;
  /** Descriptor string, e.g. `16,-:16,a,a:16,ab,ab:8,a,b,ab`. */
  descriptor: string;
  /** Radial width s, Å (initial value of every width). */
  width: number;
  /** Learn one width per function within [widthMin, widthMax] (default false: fixed global width). */
  trainWidths?: boolean;
  widthMin?: number;
  widthMax?: number;
  /** Hidden layer sizes, e.g. [64, 32]. */
  hidden: number[];
  activation?: Activation;
  /** Species weights: 'specific' per (central, neighbour) pair (default) or 'embedding' (factorised through learned element vectors). */
  speciesMode?: SpeciesMode;
  /** Embedding dimension K in 'embedding' mode (default 4). */
  embeddingDim?: number;
}

// evaluateMd writes the monomials up to rank 4 out in mdGather, and keeps rank 4 with rank 3 in one group: a higher MAX_RANK needs code there.
if (MAX_RANK !== 4) throw new Error(`LATTE evaluateMd handles ranks up to 4, MAX_RANK is ${MAX_RANK}`);

/** Flat monomial table of u: ranks 0..MAX_RANK, compact components. */
const MONO_OFF: number[] = [];
{
  let o = 0;
  for (let p = 0; p <= MAX_RANK + 1; p++) { MONO_OFF.push(o); if (p <= MAX_RANK) o += compactSize(p); }
}
const MONO_TOTAL = MONO_OFF[MAX_RANK + 1];
/** For flat monomial k ≥ 1: the parent monomial (one rank lower) and the axis multiplied in. */
const MONO_PARENT = new Int32Array(MONO_TOTAL);
const MONO_AXIS = new Int32Array(MONO_TOTAL);
/** Gradient table: ∂M_k/∂u_a = coef · M_red, as (k, a, coef, red) rows. */
const GRAD_ROWS: number[] = [];
/** Number of gradient rows needed for monomials up to each rank. */
const GRAD_COUNT: number[] = [0];
{
  for (let p = 1; p <= MAX_RANK; p++) {
    TUPLES[p].forEach((t, c) => {
      const k = MONO_OFF[p] + c;
      const head = t.slice(0, p - 1);
      MONO_PARENT[k] = MONO_OFF[p - 1] + findTuple(head);
      MONO_AXIS[k] = t[p - 1];
      for (let a = 0; a < 3; a++) {
        const count = t.filter((x) => x === a).length;
        if (count === 0) continue;
        const rest = t.slice();
        rest.splice(rest.indexOf(a), 1);
        GRAD_ROWS.push(k, a, count, MONO_OFF[p - 1] + findTuple(rest));
      }
    });
    GRAD_COUNT.push(GRAD_ROWS.length / 4);
  }
}
function findTuple(t: number[]): number {
  const list = TUPLES[t.length];
  return list.findIndex((x) => x.every((v, q) => v === t[q]));
}
const GRAD_K = Int32Array.from(GRAD_ROWS.filter((_, q) => q % 4 === 0));
const GRAD_A = Int32Array.from(GRAD_ROWS.filter((_, q) => q % 4 === 1));
const GRAD_C = Float64Array.from(GRAD_ROWS.filter((_, q) => q % 4 === 2));
const GRAD_R = Int32Array.from(GRAD_ROWS.filter((_, q) => q % 4 === 3));

/** What the engine reads: extended atoms and a full neighbour list (as the Neighborhood interface). */
export interface LatteAtoms {
  nLocal: number;
  /** Rows evaluate() computes (default 0..nLocal-1), as Neighborhood.rowStart/rowEnd. */
  rowStart?: number;
  rowEnd?: number;
  positions: Float64Array;
  species: Int32Array;
  full: { offsets: Int32Array; neighbors: Int32Array } | null;
}

export interface EvaluateOptions {
  /** −∂E/∂x added for every extended entry touched (length ≥ 3·nTotal), or null. */
  forces?: Float64Array | null;
  /** Per-atom energies added for local atoms, or null. */
  atomEnergies?: Float64Array | null;
  /** ∂E/∂θ·gradScale added here (length theta.length), or null. */
  paramGrad?: Float64Array | null;
  gradScale?: number;
  /** Raw (unstandardised) descriptors written here, nLocal·D, or null. */
  descriptors?: Float64Array | null;
  /** Skip the MLP (descriptor only). */
  descriptorOnly?: boolean;
}

/** First k < n where a[ao + k] and b[bo + k] differ in their bits (−0 ≠ +0, NaN = NaN), or −1. */
export function firstBitDifference(a: Float64Array, ao: number, b: Float64Array, bo: number, n: number): number {
  for (let k = 0; k < n; k++) if (!Object.is(a[ao + k], b[bo + k])) return k;
  return -1;
}

/** a[ao..ao+n) and b[bo..bo+n) hold the same bits. */
function sameBits(a: Float64Array, ao: number, b: Float64Array, bo: number, n: number): boolean {
  return firstBitDifference(a, ao, b, bo, n) < 0;
}

export class LatteModel {
  readonly config: Required<LatteConfig>;
  readonly blocks: BlockSpec[];
  readonly nSpecies: number;
  /** Radial functions F and descriptor size D. */
  readonly nFunctions: number;
  readonly nDescriptors: number;
  readonly theta: Float64Array;
  /** Offsets into theta. */
  readonly offCentres: number;
  readonly offWidths: number;
  /** Start of the species-weight parameters: w (specific mode) or C (embedding mode). */
  readonly offWeights: number;
  /** Embedding mode: starts of zc and zn (−1 in specific mode), and K (0 in specific mode). */
  readonly offEmbCentral: number;
  readonly offEmbNeighbour: number;
  readonly embeddingDim: number;
  readonly offMlp: Int32Array;
  /** Offset in theta of the weights into layer l + 1 of species t's MLP (W then b), at [t·L + l], l < L = layers − 1. */
  readonly layerOffset: Int32Array;
  readonly layerSizes: number[];
  /** Standardisation: G' = (G − mean)·invStd, per species, and energy offsets. */
  readonly mean: Float64Array;
  readonly invStd: Float64Array;
  readonly e0: Float64Array;
  /**
   * Fixed scale of each species' network output, E_i = outScale·MLP(G') + e0 (set from
   * the spread of the training energies so that a freshly initialised network starts
   * at the data's energy scale; equivalent to a fixed rescaling of the last layer).
   */
  readonly outScale: Float64Array;
  /** Which entries of theta the optimiser may change (1) or not (0). */
  readonly trainable: Uint8Array;

  // Compiled descriptor.
  readonly maxRank: number;
  private readonly monoSize: number;
  private readonly gradRows: number;
  private readonly nBodies: number;
  private readonly bodyN: Int32Array;
  private readonly bodyF: Int32Array;
  readonly tSize: number;
  private readonly blockBodies: Int32Array[];
  private readonly blockG: Int32Array;
  private readonly blockCoef: Float64Array[];
  private readonly blockIndex: Int32Array[];
  /** Per block: absolute T index of each (term, body) at u = 0, and each body's stride in u. */
  private readonly blockAbs: Int32Array[];
  private readonly blockStride: Int32Array[];
  /** Per function: its body's rank and its T offset (body base + u·stride). */
  private readonly fRank: Int32Array;
  private readonly fBase: Int32Array;
  /** Functions sorted by centre per (central species, rank group); see prepareOrder. */
  private readonly ordF: Int32Array;
  private readonly ordC: Float64Array;
  private readonly ordBase: Int32Array;
  private readonly ordRank: Int32Array;
  private readonly grpStart: Int32Array;
  private readonly grpSmax: Float64Array;
  private readonly orderScratch: Int32Array;
  private readonly activation: number;

  // Scratch.
  private cap = 0;
  private nbJ = new Int32Array(0);
  private nbT = new Int32Array(0);
  private nbR = new Float64Array(0);
  private nbU = new Float64Array(0);
  private nbM = new Float64Array(0);
  private nbPhi = new Float64Array(0);
  private nbDphi = new Float64Array(0);
  /** Per neighbour and rank group: the run [lo, hi) of sorted functions that may be alive. */
  private nbLo = new Int32Array(0);
  private nbHi = new Int32Array(0);
  private readonly T: Float64Array;
  private readonly gT: Float64Array;
  private readonly G: Float64Array;
  private readonly dG: Float64Array;
  private readonly acts: Float64Array[];
  private readonly deltas: Float64Array[];
  private readonly A = new Float64Array(MONO_TOTAL);
  /** Per evaluate: 1/s per function and 1/c² per (species, function). */
  private invS = new Float64Array(0);
  private invC2 = new Float64Array(0);
  /** Effective species weights w[(t_i·ns + t_j)·F + f] of the current parameters, and ∂E/∂w (scaled) of one evaluate. */
  private readonly wEff: Float64Array;
  private readonly gW: Float64Array;

  constructor(config: LatteConfig, theta?: Float64Array) {
    const cfg: Required<LatteConfig> = {
      elements: [...config.elements],
      cutoff: config.cutoff,
      descriptor: config.descriptor,
      width: config.width,
      trainWidths: config.trainWidths ?? false,
      widthMin: config.widthMin ?? config.width,
      widthMax: config.widthMax ?? config.width,
      hidden: [...config.hidden],
      activation: config.activation ?? 'gaussian',
      speciesMode: config.speciesMode ?? 'specific',
      embeddingDim: config.embeddingDim ?? DEFAULT_EMBEDDING_DIM,
    };
    if (!Array.isArray(cfg.elements) || cfg.elements.length === 0) throw new Error('LATTE model: needs at least one element');
    if (!(cfg.cutoff > 0) || !Number.isFinite(cfg.cutoff)) throw new Error(`LATTE model: cutoff must be positive, got ${cfg.cutoff}`);
    if (!(cfg.width > 0) || 2 * cfg.width > cfg.cutoff) throw new Error(`LATTE model: width ${cfg.width} must be positive and at most half the cutoff ${cfg.cutoff}`);
    if (!(cfg.widthMin > 0) || cfg.widthMin > cfg.widthMax || 2 * cfg.widthMax > cfg.cutoff) {
      throw new Error(`LATTE model: need 0 < widthMin ≤ widthMax ≤ cutoff/2, got [${cfg.widthMin}, ${cfg.widthMax}]`);
    }
    if (!ACTIVATIONS.includes(cfg.activation)) throw new Error(`LATTE model: unknown activation '${cfg.activation}' (${ACTIVATIONS.join(', ')})`);
    if (cfg.hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new Error(`LATTE model: hidden layer sizes must be positive integers, got ${cfg.hidden.join(',')}`);
    if (!SPECIES_MODES.includes(cfg.speciesMode)) throw new Error(`LATTE model: unknown species mode '${cfg.speciesMode}' (${SPECIES_MODES.join(', ')})`);
    if (!Number.isInteger(cfg.embeddingDim) || cfg.embeddingDim < 1) throw new Error(`LATTE model: embedding dimension must be a positive integer, got ${cfg.embeddingDim}`);
    this.config = cfg;
    this.activation = activationCode(cfg.activation);
    this.blocks = parseDescriptor(cfg.descriptor);
    const ns = (this.nSpecies = cfg.elements.length);
    const D = (this.nDescriptors = descriptorSize(this.blocks));

    // Bodies and functions.
    const rank: number[] = [], nb: number[] = [], fo: number[] = [], to: number[] = [];
    let F = 0, Ts = 0, maxRank = 0;
    this.blockBodies = [];
    this.blockCoef = [];
    this.blockIndex = [];
    const gOff: number[] = [];
    let g = 0;
    for (const block of this.blocks) {
      const ids: number[] = [];
      for (const body of block.bodies) {
        ids.push(rank.length);
        rank.push(body.rank);
        nb.push(block.n);
        fo.push(F);
        to.push(Ts);
        F += block.n;
        Ts += block.n * compactSize(body.rank);
        maxRank = Math.max(maxRank, body.rank);
      }
      const plan = contractionPlan(block);
      this.blockBodies.push(Int32Array.from(ids));
      this.blockCoef.push(plan.coef);
      this.blockIndex.push(plan.index);
      gOff.push(g);
      g += block.n;
    }
    this.nFunctions = F;
    this.nBodies = rank.length;
    this.bodyN = Int32Array.from(nb);
    this.bodyF = Int32Array.from(fo);
    this.tSize = Ts;
    this.blockG = Int32Array.from(gOff);
    this.maxRank = maxRank;
    this.blockAbs = this.blocks.map((_, b) => {
      const ids = this.blockBodies[b], index = this.blockIndex[b], m = ids.length;
      return Int32Array.from(index, (c, q) => to[ids[q % m]] + c);
    });
    this.blockStride = this.blockBodies.map((ids) => Int32Array.from(ids, (q) => compactSize(rank[q])));
    this.fRank = new Int32Array(F);
    this.fBase = new Int32Array(F);
    for (let q = 0; q < rank.length; q++) {
      for (let u = 0; u < nb[q]; u++) { this.fRank[fo[q] + u] = rank[q]; this.fBase[fo[q] + u] = to[q] + u * compactSize(rank[q]); }
    }
    this.ordF = new Int32Array(ns * F);
    this.ordC = new Float64Array(ns * F);
    this.ordBase = new Int32Array(ns * F);
    this.ordRank = new Int32Array(ns * F);
    this.grpStart = new Int32Array(ns * 5);
    this.grpSmax = new Float64Array(ns * 4);
    this.orderScratch = new Int32Array(F);
    this.monoSize = MONO_OFF[maxRank + 1];
    this.gradRows = GRAD_COUNT[maxRank];

    // Parameter layout.
    this.offCentres = 0;
    this.offWidths = ns * F;
    this.offWeights = this.offWidths + F;
    let off: number;
    if (cfg.speciesMode === 'embedding') {
      const K = (this.embeddingDim = cfg.embeddingDim);
      this.offEmbCentral = this.offWeights + F * K;
      this.offEmbNeighbour = this.offEmbCentral + ns * K;
      off = this.offEmbNeighbour + ns * K;
    } else {
      this.embeddingDim = 0;
      this.offEmbCentral = -1;
      this.offEmbNeighbour = -1;
      off = this.offWeights + ns * ns * F;
    }
    this.layerSizes = [D, ...cfg.hidden, 1];
    const offMlp: number[] = [], layerOffset: number[] = [];
    for (let s = 0; s < ns; s++) {
      offMlp.push(off);
      for (let l = 0; l + 1 < this.layerSizes.length; l++) {
        layerOffset.push(off);
        off += this.layerSizes[l + 1] * (this.layerSizes[l] + 1);
      }
    }
    this.offMlp = Int32Array.from(offMlp);
    this.layerOffset = Int32Array.from(layerOffset);
    if (theta) {
      if (theta.length !== off) throw new Error(`LATTE model: parameter vector has ${theta.length} entries, the configuration needs ${off}`);
      this.theta = Float64Array.from(theta);
    } else {
      this.theta = new Float64Array(off);
    }
    this.trainable = new Uint8Array(off).fill(1);
    if (!cfg.trainWidths) this.trainable.fill(0, this.offWidths, this.offWidths + F);
    this.mean = new Float64Array(ns * D);
    this.invStd = new Float64Array(ns * D).fill(1);
    this.e0 = new Float64Array(ns);
    this.outScale = new Float64Array(ns).fill(1);

    this.wEff = new Float64Array(ns * ns * F);
    this.gW = new Float64Array(ns * ns * F);
    this.T = new Float64Array(Ts);
    this.gT = new Float64Array(Ts);
    this.G = new Float64Array(D);
    this.dG = new Float64Array(D);
    this.acts = this.layerSizes.map((n) => new Float64Array(n));
    this.deltas = this.layerSizes.map((n) => new Float64Array(n));
    this.backScratch = new Float64Array(Math.max(...this.layerSizes));
  }

  /** Number of parameters. */
  get nParameters(): number {
    return this.theta.length;
  }

  /**
   * L2 penalty λ Σ w² over the MLPs' weight matrices (not their biases, not the
   * descriptor's parameters): added to a training loss, it keeps the weights small and
   * the networks smoother. Adds its gradient 2λw to `grad` and returns the penalty.
   */
  weightPenalty(lambda: number, grad: Float64Array): number {
    const th = this.theta, sizes = this.layerSizes, L = sizes.length - 1;
    let sum = 0;
    for (let s = 0; s < this.nSpecies; s++) {
      for (let l = 0; l < L; l++) {
        const o = this.layerOffset[s * L + l], end = o + sizes[l] * sizes[l + 1];
        for (let k = o; k < end; k++) {
          const w = th[k];
          sum += w * w;
          grad[k] += 2 * lambda * w;
        }
      }
    }
    return lambda * sum;
  }

  /** Human-readable shape, e.g. "16,-:16,a,a (D=32, F=48) → 64 → 32 → 1, rc 5 Å". */
  describe(): string {
    const species = this.embeddingDim > 0 ? `, species embedding K=${this.embeddingDim}` : '';
    return `${this.config.descriptor} (D=${this.nDescriptors}, F=${this.nFunctions}) → ${this.config.hidden.join(' → ')} → 1 ${this.config.activation}, rc ${this.config.cutoff} Å${species}, ${this.nParameters} parameters`;
  }

  /**
   * Places the radial functions of blocks `fromBlock`… (0-based) afresh: width `width`,
   * centres spread from lo towards hi as initialise spreads them over [s, rc − s]
   * (spreadCentre: the bodies of a block staggered), for every central species. For
   * blocks appended to a trained model that should resolve a range the defaults do not,
   * e.g. narrow functions at close contacts. The centres must respect the clip
   * [width, rc − width] and the width [widthMin, widthMax] when widths are trained.
   */
  placeRadial(fromBlock: number, width: number, lo: number, hi: number): void {
    const { cutoff: rc, trainWidths, widthMin, widthMax } = this.config;
    const nb = this.blocks.length, where = fromBlock + 1 === nb ? `block ${nb}` : `blocks ${fromBlock + 1}–${nb}`;
    if (!(width > 0) || 2 * width > rc) throw new Error(`${where}: radial width must be in (0, cutoff/2 = ${rc / 2}], got ${width}`);
    if (trainWidths && (width < widthMin || width > widthMax)) {
      throw new Error(`${where}: radial width ${width} is outside the model's trained range [${widthMin}, ${widthMax}]`);
    }
    if (!(lo <= hi) || lo < width - 1e-12 || hi > rc - width + 1e-12) {
      throw new Error(`${where}: centres [${lo}, ${hi}] must lie in [width, cutoff − width] = [${width}, ${rc - width}]`);
    }
    const ns = this.nSpecies, F = this.nFunctions, th = this.theta;
    for (let b = fromBlock; b < nb; b++) {
      const ids = this.blockBodies[b], m = ids.length;
      for (let k = 0; k < m; k++) {
        const q = ids[k], n = this.bodyN[q], f0 = this.bodyF[q];
        for (let u = 0; u < n; u++) {
          const c = spreadCentre(lo, hi, u, n, k, m);
          for (let t = 0; t < ns; t++) th[this.offCentres + t * F + f0 + u] = c;
          th[this.offWidths + f0 + u] = width;
        }
      }
    }
  }

  /**
   * Initial parameters: centres evenly spread over [s, rc − s] (staggered between the
   * bodies of a block), all widths s, species weights 1 (+ small noise; in embedding
   * mode C = (1 + noise)/K and embeddings 1 + noise, so that w ≈ 1 too), MLP weights
   * N(0, 2/(in+out)), biases 0.
   */
  initialise(seed = 1): void {
    const rng = new Rng(seed);
    const { cutoff: rc, width: s } = this.config;
    const ns = this.nSpecies, F = this.nFunctions, th = this.theta;
    for (let q = 0; q < this.nBodies; q++) {
      const n = this.bodyN[q], f0 = this.bodyF[q];
      const bodiesInBlock = this.blockBodies.find((ids) => ids.includes(q))!;
      const k = bodiesInBlock.indexOf(q), m = bodiesInBlock.length;
      for (let u = 0; u < n; u++) {
        const c = spreadCentre(s, rc - s, u, n, k, m);
        for (let t = 0; t < ns; t++) th[this.offCentres + t * F + f0 + u] = c;
        th[this.offWidths + f0 + u] = s;
      }
    }
    const K = this.embeddingDim;
    if (K > 0) {
      for (let k = 0; k < F * K; k++) th[this.offWeights + k] = (1 + 0.1 * rng.normal()) / K;
      for (let k = 0; k < 2 * ns * K; k++) th[this.offEmbCentral + k] = 1 + 0.1 * rng.normal();
    } else {
      for (let k = 0; k < ns * ns * F; k++) th[this.offWeights + k] = 1 + 0.1 * rng.normal();
    }
    for (let t = 0; t < ns; t++) {
      let o = this.offMlp[t];
      for (let l = 0; l + 1 < this.layerSizes.length; l++) {
        const nin = this.layerSizes[l], nout = this.layerSizes[l + 1];
        const sd = Math.sqrt(2 / (nin + nout));
        for (let k = 0; k < nin * nout; k++) th[o + k] = sd * rng.normal();
        o += nin * nout;
        for (let k = 0; k < nout; k++) th[o + k] = 0;
        o += nout;
      }
    }
  }

  /** "block 2 ('16,a,a') body 1 term 3" for radial function f. */
  functionLabel(f: number): string {
    for (let b = 0; b < this.blocks.length; b++) {
      const ids = this.blockBodies[b];
      for (let k = 0; k < ids.length; k++) {
        const q = ids[k];
        if (f >= this.bodyF[q] && f < this.bodyF[q] + this.bodyN[q]) {
          return `block ${b + 1} ('${this.blocks[b].text}') body ${k + 1} term ${f - this.bodyF[q] + 1}`;
        }
      }
    }
    return `function ${f}`;
  }

  /** Throws, naming the block, if a radial function's support [c − s, c + s] leaves [0, rc] or a width is not positive. */
  validate(): void {
    const th = this.theta, F = this.nFunctions, rc = this.config.cutoff, tol = 1e-9;
    for (let f = 0; f < F; f++) {
      const s = th[this.offWidths + f];
      if (!(s > 0)) throw new Error(`LATTE model: ${this.functionLabel(f)}: width ${s} must be positive`);
      for (let t = 0; t < this.nSpecies; t++) {
        const c = th[this.offCentres + t * F + f];
        if (!(c - s >= -tol) || !(c + s <= rc + tol)) {
          throw new Error(
            `LATTE model: ${this.functionLabel(f)}, centre for ${this.config.elements[t]}: centre ${c} with width ${s} puts the support ` +
              `[${(c - s).toFixed(4)}, ${(c + s).toFixed(4)}] outside [0, cutoff ${rc}]`,
          );
        }
      }
    }
  }

  /** Keeps centres in [s, rc − s] and widths in [widthMin, widthMax] (after each optimiser step). */
  clip(): void {
    const th = this.theta, F = this.nFunctions, rc = this.config.cutoff;
    const { widthMin, widthMax } = this.config;
    for (let f = 0; f < F; f++) {
      let s = th[this.offWidths + f];
      if (s < widthMin) s = widthMin;
      if (s > widthMax) s = widthMax;
      th[this.offWidths + f] = s;
      for (let t = 0; t < this.nSpecies; t++) {
        const k = this.offCentres + t * F + f;
        if (th[k] < s) th[k] = s;
        if (th[k] > rc - s) th[k] = rc - s;
      }
    }
  }

  private ensureCapacity(n: number): void {
    if (n <= this.cap) return;
    const cap = Math.max(n, Math.ceil(this.cap * 1.5), 64);
    this.cap = cap;
    this.nbJ = new Int32Array(cap);
    this.nbT = new Int32Array(cap);
    this.nbR = new Float64Array(cap);
    this.nbU = new Float64Array(3 * cap);
    this.nbM = new Float64Array(this.monoSize * cap);
    this.nbPhi = new Float64Array(this.nFunctions * cap);
    this.nbDphi = new Float64Array(this.nFunctions * cap);
    this.nbLo = new Int32Array(4 * cap);
    this.nbHi = new Int32Array(4 * cap);
  }

  /**
   * Energy of the atoms (Σ over local atoms), adding forces, per-atom energies,
   * parameter gradients and descriptors as asked. `typeMap` maps the atoms'
   * species indices to the model's element indices.
   */
  evaluate(atoms: LatteAtoms, typeMap: Int32Array, options: EvaluateOptions = {}): number {
    const forces = options.forces ?? null, eatom = options.atomEnergies ?? null;
    const pg = options.paramGrad ?? null, scale = options.gradScale ?? 1;
    const descOut = options.descriptors ?? null, descriptorOnly = options.descriptorOnly ?? false;
    const backward = !descriptorOnly && (forces !== null || pg !== null);
    const species = atoms.species;
    if (atoms.full === null) throw new Error('LATTE: needs a full neighbour list');
    const D = this.nDescriptors, G = this.G;
    this.prepareRadial();
    if (pg !== null) this.gW.fill(0);
    let energy = 0;

    for (let i = atoms.rowStart ?? 0, rowEnd = atoms.rowEnd ?? atoms.nLocal; i < rowEnd; i++) {
      const ti = typeMap[species[i]];
      const nn = this.gatherNeighbours(atoms, typeMap, i);
      this.accumulate(nn, ti);
      this.contract();
      if (descOut !== null) for (let d = 0; d < D; d++) descOut[i * D + d] = G[d];
      if (descriptorOnly) continue;

      const ei = this.mlpForward(ti) + this.e0[ti];
      energy += ei;
      if (eatom !== null) eatom[i] += ei;
      if (!backward) continue;
      this.mlpBackward(ti, pg, scale);
      this.contractBackward();
      this.neighbourBackward(i, nn, ti, forces, pg, scale);
    }
    if (pg !== null) this.foldWeightGradient(pg);
    return energy;
  }

  /**
   * Gathers row i's neighbours inside rc (general path): extended index, type, distance,
   * unit vector and the direction monomials into nbJ/nbT/nbR/nbU/nbM; returns their count.
   */
  private gatherNeighbours(atoms: LatteAtoms, typeMap: Int32Array, i: number): number {
    const x = atoms.positions, species = atoms.species;
    const { offsets, neighbors } = atoms.full!;
    const rc2 = this.config.cutoff * this.config.cutoff, monoSize = this.monoSize;
    const p0 = offsets[i], p1 = offsets[i + 1];
    this.ensureCapacity(p1 - p0);
    const nbJ = this.nbJ, nbT = this.nbT, nbR = this.nbR, nbU = this.nbU, nbM = this.nbM;
    const xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2];
    let nn = 0;
    for (let p = p0; p < p1; p++) {
      const j = neighbors[p];
      const dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - zi;
      const r2 = dx * dx + dy * dy + dz * dz;
      if (r2 >= rc2 || r2 === 0) continue;
      const r = Math.sqrt(r2), ir = 1 / r;
      nbJ[nn] = j;
      nbT[nn] = typeMap[species[j]];
      nbR[nn] = r;
      const ux = dx * ir, uy = dy * ir, uz = dz * ir;
      nbU[3 * nn] = ux; nbU[3 * nn + 1] = uy; nbU[3 * nn + 2] = uz;
      const mo = nn * monoSize;
      nbM[mo] = 1;
      if (monoSize > 1) { nbM[mo + 1] = ux; nbM[mo + 2] = uy; nbM[mo + 3] = uz; }
      for (let k = 4; k < monoSize; k++) nbM[mo + k] = nbM[mo + MONO_PARENT[k]] * nbU[3 * nn + MONO_AXIS[k]];
      nn++;
    }
    return nn;
  }

  /**
   * Raw descriptors and their exact position Jacobians, row by row (for training with a
   * frozen descriptor, train-frozen.ts). For each row i, `sink(i, nn, neighbours, G, jac)`
   * gets the nn extended indices of i's neighbours inside rc (neighbours[0..nn)), its D
   * descriptors G, and jac ((nn + 1)·D·3): jac[(q·D + d)·3 + a] = ∂G_d/∂x_{neighbours[q],a}
   * for q < nn, and q = nn for the central atom i itself. Each row d comes from the
   * backward pass of evaluate() with ∂E/∂G = e_d (same arithmetic as its forces). The
   * arrays are reused between calls. Additive: evaluate() and evaluateMd() are untouched.
   */
  descriptorJacobian(
    atoms: LatteAtoms,
    typeMap: Int32Array,
    sink: (i: number, nn: number, neighbours: Int32Array, G: Float64Array, jac: Float64Array) => void,
  ): void {
    const x = atoms.positions, species = atoms.species;
    if (atoms.full === null) throw new Error('LATTE: needs a full neighbour list');
    const D = this.nDescriptors, G = this.G, dG = this.dG;
    this.prepareRadial();
    const scratch = new Float64Array(x.length);
    let jac = new Float64Array(0);
    // A row d of a rank ≤ 2 block has no rank-3/4 work at all, one of a rank-3/4 block that of its own function(s).
    const live = this.maxRank > 2 ? new Uint8Array(this.nFunctions) : null;
    this.highLive = live;
    try {
      for (let i = atoms.rowStart ?? 0, rowEnd = atoms.rowEnd ?? atoms.nLocal; i < rowEnd; i++) {
        const ti = typeMap[species[i]];
        const nn = this.gatherNeighbours(atoms, typeMap, i);
        const nbJ = this.nbJ;
        this.accumulate(nn, ti);
        this.contract();
        if (jac.length < (nn + 1) * D * 3) jac = new Float64Array(Math.max((nn + 1) * D * 3, 2 * jac.length));
        for (let d = 0; d < D; d++) {
          dG.fill(0);
          dG[d] = 1;
          this.contractBackward();
          if (live !== null) this.markHighLive(live);
          for (let q = 0; q < nn; q++) { const j = nbJ[q]; scratch[3 * j] = 0; scratch[3 * j + 1] = 0; scratch[3 * j + 2] = 0; }
          scratch[3 * i] = 0; scratch[3 * i + 1] = 0; scratch[3 * i + 2] = 0;
          this.neighbourBackward(i, nn, ti, scratch, null, 1);
          // scratch holds −∂G_d/∂x.
          for (let q = 0; q < nn; q++) {
            const j = nbJ[q], o = (q * D + d) * 3;
            jac[o] = -scratch[3 * j]; jac[o + 1] = -scratch[3 * j + 1]; jac[o + 2] = -scratch[3 * j + 2];
          }
          const o = (nn * D + d) * 3;
          jac[o] = -scratch[3 * i]; jac[o + 1] = -scratch[3 * i + 1]; jac[o + 2] = -scratch[3 * i + 2];
        }
        sink(i, nn, nbJ, G, jac);
      }
    } finally {
      this.highLive = null;
    }
  }

  /** live[f] = 1 for the rank ≥ 3 functions whose ∂E/∂T (gT) has a non-zero entry. */
  private markHighLive(live: Uint8Array): void {
    const gT = this.gT, fRank = this.fRank, fBase = this.fBase;
    let any = false;
    for (let f = 0; f < live.length; f++) {
      live[f] = 0;
      if (fRank[f] < 3) continue;
      const base = fBase[f], cd = compactSize(fRank[f]);
      for (let c = 0; c < cd; c++) if (gT[base + c] !== 0) { live[f] = 1; any = true; break; }
    }
    this.highLiveAny = any;
  }

  /** Effective species weights w_f(t_i, t_j) from the parameters (either mode). */
  private prepareWeights(): void {
    const F = this.nFunctions, ns = this.nSpecies, th = this.theta, w = this.wEff, K = this.embeddingDim;
    if (K === 0) {
      for (let k = 0; k < ns * ns * F; k++) w[k] = th[this.offWeights + k];
      return;
    }
    const oC = this.offWeights, oZc = this.offEmbCentral, oZn = this.offEmbNeighbour;
    for (let ti = 0; ti < ns; ti++) {
      for (let tj = 0; tj < ns; tj++) {
        const row = (ti * ns + tj) * F;
        for (let f = 0; f < F; f++) {
          let s = 0;
          for (let a = 0; a < K; a++) s += th[oC + f * K + a] * th[oZc + ti * K + a] * th[oZn + tj * K + a];
          w[row + f] = s;
        }
      }
    }
  }

  /** Adds ∂E/∂w (accumulated in gW) to the gradient of the weight parameters (chain rule through the embedding). */
  private foldWeightGradient(pg: Float64Array): void {
    const F = this.nFunctions, ns = this.nSpecies, th = this.theta, gW = this.gW, K = this.embeddingDim;
    if (K === 0) {
      for (let k = 0; k < ns * ns * F; k++) pg[this.offWeights + k] += gW[k];
      return;
    }
    const oC = this.offWeights, oZc = this.offEmbCentral, oZn = this.offEmbNeighbour;
    for (let ti = 0; ti < ns; ti++) {
      for (let tj = 0; tj < ns; tj++) {
        const row = (ti * ns + tj) * F;
        for (let f = 0; f < F; f++) {
          const g = gW[row + f];
          if (g === 0) continue;
          for (let a = 0; a < K; a++) {
            const c = th[oC + f * K + a], zc = th[oZc + ti * K + a], zn = th[oZn + tj * K + a];
            pg[oC + f * K + a] += g * zc * zn;
            pg[oZc + ti * K + a] += g * c * zn;
            pg[oZn + tj * K + a] += g * c * zc;
          }
        }
      }
    }
  }

  private prepareRadial(): void {
    const F = this.nFunctions, ns = this.nSpecies, th = this.theta;
    if (this.invS.length !== F) { this.invS = new Float64Array(F); this.invC2 = new Float64Array(ns * F); }
    for (let f = 0; f < F; f++) this.invS[f] = 1 / th[this.offWidths + f];
    for (let k = 0; k < ns * F; k++) { const c = th[this.offCentres + k]; this.invC2[k] = 1 / (c * c); }
    this.prepareWeights();
    this.prepareOrder();
  }

  /**
   * Sorted radial functions: for each central species and each rank group (0, 1, 2,
   * ≥ 3), the functions ordered by centre, so that the functions alive at distance r
   * (|r − c| < s) form one contiguous run found by two binary searches (with the
   * group's largest width). Rebuilt from the parameters in every evaluate.
   */
  private prepareOrder(): void {
    const F = this.nFunctions, ns = this.nSpecies, th = this.theta;
    const ordF = this.ordF, ordC = this.ordC, ordBase = this.ordBase, ordRank = this.ordRank, grpStart = this.grpStart, grpSmax = this.grpSmax;
    const fRank = this.fRank, fBase = this.fBase, order = this.orderScratch;
    for (let ti = 0; ti < ns; ti++) {
      let k = ti * F;
      for (let g = 0; g < 4; g++) {
        grpStart[ti * 5 + g] = k;
        let cnt = 0;
        for (let f = 0; f < F; f++) if (Math.min(fRank[f], 3) === g) order[cnt++] = f;
        const cRow = this.offCentres + ti * F;
        const sorted = order.subarray(0, cnt).sort((a, b) => th[cRow + a] - th[cRow + b] || a - b);
        let smax = 0;
        for (let q = 0; q < cnt; q++) {
          const f = sorted[q];
          ordF[k] = f;
          ordC[k] = th[cRow + f];
          ordBase[k] = fBase[f];
          ordRank[k] = fRank[f];
          smax = Math.max(smax, th[this.offWidths + f]);
          k++;
        }
        grpSmax[ti * 4 + g] = smax;
      }
      grpStart[ti * 5 + 4] = k;
    }
  }

  /**
   * T_{q,u,c} = Σ_j w·phi(r_j) M_c(u_j) for every body q, over the functions alive at
   * each neighbour's distance only (ranks 0–2 unrolled). Records each neighbour's
   * runs and phi, phi' for the backward pass.
   */
  private accumulate(nn: number, ti: number): void {
    const F = this.nFunctions, ns = this.nSpecies, monoSize = this.monoSize;
    const T = this.T, nbR = this.nbR, nbT = this.nbT, nbM = this.nbM, nbPhi = this.nbPhi, nbDphi = this.nbDphi, wEff = this.wEff;
    const nbLo = this.nbLo, nbHi = this.nbHi;
    const ordF = this.ordF, ordC = this.ordC, ordBase = this.ordBase, ordRank = this.ordRank;
    const invS = this.invS, invC2 = this.invC2, ciRow = ti * F, ko = ti * F;
    const g0 = this.grpStart[ti * 5], g1 = this.grpStart[ti * 5 + 1], g2 = this.grpStart[ti * 5 + 2], g3 = this.grpStart[ti * 5 + 3], g4 = this.grpStart[ti * 5 + 4];
    const s0 = this.grpSmax[ti * 4], s1 = this.grpSmax[ti * 4 + 1], s2 = this.grpSmax[ti * 4 + 2], s3 = this.grpSmax[ti * 4 + 3];
    T.fill(0);
    for (let q = 0; q < nn; q++) {
      const r = nbR[q];
      const wRow = (ti * ns + nbT[q]) * F;
      const mo = q * monoSize, po = q * F - ko, lo4 = 4 * q;
      const m1 = monoSize > 1 ? nbM[mo + 1] : 0, m2 = monoSize > 1 ? nbM[mo + 2] : 0, m3 = monoSize > 1 ? nbM[mo + 3] : 0;
      const m4 = monoSize > 4 ? nbM[mo + 4] : 0, m5 = monoSize > 4 ? nbM[mo + 5] : 0, m6 = monoSize > 4 ? nbM[mo + 6] : 0;
      const m7 = monoSize > 4 ? nbM[mo + 7] : 0, m8 = monoSize > 4 ? nbM[mo + 8] : 0, m9 = monoSize > 4 ? nbM[mo + 9] : 0;
      // Rank 0.
      let lo = lowerBoundAbove(ordC, g0, g1, r - s0), hi = lowerBoundAtLeast(ordC, lo, g1, r + s0);
      nbLo[lo4] = lo; nbHi[lo4] = hi;
      for (let k = lo; k < hi; k++) {
        const f = ordF[k], is = invS[f];
        const y = (r - ordC[k]) * is;
        if (y <= -1 || y >= 1) { nbPhi[po + k] = 0; nbDphi[po + k] = 0; continue; }
        const t = 1 - y * y, t2ic2 = t * t * invC2[ciRow + f], ph = t * t2ic2;
        nbPhi[po + k] = ph;
        nbDphi[po + k] = -6 * y * t2ic2 * is;
        T[ordBase[k]] += wEff[wRow + f] * ph;
      }
      // Rank 1.
      lo = lowerBoundAbove(ordC, g1, g2, r - s1); hi = lowerBoundAtLeast(ordC, lo, g2, r + s1);
      nbLo[lo4 + 1] = lo; nbHi[lo4 + 1] = hi;
      for (let k = lo; k < hi; k++) {
        const f = ordF[k], is = invS[f];
        const y = (r - ordC[k]) * is;
        if (y <= -1 || y >= 1) { nbPhi[po + k] = 0; nbDphi[po + k] = 0; continue; }
        const t = 1 - y * y, t2ic2 = t * t * invC2[ciRow + f], ph = t * t2ic2;
        nbPhi[po + k] = ph;
        nbDphi[po + k] = -6 * y * t2ic2 * is;
        const R = wEff[wRow + f] * ph, base = ordBase[k];
        T[base] += R * m1; T[base + 1] += R * m2; T[base + 2] += R * m3;
      }
      // Rank 2.
      lo = lowerBoundAbove(ordC, g2, g3, r - s2); hi = lowerBoundAtLeast(ordC, lo, g3, r + s2);
      nbLo[lo4 + 2] = lo; nbHi[lo4 + 2] = hi;
      for (let k = lo; k < hi; k++) {
        const f = ordF[k], is = invS[f];
        const y = (r - ordC[k]) * is;
        if (y <= -1 || y >= 1) { nbPhi[po + k] = 0; nbDphi[po + k] = 0; continue; }
        const t = 1 - y * y, t2ic2 = t * t * invC2[ciRow + f], ph = t * t2ic2;
        nbPhi[po + k] = ph;
        nbDphi[po + k] = -6 * y * t2ic2 * is;
        const R = wEff[wRow + f] * ph, base = ordBase[k];
        T[base] += R * m4; T[base + 1] += R * m5; T[base + 2] += R * m6;
        T[base + 3] += R * m7; T[base + 4] += R * m8; T[base + 5] += R * m9;
      }
      // Ranks 3 and 4.
      lo = lowerBoundAbove(ordC, g3, g4, r - s3); hi = lowerBoundAtLeast(ordC, lo, g4, r + s3);
      nbLo[lo4 + 3] = lo; nbHi[lo4 + 3] = hi;
      for (let k = lo; k < hi; k++) {
        const f = ordF[k], is = invS[f];
        const y = (r - ordC[k]) * is;
        if (y <= -1 || y >= 1) { nbPhi[po + k] = 0; nbDphi[po + k] = 0; continue; }
        const t = 1 - y * y, t2ic2 = t * t * invC2[ciRow + f], ph = t * t2ic2;
        nbPhi[po + k] = ph;
        nbDphi[po + k] = -6 * y * t2ic2 * is;
        const R = wEff[wRow + f] * ph, base = ordBase[k], p = ordRank[k];
        const cd = ((p + 1) * (p + 2)) >> 1, mOff = mo + MONO_OFF[p];
        for (let c = 0; c < cd; c++) T[base + c] += R * nbM[mOff + c];
      }
    }
  }

  /** G_{b,u} = Σ_t coef_t Π_k T_{k,u,idx} (one, two and three bodies unrolled). */
  private contract(): void {
    const T = this.T, G = this.G;
    for (let b = 0; b < this.blocks.length; b++) {
      const coef = this.blockCoef[b], idx = this.blockAbs[b], st = this.blockStride[b];
      const m = st.length, nTerms = coef.length, n = this.blocks[b].n, g0 = this.blockG[b];
      if (m === 1) {
        const s0 = st[0];
        for (let u = 0; u < n; u++) {
          let sum = 0;
          const o0 = u * s0;
          for (let t = 0; t < nTerms; t++) sum += coef[t] * T[idx[t] + o0];
          G[g0 + u] = sum;
        }
      } else if (m === 2) {
        const s0 = st[0], s1 = st[1];
        for (let u = 0; u < n; u++) {
          let sum = 0;
          const o0 = u * s0, o1 = u * s1;
          for (let t = 0; t < nTerms; t++) sum += coef[t] * T[idx[2 * t] + o0] * T[idx[2 * t + 1] + o1];
          G[g0 + u] = sum;
        }
      } else if (m === 3) {
        const s0 = st[0], s1 = st[1], s2 = st[2];
        for (let u = 0; u < n; u++) {
          let sum = 0;
          const o0 = u * s0, o1 = u * s1, o2 = u * s2;
          for (let t = 0; t < nTerms; t++) sum += coef[t] * T[idx[3 * t] + o0] * T[idx[3 * t + 1] + o1] * T[idx[3 * t + 2] + o2];
          G[g0 + u] = sum;
        }
      } else {
        for (let u = 0; u < n; u++) {
          let sum = 0;
          for (let t = 0; t < nTerms; t++) {
            let prod = coef[t];
            for (let k = 0; k < m; k++) prod *= T[idx[t * m + k] + u * st[k]];
            sum += prod;
          }
          G[g0 + u] = sum;
        }
      }
    }
  }

  /** ∂E/∂T from ∂E/∂G (one, two and three bodies unrolled). */
  private contractBackward(): void {
    const T = this.T, gT = this.gT, dG = this.dG;
    gT.fill(0);
    for (let b = 0; b < this.blocks.length; b++) {
      const coef = this.blockCoef[b], idx = this.blockAbs[b], st = this.blockStride[b];
      const m = st.length, nTerms = coef.length, n = this.blocks[b].n, g0 = this.blockG[b];
      for (let u = 0; u < n; u++) {
        const gg = dG[g0 + u];
        if (gg === 0) continue;
        if (m === 1) {
          const o0 = u * st[0];
          for (let t = 0; t < nTerms; t++) gT[idx[t] + o0] += gg * coef[t];
        } else if (m === 2) {
          const o0 = u * st[0], o1 = u * st[1];
          for (let t = 0; t < nTerms; t++) {
            const ct = gg * coef[t], i0 = idx[2 * t] + o0, i1 = idx[2 * t + 1] + o1;
            gT[i0] += ct * T[i1];
            gT[i1] += ct * T[i0];
          }
        } else if (m === 3) {
          const o0 = u * st[0], o1 = u * st[1], o2 = u * st[2];
          for (let t = 0; t < nTerms; t++) {
            const ct = gg * coef[t], i0 = idx[3 * t] + o0, i1 = idx[3 * t + 1] + o1, i2 = idx[3 * t + 2] + o2;
            const t0 = T[i0], t1 = T[i1], t2 = T[i2];
            gT[i0] += ct * t1 * t2;
            gT[i1] += ct * t0 * t2;
            gT[i2] += ct * t0 * t1;
          }
        } else {
          for (let t = 0; t < nTerms; t++) {
            const ct = gg * coef[t];
            for (let k = 0; k < m; k++) {
              let prod = ct;
              for (let k2 = 0; k2 < m; k2++) if (k2 !== k) prod *= T[idx[t * m + k2] + u * st[k2]];
              gT[idx[t * m + k] + u * st[k]] += prod;
            }
          }
        }
      }
    }
  }

  /**
   * MLP of species ti on the standardised descriptor; returns its output. Eight (or
   * four) neurons of a layer are computed together (independent sums sharing the loads of
   * the inputs); each neuron's sum runs over its inputs in order, so the result is
   * bit for bit that of one neuron at a time.
   */
  private mlpForward(ti: number): number {
    const th = this.theta, D = this.nDescriptors, G = this.G, sizes = this.layerSizes, acts = this.acts;
    const a0 = acts[0], mean = this.mean, istd = this.invStd, so = ti * D;
    for (let d = 0; d < D; d++) a0[d] = (G[d] - mean[so + d]) * istd[so + d];
    let o = this.offMlp[ti];
    const L = sizes.length - 1, act = this.activation;
    for (let l = 0; l < L; l++) {
      const nin = sizes[l], nout = sizes[l + 1], ain = acts[l], aout = acts[l + 1], dl = this.deltas[l + 1];
      const bo = o + nin * nout;
      if (l === L - 1) {
        // Linear output layer.
        const sc = this.outScale[ti];
        for (let k = 0; k < nout; k++) {
          let z = th[bo + k];
          const wo = o + k * nin;
          for (let q = 0; q < nin; q++) z += th[wo + q] * ain[q];
          aout[k] = z * sc;
          dl[k] = sc;
        }
      } else {
        let k = 0;
        for (; k + 8 <= nout; k += 8) {
          let z0 = th[bo + k], z1 = th[bo + k + 1], z2 = th[bo + k + 2], z3 = th[bo + k + 3];
          let z4 = th[bo + k + 4], z5 = th[bo + k + 5], z6 = th[bo + k + 6], z7 = th[bo + k + 7];
          const w0 = o + k * nin, w1 = w0 + nin, w2 = w1 + nin, w3 = w2 + nin, w4 = w3 + nin, w5 = w4 + nin, w6 = w5 + nin, w7 = w6 + nin;
          for (let q = 0; q < nin; q++) {
            const a = ain[q];
            z0 += th[w0 + q] * a; z1 += th[w1 + q] * a; z2 += th[w2 + q] * a; z3 += th[w3 + q] * a;
            z4 += th[w4 + q] * a; z5 += th[w5 + q] * a; z6 += th[w6 + q] * a; z7 += th[w7 + q] * a;
          }
          aout[k] = z0; aout[k + 1] = z1; aout[k + 2] = z2; aout[k + 3] = z3;
          aout[k + 4] = z4; aout[k + 5] = z5; aout[k + 6] = z6; aout[k + 7] = z7;
        }
        for (; k + 4 <= nout; k += 4) {
          let z0 = th[bo + k], z1 = th[bo + k + 1], z2 = th[bo + k + 2], z3 = th[bo + k + 3];
          const w0 = o + k * nin, w1 = w0 + nin, w2 = w1 + nin, w3 = w2 + nin;
          for (let q = 0; q < nin; q++) {
            const a = ain[q];
            z0 += th[w0 + q] * a; z1 += th[w1 + q] * a; z2 += th[w2 + q] * a; z3 += th[w3 + q] * a;
          }
          aout[k] = z0; aout[k + 1] = z1; aout[k + 2] = z2; aout[k + 3] = z3;
        }
        for (; k < nout; k++) {
          let z = th[bo + k];
          const wo = o + k * nin;
          for (let q = 0; q < nin; q++) z += th[wo + q] * ain[q];
          aout[k] = z;
        }
        // Activation of the layer's pre-activations: value into aout, derivative into dl.
        if (act === ACT_GAUSS) {
          for (let k2 = 0; k2 < nout; k2++) { const z = aout[k2], e = Math.exp(-z * z); aout[k2] = e; dl[k2] = -2 * z * e; }
        } else if (act === ACT_TANH) {
          for (let k2 = 0; k2 < nout; k2++) { const e = Math.tanh(aout[k2]); aout[k2] = e; dl[k2] = 1 - e * e; }
        } else {
          for (let k2 = 0; k2 < nout; k2++) { const z = aout[k2], sg = 1 / (1 + Math.exp(-z)); aout[k2] = z * sg; dl[k2] = sg * (1 + z * (1 - sg)); }
        }
      }
      o = bo + nout;
    }
    return acts[L][0];
  }

  /** Back-propagates dE_i/dout = 1 to dE/dG (in this.dG), adding parameter gradients if asked. */
  private mlpBackward(ti: number, pg: Float64Array | null, scale: number): void {
    const th = this.theta, sizes = this.layerSizes, acts = this.acts, deltas = this.deltas;
    const L = sizes.length - 1;
    const offs = this.layerOffset, ob = ti * L;
    // deltas[L] holds outScale (linear output): the output's derivative.
    for (let l = L - 1; l >= 0; l--) {
      const nin = sizes[l], nout = sizes[l + 1], ain = acts[l], dout = deltas[l + 1], wo = offs[ob + l];
      if (pg !== null) {
        const bo = wo + nin * nout;
        for (let k = 0; k < nout; k++) {
          const dk = dout[k] * scale;
          pg[bo + k] += dk;
          const r = wo + k * nin;
          for (let q = 0; q < nin; q++) pg[r + q] += dk * ain[q];
        }
      }
      // din[q] = Σ_k W[k,q] dout[k] (summed over k in order, row by row for contiguous
      // access), times the activation derivative stored in deltas[l] (hidden layers).
      // Four rows at a time: acc[q] still receives the rows' terms one by one in
      // order k (left-to-right additions), so the sums are bit for bit the same.
      const din = deltas[l], acc = this.backScratch;
      for (let q = 0; q < nin; q++) acc[q] = 0;
      let k = 0;
      for (; k + 4 <= nout; k += 4) {
        const d0 = dout[k], d1 = dout[k + 1], d2 = dout[k + 2], d3 = dout[k + 3];
        const r0 = wo + k * nin, r1 = r0 + nin, r2 = r1 + nin, r3 = r2 + nin;
        for (let q = 0; q < nin; q++) acc[q] = acc[q] + th[r0 + q] * d0 + th[r1 + q] * d1 + th[r2 + q] * d2 + th[r3 + q] * d3;
      }
      for (; k < nout; k++) {
        const dk = dout[k], r = wo + k * nin;
        for (let q = 0; q < nin; q++) acc[q] += th[r + q] * dk;
      }
      if (l > 0) for (let q = 0; q < nin; q++) din[q] *= acc[q];
      else for (let q = 0; q < nin; q++) din[q] = acc[q];
    }
    const D = this.nDescriptors, dG = this.dG, istd = this.invStd, so = ti * D, d0 = deltas[0];
    for (let d = 0; d < D; d++) dG[d] = d0[d] * istd[so + d];
  }
  private readonly backScratch: Float64Array;
  /** Set by descriptorJacobian only: per function, 1 when its rank is ≥ 3 and its ∂E/∂T is not all zero. */
  private highLive: Uint8Array | null = null;
  private highLiveAny = false;

  /**
   * Chain rule from ∂E_i/∂T to each pair vector r_ij (forces) and to the radial
   * parameters, over the runs of live functions recorded by accumulate (ranks 0–2 unrolled).
   */
  private neighbourBackward(i: number, nn: number, ti: number, forces: Float64Array | null, pg: Float64Array | null, scale: number): void {
    const th = this.theta, F = this.nFunctions, ns = this.nSpecies, monoSize = this.monoSize;
    const gT = this.gT, A = this.A, wEff = this.wEff, gW = this.gW;
    const nbJ = this.nbJ, nbR = this.nbR, nbU = this.nbU, nbT = this.nbT, nbM = this.nbM, nbPhi = this.nbPhi, nbDphi = this.nbDphi;
    const nbLo = this.nbLo, nbHi = this.nbHi, ordF = this.ordF, ordC = this.ordC, ordBase = this.ordBase, ordRank = this.ordRank;
    const cRow = this.offCentres + ti * F, ciRow = ti * F, sRow = this.offWidths, ko = ti * F;
    const invS = this.invS, invC2 = this.invC2;
    // Rank ≥ 3 functions with a non-zero ∂E/∂T (descriptorJacobian's rows touch one or two): the others are skipped.
    const live = this.highLive;
    const gradRows = this.gradRows, highRank = this.maxRank > 2 && (live === null || this.highLiveAny);
    // Gradient rows of rank ≥ 3 monomials only (ranks 1–2 are handled in closed form).
    const firstHighRow = GRAD_COUNT[Math.min(2, this.maxRank)];
    let fix = 0, fiy = 0, fiz = 0;
    for (let q = 0; q < nn; q++) {
      const r = nbR[q];
      const wRow = (ti * ns + nbT[q]) * F;
      const mo = q * monoSize, po = q * F - ko, lo4 = 4 * q;
      const m1 = monoSize > 1 ? nbM[mo + 1] : 0, m2 = monoSize > 1 ? nbM[mo + 2] : 0, m3 = monoSize > 1 ? nbM[mo + 3] : 0;
      const m4 = monoSize > 4 ? nbM[mo + 4] : 0, m5 = monoSize > 4 ? nbM[mo + 5] : 0, m6 = monoSize > 4 ? nbM[mo + 6] : 0;
      const m7 = monoSize > 4 ? nbM[mo + 7] : 0, m8 = monoSize > 4 ? nbM[mo + 8] : 0, m9 = monoSize > 4 ? nbM[mo + 9] : 0;
      let a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, a8 = 0, a9 = 0;
      let sRp = 0;
      // Rank 0: gR = gT.
      for (let k = nbLo[lo4], hi = nbHi[lo4]; k < hi; k++) {
        const ph = nbPhi[po + k];
        if (ph === 0) continue;
        const f = ordF[k], w = wEff[wRow + f], gR = gT[ordBase[k]];
        sRp += gR * w * nbDphi[po + k];
        if (pg !== null) this.radialGrad(pg, gR * scale, r, f, k, ph, w, wRow, cRow, ciRow, sRow, invS, invC2, ordC, gW, th);
      }
      // Rank 1.
      for (let k = nbLo[lo4 + 1], hi = nbHi[lo4 + 1]; k < hi; k++) {
        const ph = nbPhi[po + k];
        if (ph === 0) continue;
        const f = ordF[k], w = wEff[wRow + f], R = w * ph, base = ordBase[k];
        const g1 = gT[base], g2 = gT[base + 1], g3 = gT[base + 2];
        const gR = g1 * m1 + g2 * m2 + g3 * m3;
        a1 += g1 * R; a2 += g2 * R; a3 += g3 * R;
        sRp += gR * w * nbDphi[po + k];
        if (pg !== null) this.radialGrad(pg, gR * scale, r, f, k, ph, w, wRow, cRow, ciRow, sRow, invS, invC2, ordC, gW, th);
      }
      // Rank 2.
      for (let k = nbLo[lo4 + 2], hi = nbHi[lo4 + 2]; k < hi; k++) {
        const ph = nbPhi[po + k];
        if (ph === 0) continue;
        const f = ordF[k], w = wEff[wRow + f], R = w * ph, base = ordBase[k];
        const g4 = gT[base], g5 = gT[base + 1], g6 = gT[base + 2], g7 = gT[base + 3], g8 = gT[base + 4], g9 = gT[base + 5];
        const gR = g4 * m4 + g5 * m5 + g6 * m6 + g7 * m7 + g8 * m8 + g9 * m9;
        a4 += g4 * R; a5 += g5 * R; a6 += g6 * R; a7 += g7 * R; a8 += g8 * R; a9 += g9 * R;
        sRp += gR * w * nbDphi[po + k];
        if (pg !== null) this.radialGrad(pg, gR * scale, r, f, k, ph, w, wRow, cRow, ciRow, sRow, invS, invC2, ordC, gW, th);
      }
      // Ranks 3 and 4.
      if (highRank) {
        for (let k = 10; k < monoSize; k++) A[k] = 0;
        for (let k = nbLo[lo4 + 3], hi = nbHi[lo4 + 3]; k < hi; k++) {
          const ph = nbPhi[po + k];
          if (ph === 0) continue;
          const f = ordF[k];
          if (live !== null && live[f] === 0) continue;
          const w = wEff[wRow + f], R = w * ph, base = ordBase[k], p = ordRank[k];
          const cd = ((p + 1) * (p + 2)) >> 1, mOff = MONO_OFF[p];
          let gR = 0;
          for (let c = 0; c < cd; c++) {
            const g = gT[base + c];
            gR += g * nbM[mo + mOff + c];
            A[mOff + c] += g * R;
          }
          sRp += gR * w * nbDphi[po + k];
          if (pg !== null) this.radialGrad(pg, gR * scale, r, f, k, ph, w, wRow, cRow, ciRow, sRow, invS, invC2, ordC, gW, th);
        }
      }
      if (forces === null) continue;
      const ux = nbU[3 * q], uy = nbU[3 * q + 1], uz = nbU[3 * q + 2];
      // b = Σ_c A_c ∇_u M_c(u); rank-2 components in order xx xy xz yy yz zz.
      let bx = a1 + 2 * a4 * ux + a5 * uy + a6 * uz;
      let by = a2 + a5 * ux + 2 * a7 * uy + a8 * uz;
      let bz = a3 + a6 * ux + a8 * uy + 2 * a9 * uz;
      if (highRank) {
        for (let row = firstHighRow; row < gradRows; row++) {
          const v = A[GRAD_K[row]] * GRAD_C[row] * nbM[mo + GRAD_R[row]];
          const a = GRAD_A[row];
          if (a === 0) bx += v; else if (a === 1) by += v; else bz += v;
        }
      }
      const ub = ux * bx + uy * by + uz * bz, ir = 1 / r;
      const gx = sRp * ux + (bx - ub * ux) * ir;
      const gy = sRp * uy + (by - ub * uy) * ir;
      const gz = sRp * uz + (bz - ub * uz) * ir;
      const j = nbJ[q];
      forces[3 * j] -= gx; forces[3 * j + 1] -= gy; forces[3 * j + 2] -= gz;
      fix += gx; fiy += gy; fiz += gz;
    }
    if (forces !== null) { forces[3 * i] += fix; forces[3 * i + 1] += fiy; forces[3 * i + 2] += fiz; }
  }

  // ---------------------------------------------------------------------------
  // MD path: energy, forces and per-atom energies only (no parameter gradients,
  // no descriptor output). Same mathematics as evaluate(), which stays the general
  // path (training, descriptors) and the test oracle; the results agree to rounding
  // (sums are taken in another order). Per atom:
  //  1. the neighbours inside rc, sorted by distance, in structure-of-arrays form
  //     (unit-vector monomials component-major);
  //  2. forward, one radial function at a time over the run of neighbours inside
  //     its support (contiguous, since they are sorted by r), two adjacent functions
  //     per pass: w·phi and w·phi' are stored (interleaved, per neighbour row), and
  //     the functions' tensor components are summed in registers and written once;
  //  3. contraction and MLP as in evaluate();
  //  4. backward, two adjacent neighbours per pass over the runs of functions
  //     alive at their distances (functions are sorted by centre), the loads of
  //     ∂E/∂T shared over the functions alive for both.
  // The loops of steps 2 and 4 are generated per maximum rank (mdloops.ts).
  // The runs of both passes use one predicate, |fl(r − c)| < S with S the rank
  // group's largest width plus a margin, so each pass visits exactly the (neighbour,
  // function) pairs the other one does; inside a run, phi is tested exactly as in
  // evaluate() (|y| < 1), so entries beyond a function's own width are zeros.
  // ---------------------------------------------------------------------------

  private mdCap = 0;
  /** Sorted neighbours: atom index and distance. */
  private mdJ = new Int32Array(0);
  private mdR = new Float64Array(0);
  /**
   * Monomials of the sorted neighbours' unit vectors, component-major: [c·cap + q].
   * Rows 0–3 (1 and u) exist and are written for every model, whatever its rank: the
   * backward pass reads u from rows 1–3.
   */
  private mdM = new Float64Array(0);
  /** Views of mdM, one per monomial (empty beyond the model's rank, rows 1–3 always there): the forward pass's loads index them by q alone. */
  private mdMv: Float64Array[] = [];
  /** w·phi and w·phi' per (sorted neighbour q, sorted function kk), interleaved: [2(q·F + kk)], [2(q·F + kk) + 1]. */
  private mdW = new Float64Array(0);
  /** Unsorted gather buffers and the insertion-sort keys. */
  private mdTJ = new Int32Array(0);
  private mdTX = new Float64Array(0);
  private mdTY = new Float64Array(0);
  private mdTZ = new Float64Array(0);
  private mdKeyR = new Float64Array(0);
  private mdKeyI = new Int32Array(0);
  private mdKeyT = new Int32Array(0);
  /** Per full-list entry: the order of its row's visit at the last call (relative indices); see mdGather. */
  private mdOrd = new Int32Array(0);
  private mdStamp = new Int32Array(0);
  private mdStampNow = 0;
  private mdTP = new Int32Array(0);
  private mdOut = new Int32Array(0);
  /** Species segments of the sorted neighbours, and each segment's current run in mdForward. */
  private mdSeg = new Int32Array(0);
  private mdSegLo = new Int32Array(0);
  private mdSegHi = new Int32Array(0);
  /**
   * Radial coefficients in sorted function order: 1/s per (central species, kk), and
   * per (central species, neighbour species, kk) w/c² and −6w/(c²s), so that
   * w·phi = CA·t³ and w·phi' = CB·y·t² with y = (r − c)/s, t = max(0, 1 − y²).
   */
  private mdIs = new Float64Array(0);
  private mdCA = new Float64Array(0);
  private mdCB = new Float64Array(0);

  /**
   * The MD path's function order, per central species: rank groups 0–2 in the group
   * order of prepareOrder, each without its merged functions (below), then rank group 3
   * as its rank-3 functions [mdGrp[5ti + 3], mdSplit[ti]) and rank-4 functions
   * [mdSplit[ti], mdGrp[5ti + 4]), each part sorted by centre; per sorted slot its
   * centre, T offset and function.
   */
  private mdGrp = new Int32Array(0);
  private mdSplit = new Int32Array(0);
  private mdHC = new Float64Array(0);
  private mdHBase = new Int32Array(0);
  private mdOrdF = new Int32Array(0);
  /**
   * Merged functions. Of functions of one rank (≤ 2) with the same centre and width
   * and proportional species weights (w_f = ratio·w_l for every neighbour species),
   * such as functions pinned at a clip bound, the MD path sums only the leader l:
   * T_f = ratio·T_l, and ∂E/∂T_l gathers ratio·∂E/∂T_f. Per central species ti the
   * entries [mdFolStart[ti], mdFolStart[ti + 1]): follower's and leader's T offsets,
   * component count and ratio.
   */
  private mdFolStart = new Int32Array(0);
  private mdFolBase = new Int32Array(0);
  private mdFolLead = new Int32Array(0);
  private mdFolSize = new Int32Array(0);
  private mdFolRatio = new Float64Array(0);

  /** Tensor rank (0–4) of radial function f's body. */
  functionRank(f: number): number {
    return this.fRank[f];
  }

  /** Radial functions the MD path computes as a multiple of another (see mdFolStart), summed over central species; for tests and benches. */
  mergedFunctionCount(): number {
    this.prepareRadial();
    this.mdPrepare();
    return this.mdFolStart[this.nSpecies];
  }

  /** The sorted radial coefficients from the current parameters (after prepareRadial). */
  private mdPrepare(): void {
    const F = this.nFunctions, ns = this.nSpecies;
    if (this.mdIs.length !== ns * F) {
      this.mdIs = new Float64Array(ns * F); this.mdCA = new Float64Array(ns * ns * F); this.mdCB = new Float64Array(ns * ns * F);
      this.mdGrp = new Int32Array(ns * 5); this.mdSplit = new Int32Array(ns);
      this.mdHC = new Float64Array(ns * F); this.mdHBase = new Int32Array(ns * F); this.mdOrdF = new Int32Array(ns * F);
      this.mdFolStart = new Int32Array(ns + 1);
      this.mdFolBase = new Int32Array(ns * F); this.mdFolLead = new Int32Array(ns * F); this.mdFolSize = new Int32Array(ns * F);
      this.mdFolRatio = new Float64Array(ns * F);
    }
    const ordF = this.ordF, ordRank = this.ordRank, ordC = this.ordC, ordBase = this.ordBase, mdOrdF = this.mdOrdF;
    const hC = this.mdHC, hBase = this.mdHBase, invS = this.invS, wEff = this.wEff;
    let nFol = 0;
    for (let ti = 0; ti < ns; ti++) {
      this.mdFolStart[ti] = nFol;
      let w = ti * F;
      for (let g = 0; g < 3; g++) {
        const first = w;
        this.mdGrp[ti * 5 + g] = w;
        for (let k = this.grpStart[ti * 5 + g]; k < this.grpStart[ti * 5 + g + 1]; k++) {
          const f = ordF[k], c = ordC[k];
          // A leader: a kept function of this group with the same centre (adjacent in the
          // centre order), the same width and species weights in a ratio exact for every
          // neighbour species; an all-zero leader takes no followers.
          let lead = -1, ratio = 0;
          for (let m = w - 1; m >= first && hC[m] === c && lead < 0; m--) {
            const l = mdOrdF[m];
            if (invS[l] !== invS[f]) continue;
            const rowF = ti * ns * F + f, rowL = ti * ns * F + l;
            ratio = wEff[rowF] / wEff[rowL];
            let ok = true;
            for (let tj = 0; tj < ns && ok; tj++) ok = wEff[rowL + tj * F] !== 0 && wEff[rowF + tj * F] / wEff[rowL + tj * F] === ratio;
            if (ok) lead = m;
          }
          if (lead >= 0) {
            this.mdFolBase[nFol] = ordBase[k]; this.mdFolLead[nFol] = hBase[lead]; this.mdFolSize[nFol] = compactSize(g); this.mdFolRatio[nFol] = ratio;
            nFol++;
            continue;
          }
          hC[w] = c; hBase[w] = ordBase[k]; mdOrdF[w++] = f;
        }
      }
      const g3 = this.grpStart[ti * 5 + 3], g4 = this.grpStart[ti * 5 + 4];
      this.mdGrp[ti * 5 + 3] = w;
      for (let k = g3; k < g4; k++) if (ordRank[k] === 3) { hC[w] = ordC[k]; hBase[w] = ordBase[k]; mdOrdF[w++] = ordF[k]; }
      this.mdSplit[ti] = w;
      for (let k = g3; k < g4; k++) if (ordRank[k] !== 3) { hC[w] = ordC[k]; hBase[w] = ordBase[k]; mdOrdF[w++] = ordF[k]; }
      this.mdGrp[ti * 5 + 4] = w;
      for (let kk = 0; kk < w - ti * F; kk++) {
        const f = mdOrdF[ti * F + kk], is = invS[f], ic2 = this.invC2[ti * F + f];
        this.mdIs[ti * F + kk] = is;
        for (let tj = 0; tj < ns; tj++) {
          const wt = wEff[(ti * ns + tj) * F + f], e = (ti * ns + tj) * F + kk;
          this.mdCA[e] = wt * ic2;
          this.mdCB[e] = -6 * wt * ic2 * is;
        }
      }
    }
    this.mdFolStart[ns] = nFol;
  }

  /** T of the merged functions from their leaders' (after mdForward). */
  private mdFollowForward(ti: number): void {
    const T = this.T, base = this.mdFolBase, lead = this.mdFolLead, size = this.mdFolSize, ratio = this.mdFolRatio;
    for (let e = this.mdFolStart[ti], end = this.mdFolStart[ti + 1]; e < end; e++) {
      const b = base[e], l = lead[e], a = ratio[e];
      for (let c = 0; c < size[e]; c++) T[b + c] = a * T[l + c];
    }
  }

  /** ∂E/∂T of the merged functions gathered into their leaders' (before mdBackwardPairs). */
  private mdFollowBackward(ti: number): void {
    const gT = this.gT, base = this.mdFolBase, lead = this.mdFolLead, size = this.mdFolSize, ratio = this.mdFolRatio;
    for (let e = this.mdFolStart[ti], end = this.mdFolStart[ti + 1]; e < end; e++) {
      const b = base[e], l = lead[e], a = ratio[e];
      for (let c = 0; c < size[e]; c++) gT[l + c] += a * gT[b + c];
    }
  }

  private mdEnsure(n: number): void {
    if (this.mdSeg.length !== this.nSpecies + 1) {
      this.mdSeg = new Int32Array(this.nSpecies + 1);
      this.mdSegLo = new Int32Array(this.nSpecies);
      this.mdSegHi = new Int32Array(this.nSpecies);
    }
    if (n <= this.mdCap) return;
    const cap = Math.max(n, Math.ceil(this.mdCap * 1.5), 64);
    this.mdCap = cap;
    this.mdW = new Float64Array(2 * this.nFunctions * cap);
    this.mdJ = new Int32Array(cap);
    this.mdR = new Float64Array(cap);
    this.mdM = new Float64Array(Math.max(this.monoSize, 4) * cap);
    this.mdMv = [];
    for (let c = 0; c < MONO_TOTAL; c++) this.mdMv.push(this.mdM.subarray(Math.min(c * cap, this.mdM.length), Math.min((c + 1) * cap, this.mdM.length)));
    this.mdTJ = new Int32Array(cap);
    this.mdTX = new Float64Array(cap);
    this.mdTY = new Float64Array(cap);
    this.mdTZ = new Float64Array(cap);
    this.mdKeyR = new Float64Array(cap);
    this.mdKeyI = new Int32Array(cap);
    this.mdKeyT = new Int32Array(cap);
    this.mdStamp = new Int32Array(cap);
    this.mdTP = new Int32Array(cap);
    this.mdOut = new Int32Array(cap);
  }

  /**
   * Energy of the atoms (rows rowStart..rowEnd of the full list, default the local
   * atoms), adding −∂E/∂x to `forces` (every extended entry touched) and per-atom
   * energies to `atomEnergies` when given. The fast path MD uses; evaluate() is the
   * general one (parameter gradients, descriptors).
   */
  evaluateMd(atoms: LatteAtoms, typeMap: Int32Array, forces: Float64Array | null = null, atomEnergies: Float64Array | null = null): number {
    if (atoms.full === null) throw new Error('LATTE: needs a full neighbour list');
    this.prepareRadial();
    this.mdPrepare();
    this.mdCompile();
    let energy = 0;
    const species = atoms.species, T = this.T, G = this.G, dG = this.dG, gT = this.gT, S = this.mdS;
    const contract = this.mdContract!, contractBack = this.mdContractBack!, mlps = this.mdMlps;
    for (let i = atoms.rowStart ?? 0, rowEnd = atoms.rowEnd ?? atoms.nLocal; i < rowEnd; i++) {
      const ti = typeMap[species[i]];
      const nn = this.mdGather(i, atoms.positions, species, typeMap, atoms.full.offsets, atoms.full.neighbors);
      this.mdForward(ti);
      this.mdFollowForward(ti);
      contract(T, G);
      const mlp = mlps[ti];
      mlp.forward(G, S);
      const ei = S[mlp.out] + this.e0[ti];
      energy += ei;
      if (atomEnergies !== null) atomEnergies[i] += ei;
      if (forces === null) continue;
      mlp.backward(S, dG);
      contractBack(T, dG, gT);
      this.mdFollowBackward(ti);
      this.mdBackwardPairs(i, nn, ti, forces);
    }
    return energy;
  }

  /** Generated kernels (see mdgen.ts) and the parameters they were generated from. */
  private mdContract: ((T: Float64Array, G: Float64Array) => void) | null = null;
  private mdContractBack: ((T: Float64Array, dG: Float64Array, gT: Float64Array) => void) | null = null;
  private mdKernels: { forward: Forward; backward: Backward } | null = null;
  private mdMlps: MlpKernel[] = [];
  private mdS = new Float64Array(0);
  private mdSnap = new Float64Array(0);

  /**
   * Generates the contraction kernels once (they depend on the descriptor string only)
   * and (re)generates the MLP kernels when the MLP weights, the standardisation or the
   * output scales differ from those they were generated from. No allocation when current.
   */
  private mdCompile(): void {
    if (this.mdContract === null) {
      const plans = this.blocks.map((b, q) => ({ n: b.n, coef: this.blockCoef[q], abs: this.blockAbs[q], stride: this.blockStride[q], g0: this.blockG[q] }));
      this.mdContract = compileContract(plans);
      this.mdContractBack = compileContractBackward(plans, this.tSize);
      this.mdKernels = mdLoops(this.maxRank);
    }
    const mlpStart = this.offMlp[0], th = this.theta, mean = this.mean, istd = this.invStd, sc = this.outScale;
    const nMlp = th.length - mlpStart, snap = this.mdSnap;
    if (this.mdMlps.length > 0 && snap.length === nMlp + mean.length + istd.length + sc.length
      && sameBits(th, mlpStart, snap, 0, nMlp) && sameBits(mean, 0, snap, nMlp, mean.length)
      && sameBits(istd, 0, snap, nMlp + mean.length, istd.length)
      && sameBits(sc, 0, snap, nMlp + mean.length + istd.length, sc.length)) return;
    this.mdMlps = [];
    for (let ts = 0; ts < this.nSpecies; ts++) {
      this.mdMlps.push(compileMlp({
        sizes: this.layerSizes, theta: th, offset: this.offMlp[ts], mean, invStd: istd, so: ts * this.nDescriptors,
        outScale: sc[ts], activation: this.activation,
      }));
    }
    this.mdS = new Float64Array(Math.max(...this.mdMlps.map((m) => m.scratch)));
    const copy = new Float64Array(nMlp + mean.length + istd.length + sc.length);
    copy.set(th.subarray(mlpStart), 0);
    copy.set(mean, nMlp);
    copy.set(istd, nMlp + mean.length);
    copy.set(sc, nMlp + mean.length + istd.length);
    this.mdSnap = copy;
  }

  /**
   * Neighbours of atom i inside the cutoff, sorted by (model species, distance,
   * extended index), with their monomials; segment s (neighbours of species s) is
   * [mdSeg[s], mdSeg[s + 1]). Returns their number.
   */
  private mdGather(i: number, x: Float64Array, species: Int32Array, typeMap: Int32Array, offsets: Int32Array, neighbors: Int32Array): number {
    const p0 = offsets[i], p1 = offsets[i + 1];
    this.mdEnsure(p1 - p0);
    const rc = this.config.cutoff, rc2 = rc * rc, ns = this.nSpecies, monoSize = this.monoSize, cap = this.mdCap;
    const tJ = this.mdTJ, tX = this.mdTX, tY = this.mdTY, tZ = this.mdTZ, keyR = this.mdKeyR, keyI = this.mdKeyI, keyT = this.mdKeyT;
    const seg = this.mdSeg;
    for (let t = 0; t <= ns; t++) seg[t] = 0;
    // Visit the row in the order of the previous call (kept per list entry in mdOrd),
    // so that the insertion sort below has little to move as atoms drift. A cached
    // row that is not a permutation of 0..len−1 (new list, first call) starts from
    // the list's order. The sort key is a total order, so neither the result nor its
    // bits depend on the cache, only the speed does.
    const len = p1 - p0;
    if (this.mdOrd.length < neighbors.length) this.mdOrd = new Int32Array(Math.ceil(neighbors.length * 1.2));
    const ord = this.mdOrd, stamp = this.mdStamp, tP = this.mdTP, out = this.mdOut;
    if (++this.mdStampNow > 0x3fffffff) { stamp.fill(0); this.mdStampNow = 1; }
    const now = this.mdStampNow;
    let valid = true;
    for (let k = 0; k < len; k++) {
      const v = ord[p0 + k];
      if (v < 0 || v >= len || stamp[v] === now) { valid = false; break; }
      stamp[v] = now;
    }
    if (!valid) for (let k = 0; k < len; k++) ord[p0 + k] = k;
    const xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2];
    let nn = 0, nOut = 0;
    for (let k = 0; k < len; k++) {
      const v = ord[p0 + k], j = neighbors[p0 + v];
      const dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - zi;
      const r2 = dx * dx + dy * dy + dz * dz;
      if (r2 >= rc2 || r2 === 0) { out[nOut++] = v; continue; }
      tP[nn] = v;
      const r = Math.sqrt(r2), tj = typeMap[species[j]];
      tJ[nn] = j; tX[nn] = dx; tY[nn] = dy; tZ[nn] = dz;
      seg[tj + 1]++;
      let pos = nn;
      // Order (species, distance, atom index): a total order, so the result does not depend on the visit order.
      while (pos > 0 && (keyT[pos - 1] > tj || (keyT[pos - 1] === tj && (keyR[pos - 1] > r || (keyR[pos - 1] === r && tJ[keyI[pos - 1]] > j))))) {
        keyR[pos] = keyR[pos - 1]; keyI[pos] = keyI[pos - 1]; keyT[pos] = keyT[pos - 1]; pos--;
      }
      keyR[pos] = r; keyI[pos] = nn; keyT[pos] = tj;
      nn++;
    }
    for (let t = 0; t < ns; t++) seg[t + 1] += seg[t];
    for (let q = 0; q < nn; q++) ord[p0 + q] = tP[keyI[q]];
    for (let m = 0; m < nOut; m++) ord[p0 + nn + m] = out[m];
    const J = this.mdJ, R = this.mdR, M = this.mdM;
    const rank2 = monoSize > 4, rank3 = monoSize > 10, rank4 = monoSize > 20;
    for (let q = 0; q < nn; q++) {
      const s = keyI[q], r = keyR[q], ir = 1 / r;
      J[q] = tJ[s];
      R[q] = r;
      M[q] = 1;
      const ux = tX[s] * ir, uy = tY[s] * ir, uz = tZ[s] * ir;
      M[cap + q] = ux; M[2 * cap + q] = uy; M[3 * cap + q] = uz;
      // Rank 2 in compact order xx xy xz yy yz zz (parent monomial × axis, as the table below).
      if (rank2) {
        const xx = ux * ux, xy = ux * uy, xz = ux * uz, yy = uy * uy, yz = uy * uz, zz = uz * uz;
        M[4 * cap + q] = xx; M[5 * cap + q] = xy; M[6 * cap + q] = xz;
        M[7 * cap + q] = yy; M[8 * cap + q] = yz; M[9 * cap + q] = zz;
        if (rank3) {
          // Ranks 3 and 4 in lexicographic order, each the parent monomial (the tuple's head) × its last axis.
          const xxx = xx * ux, xxy = xx * uy, xxz = xx * uz, xyy = xy * uy, xyz = xy * uz;
          const xzz = xz * uz, yyy = yy * uy, yyz = yy * uz, yzz = yz * uz, zzz = zz * uz;
          M[10 * cap + q] = xxx; M[11 * cap + q] = xxy; M[12 * cap + q] = xxz; M[13 * cap + q] = xyy; M[14 * cap + q] = xyz;
          M[15 * cap + q] = xzz; M[16 * cap + q] = yyy; M[17 * cap + q] = yyz; M[18 * cap + q] = yzz; M[19 * cap + q] = zzz;
          if (rank4) {
            M[20 * cap + q] = xxx * ux; M[21 * cap + q] = xxx * uy; M[22 * cap + q] = xxx * uz; M[23 * cap + q] = xxy * uy;
            M[24 * cap + q] = xxy * uz; M[25 * cap + q] = xxz * uz; M[26 * cap + q] = xyy * uy; M[27 * cap + q] = xyy * uz;
            M[28 * cap + q] = xyz * uz; M[29 * cap + q] = xzz * uz; M[30 * cap + q] = yyy * uy; M[31 * cap + q] = yyy * uz;
            M[32 * cap + q] = yyz * uz; M[33 * cap + q] = yzz * uz; M[34 * cap + q] = zzz * uz;
          }
        }
      }
    }
    return nn;
  }

  /**
   * T = Σ_j w·phi·M(u_j) over the sorted functions of centre species ti, each over its
   * run of sorted neighbours in each species segment (w constant there); writes w·phi
   * and w·phi' to mdW for the backward pass (the generated loops of mdloops.ts).
   */
  private mdForward(ti: number): void {
    this.mdKernels!.forward(ti, this.nFunctions, this.nSpecies, this.mdGrp, this.mdSplit[ti], this.mdR, this.T, this.mdW,
      this.mdSeg, this.mdSegLo, this.mdSegHi, this.mdIs, this.mdCA, this.mdCB, this.mdHC, this.mdHBase, this.mdMv, this.grpSmax);
  }

  /** Forces from ∂E/∂T (in this.gT), reading the forward pass's w·phi and w·phi' (the generated loops of mdloops.ts). */
  private mdBackwardPairs(i: number, nn: number, ti: number, forces: Float64Array): void {
    this.mdKernels!.backward(i, nn, ti, forces, this.nFunctions, this.mdCap, this.mdGrp, this.mdSplit[ti], this.grpSmax, this.mdKeyT,
      this.mdJ, this.mdR, this.mdM, this.mdW, this.gT, this.mdHC, this.mdHBase);
  }

  /** Parameter gradients of one (neighbour, function) term: species weight, centre and width; gs = ∂E/∂R·scale. */
  private radialGrad(
    pg: Float64Array, gs: number, r: number, f: number, k: number, ph: number, w: number, wRow: number, cRow: number, ciRow: number, sRow: number,
    invS: Float64Array, invC2: Float64Array, ordC: Float64Array, gW: Float64Array, th: Float64Array,
  ): void {
    const is = invS[f], ic2 = invC2[ciRow + f], c = ordC[k];
    const y = (r - c) * is, t = 1 - y * y;
    const t2 = t * t * ic2;
    gW[wRow + f] += gs * ph;
    pg[cRow + f] += gs * w * (6 * y * t2 * is - 2 * t * t2 / th[cRow + f]);
    pg[sRow + f] += gs * w * (6 * y * y * t2 * is);
  }

  /** A copy with the same configuration, parameters and standardisation. */
  clone(): LatteModel {
    const m = new LatteModel(this.config, this.theta);
    m.mean.set(this.mean);
    m.invStd.set(this.invStd);
    m.e0.set(this.e0);
    m.outScale.set(this.outScale);
    m.trainable.set(this.trainable);
    return m;
  }
}

/** First index k in [lo, hi) with a[k] > x (a sorted ascending), or hi. */
function lowerBoundAbove(a: Float64Array, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] > x) hi = mid; else lo = mid + 1;
  }
  return lo;
}

/** First index k in [lo, hi) with a[k] ≥ x (a sorted ascending), or hi. */
function lowerBoundAtLeast(a: Float64Array, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] >= x) hi = mid; else lo = mid + 1;
  }
  return lo;
}

/**
 * Initial centre of term u (of n) of body k (of m) in a block: lo + (hi − lo)·(u + k/(2m))/(n − ½),
 * even steps from lo that stay below hi (n = 1: the midpoint), the bodies of one block staggered by up to half a
 * step so that their functions differ.
 */
export function spreadCentre(lo: number, hi: number, u: number, n: number, k: number, m: number): number {
  const frac = n === 1 ? 0.5 : (u + (k / m) * 0.5) / (n - 1 + 0.5);
  return lo + (hi - lo) * Math.min(1, frac);
}
