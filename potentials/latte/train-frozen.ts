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
import type { LatteModel } from './model.ts';
import type { BatchResult, LossWeights, TrainingStructure } from './train.ts';
import { TERMS, addStructure } from './train.ts';

/** A training structure with its descriptors and their Jacobians stored. */
export interface FrozenStructure {
  source: TrainingStructure;
  nLocal: number;
  /** Raw descriptors, nLocal·D. */
  G: Float64Array;
  /** Blocks of atom i: blockStart[i] .. blockStart[i+1]; each block is one local atom (ghost images folded). */
  blockStart: Int32Array;
  blockAtom: Int32Array;
  /** ∂G_id/∂x_k per block, D·3 each (d major). */
  jac: Float64Array;
  /** Per-atom virial per unit ∂E/∂G, nLocal·D·6 (Voigt xx yy zz yz xz xy), or null without a reference virial. */
  vir: Float64Array | null;
}

/** Bytes the stored arrays of frozen structures take. */
export function frozenBytes(list: readonly FrozenStructure[]): number {
  let b = 0;
  for (const f of list) b += f.G.byteLength + f.blockStart.byteLength + f.blockAtom.byteLength + f.jac.byteLength + (f.vir?.byteLength ?? 0);
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
  let jac = new Float64Array(maxBlocks * D * 3);
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
  if (nb < maxBlocks) {
    blockAtom = blockAtom.slice(0, nb);
    jac = jac.slice(0, nb * D * 3);
  }
  return { source: s, nLocal: n, G, blockStart, blockAtom, jac, vir };
}

const ACT_GAUSS = 0, ACT_TANH = 1, ACT_SILU = 2;

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
  /** Offset of hidden layer l (1..L−1) in a per-atom row of Hsum values. */
  private readonly hOff: Int32Array;
  private readonly hSum: number;
  private Z = new Float64Array(0);
  private A = new Float64Array(0);
  private C = new Float64Array(0);
  private U = new Float64Array(0);
  private F = new Float64Array(0);
  private readonly a0: Float64Array;
  private readonly ad0: Float64Array;
  private readonly zd: Float64Array;
  private readonly ad: Float64Array;
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
    const a = model.config.activation;
    this.act = a === 'gaussian' ? ACT_GAUSS : a === 'tanh' ? ACT_TANH : ACT_SILU;
    this.sizes = model.layerSizes;
    this.L = this.sizes.length - 1;
    this.hOff = new Int32Array(this.L + 1);
    let h = 0;
    for (let l = 1; l < this.L; l++) { this.hOff[l] = h; h += this.sizes[l]; }
    this.hOff[this.L] = h;
    this.hSum = h;
    const wmax = Math.max(...this.sizes);
    this.a0 = new Float64Array(this.sizes[0]);
    this.ad0 = new Float64Array(this.sizes[0]);
    this.zd = new Float64Array(h);
    this.ad = new Float64Array(h);
    this.abar = new Float64Array(wmax);
    this.adbar = new Float64Array(wmax);
    this.abar2 = new Float64Array(wmax);
    this.adbar2 = new Float64Array(wmax);
    this.zb = new Float64Array(wmax);
    this.zdb = new Float64Array(wmax);
    this.slot = new Float64Array(model.nParameters);
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
    const n = fs.nLocal, D = this.model.nDescriptors, H = this.hSum;
    if (this.C.length < n * D) { this.C = new Float64Array(n * D); this.U = new Float64Array(n * D); }
    if (this.Z.length < n * H) { this.Z = new Float64Array(n * H); this.A = new Float64Array(n * H); }
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
    const bs = fs.blockStart, ba = fs.blockAtom, J = fs.jac;
    for (let i = 0; i < n; i++) {
      const co = i * D;
      for (let b = bs[i], b1 = bs[i + 1]; b < b1; b++) {
        let fx = 0, fy = 0, fz = 0;
        const jo = b * D * 3;
        for (let d = 0; d < D; d++) {
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
    const model = this.model, s = fs.source, n = fs.nLocal, D = model.nDescriptors, H = this.hSum;
    const { energy: wE, forces: wF, virial: wV } = this.weights;
    if (this.C.length < n * D) { this.C = new Float64Array(n * D); this.U = new Float64Array(n * D); }
    if (this.Z.length < n * H) { this.Z = new Float64Array(n * H); this.A = new Float64Array(n * H); }
    if (this.F.length < 3 * n) this.F = new Float64Array(3 * n);
    const C = this.C, U = this.U, F = this.F;
    // Pass 1: energies and c_i = ∂E_i/∂G_i.
    let E = 0;
    for (let i = 0; i < n; i++) E += this.forwardBackward(fs, i);
    // Forces F_k = −Σ_i Σ_d c_id J_id,k.
    this.contractForces(fs, F);
    const bs = fs.blockStart, ba = fs.blockAtom, J = fs.jac;
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
        const k = 3 * ba[b], rx = cF * F[k], ry = cF * F[k + 1], rz = cF * F[k + 2], jo = b * D * 3;
        for (let d = 0; d < D; d++) {
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

  /** Pre-activations Z, activations A of atom i (stored), E_i returned, c_i = ∂E_i/∂G_i into C. */
  private forwardBackward(fs: FrozenStructure, i: number): number {
    const model = this.model, th = model.theta, D = model.nDescriptors, sizes = this.sizes, L = this.L, H = this.hSum;
    const t = fs.source.species[i], mean = model.mean, istd = model.invStd, so = t * D, G = fs.G, go = i * D;
    const a0 = this.a0, Z = this.Z, A = this.A, zo = i * H, act = this.act;
    for (let d = 0; d < D; d++) a0[d] = (G[go + d] - mean[so + d]) * istd[so + d];
    let o = model.offMlp[t];
    const offs = this.layerOffsets;
    for (let l = 1; l <= L; l++) {
      const nin = sizes[l - 1], nout = sizes[l], bo = o + nin * nout;
      offs[l] = o;
      if (l === L) {
        let z = th[bo];
        const pin = zo + this.hOff[l - 1];
        if (l === 1) for (let q = 0; q < nin; q++) z += th[o + q] * a0[q];
        else for (let q = 0; q < nin; q++) z += th[o + q] * A[pin + q];
        this.out = z * model.outScale[t];
      } else {
        const ho = zo + this.hOff[l], pin = zo + this.hOff[l - 1];
        for (let k = 0; k < nout; k++) {
          let z = th[bo + k];
          const wo = o + k * nin;
          if (l === 1) for (let q = 0; q < nin; q++) z += th[wo + q] * a0[q];
          else for (let q = 0; q < nin; q++) z += th[wo + q] * A[pin + q];
          Z[ho + k] = z;
          A[ho + k] = act === ACT_GAUSS ? Math.exp(-z * z) : act === ACT_TANH ? Math.tanh(z) : z / (1 + Math.exp(-z));
        }
      }
      o = bo + nout;
    }
    // Reverse, d out: abar over layer L−1's outputs.
    const sc = model.outScale[t];
    let abar = this.abar, next = this.abar2;
    const nTop = sizes[L - 1];
    for (let q = 0; q < nTop; q++) abar[q] = sc * th[offs[L] + q];
    for (let l = L - 1; l >= 1; l--) {
      const nin = sizes[l - 1], nout = sizes[l], wo = offs[l], ho = zo + this.hOff[l];
      const zb = this.zb;
      for (let k = 0; k < nout; k++) zb[k] = abar[k] * this.dsigma(Z[ho + k], A[ho + k]);
      for (let q = 0; q < nin; q++) next[q] = 0;
      for (let k = 0; k < nout; k++) {
        const g = zb[k], r = wo + k * nin;
        for (let q = 0; q < nin; q++) next[q] += th[r + q] * g;
      }
      const tmp = abar; abar = next; next = tmp;
    }
    const C = this.C, co = i * D;
    if (L === 1) for (let d = 0; d < D; d++) C[co + d] = sc * th[offs[1] + d] * istd[so + d];
    else for (let d = 0; d < D; d++) C[co + d] = abar[d] * istd[so + d];
    return this.out + model.e0[t];
  }
  private out = 0;
  private readonly layerOffsets = new Int32Array(16);

  private dsigma(z: number, a: number): number {
    const act = this.act;
    if (act === ACT_GAUSS) return -2 * z * a;
    if (act === ACT_TANH) return 1 - a * a;
    const sg = 1 / (1 + Math.exp(-z));
    return sg * (1 + z * (1 - sg));
  }

  private d2sigma(z: number, a: number): number {
    const act = this.act;
    if (act === ACT_GAUSS) return (4 * z * z - 2) * a;
    if (act === ACT_TANH) return -2 * a * (1 - a * a);
    const sg = 1 / (1 + Math.exp(-z));
    return sg * (1 - sg) * (2 + z * (1 - 2 * sg));
  }

  /** Adds ∂/∂θ [α·out_i + u_i·c_i] of atom i to g (forward-over-reverse, exact). */
  private secondOrder(fs: FrozenStructure, i: number, alpha: number, g: Float64Array): void {
    const model = this.model, th = model.theta, D = model.nDescriptors, sizes = this.sizes, L = this.L, H = this.hSum;
    const t = fs.source.species[i], mean = model.mean, istd = model.invStd, so = t * D, G = fs.G, go = i * D;
    const a0 = this.a0, ad0 = this.ad0, Z = this.Z, A = this.A, zo = i * H, zd = this.zd, ad = this.ad, U = this.U;
    for (let d = 0; d < D; d++) { a0[d] = (G[go + d] - mean[so + d]) * istd[so + d]; ad0[d] = U[go + d] * istd[so + d]; }
    const offs = this.layerOffsets;
    let o = model.offMlp[t];
    for (let l = 1; l <= L; l++) { offs[l] = o; o += sizes[l] * (sizes[l - 1] + 1); }
    // Tangent forward: ż = W ȧ_prev, ȧ = σ'(z) ż (hidden layers).
    for (let l = 1; l < L; l++) {
      const nin = sizes[l - 1], nout = sizes[l], wo = offs[l], ho = this.hOff[l], pin = this.hOff[l - 1];
      for (let k = 0; k < nout; k++) {
        let z = 0;
        const r = wo + k * nin;
        if (l === 1) for (let q = 0; q < nin; q++) z += th[r + q] * ad0[q];
        else for (let q = 0; q < nin; q++) z += th[r + q] * ad[pin + q];
        zd[ho + k] = z;
        ad[ho + k] = this.dsigma(Z[zo + ho + k], A[zo + ho + k]) * z;
      }
    }
    // Output layer: out = s(W a + b), ȯut = s W ȧ.
    const sc = model.outScale[t], wL = offs[L], nTop = sizes[L - 1];
    let abar = this.abar, adbar = this.adbar, abarN = this.abar2, adbarN = this.adbar2;
    if (L === 1) {
      for (let q = 0; q < nTop; q++) g[wL + q] += sc * (alpha * a0[q] + ad0[q]);
    } else {
      const pin = zo + this.hOff[L - 1], pd = this.hOff[L - 1];
      for (let q = 0; q < nTop; q++) g[wL + q] += sc * (alpha * A[pin + q] + ad[pd + q]);
    }
    g[wL + nTop] += sc * alpha;
    for (let q = 0; q < nTop; q++) { const w = sc * th[wL + q]; abar[q] = alpha * w; adbar[q] = w; }
    const zb = this.zb, zdb = this.zdb;
    for (let l = L - 1; l >= 1; l--) {
      const nin = sizes[l - 1], nout = sizes[l], wo = offs[l], ho = this.hOff[l], bo = wo + nin * nout;
      for (let k = 0; k < nout; k++) {
        const z = Z[zo + ho + k], a = A[zo + ho + k], sp = this.dsigma(z, a);
        zb[k] = abar[k] * sp + adbar[k] * this.d2sigma(z, a) * zd[ho + k];
        zdb[k] = adbar[k] * sp;
        g[bo + k] += zb[k];
      }
      if (l === 1) {
        for (let k = 0; k < nout; k++) {
          const p = zb[k], pd = zdb[k], r = wo + k * nin;
          for (let q = 0; q < nin; q++) g[r + q] += p * a0[q] + pd * ad0[q];
        }
      } else {
        const pin = zo + this.hOff[l - 1], pdo = this.hOff[l - 1];
        for (let k = 0; k < nout; k++) {
          const p = zb[k], pd = zdb[k], r = wo + k * nin;
          for (let q = 0; q < nin; q++) g[r + q] += p * A[pin + q] + pd * ad[pdo + q];
        }
        for (let q = 0; q < nin; q++) { abarN[q] = 0; adbarN[q] = 0; }
        for (let k = 0; k < nout; k++) {
          const p = zb[k], pd = zdb[k], r = wo + k * nin;
          for (let q = 0; q < nin; q++) { const w = th[r + q]; abarN[q] += w * p; adbarN[q] += w * pd; }
        }
        let tmp = abar; abar = abarN; abarN = tmp;
        tmp = adbar; adbar = adbarN; adbarN = tmp;
      }
    }
  }
}
