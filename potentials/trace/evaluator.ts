/**
 * Evaluation of an AceBasis on a neighbourhood (spec §3, the adjoint method as in PACE):
 * per neighbour R, R′, Y, ∇Y; pool into the atomic base A; products AA; then
 * ω_v = ∂E_i/∂A_v from "all-but-one" products, and g_ij = Σ_v ω_v ∂φ_v/∂r_j with
 * ∂φ/∂r_j = R′ r̂ Y + R ∇Y. Forces F_j −= g_ij, F_i += g_ij.
 *
 * Two entry points: `energy` (MD: folded monomial coefficients c̃ per centre species)
 * and `design` (fitting: per-function values and derivatives, assembled into energy,
 * force and virial rows). Workspace is allocated once and grown as needed.
 */
import type { Neighborhood } from '../potential.ts';
import type { AceBasis } from './basis.ts';
import { SphericalHarmonics } from './sph.ts';
import { accumulationWasm, compilePairContraction, compilePolynomial, interleaveWasm, pairContractionWasm, polynomialTable, polynomialTableWasm, type BlockLayout, type PairContraction, type PolyChunk } from './polygen.ts';
import { RowTables } from './rowtables.ts';
import { WasmArena, instantiate, wasmSimdAvailable } from './wasm.ts';

export interface DesignBlock {
  /** Σ_i B_{i,b} per centre species: length S·F, column z·F + b. */
  energy: Float64Array;
  /** Force rows, column-major: entry [col·3n + 3k+α] is −∂(Σ_i B_col)/∂x_kα (ghosts folded into owners). */
  forces: Float64Array;
  /** Virial rows W = Σ r⊗f: 6 × (S·F), Voigt xx yy zz yz xz xy. */
  virial: Float64Array;
  /** Per-atom descriptors B_{i,b}: nLocal × F. */
  atoms: Float64Array;
  /** Number of atoms of each model species: length S. */
  counts: Float64Array;
}

export class AceEvaluator {
  readonly basis: AceBasis;
  private readonly sh: SphericalHarmonics;
  private readonly nY: number;
  /** Map system species index → model species index (−1: not covered). */
  private speciesMap: Int32Array = new Int32Array(0);
  // workspace
  private cap = 0;
  private nbIndex = new Int32Array(0);
  private nbUnit = new Float64Array(0);
  private nbR = new Float64Array(0);
  private nbY = new Float64Array(0);
  private nbDY = new Float64Array(0);
  private nbRc = new Float64Array(0);
  private nbDRc = new Float64Array(0);
  private readonly g: Float64Array;
  private readonly dg: Float64Array;
  private readonly A: Float64Array;
  private readonly omega: Float64Array;
  private readonly AA: Float64Array;
  private readonly B: Float64Array;
  // --- fast MD path (see `energy`): layout built at construction from the basis ---
  /** Pairs regrouped by l: block l holds fastCount[l] pairs starting at pair fastPairStart[l]. */
  private readonly fastCount: Int32Array;
  private readonly fastPairStart: Int32Array;
  /** A offset of block l in the fast layout: entry (l, m, a) at fastBase[l] + (m + l)·fastCount[l] + a. */
  private readonly fastBase: Int32Array;
  /** Per fast pair: radial index n (one-hot, ≥ 0) or −1 (dense), and its original pair. */
  private readonly fastN: Int32Array;
  private readonly fastOld: Int32Array;
  /** Active pair range [lo, hi) within block l for neighbour species z: index 2·(z·(lmax+1) + l). */
  private readonly fastActive: Int32Array;
  /**
   * Where block l's radial values for neighbour species z are read (index z·(lmax+1) + l):
   * where fastDirect is 1: "direct", R_a = g_{a + shift} (one-hot weight 1, consecutive n,
   * as in full ACE; a + shift ≥ 0), read straight from the neighbour's base radial row;
   * where fastDirect is 0: from its per-pair row.
   */
  private readonly fastShift: Int32Array;
  private readonly fastDirect: Uint8Array;
  /** Monomial A indices in the fast layout (4 per monomial, −1 padded). */
  private readonly fastMono: Int32Array;
  /** Compiled polynomial per centre species (see polygen.ts) for the coefficient array polyOf. */
  private polyChunks: PolyChunk[][] = [];
  /** A polynomial chunk's part of E_i. */
  private readonly polyE = new Float64Array(1);
  private polyOf: Float64Array | null = null;
  /** ω = ∂E_i/∂A of the JavaScript polynomial (fast layout). */
  private readonly fastOmega: Float64Array;
  /** Neighbour tables of a row; the pair path gathers two rows, one into each. */
  private readonly rows: readonly [RowTables, RowTables];
  // --- pair-symmetric serial path (see `energyPairs`) ---
  /** True when every active (species, l) block reads its radial values directly (full ACE): the pair path applies. */
  private readonly pairwiseOk: boolean;
  /** ω of every local atom in the fast layout (pairCap × nA), grown as needed. */
  private pairW = new Float64Array(0);
  private pairCap = 0;
  /** Compiled same-species pair contraction per model species (see polygen.ts), and its output (Σ t ∇G, Σ s Y). */
  private readonly pairContract: PairContraction[] = [];
  private pairOut = new Float64Array(4);
  /**
   * WebAssembly kernels of full-ACE models, built at the first MD evaluation (buildKernels)
   * where the runtime has SIMD and a memory can be had: the pair path's contraction per
   * model species (polygen.ts pairContractionWasm) and a neighbour's A update per
   * neighbour species (accumulationWasm). With them pairOut, pairW, the rows' r̂, Y, ∇G,
   * radial rows and A, and the polynomial's tables are regions of `arena` (see relayout),
   * which the kernels address by byte.
   * Empty lists and no arena: the JavaScript kernels on ordinary arrays.
   */
  private arena: WasmArena | null = null;
  private wasmContract: ((wi: number, wj: number, g: number, dg: number, y: number, dgy: number, out: number) => void)[] = [];
  private wasmAccumulate: ((a: number, r: number, y: number) => void)[] = [];
  /**
   * The polynomial of two same-species rows at once (polygen.ts polynomialTableWasm): it
   * walks polyTableAt[z] (the table of model species z for the coefficient array polyOf,
   * copied from polyTables into the arena), reads the interleaving of their A from polyA2
   * (followed by its scratch) and adds their energies into polyE2.
   */
  private wasmPoly: ((a2: number, table: number, w0: number, w1: number, e2: number) => void) | null = null;
  private polyTables: Float64Array<ArrayBuffer>[] = [];
  private polyTableAt: Float64Array<ArrayBuffer>[] = [];
  private wasmInterleave: ((a0: number, a1: number, a2: number) => void) | null = null;
  /** Y and ∇G (or Y alone) of two neighbours at once (sph.ts wasmKernel). */
  private wasmShGrad: ((ua: number, ub: number, ya: number, yb: number, ga: number, gb: number) => void) | null = null;
  private wasmShVal: ((ua: number, ub: number, ya: number, yb: number) => void) | null = null;
  private polyA2 = new Float64Array(0);
  private polyE2 = new Float64Array(2);
  /** Builds the WebAssembly kernels (null once tried, or when the model cannot use them). */
  private buildKernels: (() => void) | null = null;

  /** options.wasm: false keeps the JavaScript kernels (for comparing the two; default true). */
  constructor(basis: AceBasis, options: { wasm?: boolean } = {}) {
    this.basis = basis;
    this.sh = new SphericalHarmonics(basis.lmax);
    this.nY = this.sh.size;
    this.g = new Float64Array(basis.radial.n);
    this.dg = new Float64Array(basis.radial.n);
    this.A = new Float64Array(basis.nA);
    this.omega = new Float64Array(basis.nA);
    this.AA = new Float64Array(basis.nMono);
    this.B = new Float64Array(basis.nFunctions);
    this.grow(64);

    // Fast layout: pairs regrouped by l (stable in the basis order, so the pairs of one
    // full-ACE element stay contiguous), A entries ordered (l, m, pair) so that a
    // neighbour's update of block l is an outer product R_l ⊗ Y_l over contiguous rows.
    const P = basis.nPairs, L = basis.lmax, S = basis.nSpecies, N = basis.radial.n;
    this.fastCount = new Int32Array(L + 1);
    this.fastPairStart = new Int32Array(L + 2);
    this.fastBase = new Int32Array(L + 2);
    for (let p = 0; p < P; p++) this.fastCount[basis.pairL[p]]++;
    for (let l = 0; l <= L; l++) {
      this.fastPairStart[l + 1] = this.fastPairStart[l] + this.fastCount[l];
      this.fastBase[l + 1] = this.fastBase[l] + this.fastCount[l] * (2 * l + 1);
    }
    this.fastN = new Int32Array(P);
    this.fastOld = new Int32Array(P);
    const perm = new Int32Array(basis.nA);
    const fill = Int32Array.from(this.fastPairStart.subarray(0, L + 1));
    for (let p = 0; p < P; p++) {
      const l = basis.pairL[p], fp = fill[l]++, a = fp - this.fastPairStart[l], cnt = this.fastCount[l];
      this.fastN[fp] = basis.pairN[p];
      this.fastOld[fp] = p;
      for (let m = 0; m <= 2 * l; m++) perm[basis.pairOffset[p] + m] = this.fastBase[l] + m * cnt + a;
    }
    this.fastActive = new Int32Array(2 * S * (L + 1));
    for (let z = 0; z < S; z++) {
      for (let l = 0; l <= L; l++) {
        let lo = -1, hi = -1;
        for (let a = 0; a < this.fastCount[l]; a++) {
          const p = this.fastOld[this.fastPairStart[l] + a];
          let active = false;
          if (basis.pairN[p] >= 0) active = basis.pairWeight[p * S + z] !== 0;
          else for (let n = 0; n < N && !active; n++) active = basis.pairDense[(p * S + z) * N + n] !== 0;
          if (active) { if (lo < 0) lo = a; hi = a + 1; }
        }
        const q = 2 * (z * (L + 1) + l);
        this.fastActive[q] = lo < 0 ? 0 : lo;
        this.fastActive[q + 1] = lo < 0 ? 0 : hi;
      }
    }
    this.fastShift = new Int32Array(S * (L + 1));
    this.fastDirect = new Uint8Array(S * (L + 1));
    for (let z = 0; z < S; z++) {
      for (let l = 0; l <= L; l++) {
        const q = z * (L + 1) + l, lo = this.fastActive[2 * q], hi = this.fastActive[2 * q + 1];
        if (lo === hi) continue;
        const ps = this.fastPairStart[l], shift = this.fastN[ps + lo] - lo;
        let direct = this.fastN[ps + lo] >= 0;
        for (let a = lo; a < hi && direct; a++) {
          direct = this.fastN[ps + a] === a + shift && basis.pairWeight[this.fastOld[ps + a] * S + z] === 1;
        }
        if (direct) { this.fastShift[q] = shift; this.fastDirect[q] = 1; }
      }
    }
    this.fastMono = new Int32Array(basis.monoIdx.length);
    for (let k = 0; k < basis.monoIdx.length; k++) {
      const v = basis.monoIdx[k];
      this.fastMono[k] = v < 0 ? -1 : perm[v];
    }
    this.rows = [new RowTables(S, this.nY, N + P, basis.nA), new RowTables(S, this.nY, N + P, basis.nA)];
    this.fastOmega = new Float64Array(basis.nA);
    let ok = true;
    for (let q = 0; q < S * (L + 1); q++) if (this.fastActive[2 * q] !== this.fastActive[2 * q + 1] && this.fastDirect[q] === 0) ok = false;
    this.pairwiseOk = ok;
    if (ok) {
      // Per neighbour species, its blocks (for the contraction: of same-species pairs).
      const blocksOf = (z: number): BlockLayout[] => Array.from({ length: L + 1 }, (_, l) => {
        const q = z * (L + 1) + l;
        return { lo: this.fastActive[2 * q], hi: this.fastActive[2 * q + 1], shift: this.fastShift[q], base: this.fastBase[l], count: this.fastCount[l] };
      });
      for (let z = 0; z < S; z++) this.pairContract.push(compilePairContraction(blocksOf(z)));
      // Not at construction: fitting builds evaluators that never run MD, and each
      // WebAssembly memory reserves gigabytes of address space (a ulimit -v can refuse it).
      if (options.wasm !== false) this.buildKernels = () => {
        this.buildKernels = null;
        if (!wasmSimdAvailable()) return;
        try {
          const arena = new WasmArena(), species = Array.from({ length: S }, (_, z) => z);
          const kernels = instantiate([
            ...species.map((z) => pairContractionWasm(blocksOf(z), `c${z}`)),
            ...species.map((z) => accumulationWasm(blocksOf(z), `a${z}`)),
            interleaveWasm(basis.nA, 'interleave'),
            polynomialTableWasm(basis.nA, 'poly'),
            this.sh.wasmKernel(true, 'shGrad'),
            this.sh.wasmKernel(false, 'shVal'),
          ], arena.memory);
          this.arena = arena;
          this.wasmContract = species.map((z) => kernels[`c${z}`]);
          this.wasmAccumulate = species.map((z) => kernels[`a${z}`]);
          this.wasmInterleave = kernels.interleave;
          this.wasmPoly = kernels.poly;
          this.wasmShGrad = kernels.shGrad;
          this.wasmShVal = kernels.shVal;
          this.polyOf = null;
          this.relayout();
        } catch (e) {
          if (!(e instanceof RangeError)) throw e;
          this.dropKernels();
        }
      };
    }
    this.growFast(64);
  }

  private growFast(n: number): void {
    const have = this.rows[0].cap;
    if (n <= have) return;
    const cap = Math.max(n, Math.ceil(have * 1.5));
    for (const t of this.rows) t.grow(cap);
    this.relayout();
  }

  /**
   * (Re)allocates the tables the WebAssembly kernels read, for the rows' neighbour capacity and pairCap
   * atoms: pairOut, pairW, the arena part of both row tables (r̂, Y, ∇G, per neighbour the
   * radial rows — base g_n, N entries, then per-pair R_p, P entries — and A), polyA2,
   * polyE2 and the polynomial tables. In the arena when there is one (contents not kept,
   * except the tables, copied in again); ordinary arrays when there is none or it cannot
   * grow that far (then for good).
   */
  private relayout(): void {
    const [t0, t1] = this.rows, nA = this.basis.nA;
    const lengths = [4, this.pairCap * nA, ...t0.arenaLengths(), ...t1.arenaLengths(), 4 * nA, 2, ...this.polyTables.map((t) => t.length)];
    let views: Float64Array<ArrayBuffer>[] | null = null;
    if (this.arena !== null) {
      try {
        views = this.arena.layout(lengths);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        this.dropKernels();
      }
    }
    views ??= lengths.map((n) => new Float64Array(n));
    [this.pairOut, this.pairW] = views;
    t0.adopt(views.slice(2, 8));
    t1.adopt(views.slice(8, 14));
    [this.polyA2, this.polyE2] = views.slice(14, 16);
    // The polynomial kernel's scratch (after A) starts at zero; its tables are copied in.
    this.polyA2.fill(0);
    this.polyTableAt = views.slice(16);
    this.polyTables.forEach((t, z) => this.polyTableAt[z].set(t));
  }

  /** The JavaScript kernels for good (the runtime refused the memory the arena needs). */
  private dropKernels(): void {
    this.arena = null;
    this.wasmContract = [];
    this.wasmAccumulate = [];
    this.wasmPoly = null;
    this.polyTables = [];
    this.wasmInterleave = null;
    this.wasmShGrad = null;
    this.wasmShVal = null;
  }

  /**
   * Adds energies and forces for all local atoms using folded coefficients
   * coef[z·nMono + α] and reference energies e0[z]. Writes per-atom energies if asked.
   *
   * Per atom: one pass over neighbours computes R_p(r), R′_p(r), Y_lm, ∇G_lm once and
   * accumulates A block by block (an outer product R_l ⊗ Y_l); the folded polynomial in
   * A gives E_i and ω = ∂E_i/∂A; a second pass contracts ω with R and R′ per (l, m)
   * (t_lm = Σ_p R_p ω_plm, s_lm = Σ_p R′_p ω_plm) so that
   * g_ij = r̂ Σ s_lm Y_lm + (I − r̂r̂ᵀ)(Σ t_lm ∇G_lm)/r. No per-function or per-triplet work.
   */
  energy(atoms: Neighborhood, coef: Float64Array, e0: Float64Array, forces: Float64Array, atomEnergies: Float64Array | null): number {
    if (this.pairwiseOk && atoms.rowStart === undefined && atoms.rowEnd === undefined) return this.energyPairs(atoms, coef, e0, forces, atomEnergies);
    return this.energyRows(atoms, coef, e0, forces, atomEnergies);
  }

  /** The row-additive MD path (each row i computes E_i and its forces alone): honours rowStart/rowEnd. */
  energyRows(atoms: Neighborhood, coef: Float64Array, e0: Float64Array, forces: Float64Array, atomEnergies: Float64Array | null): number {
    if (this.buildKernels !== null) this.buildKernels();
    const { offsets, neighbors } = atoms.full!;
    const smap = this.speciesMap, species = atoms.species, t = this.rows[0];
    if (coef !== this.polyOf) this.compilePolynomials(coef);
    let total = 0;
    for (let i = atoms.rowStart ?? 0, rowEnd = atoms.rowEnd ?? atoms.nLocal; i < rowEnd; i++) {
      const nn = this.gatherFast(atoms, i, offsets, neighbors, t);
      const e = this.polynomial(smap[species[i]], e0, t.A);
      total += e;
      if (atomEnergies !== null) atomEnergies[i] += e;
      this.forcesFast(nn, i, forces, t);
    }
    return total;
  }

  /**
   * Serial MD path using pair symmetry (full ACE: every active block reads g_n directly).
   * φ_nlm(r_ji) = (−1)^l φ_nlm(r_ij), so the gradient of E_i + E_j with respect to
   * r_ij = x_j − x_i is ∇φ(r_ij) contracted once with ω_i + (−1)^l ω_j: one contraction
   * per unordered pair instead of two. Rows are swept in decreasing order: row i builds
   * A_i from all its neighbours (values only), then E_i and ω_i, then the force of every
   * pair it owns — pairs with owner(j) > i, and an atom's own periodic image once (the
   * displacement whose first clearly non-zero component is positive) — whose ω_j is
   * known by then. Y, ∇G, g, g′ of an owned pair are computed once, in the gather.
   * Not row-additive (row i's forces use ω_j): the parallel evaluator gets `energyRows`.
   */
  energyPairs(atoms: Neighborhood, coef: Float64Array, e0: Float64Array, forces: Float64Array, atomEnergies: Float64Array | null): number {
    if (!this.pairwiseOk) throw new Error('trace evaluator: the pair path needs direct radial blocks (full ACE channels); use energyRows');
    if (this.buildKernels !== null) this.buildKernels();
    const n = atoms.nLocal, nA = this.basis.nA;
    const { offsets, neighbors } = atoms.full!;
    const species = atoms.species, smap = this.speciesMap;
    // Size every table before the sweep: a relayout inside it would empty W and detach
    // the views and byte addresses taken below.
    let maxRow = 0;
    for (let i = 0; i < n; i++) maxRow = Math.max(maxRow, offsets[i + 1] - offsets[i]);
    const pairsGrow = this.pairCap < n;
    if (pairsGrow) this.pairCap = Math.ceil(n * 1.2);
    if (maxRow > this.rows[0].cap) this.growFast(maxRow);
    else if (pairsGrow) this.relayout();
    if (coef !== this.polyOf) this.compilePolynomials(coef);
    const W = this.pairW, poly2 = this.wasmPoly !== null, [t0, t1] = this.rows;
    let total = 0;
    // Rows in decreasing order: the pairs of row i have owners ≥ i, whose ω is known by
    // then. With the WebAssembly polynomial, two rows of one species at a time: i and
    // i − 1 are gathered, their polynomial evaluated at once, then their pairs contracted
    // (those of i − 1 may need ω_i, known by then).
    for (let i = n - 1; i >= 0;) {
      const si = smap[species[i]];
      const nn0 = this.gatherFast(atoms, i, offsets, neighbors, t0, true);
      if (poly2 && i > 0 && smap[species[i - 1]] === si) {
        const nn1 = this.gatherFast(atoms, i - 1, offsets, neighbors, t1, true);
        this.polynomialPair(si, e0, i, i - 1);
        const ea = this.polyE2[0], eb = this.polyE2[1];
        total += ea;
        total += eb;
        if (atomEnergies !== null) { atomEnergies[i] += ea; atomEnergies[i - 1] += eb; }
        this.forcesPairs(atoms.owner, i, si, nn0, t0, forces);
        this.forcesPairs(atoms.owner, i - 1, si, nn1, t1, forces);
        i -= 2;
      } else {
        const e = this.polynomial(si, e0, t0.A);
        total += e;
        if (atomEnergies !== null) atomEnergies[i] += e;
        W.set(this.fastOmega, i * nA);
        this.forcesPairs(atoms.owner, i, si, nn0, t0, forces);
        i -= 1;
      }
    }
    return total;
  }

  /**
   * The pair path's force pass of row i (species si, nn neighbours gathered into t, ω of
   * row i and of every owner above it in pairW): each pair the row owns gets
   * ∇φ(r_ij) contracted with ω_i + (−1)^l ω_j (see energyPairs).
   */
  private forcesPairs(owner: Int32Array, i: number, si: number, nn: number, t: RowTables, forces: Float64Array): void {
    const basis = this.basis, nA = basis.nA, L = basis.lmax, nY = this.nY, RW = basis.radial.n + basis.nPairs;
    const fCount = this.fastCount, fBase = this.fastBase, fAct = this.fastActive, fShift = this.fastShift;
    const W = this.pairW, contract = this.pairContract, wasm = this.wasmContract, po = this.pairOut;
    const Y = t.Y, DG = t.gradG, g = t.R, dg = t.dR;
    // Byte addresses of the tables in the arena (for the WebAssembly contraction).
    const wAt = W.byteOffset, yAt = Y.byteOffset, dgyAt = DG.byteOffset, gAt = g.byteOffset, dgAt = dg.byteOffset, outAt = po.byteOffset;
    const fIndex = t.index, fZ = t.species, fUnit = t.unit, fInv = t.inv, fHalf = t.owned;
    const ai = i * nA;
    let fix = 0, fiy = 0, fiz = 0;
    for (let k = 0; k < nn; k++) {
      if (fHalf[k] === 0) continue;
      const j = fIndex[k], aj = owner[j] * nA, sj = fZ[k], yOff = k * nY, rOff = k * RW;
      let gx0 = 0, gy0 = 0, gz0 = 0, rad = 0;
      if (sj === si) {
        // Same species on both sides: the compiled contraction (straight-line, same sums
        // in JavaScript; two at a time in WebAssembly).
        if (wasm.length !== 0) wasm[si](wAt + 8 * ai, wAt + 8 * aj, gAt + 8 * rOff, dgAt + 8 * rOff, yAt + 8 * yOff, dgyAt + 24 * yOff, outAt);
        else contract[si](W, ai, aj, g, dg, rOff, Y, DG, yOff, po);
        gx0 = po[0]; gy0 = po[1]; gz0 = po[2]; rad = po[3];
      } else for (let l = 0; l <= L; l++) {
        const odd = (l & 1) === 1, cnt = fCount[l], lb = yOff + l * l, nm = 2 * l + 1;
        const qi = sj * (L + 1) + l, qj = si * (L + 1) + l;
        const loI = fAct[2 * qi], hiI = fAct[2 * qi + 1], loJ = fAct[2 * qj], hiJ = fAct[2 * qj + 1];
        if (loI === hiI && loJ === hiJ) continue;
        const gI = rOff + fShift[qi], gJ = rOff + fShift[qj];
        if (qi === qj) {
          // Same block on both sides: one contraction with ω_i ± ω_j, two m rows at a time.
          const ai0 = ai + fBase[l], aj0 = aj + fBase[l];
          let m = 0;
          for (; m + 1 < nm; m += 2) {
            const ri = ai0 + m * cnt, rj = aj0 + m * cnt, ri2 = ri + cnt, rj2 = rj + cnt;
            let t = 0, s = 0, t2 = 0, s2 = 0;
            if (odd) {
              for (let a = loI; a < hiI; a++) {
                const R = g[a + gI], dR = dg[a + gI], om = W[ri + a] - W[rj + a], om2 = W[ri2 + a] - W[rj2 + a];
                t += R * om; s += dR * om; t2 += R * om2; s2 += dR * om2;
              }
            } else {
              for (let a = loI; a < hiI; a++) {
                const R = g[a + gI], dR = dg[a + gI], om = W[ri + a] + W[rj + a], om2 = W[ri2 + a] + W[rj2 + a];
                t += R * om; s += dR * om; t2 += R * om2; s2 += dR * om2;
              }
            }
            const y = lb + m, y2 = y + 1;
            rad += s * Y[y] + s2 * Y[y2];
            gx0 += t * DG[3 * y] + t2 * DG[3 * y2];
            gy0 += t * DG[3 * y + 1] + t2 * DG[3 * y2 + 1];
            gz0 += t * DG[3 * y + 2] + t2 * DG[3 * y2 + 2];
          }
          if (m < nm) {
            const ri = ai0 + m * cnt, rj = aj0 + m * cnt, sgn = odd ? -1 : 1;
            let t = 0, s = 0;
            for (let a = loI; a < hiI; a++) {
              const om = W[ri + a] + sgn * W[rj + a];
              t += g[a + gI] * om; s += dg[a + gI] * om;
            }
            const y = lb + m;
            rad += s * Y[y]; gx0 += t * DG[3 * y]; gy0 += t * DG[3 * y + 1]; gz0 += t * DG[3 * y + 2];
          }
        } else {
          const sgn = odd ? -1 : 1;
          for (let m = 0, row = fBase[l]; m < nm; m++, row += cnt) {
            const ri = ai + row, rj = aj + row;
            let t = 0, s = 0;
            for (let a = loI; a < hiI; a++) { const om = W[ri + a]; t += g[a + gI] * om; s += dg[a + gI] * om; }
            for (let a = loJ; a < hiJ; a++) { const om = sgn * W[rj + a]; t += g[a + gJ] * om; s += dg[a + gJ] * om; }
            const y = lb + m;
            rad += s * Y[y]; gx0 += t * DG[3 * y]; gy0 += t * DG[3 * y + 1]; gz0 += t * DG[3 * y + 2];
          }
        }
      }
      const ux = fUnit[3 * k], uy = fUnit[3 * k + 1], uz = fUnit[3 * k + 2], inv = fInv[k];
      const dot = ux * gx0 + uy * gy0 + uz * gz0;
      const gx = (gx0 - ux * dot) * inv + rad * ux;
      const gy = (gy0 - uy * dot) * inv + rad * uy;
      const gz = (gz0 - uz * dot) * inv + rad * uz;
      forces[3 * j] -= gx; forces[3 * j + 1] -= gy; forces[3 * j + 2] -= gz;
      fix += gx; fiy += gy; fiz += gz;
    }
    forces[3 * i] += fix; forces[3 * i + 1] += fiy; forces[3 * i + 2] += fiz;
  }

  /**
   * E_i of an atom of model species zi from its A (fast layout) with the compiled
   * JavaScript polynomial (compilePolynomials first); writes ω = ∂E_i/∂A into fastOmega.
   */
  private polynomial(zi: number, e0: Float64Array, A: Float64Array): number {
    const chunks = this.polyChunks[zi], w = this.fastOmega;
    w.fill(0);
    let e = e0[zi];
    for (let c = 0; c < chunks.length; c++) { chunks[c](A, w, this.polyE); e += this.polyE[0]; }
    return e;
  }

  /**
   * The WebAssembly polynomial of rows ia and ib, both of model species zi, from the A of
   * the two row tables: ω into their rows of pairW, E_ia and E_ib into polyE2 (same bits
   * as `polynomial`: each chunk's E added in turn to e0).
   */
  private polynomialPair(zi: number, e0: Float64Array, ia: number, ib: number): void {
    const nA = this.basis.nA, W = this.pairW, E2 = this.polyE2, [t0, t1] = this.rows;
    W.fill(0, ia * nA, ia * nA + nA);
    W.fill(0, ib * nA, ib * nA + nA);
    E2[0] = e0[zi];
    E2[1] = e0[zi];
    const a2 = this.polyA2.byteOffset, w0 = W.byteOffset + 8 * ia * nA, w1 = W.byteOffset + 8 * ib * nA, e2 = E2.byteOffset;
    this.wasmInterleave!(t0.A.byteOffset, t1.A.byteOffset, a2);
    this.wasmPoly!(a2, this.polyTableAt[zi].byteOffset, w0, w1, e2);
  }

  /**
   * Compiles the polynomial of every centre species for the coefficient array coef (a
   * coefficient array is not to be modified in place between calls): to JavaScript, and
   * to WebAssembly where the arena is (for the pair path).
   */
  private compilePolynomials(coef: Float64Array): void {
    const basis = this.basis, out: PolyChunk[][] = [];
    for (let z = 0; z < basis.nSpecies; z++) out.push(compilePolynomial(this.fastMono, basis.monoStart, coef, z * basis.nMono));
    this.polyChunks = out;
    if (this.wasmPoly !== null) {
      // The tables go into the arena with the next layout; that empties the other regions,
      // which is why this runs before a sweep, never inside one.
      this.polyTables = out.map((_, z) => polynomialTable(this.fastMono, basis.monoStart, coef, z * basis.nMono));
      this.relayout();
    }
    this.polyOf = coef;
  }

  /**
   * Y and ∇G of the slots shSlots[0 .. nGrad), Y alone of shSlots[firstValue .. cap), two
   * slots per call of the WebAssembly kernels (a lone last slot paired with itself).
   */
  private harmonicsWasm(t: RowTables, nGrad: number, firstValue: number): void {
    const slots = t.shSlots, nY = this.nY, grad = this.wasmShGrad!, values = this.wasmShVal!;
    const uAt = t.unit.byteOffset, yAt = t.Y.byteOffset, gAt = t.gradG.byteOffset;
    for (let q = 0; q < nGrad; q += 2) {
      const a = slots[q], b = slots[q + 1 < nGrad ? q + 1 : q];
      grad(uAt + 24 * a, uAt + 24 * b, yAt + 8 * nY * a, yAt + 8 * nY * b, gAt + 24 * nY * a, gAt + 24 * nY * b);
    }
    for (let q = firstValue, end = t.cap; q < end; q += 2) {
      const a = slots[q], b = slots[q + 1 < end ? q + 1 : q];
      values(uAt + 24 * a, uAt + 24 * b, yAt + 8 * nY * a, yAt + 8 * nY * b);
    }
  }

  /** Fast-path neighbour pass: per-neighbour tables and A in the fast layout. Returns the neighbour count. */
  private gatherFast(atoms: Neighborhood, i: number, offsets: Int32Array, neighbors: Int32Array, t: RowTables, pairs = false): number {
    const basis = this.basis, x = atoms.positions, species = atoms.species, smap = this.speciesMap;
    const rc = basis.radial.cutoff, rc2 = rc * rc;
    const start = offsets[i], end = offsets[i + 1];
    if (end - start > t.cap) this.growFast(end - start);
    const P = basis.nPairs, S = basis.nSpecies, N = basis.radial.n, nY = this.nY, L = basis.lmax;
    const pairW = basis.pairWeight, pairDense = basis.pairDense;
    const fN = this.fastN, fOld = this.fastOld, fCount = this.fastCount, fStart = this.fastPairStart, fBase = this.fastBase, fAct = this.fastActive;
    const A = t.A, shVal = this.sh.valuesFast, shGrad = this.sh.polyGradientsFast, radial = basis.radial, fShift = this.fastShift, fDirect = this.fastDirect, RW = N + P;
    const fIndex = t.index, fZ = t.species, fUnit = t.unit, fInv = t.inv, fY = t.Y, fDG = t.gradG, fR = t.R, fDR = t.dR;
    const owner = atoms.owner, fHalf = t.owned, fDist = t.dist;
    // With the WebAssembly kernels Y and ∇G come after the loop, two slots at a time:
    // slots with gradients listed from the front of shSlots, values only from the back.
    const shLater = this.wasmShGrad !== null, shSlots = t.shSlots;
    let nGrad = 0, firstValue = t.cap;
    const xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2];
    A.fill(0);
    let count = 0;
    for (let q = start; q < end; q++) {
      const j = neighbors[q];
      const dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - zi;
      const r2 = dx * dx + dy * dy + dz * dz;
      if (r2 >= rc2 || r2 === 0) continue;
      const r = Math.sqrt(r2), inv = 1 / r;
      const ux = dx * inv, uy = dy * inv, uz = dz * inv;
      const k = count++;
      const zj = smap[species[j]];
      fIndex[k] = j; fZ[k] = zj; fInv[k] = inv; fDist[k] = r;
      fUnit[3 * k] = ux; fUnit[3 * k + 1] = uy; fUnit[3 * k + 2] = uz;
      const yOff = k * nY, rOff = k * RW;
      if (pairs) {
        // Pair path (pairwiseOk: every active block direct, so no per-pair rows below).
        // The pairs that row i owns (see energyPairs) get gradients as well; others values only.
        const o = owner[j], mine = o > i || (o === i && firstPositive(dx, dy, dz));
        fHalf[k] = mine ? 1 : 0;
        if (mine) {
          if (shLater) shSlots[nGrad++] = k; else shGrad(fUnit, 3 * k, fY, fDG, yOff);
          radial.evaluateAt(fDist, k, fR, fDR, rOff);
        } else {
          if (shLater) shSlots[--firstValue] = k; else shVal(fUnit, 3 * k, fY, yOff);
          radial.valuesAt(fDist, k, fR, rOff);
        }
        continue;
      }
      if (shLater) shSlots[nGrad++] = k; else shGrad(fUnit, 3 * k, fY, fDG, yOff);
      radial.evaluateAt(fDist, k, fR, fDR, rOff);
      const qb = zj * (L + 1);
      for (let l = 0; l <= L; l++) {
        const lo = fAct[2 * (qb + l)], hi = fAct[2 * (qb + l) + 1];
        if (lo === hi) continue;
        const ps = fStart[l];
        if (fDirect[qb + l] === 0) {
          const rb = rOff + N + ps;
          for (let a = lo; a < hi; a++) {
            const fp = ps + a, n = fN[fp], p = fOld[fp];
            if (n >= 0) {
              const wz = pairW[p * S + zj];
              fR[rb + a] = wz * fR[rOff + n]; fDR[rb + a] = wz * fDR[rOff + n];
            } else {
              const mo = (p * S + zj) * N;
              let R = 0, dR = 0;
              for (let t = 0; t < N; t++) { R += pairDense[mo + t] * fR[rOff + t]; dR += pairDense[mo + t] * fDR[rOff + t]; }
              fR[rb + a] = R; fDR[rb + a] = dR;
            }
          }
        }
      }
    }
    if (shLater) this.harmonicsWasm(t, nGrad, firstValue);
    const acc = this.wasmAccumulate;
    if (acc.length !== 0) {
      // A_l += Y_l ⊗ R_l one neighbour at a time, in WebAssembly (f64x2).
      const aAt = A.byteOffset, rAt = fR.byteOffset, yAt = fY.byteOffset;
      for (let k = 0; k < count; k++) acc[fZ[k]](aAt, rAt + 8 * k * RW, yAt + 8 * k * nY);
      if (pairs) return count;
    }
    // Group neighbour slots by species (for the accumulation below and the row path's forcesFast).
    const ord = t.order, spStart = t.speciesStart;
    spStart.fill(0);
    for (let k = 0; k < count; k++) spStart[fZ[k] + 1]++;
    for (let z = 0; z < S; z++) spStart[z + 1] += spStart[z];
    for (let k = 0; k < count; k++) ord[spStart[fZ[k]]++] = k;
    for (let z = S; z > 0; z--) spStart[z] = spStart[z - 1];
    spStart[0] = 0;
    if (acc.length !== 0) return count;
    // A_l += Y_l ⊗ R_l over the neighbours of each species, four neighbours at a time.
    for (let z = 0; z < S; z++) {
      const q0 = spStart[z], q1 = spStart[z + 1];
      if (q0 === q1) continue;
      const qb = z * (L + 1);
      for (let l = 0; l <= L; l++) {
        const lo = fAct[2 * (qb + l)], hi = fAct[2 * (qb + l) + 1];
        if (lo === hi) continue;
        const rAdd = fDirect[qb + l] === 1 ? fShift[qb + l] : N + fStart[l];
        const cnt = fCount[l], lb = l * l, row0 = fBase[l], nm = 2 * l + 1;
        let q = q0;
        for (; q + 3 < q1; q += 4) {
          const k0 = ord[q], k1 = ord[q + 1], k2 = ord[q + 2], k3 = ord[q + 3];
          const r0 = k0 * RW + rAdd, r1 = k1 * RW + rAdd, r2 = k2 * RW + rAdd, r3 = k3 * RW + rAdd;
          const y0 = k0 * nY + lb, y1 = k1 * nY + lb, y2 = k2 * nY + lb, y3 = k3 * nY + lb;
          // Two m rows at a time: each R load serves eight products.
          let m = 0, row = row0;
          for (; m + 1 < nm; m += 2, row += 2 * cnt) {
            const a0 = fY[y0 + m], a1 = fY[y1 + m], a2 = fY[y2 + m], a3 = fY[y3 + m];
            const b0 = fY[y0 + m + 1], b1 = fY[y1 + m + 1], b2 = fY[y2 + m + 1], b3 = fY[y3 + m + 1];
            const row2 = row + cnt;
            for (let a = lo; a < hi; a++) {
              const R0 = fR[r0 + a], R1 = fR[r1 + a], R2 = fR[r2 + a], R3 = fR[r3 + a];
              A[row + a] += a0 * R0 + a1 * R1 + a2 * R2 + a3 * R3;
              A[row2 + a] += b0 * R0 + b1 * R1 + b2 * R2 + b3 * R3;
            }
          }
          if (m < nm) {
            const a0 = fY[y0 + m], a1 = fY[y1 + m], a2 = fY[y2 + m], a3 = fY[y3 + m];
            for (let a = lo; a < hi; a++) A[row + a] += a0 * fR[r0 + a] + a1 * fR[r1 + a] + a2 * fR[r2 + a] + a3 * fR[r3 + a];
          }
        }
        for (; q < q1; q++) {
          const k0 = ord[q], r0 = k0 * RW + rAdd, y0 = k0 * nY + lb;
          for (let m = 0, row = row0; m < nm; m++, row += cnt) {
            const a0 = fY[y0 + m];
            for (let a = lo; a < hi; a++) A[row + a] += a0 * fR[r0 + a];
          }
        }
      }
    }
    return count;
  }

  /**
   * Fast-path force pass of row i (tables t) with ω in fastOmega: per (l, m), t = Σ_a R_a ω_lma and
   * s = Σ_a R′_a ω_lma for four neighbours of one species at a time, folded into
   * t.G = (Σ t ∇G, Σ s Y); then g_ij = r̂ fG_3 + (I − r̂r̂ᵀ) fG_xyz / r, F_j −= g, F_i += g.
   */
  private forcesFast(nn: number, i: number, forces: Float64Array, t: RowTables): void {
    const basis = this.basis, S = basis.nSpecies, N = basis.radial.n, RW = N + basis.nPairs, nY = this.nY, L = basis.lmax;
    const fCount = this.fastCount, fStart = this.fastPairStart, fBase = this.fastBase, fAct = this.fastActive, fShift = this.fastShift, fDirect = this.fastDirect, w = this.fastOmega;
    const fIndex = t.index, fUnit = t.unit, fInv = t.inv, fY = t.Y, fDG = t.gradG, fR = t.R, fDR = t.dR;
    const ord = t.order, spStart = t.speciesStart, G = t.G;
    G.fill(0, 0, 4 * nn);
    for (let z = 0; z < S; z++) {
      const q0 = spStart[z], q1 = spStart[z + 1];
      if (q0 === q1) continue;
      const qb = z * (L + 1);
      for (let l = 0; l <= L; l++) {
        const lo = fAct[2 * (qb + l)], hi = fAct[2 * (qb + l) + 1];
        if (lo === hi) continue;
        const rAdd = fDirect[qb + l] === 1 ? fShift[qb + l] : N + fStart[l];
        const cnt = fCount[l], lb = l * l, row0 = fBase[l], nm = 2 * l + 1;
        let q = q0;
        for (; q + 3 < q1; q += 4) {
          const k0 = ord[q], k1 = ord[q + 1], k2 = ord[q + 2], k3 = ord[q + 3];
          const r0 = k0 * RW + rAdd, r1 = k1 * RW + rAdd, r2 = k2 * RW + rAdd, r3 = k3 * RW + rAdd;
          const y0 = k0 * nY + lb, y1 = k1 * nY + lb, y2 = k2 * nY + lb, y3 = k3 * nY + lb;
          let gx0 = 0, gy0 = 0, gz0 = 0, d0 = 0, gx1 = 0, gy1 = 0, gz1 = 0, d1 = 0;
          let gx2 = 0, gy2 = 0, gz2 = 0, d2 = 0, gx3 = 0, gy3 = 0, gz3 = 0, d3 = 0;
          for (let m = 0, row = row0; m < nm; m++, row += cnt) {
            let t0 = 0, t1 = 0, t2 = 0, t3 = 0, s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (let a = lo; a < hi; a++) {
              const om = w[row + a];
              t0 += fR[r0 + a] * om; s0 += fDR[r0 + a] * om;
              t1 += fR[r1 + a] * om; s1 += fDR[r1 + a] * om;
              t2 += fR[r2 + a] * om; s2 += fDR[r2 + a] * om;
              t3 += fR[r3 + a] * om; s3 += fDR[r3 + a] * om;
            }
            let y = y0 + m;
            d0 += s0 * fY[y]; gx0 += t0 * fDG[3 * y]; gy0 += t0 * fDG[3 * y + 1]; gz0 += t0 * fDG[3 * y + 2];
            y = y1 + m;
            d1 += s1 * fY[y]; gx1 += t1 * fDG[3 * y]; gy1 += t1 * fDG[3 * y + 1]; gz1 += t1 * fDG[3 * y + 2];
            y = y2 + m;
            d2 += s2 * fY[y]; gx2 += t2 * fDG[3 * y]; gy2 += t2 * fDG[3 * y + 1]; gz2 += t2 * fDG[3 * y + 2];
            y = y3 + m;
            d3 += s3 * fY[y]; gx3 += t3 * fDG[3 * y]; gy3 += t3 * fDG[3 * y + 1]; gz3 += t3 * fDG[3 * y + 2];
          }
          G[4 * k0] += gx0; G[4 * k0 + 1] += gy0; G[4 * k0 + 2] += gz0; G[4 * k0 + 3] += d0;
          G[4 * k1] += gx1; G[4 * k1 + 1] += gy1; G[4 * k1 + 2] += gz1; G[4 * k1 + 3] += d1;
          G[4 * k2] += gx2; G[4 * k2 + 1] += gy2; G[4 * k2 + 2] += gz2; G[4 * k2 + 3] += d2;
          G[4 * k3] += gx3; G[4 * k3 + 1] += gy3; G[4 * k3 + 2] += gz3; G[4 * k3 + 3] += d3;
        }
        for (; q < q1; q++) {
          const k0 = ord[q], r0 = k0 * RW + rAdd, y0 = k0 * nY + lb;
          let gx0 = 0, gy0 = 0, gz0 = 0, d0 = 0;
          for (let m = 0, row = row0; m < nm; m++, row += cnt) {
            let t0 = 0, s0 = 0;
            for (let a = lo; a < hi; a++) {
              const om = w[row + a];
              t0 += fR[r0 + a] * om; s0 += fDR[r0 + a] * om;
            }
            const y = y0 + m;
            d0 += s0 * fY[y]; gx0 += t0 * fDG[3 * y]; gy0 += t0 * fDG[3 * y + 1]; gz0 += t0 * fDG[3 * y + 2];
          }
          G[4 * k0] += gx0; G[4 * k0 + 1] += gy0; G[4 * k0 + 2] += gz0; G[4 * k0 + 3] += d0;
        }
      }
    }
    let fix = 0, fiy = 0, fiz = 0;
    for (let k = 0; k < nn; k++) {
      const ux = fUnit[3 * k], uy = fUnit[3 * k + 1], uz = fUnit[3 * k + 2], inv = fInv[k];
      const gx0 = G[4 * k], gy0 = G[4 * k + 1], gz0 = G[4 * k + 2], rad = G[4 * k + 3];
      const dot = ux * gx0 + uy * gy0 + uz * gz0;
      const gx = (gx0 - ux * dot) * inv + rad * ux;
      const gy = (gy0 - uy * dot) * inv + rad * uy;
      const gz = (gz0 - uz * dot) * inv + rad * uz;
      const j = fIndex[k];
      forces[3 * j] -= gx; forces[3 * j + 1] -= gy; forces[3 * j + 2] -= gz;
      fix += gx; fiy += gy; fiz += gz;
    }
    forces[3 * i] += fix; forces[3 * i + 1] += fiy; forces[3 * i + 2] += fiz;
  }


  /** Element table of the system → model species; throws naming an uncovered element. */
  bind(elements: readonly string[]): void {
    const map = new Int32Array(elements.length);
    const missing: string[] = [];
    elements.forEach((e, t) => {
      map[t] = this.basis.elements.indexOf(e);
      if (map[t] < 0) missing.push(e);
    });
    if (missing.length > 0) {
      throw new Error(`trace model does not cover element${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (it covers ${this.basis.elements.join(', ')})`);
    }
    this.speciesMap = map;
  }

  /** System species index → model species index (after bind). */
  modelSpecies(): Int32Array {
    return this.speciesMap;
  }

  private grow(n: number): void {
    if (n <= this.cap) return;
    const cap = Math.max(n, Math.ceil(this.cap * 1.5));
    const P = this.basis.nPairs, nY = this.nY;
    this.nbIndex = new Int32Array(cap);
    this.nbUnit = new Float64Array(3 * cap);
    this.nbR = new Float64Array(cap);
    this.nbY = new Float64Array(cap * nY);
    this.nbDY = new Float64Array(3 * cap * nY);
    this.nbRc = new Float64Array(cap * P);
    this.nbDRc = new Float64Array(cap * P);
    this.cap = cap;
  }

  /** Neighbours of local atom i within the cutoff: fills the per-neighbour tables and A. Returns their count. */
  private gather(atoms: Neighborhood, i: number, offsets: Int32Array, neighbors: Int32Array): number {
    const basis = this.basis, x = atoms.positions, species = atoms.species, smap = this.speciesMap;
    const rc = basis.radial.cutoff, rc2 = rc * rc;
    const start = offsets[i], end = offsets[i + 1];
    if (end - start > this.cap) this.grow(end - start);
    const P = basis.nPairs, S = basis.nSpecies, N = basis.radial.n, nY = this.nY;
    const pairN = basis.pairN, pairW = basis.pairWeight, pairDense = basis.pairDense, pairL = basis.pairL, pairOff = basis.pairOffset;
    const g = this.g, dg = this.dg, A = this.A;
    const nbIndex = this.nbIndex, nbUnit = this.nbUnit, nbR = this.nbR, nbY = this.nbY, nbDY = this.nbDY, nbRc = this.nbRc, nbDRc = this.nbDRc;
    const xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2];
    A.fill(0);
    let count = 0;
    for (let q = start; q < end; q++) {
      const j = neighbors[q];
      const dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - zi;
      const r2 = dx * dx + dy * dy + dz * dz;
      if (r2 >= rc2 || r2 === 0) continue;
      const r = Math.sqrt(r2), inv = 1 / r;
      const ux = dx * inv, uy = dy * inv, uz = dz * inv;
      const k = count++;
      nbIndex[k] = j;
      nbUnit[3 * k] = ux; nbUnit[3 * k + 1] = uy; nbUnit[3 * k + 2] = uz;
      nbR[k] = r;
      const yOff = k * nY;
      this.sh.valuesAndGradients(ux, uy, uz, inv, nbY, nbDY, yOff);
      basis.radial.evaluate(r, g, dg, 0);
      const zj = smap[species[j]];
      const rOff = k * P;
      for (let p = 0; p < P; p++) {
        const n = pairN[p];
        let R: number, dR: number;
        if (n >= 0) {
          const w = pairW[p * S + zj];
          R = w * g[n]; dR = w * dg[n];
        } else {
          const mo = (p * S + zj) * N;
          R = 0; dR = 0;
          for (let t = 0; t < N; t++) { R += pairDense[mo + t] * g[t]; dR += pairDense[mo + t] * dg[t]; }
        }
        nbRc[rOff + p] = R; nbDRc[rOff + p] = dR;
        if (R === 0) continue;
        const l = pairL[p], o = pairOff[p], yb = yOff + l * l;
        for (let m = 0; m <= 2 * l; m++) A[o + m] += R * nbY[yb + m];
      }
    }
    return count;
  }

  /**
   * Straightforward reference of `energy` (per-pair radial tables, A in the basis
   * layout, per-pair gradient contraction): kept to check the fast path against.
   */
  energyReference(atoms: Neighborhood, coef: Float64Array, e0: Float64Array, forces: Float64Array, atomEnergies: Float64Array | null): number {
    const basis = this.basis, { offsets, neighbors } = atoms.full!;
    const nMono = basis.nMono, mi = basis.monoIdx, ms = basis.monoStart;
    const A = this.A, w = this.omega, smap = this.speciesMap, species = atoms.species;
    let total = 0;
    for (let i = atoms.rowStart ?? 0, rowEnd = atoms.rowEnd ?? atoms.nLocal; i < rowEnd; i++) {
      const zi = smap[species[i]];
      const nn = this.gather(atoms, i, offsets, neighbors);
      const cb = zi * nMono;
      w.fill(0);
      let e = e0[zi];
      for (let a = ms[0]; a < ms[1]; a++) {
        const c = coef[cb + a], v = mi[4 * a];
        e += c * A[v]; w[v] += c;
      }
      for (let a = ms[1]; a < ms[2]; a++) {
        const c = coef[cb + a], v1 = mi[4 * a], v2 = mi[4 * a + 1];
        const a1 = A[v1], a2 = A[v2];
        e += c * a1 * a2; w[v1] += c * a2; w[v2] += c * a1;
      }
      for (let a = ms[2]; a < ms[3]; a++) {
        const c = coef[cb + a], v1 = mi[4 * a], v2 = mi[4 * a + 1], v3 = mi[4 * a + 2];
        const a1 = A[v1], a2 = A[v2], a3 = A[v3], a12 = a1 * a2;
        e += c * a12 * a3; w[v1] += c * a2 * a3; w[v2] += c * a1 * a3; w[v3] += c * a12;
      }
      for (let a = ms[3]; a < ms[4]; a++) {
        const c = coef[cb + a], v1 = mi[4 * a], v2 = mi[4 * a + 1], v3 = mi[4 * a + 2], v4 = mi[4 * a + 3];
        const a1 = A[v1], a2 = A[v2], a3 = A[v3], a4 = A[v4], a12 = a1 * a2, a34 = a3 * a4;
        e += c * a12 * a34; w[v1] += c * a2 * a34; w[v2] += c * a1 * a34; w[v3] += c * a12 * a4; w[v4] += c * a12 * a3;
      }
      total += e;
      if (atomEnergies !== null) atomEnergies[i] += e;
      this.applyGradient(nn, i, w, forces);
    }
    return total;
  }

  /** g_ij = Σ_v ω_v ∂φ_v/∂r_j over all pairs; F_j −= g, F_i += g. */
  private applyGradient(nn: number, i: number, w: Float64Array, forces: Float64Array): void {
    const basis = this.basis, P = basis.nPairs, nY = this.nY, pairL = basis.pairL, pairOff = basis.pairOffset;
    const nbY = this.nbY, nbDY = this.nbDY, nbRc = this.nbRc, nbDRc = this.nbDRc, nbUnit = this.nbUnit, nbIndex = this.nbIndex;
    let fix = 0, fiy = 0, fiz = 0;
    for (let k = 0; k < nn; k++) {
      const yOff = k * nY, rOff = k * P;
      let gx = 0, gy = 0, gz = 0, radial = 0;
      for (let p = 0; p < P; p++) {
        const R = nbRc[rOff + p], dR = nbDRc[rOff + p];
        if (R === 0 && dR === 0) continue;
        const l = pairL[p], o = pairOff[p], yb = yOff + l * l;
        let s1 = 0, sx = 0, sy = 0, sz = 0;
        for (let m = 0; m <= 2 * l; m++) {
          const om = w[o + m];
          const y = yb + m;
          s1 += om * nbY[y];
          sx += om * nbDY[3 * y]; sy += om * nbDY[3 * y + 1]; sz += om * nbDY[3 * y + 2];
        }
        radial += dR * s1;
        gx += R * sx; gy += R * sy; gz += R * sz;
      }
      gx += radial * nbUnit[3 * k]; gy += radial * nbUnit[3 * k + 1]; gz += radial * nbUnit[3 * k + 2];
      const j = nbIndex[k];
      forces[3 * j] -= gx; forces[3 * j + 1] -= gy; forces[3 * j + 2] -= gz;
      fix += gx; fiy += gy; fiz += gz;
    }
    forces[3 * i] += fix; forces[3 * i + 1] += fiy; forces[3 * i + 2] += fiz;
  }

  /** Descriptor values B_{i,b} of every local atom (nLocal × F). */
  descriptors(atoms: Neighborhood): Float64Array {
    const F = this.basis.nFunctions, out = new Float64Array(atoms.nLocal * F);
    const { offsets, neighbors } = atoms.full!;
    for (let i = 0; i < atoms.nLocal; i++) {
      this.gather(atoms, i, offsets, neighbors);
      this.products();
      out.set(this.B, i * F);
    }
    return out;
  }

  /** AA from A, then B = U·AA. */
  private products(): void {
    const basis = this.basis, A = this.A, AA = this.AA, mi = basis.monoIdx, ms = basis.monoStart;
    for (let a = ms[0]; a < ms[1]; a++) AA[a] = A[mi[4 * a]];
    for (let a = ms[1]; a < ms[2]; a++) AA[a] = A[mi[4 * a]] * A[mi[4 * a + 1]];
    for (let a = ms[2]; a < ms[3]; a++) AA[a] = A[mi[4 * a]] * A[mi[4 * a + 1]] * A[mi[4 * a + 2]];
    for (let a = ms[3]; a < ms[4]; a++) AA[a] = A[mi[4 * a]] * A[mi[4 * a + 1]] * A[mi[4 * a + 2]] * A[mi[4 * a + 3]];
    const fo = basis.fOffsets, fm = basis.fMono, fc = basis.fCoef, B = this.B;
    for (let b = 0; b < basis.nFunctions; b++) {
      let s = 0;
      for (let k = fo[b]; k < fo[b + 1]; k++) s += fc[k] * AA[fm[k]];
      B[b] = s;
    }
  }

  /**
   * Fitting rows of one structure: per-species sums of B (energy row), force rows
   * and virial rows for every function, folded onto local atoms.
   */
  design(atoms: Neighborhood, wantVirial = true): DesignBlock {
    const basis = this.basis, F = basis.nFunctions, S = basis.nSpecies, cols = S * F, n = atoms.nLocal;
    const { offsets, neighbors } = atoms.full!;
    const block: DesignBlock = {
      energy: new Float64Array(cols),
      forces: new Float64Array(3 * n * cols),
      virial: new Float64Array(6 * cols),
      atoms: new Float64Array(n * F),
      counts: new Float64Array(S),
    };
    const A = this.A, w = this.omega, mi = basis.monoIdx;
    const fo = basis.fOffsets, fm = basis.fMono, fc = basis.fCoef, fpo = basis.fPairOffsets, fpl = basis.fPairList;
    const pairL = basis.pairL, pairOff = basis.pairOffset, P = basis.nPairs, nY = this.nY;
    const nbY = this.nbY, nbDY = this.nbDY, nbRc = this.nbRc, nbDRc = this.nbDRc, nbUnit = this.nbUnit, nbIndex = this.nbIndex, nbR = this.nbR;
    const owner = atoms.owner, smap = this.speciesMap, species = atoms.species;
    const Fr = block.forces, V = block.virial;
    w.fill(0);
    for (let i = 0; i < n; i++) {
      const zi = smap[species[i]];
      block.counts[zi]++;
      const nn = this.gather(atoms, i, offsets, neighbors);
      this.products();
      block.atoms.set(this.B, i * F);
      for (let b = 0; b < F; b++) block.energy[zi * F + b] += this.B[b];
      for (let b = 0; b < F; b++) {
        const col = zi * F + b;
        // ω for this function.
        for (let k = fo[b]; k < fo[b + 1]; k++) {
          const c = fc[k], a = fm[k], q = 4 * a;
          const v1 = mi[q], v2 = mi[q + 1], v3 = mi[q + 2], v4 = mi[q + 3];
          if (v2 < 0) { w[v1] += c; continue; }
          if (v3 < 0) { w[v1] += c * A[v2]; w[v2] += c * A[v1]; continue; }
          if (v4 < 0) { w[v1] += c * A[v2] * A[v3]; w[v2] += c * A[v1] * A[v3]; w[v3] += c * A[v1] * A[v2]; continue; }
          const a1 = A[v1], a2 = A[v2], a3 = A[v3], a4 = A[v4];
          w[v1] += c * a2 * a3 * a4; w[v2] += c * a1 * a3 * a4; w[v3] += c * a1 * a2 * a4; w[v4] += c * a1 * a2 * a3;
        }
        const fb = col * 3 * n;
        let fix = 0, fiy = 0, fiz = 0;
        let wxx = 0, wyy = 0, wzz = 0, wyz = 0, wxz = 0, wxy = 0;
        for (let k = 0; k < nn; k++) {
          const yOff = k * nY, rOff = k * P;
          let gx = 0, gy = 0, gz = 0, radial = 0;
          for (let t = fpo[b]; t < fpo[b + 1]; t++) {
            const p = fpl[t];
            const R = nbRc[rOff + p], dR = nbDRc[rOff + p];
            if (R === 0 && dR === 0) continue;
            const l = pairL[p], o = pairOff[p], yb = yOff + l * l;
            let s1 = 0, sx = 0, sy = 0, sz = 0;
            for (let m = 0; m <= 2 * l; m++) {
              const om = w[o + m], y = yb + m;
              s1 += om * nbY[y];
              sx += om * nbDY[3 * y]; sy += om * nbDY[3 * y + 1]; sz += om * nbDY[3 * y + 2];
            }
            radial += dR * s1;
            gx += R * sx; gy += R * sy; gz += R * sz;
          }
          const ux = nbUnit[3 * k], uy = nbUnit[3 * k + 1], uz = nbUnit[3 * k + 2];
          gx += radial * ux; gy += radial * uy; gz += radial * uz;
          const j = fb + 3 * owner[nbIndex[k]];
          Fr[j] -= gx; Fr[j + 1] -= gy; Fr[j + 2] -= gz;
          fix += gx; fiy += gy; fiz += gz;
          if (wantVirial) {
            // W = Σ x⊗f = −Σ r_ij ⊗ g_ij
            const r = nbR[k], rx = ux * r, ry = uy * r, rz = uz * r;
            wxx -= rx * gx; wyy -= ry * gy; wzz -= rz * gz; wyz -= ry * gz; wxz -= rx * gz; wxy -= rx * gy;
          }
        }
        Fr[fb + 3 * i] += fix; Fr[fb + 3 * i + 1] += fiy; Fr[fb + 3 * i + 2] += fiz;
        if (wantVirial) {
          V[col] += wxx; V[cols + col] += wyy; V[2 * cols + col] += wzz; V[3 * cols + col] += wyz; V[4 * cols + col] += wxz; V[5 * cols + col] += wxy;
        }
        // reset ω on this function's pairs
        for (let t = fpo[b]; t < fpo[b + 1]; t++) {
          const p = fpl[t], o = pairOff[p];
          for (let m = 0; m <= 2 * pairL[p]; m++) w[o + m] = 0;
        }
      }
    }
    return block;
  }
}

/**
 * Picks one of the two displacements ±d between an atom and its own periodic image:
 * true when the first component clearly different from zero (beyond rounding of
 * the image shift) is positive.
 */
function firstPositive(dx: number, dy: number, dz: number): boolean {
  const tol = 1e-8;
  if (dx > tol) return true;
  if (dx < -tol) return false;
  if (dy > tol) return true;
  if (dy < -tol) return false;
  return dz > 0;
}
