/**
 * Training the MLPs of a LATTE model with the descriptor frozen (radial centres,
 * widths and species weights fixed): the per-atom descriptors G_i and their exact
 * position Jacobians ∂G_i/∂x_k are computed once per structure
 * (LatteModel.descriptorJacobian), so that a loss-and-gradient evaluation needs only
 * the small MLPs and sparse products with the stored Jacobian — no neighbour loops.
 *
 * Per structure (n local atoms, c_i = ∂E_i/∂G_i):
 *   E = Σ_i E_i,   F_k = −Σ_i Σ_d c_id J_id,k   (J_id,k = ∂G_id/∂x_k, ghosts folded into owners),
 *   W = Σ_i Σ_d c_id V_id   (V_id = Σ_k x_k ⊗ (−∂G_id/∂x_k) over extended atoms, Voigt).
 * The loss is the one of LossEvaluator (train.ts). Its gradient with respect to the MLP
 * parameters θ:
 *   ∂L/∂θ = Σ_i [α ∂E_i/∂θ + ∂/∂θ (u_i · c_i)],   α = 2 wE ΔE/(n² B) … (per structure),
 *   u_id = −(2 wF/Nf) Σ_k r_k · J_id,k + Σ_q cV_q V_id,q   (r = F − F_ref, held fixed),
 * and ∂/∂θ (u_i · c_i) is the exact forward-over-reverse product of the MLP: a tangent
 * ȧ0 = u_i ⊙ invStd is carried through the forward pass (ȯut = ∇_{a0}out · ȧ0 = u_i · c_i)
 * and the objective α·out + ȯut is back-propagated with adjoints of both the values
 * and the tangents (σ'' enters through ȧ = σ'(z) ż). No finite-difference step.
 */
import { ACT_GAUSS, ACT_TANH, activationCode } from './activation.ts';
import type { LatteModel } from './model.ts';
import type { BatchResult, LossWeights, TrainingStructure } from './train.ts';
import { TERMS, addStructure } from './train.ts';

/** What the frozen loss needs of a training structure: its reference data (no positions or neighbour list). */
export type FrozenReference = Pick<TrainingStructure, 'name' | 'nLocal' | 'species' | 'energy' | 'forces' | 'virial' | 'weight'>;

/** A training structure with its descriptors and their Jacobians stored. */
export interface FrozenStructure {
  source: FrozenReference;
  nLocal: number;
  /** Raw descriptors, nLocal·D. */
  G: Float64Array;
  /** Blocks of atom i: blockStart[i] .. blockStart[i+1]; each block is one local atom (ghost images folded). */
  blockStart: Int32Array;
  blockAtom: Int32Array;
  /**
   * ∂G_id/∂x_k per block for the descriptors d in [blockLo, blockHi) only (the others
   * are exactly zero: the neighbour lies outside those terms' radial supports): the
   * triplet of descriptor d of block b is at jac[blockJac[b] + 3·d].
   */
  jac: Float64Array;
  blockLo: Int32Array;
  blockHi: Int32Array;
  blockJac: Int32Array;
  /** Per-atom virial per unit ∂E/∂G, nLocal·D·6 (Voigt xx yy zz yz xz xy), or null without a reference virial. */
  vir: Float64Array | null;
}

/** Bytes the stored arrays of frozen structures take. */
export function frozenBytes(list: readonly FrozenStructure[]): number {
  let b = 0;
  for (const f of list) b += f.G.byteLength + f.blockStart.byteLength + f.blockAtom.byteLength + 3 * f.blockLo.byteLength + f.jac.byteLength + (f.vir?.byteLength ?? 0);
  return b;
}

/** Descriptors and Jacobians of a structure at the model's current descriptor parameters. */
export function freezeStructure(model: LatteModel, s: TrainingStructure): FrozenStructure {
  const n = s.nLocal, D = model.nDescriptors, owner = s.owner, x = s.positions;
  const identity = Int32Array.from({ length: model.nSpecies }, (_, k) => k);
  const maxBlocks = s.full.offsets[n] + n;
  const G = new Float64Array(n * D);
  const blockStart = new Int32Array(n + 1);
  let blockAtom = new Int32Array(maxBlocks);
  const jac = new Float64Array(maxBlocks * D * 3);
  const vir = s.virial ? new Float64Array(n * D * 6) : null;
  const slotOf = new Int32Array(n).fill(-1);
  let nb = 0;
  model.descriptorJacobian({ nLocal: n, positions: x, species: s.species, full: s.full }, identity, (i, nn, nbr, g, jq) => {
    G.set(g.subarray(0, D), i * D);
    const first = nb;
    // Block order: the atom itself, then its neighbours' owners by first appearance.
    for (let q = nn; q >= 0; q--) {
      const q2 = q === nn ? nn : nn - 1 - q; // self first, then neighbours 0..nn-1
      const k = q2 === nn ? i : owner[nbr[q2]];
      let b = slotOf[k];
      if (b < 0) {
        b = slotOf[k] = nb++;
        blockAtom[b] = k;
        jac.fill(0, b * D * 3, (b + 1) * D * 3);
      }
      const src = q2 * D * 3, dst = b * D * 3;
      for (let c = 0; c < D * 3; c++) jac[dst + c] += jq[src + c];
      if (vir) {
        const e = q2 === nn ? i : nbr[q2];
        const rx = x[3 * e], ry = x[3 * e + 1], rz = x[3 * e + 2];
        for (let d = 0; d < D; d++) {
          const o = src + 3 * d, fx = -jq[o], fy = -jq[o + 1], fz = -jq[o + 2], v = (i * D + d) * 6;
          vir[v] += rx * fx; vir[v + 1] += ry * fy; vir[v + 2] += rz * fz;
          vir[v + 3] += ry * fz; vir[v + 4] += rx * fz; vir[v + 5] += rx * fy;
        }
      }
    }
    for (let b = first; b < nb; b++) slotOf[blockAtom[b]] = -1;
    blockStart[i + 1] = nb;
  });
  // Pack each block's range of descriptors with a nonzero triplet.
  const blockLo = new Int32Array(nb), blockHi = new Int32Array(nb), blockJac = new Int32Array(nb);
  let size = 0;
  for (let b = 0; b < nb; b++) {
    let lo = D, hi = 0;
    for (let d = 0; d < D; d++) {
      const o = (b * D + d) * 3;
      if (jac[o] !== 0 || jac[o + 1] !== 0 || jac[o + 2] !== 0) { if (lo === D) lo = d; hi = d + 1; }
    }
    if (lo === D) lo = hi = 0;
    blockLo[b] = lo; blockHi[b] = hi;
    blockJac[b] = size - 3 * lo;
    size += 3 * (hi - lo);
  }
  const packed = new Float64Array(size);
  for (let b = 0; b < nb; b++) packed.set(jac.subarray((b * D + blockLo[b]) * 3, (b * D + blockHi[b]) * 3), blockJac[b] + 3 * blockLo[b]);
  const source: FrozenReference = { name: s.name, nLocal: n, species: s.species, energy: s.energy, forces: s.forces, virial: s.virial, weight: s.weight };
  return { source, nLocal: n, G, blockStart, blockAtom: blockAtom.slice(0, nb), jac: packed, blockLo, blockHi, blockJac, vir };
}

/**
 * The same frozen structure with every array in shared memory, so that posting it to a
 * worker thread shares the arrays instead of copying them (the Jacobians are most of
 * a frozen training set's memory).
 */
export function shareFrozen(fs: FrozenStructure): FrozenStructure {
  const src = fs.source;
  return {
    source: { name: src.name, nLocal: src.nLocal, energy: src.energy, species: onShared(src.species), forces: onShared(src.forces), virial: src.virial && onShared(src.virial), weight: src.weight },
    nLocal: fs.nLocal, G: onShared(fs.G), blockStart: onShared(fs.blockStart), blockAtom: onShared(fs.blockAtom), jac: onShared(fs.jac),
    blockLo: onShared(fs.blockLo), blockHi: onShared(fs.blockHi), blockJac: onShared(fs.blockJac), vir: fs.vir && onShared(fs.vir),
  };
}

function onShared<T extends Float64Array | Int32Array>(a: T): T {
  const copy = (a instanceof Float64Array ? new Float64Array(new SharedArrayBuffer(a.byteLength)) : new Int32Array(new SharedArrayBuffer(a.byteLength))) as T;
  copy.set(a);
  return copy;
}

/** Work of one prepared structure (its neighbour-list entries and atoms), for ordering structures over threads (largest first). */
export function preparedCost(s: TrainingStructure): number {
  return s.full.offsets[s.nLocal] + s.nLocal;
}

/** Work of one structure's loss evaluation, for ordering a batch's structures over threads (largest first). */
export function frozenCost(fs: FrozenStructure): number {
  return fs.jac.length + fs.G.length;
}


/**
 * dst[ho + k] = b_k + Σ_q W_kq src[pin + q], k < nout, with W row-major at th[wo..] and the
 * biases at th[bo..] (bo < 0: no bias, for tangents); four output neurons per pass.
 */
function denseLayer(th: Float64Array, wo: number, bo: number, nin: number, nout: number, src: Float64Array, pin: number, dst: Float64Array, ho: number): void {
  let k = 0;
  for (; k + 4 <= nout; k += 4) {
    let z0 = 0, z1 = 0, z2 = 0, z3 = 0;
    if (bo >= 0) { z0 = th[bo + k]; z1 = th[bo + k + 1]; z2 = th[bo + k + 2]; z3 = th[bo + k + 3]; }
    const w0 = wo + k * nin, w1 = w0 + nin, w2 = w1 + nin, w3 = w2 + nin;
    for (let q = 0; q < nin; q++) {
      const a = src[pin + q];
      z0 += th[w0 + q] * a; z1 += th[w1 + q] * a; z2 += th[w2 + q] * a; z3 += th[w3 + q] * a;
    }
    dst[ho + k] = z0; dst[ho + k + 1] = z1; dst[ho + k + 2] = z2; dst[ho + k + 3] = z3;
  }
  for (; k < nout; k++) {
    let z = bo >= 0 ? th[bo + k] : 0;
    const w = wo + k * nin;
    for (let q = 0; q < nin; q++) z += th[w + q] * src[pin + q];
    dst[ho + k] = z;
  }
}

/**
 * Loss and MLP-parameter gradient of batches of frozen structures: the same loss as
 * LossEvaluator at the descriptor parameters the structures were frozen with; the
 * gradient has entries for the MLP parameters only (the rest stay zero).
 */
export class FrozenLossEvaluator {
  readonly model: LatteModel;
  readonly weights: LossWeights;
  private readonly act: number;
  private readonly L: number;
  private readonly sizes: number[];
  /** Per-atom rows of R = D + Σ hidden values: layer l's values start at off[l] (layer 0: the standardised input). */
  private readonly off: Int32Array;
  private readonly R: number;
  /** Per atom (n·R): activations A, σ'(z) S1 and σ''(z) S2 (hidden layers). */
  private A = new Float64Array(0);
  private S1 = new Float64Array(0);
  private S2 = new Float64Array(0);
  private C = new Float64Array(0);
  private U = new Float64Array(0);
  private F = new Float64Array(0);
  /** One atom's tangents ȧ and ż (R each). */
  private readonly AD: Float64Array;
  private readonly ZD: Float64Array;
  private readonly abar: Float64Array;
  private readonly adbar: Float64Array;
  private readonly abar2: Float64Array;
  private readonly adbar2: Float64Array;
  private readonly zb: Float64Array;
  private readonly zdb: Float64Array;
  private readonly slot: Float64Array;
  private readonly terms = new Float64Array(TERMS);

  constructor(model: LatteModel, weights: LossWeights) {
    this.model = model;
    this.weights = weights;
    this.act = activationCode(model.config.activation);
    this.sizes = model.layerSizes;
    this.L = this.sizes.length - 1;
    this.off = new Int32Array(this.L + 1);
    let h = 0;
    for (let l = 0; l < this.L; l++) { this.off[l] = h; h += this.sizes[l]; }
    this.off[this.L] = h;
    this.R = h;
    const wmax = Math.max(...this.sizes);
    this.AD = new Float64Array(h);
    this.ZD = new Float64Array(h);
    this.abar = new Float64Array(wmax);
    this.adbar = new Float64Array(wmax);
    this.abar2 = new Float64Array(wmax);
    this.adbar2 = new Float64Array(wmax);
    this.zb = new Float64Array(wmax);
    this.zdb = new Float64Array(wmax);
    this.slot = new Float64Array(model.nParameters);
  }

  private ensure(n: number): void {
    const D = this.model.nDescriptors, R = this.R;
    if (this.C.length < n * D) { this.C = new Float64Array(n * D); this.U = new Float64Array(n * D); }
    if (this.A.length < n * R) { this.A = new Float64Array(n * R); this.S1 = new Float64Array(n * R); this.S2 = new Float64Array(n * R); }
    if (this.F.length < 3 * n) this.F = new Float64Array(3 * n);
  }

  /** Loss terms of a batch and (if grad is given) its gradient added to grad, structure by structure in order. */
  batch(structures: readonly FrozenStructure[], grad: Float64Array | null): BatchResult {
    let Nf = 0;
    for (const s of structures) Nf += 3 * s.nLocal;
    const res: BatchResult = { loss: 0, eAbs: 0, eSq: 0, fAbs: 0, fSq: 0, structures: structures.length, components: Nf };
    const slot = grad ? this.slot : null;
    for (const s of structures) {
      this.structure(s, structures.length, Nf, slot, this.terms, 0);
      addStructure(res, this.terms, 0, grad, slot);
    }
    return res;
  }

  /** Energy and forces (3·nLocal, ghosts folded into owners) of a frozen structure at the current MLP parameters. */
  predict(fs: FrozenStructure): { energy: number; forces: Float64Array } {
    const n = fs.nLocal;
    this.ensure(n);
    let energy = 0;
    for (let i = 0; i < n; i++) energy += this.forwardBackward(fs, i);
    const forces = new Float64Array(3 * n);
    this.contractForces(fs, forces);
    return { energy, forces };
  }

  /** F_k = −Σ_i Σ_d c_id J_id,k from C, into F (zeroed first). */
  private contractForces(fs: FrozenStructure, F: Float64Array): void {
    const n = fs.nLocal, D = this.model.nDescriptors, C = this.C;
    F.fill(0, 0, 3 * n);
    const bs = fs.blockStart, ba = fs.blockAtom, J = fs.jac, lo = fs.blockLo, hi = fs.blockHi, bj = fs.blockJac;
    for (let i = 0; i < n; i++) {
      const co = i * D;
      for (let b = bs[i], b1 = bs[i + 1]; b < b1; b++) {
        let fx = 0, fy = 0, fz = 0;
        const jo = bj[b];
        for (let d = lo[b], d1 = hi[b]; d < d1; d++) {
          const c = C[co + d], o = jo + 3 * d;
          fx += c * J[o]; fy += c * J[o + 1]; fz += c * J[o + 2];
        }
        const k = 3 * ba[b];
        F[k] -= fx; F[k + 1] -= fy; F[k + 2] -= fz;
      }
    }
  }

  /** As LossEvaluator.structure: terms to terms[at ..], the whole gradient contribution overwrites slot. */
  structure(fs: FrozenStructure, B: number, Nf: number, slot: Float64Array | null, terms: Float64Array, at: number): void {
    const model = this.model, s = fs.source, n = fs.nLocal, D = model.nDescriptors, ws = s.weight;
    const wE = ws * this.weights.energy, wF = ws * this.weights.forces, wV = ws * this.weights.virial;
    this.ensure(n);
    const C = this.C, U = this.U, F = this.F;
    // Pass 1: energies and c_i = ∂E_i/∂G_i.
    let E = 0;
    for (let i = 0; i < n; i++) E += this.forwardBackward(fs, i);
    // Forces F_k = −Σ_i Σ_d c_id J_id,k.
    this.contractForces(fs, F);
    const bs = fs.blockStart, ba = fs.blockAtom, J = fs.jac, lo = fs.blockLo, hi = fs.blockHi, bj = fs.blockJac;
    const dE = (E - s.energy) / n;
    let loss = (wE * dE * dE) / B;
    let fAbs = 0, fSq = 0;
    const ref = s.forces;
    for (let k = 0; k < 3 * n; k++) {
      const r = F[k] - ref[k];
      F[k] = r;
      fAbs += Math.abs(r);
      fSq += r * r;
    }
    loss += (wF * fSq) / Nf;
    let cV: number[] | null = null;
    if (s.virial && wV > 0) {
      if (!fs.vir) throw new Error(`${s.name}: frozen structure has no virial Jacobian`);
      const W = [0, 0, 0, 0, 0, 0], vir = fs.vir;
      for (let i = 0; i < n; i++) {
        for (let d = 0; d < D; d++) {
          const c = C[i * D + d], v = (i * D + d) * 6;
          for (let q = 0; q < 6; q++) W[q] += c * vir[v + q];
        }
      }
      const r = W.map((w, q) => (w - s.virial![q]) / n);
      let sq = 0;
      for (const q of r) sq += q * q;
      loss += (wV * sq) / (6 * B);
      cV = r.map((q) => (2 * wV * q) / (6 * B * n));
    }
    terms[at] = loss; terms[at + 1] = Math.abs(dE); terms[at + 2] = dE * dE; terms[at + 3] = fAbs; terms[at + 4] = fSq;
    if (!slot) return;
    slot.fill(0);
    // u_i = −(2wF/Nf) Σ_k r_k · J_i,k (+ virial part).
    const cF = (-2 * wF) / Nf;
    for (let i = 0; i < n; i++) {
      const uo = i * D;
      for (let d = 0; d < D; d++) U[uo + d] = 0;
      for (let b = bs[i], b1 = bs[i + 1]; b < b1; b++) {
        const k = 3 * ba[b], rx = cF * F[k], ry = cF * F[k + 1], rz = cF * F[k + 2], jo = bj[b];
        for (let d = lo[b], d1 = hi[b]; d < d1; d++) {
          const o = jo + 3 * d;
          U[uo + d] += rx * J[o] + ry * J[o + 1] + rz * J[o + 2];
        }
      }
      if (cV) {
        const vir = fs.vir!;
        for (let d = 0; d < D; d++) {
          const v = (uo + d) * 6;
          U[uo + d] += cV[0] * vir[v] + cV[1] * vir[v + 1] + cV[2] * vir[v + 2] + cV[3] * vir[v + 3] + cV[4] * vir[v + 4] + cV[5] * vir[v + 5];
        }
      }
    }
    const alpha = (2 * wE * dE) / (n * B);
    for (let i = 0; i < n; i++) this.secondOrder(fs, i, alpha, slot);
  }

  /** Activations and σ', σ'' of atom i (stored), E_i returned, c_i = ∂E_i/∂G_i into C. */
  private forwardBackward(fs: FrozenStructure, i: number): number {
    const model = this.model, th = model.theta, D = model.nDescriptors, sizes = this.sizes, L = this.L, R = this.R, off = this.off;
    const t = fs.source.species[i], mean = model.mean, istd = model.invStd, so = t * D, G = fs.G, go = i * D;
    const A = this.A, S1 = this.S1, S2 = this.S2, row = i * R, act = this.act;
    for (let d = 0; d < D; d++) A[row + d] = (G[go + d] - mean[so + d]) * istd[so + d];
    // Weights into layer l (1..L) of species t start at offs[ob + l].
    const offs = model.layerOffset, ob = t * L - 1;
    for (let l = 1; l < L; l++) {
      const nin = sizes[l - 1], nout = sizes[l], o = offs[ob + l], bo = o + nin * nout, pin = row + off[l - 1], ho = row + off[l];
      denseLayer(th, o, bo, nin, nout, A, pin, A, ho);
      // Activation: value, σ' and σ'' from the pre-activation.
      if (act === ACT_GAUSS) {
        for (let k2 = 0; k2 < nout; k2++) { const z = A[ho + k2], e = Math.exp(-z * z); A[ho + k2] = e; S1[ho + k2] = -2 * z * e; S2[ho + k2] = (4 * z * z - 2) * e; }
      } else if (act === ACT_TANH) {
        for (let k2 = 0; k2 < nout; k2++) { const e = Math.tanh(A[ho + k2]), d1 = 1 - e * e; A[ho + k2] = e; S1[ho + k2] = d1; S2[ho + k2] = -2 * e * d1; }
      } else {
        for (let k2 = 0; k2 < nout; k2++) {
          const z = A[ho + k2], sg = 1 / (1 + Math.exp(-z));
          A[ho + k2] = z * sg; S1[ho + k2] = sg * (1 + z * (1 - sg)); S2[ho + k2] = sg * (1 - sg) * (2 + z * (1 - 2 * sg));
        }
      }
    }
    // Output layer (linear, scaled).
    const o = offs[ob + L];
    const sc = model.outScale[t], nTop = sizes[L - 1], pin = row + off[L - 1];
    let z = th[o + nTop];
    for (let q = 0; q < nTop; q++) z += th[o + q] * A[pin + q];
    const out = z * sc;
    // Reverse: ∂out/∂a, down to the input.
    let abar = this.abar, next = this.abar2;
    for (let q = 0; q < nTop; q++) abar[q] = sc * th[o + q];
    const zb = this.zb;
    for (let l = L - 1; l >= 1; l--) {
      const nin = sizes[l - 1], nout = sizes[l], wo = offs[ob + l], ho = row + off[l];
      for (let k = 0; k < nout; k++) zb[k] = abar[k] * S1[ho + k];
      for (let q = 0; q < nin; q++) next[q] = 0;
      let k = 0;
      for (; k + 4 <= nout; k += 4) {
        const g0 = zb[k], g1 = zb[k + 1], g2 = zb[k + 2], g3 = zb[k + 3];
        const r0 = wo + k * nin, r1 = r0 + nin, r2 = r1 + nin, r3 = r2 + nin;
        for (let q = 0; q < nin; q++) next[q] += th[r0 + q] * g0 + th[r1 + q] * g1 + th[r2 + q] * g2 + th[r3 + q] * g3;
      }
      for (; k < nout; k++) {
        const g = zb[k], r = wo + k * nin;
        for (let q = 0; q < nin; q++) next[q] += th[r + q] * g;
      }
      const tmp = abar; abar = next; next = tmp;
    }
    const C = this.C;
    for (let d = 0; d < D; d++) C[go + d] = abar[d] * istd[so + d];
    return out + model.e0[t];
  }

  /** Adds ∂/∂θ [α·out_i + u_i·c_i] of atom i to g (forward-over-reverse, exact). */
  private secondOrder(fs: FrozenStructure, i: number, alpha: number, g: Float64Array): void {
    const model = this.model, th = model.theta, D = model.nDescriptors, sizes = this.sizes, L = this.L, R = this.R, off = this.off;
    const t = fs.source.species[i], istd = model.invStd, so = t * D, go = i * D;
    const A = this.A, S1 = this.S1, S2 = this.S2, row = i * R, AD = this.AD, ZD = this.ZD, U = this.U;
    for (let d = 0; d < D; d++) AD[d] = U[go + d] * istd[so + d];
    const offs = model.layerOffset, ob = t * L - 1;
    // Tangent forward: ż = W ȧ_prev, ȧ = σ'(z) ż (hidden layers).
    for (let l = 1; l < L; l++) {
      const nin = sizes[l - 1], nout = sizes[l], wo = offs[ob + l], ho = off[l], pin = off[l - 1];
      denseLayer(th, wo, -1, nin, nout, AD, pin, ZD, ho);
      for (let k2 = 0; k2 < nout; k2++) AD[ho + k2] = S1[row + ho + k2] * ZD[ho + k2];
    }
    // Output layer: out = s(W a + b), ȯut = s W ȧ.
    const sc = model.outScale[t], wL = offs[ob + L], nTop = sizes[L - 1], pTop = off[L - 1];
    for (let q = 0; q < nTop; q++) g[wL + q] += sc * (alpha * A[row + pTop + q] + AD[pTop + q]);
    g[wL + nTop] += sc * alpha;
    let abar = this.abar, adbar = this.adbar, abarN = this.abar2, adbarN = this.adbar2;
    for (let q = 0; q < nTop; q++) { const w = sc * th[wL + q]; abar[q] = alpha * w; adbar[q] = w; }
    const zb = this.zb, zdb = this.zdb;
    for (let l = L - 1; l >= 1; l--) {
      const nin = sizes[l - 1], nout = sizes[l], wo = offs[ob + l], ho = off[l], bo = wo + nin * nout, pin = off[l - 1];
      for (let k = 0; k < nout; k++) {
        const sp = S1[row + ho + k];
        const p = abar[k] * sp + adbar[k] * S2[row + ho + k] * ZD[ho + k];
        zb[k] = p;
        zdb[k] = adbar[k] * sp;
        g[bo + k] += p;
      }
      // ∂/∂W_kq: zb_k a_q + zdb_k ȧ_q; four rows per pass over the inputs.
      const ap = row + pin;
      let k = 0;
      for (; k + 4 <= nout; k += 4) {
        const p0 = zb[k], p1 = zb[k + 1], p2 = zb[k + 2], p3 = zb[k + 3];
        const d0 = zdb[k], d1 = zdb[k + 1], d2 = zdb[k + 2], d3 = zdb[k + 3];
        const r0 = wo + k * nin, r1 = r0 + nin, r2 = r1 + nin, r3 = r2 + nin;
        for (let q = 0; q < nin; q++) {
          const a = A[ap + q], ad = AD[pin + q];
          g[r0 + q] += p0 * a + d0 * ad; g[r1 + q] += p1 * a + d1 * ad;
          g[r2 + q] += p2 * a + d2 * ad; g[r3 + q] += p3 * a + d3 * ad;
        }
      }
      for (; k < nout; k++) {
        const p = zb[k], pd = zdb[k], r = wo + k * nin;
        for (let q = 0; q < nin; q++) g[r + q] += p * A[ap + q] + pd * AD[pin + q];
      }
      if (l === 1) break;
      for (let q = 0; q < nin; q++) { abarN[q] = 0; adbarN[q] = 0; }
      for (let k2 = 0; k2 < nout; k2++) {
        const p = zb[k2], pd = zdb[k2], r = wo + k2 * nin;
        for (let q = 0; q < nin; q++) { const w = th[r + q]; abarN[q] += w * p; adbarN[q] += w * pd; }
      }
      let tmp = abar; abar = abarN; abarN = tmp;
      tmp = adbar; adbar = adbarN; adbarN = tmp;
    }
  }
}
