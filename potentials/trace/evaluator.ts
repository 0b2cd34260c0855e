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

  constructor(basis: AceBasis) {
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
   * Adds energies and forces for all local atoms using folded coefficients
   * coef[z·nMono + α] and reference energies e0[z]. Writes per-atom energies if asked.
   */
  energy(atoms: Neighborhood, coef: Float64Array, e0: Float64Array, forces: Float64Array, atomEnergies: Float64Array | null): number {
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
