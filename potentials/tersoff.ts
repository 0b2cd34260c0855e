/**
 * Tersoff bond-order potential, read from LAMMPS `.tersoff` files and evaluated as
 * LAMMPS's `pair_style tersoff` (29 Sep 2021, default shift 0) does:
 *
 *   E = ½ Σ_i Σ_{j≠i} [ f_C(r_ij) A e^{−λ1 r_ij}  −  b_ij f_C(r_ij) B e^{−λ2 r_ij} ]
 *   b_ij = (1 + (β ζ_ij)^n)^{−1/(2n)},  ζ_ij = Σ_{k≠i,j} f_C(r_ik) g(θ_ijk) exp[(λ3 (r_ij − r_ik))^m]
 *   g(θ) = γ (1 + c²/d² − c²/(d² + (h − cos θ)²)),  m ∈ {1, 3}
 *   f_C(r) = 1 (r < R−D),  ½ − ½ sin(π/2 (r−R)/D) (|r−R| ≤ D),  0 (r > R+D)
 *
 * (Tersoff, PRB 37, 6991 (1988) and PRB 39, 5566 (1989); LAMMPS pair_tersoff
 * documentation.) Parameter mixing as in LAMMPS: the pair terms of i-j and
 * n, β, λ2, B, R, D of b_ij come from entry i j j; γ, λ3, m, c, d, h and the
 * R, D of f_C(r_ik) from entry i j k. The repulsive term of each pair is taken
 * from one direction only, chosen by LAMMPS's atom-tag rule, so files whose i j j
 * and j i i entries differ give LAMMPS's numbers. b_ij uses LAMMPS's asymptotic
 * forms for very large or very small βζ, and exp of the ζ argument is clamped
 * outside ±69.0776 as there. Per-atom energies: half of each pair term and of each
 * bond's ½ b_ij f_A to each of its two atoms (LAMMPS's ev_tally).
 */
import { registerPotential } from './registry.ts';
import { requireElements, type ComputeOutput, type Neighborhood, type Potential, type PotentialSpec } from './potential.ts';
import { resolvePotentialFile } from './files.ts';
import { checkField, readTripletFile } from './sw-triplets.ts';
import { ownsPair } from './sw.ts';

export interface TersoffSpec {
  /** A `.tersoff` file: a path, or a bare name in the LAMMPS potentials directory. */
  file: string;
  /** File elements to use (like LAMMPS pair_coeff); default every element of the file. */
  elements?: string[];
}

/** The numbers of a `.tersoff` entry, in file order (h is cos θ0). */
export const TERSOFF_FIELDS = ['m', 'gamma', 'lambda3', 'c', 'd', 'costheta0', 'n', 'beta', 'lambda2', 'B', 'R', 'D', 'lambda1', 'A'] as const;

/** LAMMPS's clamp of the exponent in ζ: beyond it exp() is taken as 1e30 or 0. */
const ZETA_EXP_LIMIT = 69.0776;
const ZETA_EXP_HUGE = 1e30;

export class Tersoff implements Potential {
  readonly kind = 'tersoff';
  readonly neighborList = 'full';
  readonly elements: readonly string[];
  readonly cutoff: number;
  /** Resolved path of the parameter file. */
  readonly file: string;

  private readonly ne: number;
  // Pair tables, index a·ne + b (entry a b b).
  private readonly pCutsq: Float64Array;
  private readonly pR: Float64Array;
  private readonly pD: Float64Array;
  private readonly pLam1: Float64Array;
  private readonly pA: Float64Array;
  private readonly pLam2: Float64Array;
  private readonly pB: Float64Array;
  private readonly pBeta: Float64Array;
  private readonly pN: Float64Array;
  /** Thresholds of b_ij's asymptotic branches (LAMMPS c1..c4). */
  private readonly pC1: Float64Array;
  private readonly pC2: Float64Array;
  private readonly pC3: Float64Array;
  private readonly pC4: Float64Array;
  // Triplet tables, index (a·ne + b)·ne + c (entry a b c).
  private readonly tCutsq: Float64Array;
  private readonly tR: Float64Array;
  private readonly tD: Float64Array;
  private readonly tLam3: Float64Array;
  private readonly tCube: Uint8Array;
  private readonly tGamma: Float64Array;
  private readonly tC2: Float64Array;
  private readonly tD2: Float64Array;
  private readonly tH: Float64Array;
  /** True when R, D of every entry i j k equal those of i k k, so f_C(r_ik) can be cached per k. */
  private readonly cutoffPerPair: boolean;

  private typeOf = new Int32Array(0);

  // Per-atom short neighbour list (within the largest cutoff) and its cached terms.
  private shortCap = 0;
  private sIndex = new Int32Array(0);
  private sType = new Int32Array(0);
  private sDx = new Float64Array(0);
  private sDy = new Float64Array(0);
  private sDz = new Float64Array(0);
  private sRsq = new Float64Array(0);
  private sR = new Float64Array(0);
  private sRinv = new Float64Array(0);
  private sFc = new Float64Array(0);
  private sDfc = new Float64Array(0);
  private sFx = new Float64Array(0);
  private sFy = new Float64Array(0);
  private sFz = new Float64Array(0);
  // Per-bond terms of the ζ sum, reused by the force loop.
  private kSlot = new Int32Array(0);
  private kFc = new Float64Array(0);
  private kDfc = new Float64Array(0);
  private kG = new Float64Array(0);
  private kGd = new Float64Array(0);
  private kEx = new Float64Array(0);
  private kExd = new Float64Array(0);
  private kCos = new Float64Array(0);

  constructor(spec: TersoffSpec) {
    if (!spec || typeof spec.file !== 'string') throw new Error(`tersoff: spec needs 'file', the .tersoff parameter file`);
    if (spec.elements !== undefined && !Array.isArray(spec.elements)) throw new Error(`tersoff: 'elements' must be an array of element names`);
    this.file = resolvePotentialFile(spec.file);
    const table = readTripletFile(this.file, 'tersoff', TERSOFF_FIELDS, spec.elements);
    const F = Object.fromEntries(TERSOFF_FIELDS.map((f, k) => [f, k])) as Record<(typeof TERSOFF_FIELDS)[number], number>;
    for (const entry of table.entries) {
      // LAMMPS's parameter checks (pair_tersoff.cpp read_file).
      for (const field of ['c', 'd', 'n', 'beta', 'lambda2', 'B', 'R', 'D', 'lambda1', 'A', 'gamma'] as const) {
        checkField(table, entry, TERSOFF_FIELDS, field, (v) => v >= 0, 'must be ≥ 0');
      }
      checkField(table, entry, TERSOFF_FIELDS, 'm', (v) => v === 1 || v === 3, 'm must be 1 or 3');
      const R = entry.values[F.R];
      checkField(table, entry, TERSOFF_FIELDS, 'D', (v) => v <= R, `D must not exceed R = ${R}`);
    }
    this.elements = table.elements;
    const ne = (this.ne = table.elements.length);
    const n2 = ne * ne, n3 = n2 * ne;
    const f2 = () => new Float64Array(n2), f3 = () => new Float64Array(n3);
    this.pCutsq = f2(); this.pR = f2(); this.pD = f2(); this.pLam1 = f2(); this.pA = f2();
    this.pLam2 = f2(); this.pB = f2(); this.pBeta = f2(); this.pN = f2();
    this.pC1 = f2(); this.pC2 = f2(); this.pC3 = f2(); this.pC4 = f2();
    this.tCutsq = f3(); this.tR = f3(); this.tD = f3(); this.tLam3 = f3(); this.tCube = new Uint8Array(n3);
    this.tGamma = f3(); this.tC2 = f3(); this.tD2 = f3(); this.tH = f3();

    let cutmax = 0;
    let perPair = true;
    for (let a = 0; a < ne; a++) {
      for (let b = 0; b < ne; b++) {
        const ab = a * ne + b;
        const v = table.entries[(a * ne + b) * ne + b].values;
        const cut = v[F.R] + v[F.D];
        this.pCutsq[ab] = cut * cut;
        this.pR[ab] = v[F.R];
        this.pD[ab] = v[F.D];
        this.pLam1[ab] = v[F.lambda1];
        this.pA[ab] = v[F.A];
        this.pLam2[ab] = v[F.lambda2];
        this.pB[ab] = v[F.B];
        this.pBeta[ab] = v[F.beta];
        const n = v[F.n];
        this.pN[ab] = n;
        if (n > 0) {
          this.pC1[ab] = Math.pow(2 * n * 1e-16, -1 / n);
          this.pC2[ab] = Math.pow(2 * n * 1e-8, -1 / n);
          this.pC3[ab] = 1 / this.pC2[ab];
          this.pC4[ab] = 1 / this.pC1[ab];
        }
        for (let c = 0; c < ne; c++) {
          const abc = (a * ne + b) * ne + c;
          const w = table.entries[abc].values;
          const cutT = w[F.R] + w[F.D];
          cutmax = Math.max(cutmax, cutT);
          this.tCutsq[abc] = cutT * cutT;
          this.tR[abc] = w[F.R];
          this.tD[abc] = w[F.D];
          this.tLam3[abc] = w[F.lambda3];
          this.tCube[abc] = w[F.m] === 3 ? 1 : 0;
          this.tGamma[abc] = w[F.gamma];
          this.tC2[abc] = w[F.c] * w[F.c];
          this.tD2[abc] = w[F.d] * w[F.d];
          this.tH[abc] = w[F.costheta0];
          const acc = table.entries[(a * ne + c) * ne + c].values;
          if (acc[F.R] !== w[F.R] || acc[F.D] !== w[F.D]) perPair = false;
        }
      }
    }
    this.cutoffPerPair = perPair;
    this.cutoff = cutmax;
    if (!(cutmax > 0)) throw new Error(`tersoff file ${this.file}: every entry has a zero cutoff (R + D)`);
  }

  bind(elements: readonly string[]): void {
    requireElements(`tersoff potential ${this.file}`, this.elements, elements);
    this.typeOf = Int32Array.from(elements, (e) => this.elements.indexOf(e));
  }

  private ensureShort(n: number): void {
    if (n <= this.shortCap) return;
    const cap = Math.max(n, 2 * this.shortCap, 64);
    this.shortCap = cap;
    const f = () => new Float64Array(cap);
    this.sIndex = new Int32Array(cap); this.sType = new Int32Array(cap);
    this.sDx = f(); this.sDy = f(); this.sDz = f(); this.sRsq = f(); this.sR = f(); this.sRinv = f();
    this.sFc = f(); this.sDfc = f(); this.sFx = f(); this.sFy = f(); this.sFz = f();
    this.kSlot = new Int32Array(cap);
    this.kFc = f(); this.kDfc = f(); this.kG = f(); this.kGd = f(); this.kEx = f(); this.kExd = f(); this.kCos = f();
  }

  compute(atoms: Neighborhood, out: ComputeOutput): void {
    const full = atoms.full;
    if (!full) throw new Error('tersoff: needs a full neighbour list');
    const { offsets, neighbors } = full;
    const nLocal = atoms.nLocal;
    let maxNeighbors = 0;
    for (let i = 0; i < nLocal; i++) maxNeighbors = Math.max(maxNeighbors, offsets[i + 1] - offsets[i]);
    this.ensureShort(maxNeighbors);
    out.energy += this.evaluate(nLocal, offsets, neighbors, atoms.positions, atoms.species, atoms.owner, out.forces, out.atomEnergies);
  }

  private evaluate(
    nLocal: number,
    offsets: Int32Array,
    neighbors: Int32Array,
    x: Float64Array,
    species: Int32Array,
    owner: Int32Array,
    f: Float64Array,
    eatom: Float64Array | null,
  ): number {
    const ne = this.ne, typeOf = this.typeOf;
    const pCutsq = this.pCutsq, pR = this.pR, pD = this.pD, pLam1 = this.pLam1, pA = this.pA;
    const pLam2 = this.pLam2, pB = this.pB, pBeta = this.pBeta, pN = this.pN;
    const pC1 = this.pC1, pC2 = this.pC2, pC3 = this.pC3, pC4 = this.pC4;
    const tCutsq = this.tCutsq, tR = this.tR, tD = this.tD, tLam3 = this.tLam3, tCube = this.tCube;
    const tGamma = this.tGamma, tC2 = this.tC2, tD2 = this.tD2, tH = this.tH;
    const perPair = this.cutoffPerPair;
    const sIndex = this.sIndex, sType = this.sType, sDx = this.sDx, sDy = this.sDy, sDz = this.sDz;
    const sRsq = this.sRsq, sR = this.sR, sRinv = this.sRinv, sFc = this.sFc, sDfc = this.sDfc;
    const sFx = this.sFx, sFy = this.sFy, sFz = this.sFz;
    const kSlot = this.kSlot, kFc = this.kFc, kDfc = this.kDfc, kG = this.kG, kGd = this.kGd;
    const kEx = this.kEx, kExd = this.kExd, kCos = this.kCos;
    const cutmaxsq = this.cutoff * this.cutoff;
    let energy = 0;

    for (let i = 0; i < nLocal; i++) {
      const ti = typeOf[species[i]];
      const xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2];
      let fxi = 0, fyi = 0, fzi = 0, ei = 0;
      let ns = 0;
      const end = offsets[i + 1];

      // Short list and the repulsive pair terms (each pair once, LAMMPS's choice of direction).
      for (let p = offsets[i]; p < end; p++) {
        const j = neighbors[p];
        const dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - zi;
        const rsq = dx * dx + dy * dy + dz * dz;
        if (rsq >= cutmaxsq) continue;
        const tj = typeOf[species[j]];
        const ij = ti * ne + tj;
        const r = Math.sqrt(rsq);
        const s = ns++;
        sIndex[s] = j; sType[s] = tj;
        sDx[s] = dx; sDy[s] = dy; sDz[s] = dz;
        sRsq[s] = rsq; sR[s] = r; sRinv[s] = 1 / r;
        sFx[s] = 0; sFy[s] = 0; sFz[s] = 0;
        if (perPair) {
          // f_C(r_ik) with the R, D of entry i k k (equal to those of every i j k).
          const R = pR[ij], D = pD[ij];
          sFc[s] = cutoffFunction(r, R, D);
          sDfc[s] = cutoffDerivative(r, R, D);
        }
        if (rsq >= pCutsq[ij] || !ownsPair(i, j, owner[j], xi, yi, zi, x)) continue;
        const R = pR[ij], D = pD[ij], lam1 = pLam1[ij];
        const fc = cutoffFunction(r, R, D), dfc = cutoffDerivative(r, R, D);
        const ex = Math.exp(-lam1 * r);
        // fpair = −(1/r) dV_R/dr
        const fpair = (-pA[ij] * ex * (dfc - fc * lam1)) / r;
        const e = fc * pA[ij] * ex;
        energy += e;
        fxi -= dx * fpair; fyi -= dy * fpair; fzi -= dz * fpair;
        sFx[s] += dx * fpair; sFy[s] += dy * fpair; sFz[s] += dz * fpair;
        if (eatom !== null) { ei += 0.5 * e; eatom[j] += 0.5 * e; }
      }

      // Bond-order (attractive) terms of each bond i-j.
      for (let a = 0; a < ns; a++) {
        const tj = sType[a];
        const ij = ti * ne + tj;
        const rsq1 = sRsq[a];
        if (rsq1 >= pCutsq[ij]) continue;
        const r1 = sR[a], r1inv = sRinv[a];
        const u1x = sDx[a] * r1inv, u1y = sDy[a] * r1inv, u1z = sDz[a] * r1inv;
        const ijBase = ij * ne;

        // ζ_ij and the per-k pieces its derivative needs.
        let zeta = 0;
        let nk = 0;
        for (let b = 0; b < ns; b++) {
          if (b === a) continue;
          const ijk = ijBase + sType[b];
          if (sRsq[b] >= tCutsq[ijk]) continue;
          const r2 = sR[b], r2inv = sRinv[b];
          const cos = (u1x * sDx[b] + u1y * sDy[b] + u1z * sDz[b]) * r2inv;
          let fc: number, dfc: number;
          if (perPair) { fc = sFc[b]; dfc = sDfc[b]; }
          else { fc = cutoffFunction(r2, tR[ijk], tD[ijk]); dfc = cutoffDerivative(r2, tR[ijk], tD[ijk]); }
          const lam3 = tLam3[ijk];
          const dr = r1 - r2;
          let arg: number, ex: number, exd: number;
          if (tCube[ijk] === 1) { const t = lam3 * dr; arg = t * t * t; }
          else arg = lam3 * dr;
          if (arg > ZETA_EXP_LIMIT) ex = ZETA_EXP_HUGE;
          else if (arg < -ZETA_EXP_LIMIT) ex = 0;
          else ex = Math.exp(arg);
          if (tCube[ijk] === 1) exd = 3 * lam3 * lam3 * lam3 * dr * dr * ex;
          else exd = lam3 * ex;
          const c2 = tC2[ijk], d2 = tD2[ijk], hcth = tH[ijk] - cos;
          const den = 1 / (d2 + hcth * hcth);
          const gamma = tGamma[ijk];
          const g = gamma * (1 + c2 / d2 - c2 * den);
          const gd = gamma * -2 * c2 * hcth * den * den;
          zeta += fc * g * ex;
          kSlot[nk] = b; kFc[nk] = fc; kDfc[nk] = dfc; kG[nk] = g; kGd[nk] = gd; kEx[nk] = ex; kExd[nk] = exd; kCos[nk] = cos;
          nk++;
        }

        // b_ij(ζ), its derivative and the attractive pair function f_A = −B e^{−λ2 r} f_C.
        const R = pR[ij], D = pD[ij];
        const fc1 = cutoffFunction(r1, R, D), dfc1 = cutoffDerivative(r1, R, D);
        const bex = pB[ij] * Math.exp(-pLam2[ij] * r1);
        const fa = -bex * fc1;
        const faD = bex * (pLam2[ij] * fc1 - dfc1);
        const beta = pBeta[ij], n = pN[ij];
        const tmp = beta * zeta;
        let bij: number, bijD: number;
        if (tmp > pC1[ij]) {
          bij = 1 / Math.sqrt(tmp);
          bijD = beta * -0.5 * Math.pow(tmp, -1.5);
        } else if (tmp > pC2[ij]) {
          const tn = Math.pow(tmp, -n);
          bij = (1 - tn / (2 * n)) / Math.sqrt(tmp);
          bijD = beta * (-0.5 * Math.pow(tmp, -1.5) * (1 - (1 + 1 / (2 * n)) * tn));
        } else if (tmp < pC4[ij]) {
          bij = 1;
          bijD = 0;
        } else if (tmp < pC3[ij]) {
          bij = 1 - Math.pow(tmp, n) / (2 * n);
          bijD = -0.5 * beta * Math.pow(tmp, n - 1);
        } else {
          const tn = Math.pow(tmp, n);
          bij = Math.pow(1 + tn, -1 / (2 * n));
          bijD = (-0.5 * Math.pow(1 + tn, -1 - 1 / (2 * n)) * tn) / zeta;
        }
        const e = 0.5 * bij * fa;
        energy += e;
        if (eatom !== null) { ei += 0.5 * e; eatom[sIndex[a]] += 0.5 * e; }
        // Pair part along the bond: F_i = −∂E/∂x_i = (½ b_ij f_A'(r)) u.
        const fpair = 0.5 * bij * faD;
        let fjx = -u1x * fpair, fjy = -u1y * fpair, fjz = -u1z * fpair;
        fxi += u1x * fpair; fyi += u1y * fpair; fzi += u1z * fpair;

        // ζ part: F_m = prefactor · ∂ζ/∂x_m with prefactor = −½ f_A b'(ζ).
        const prefactor = -0.5 * fa * bijD;
        for (let q = 0; q < nk; q++) {
          const b = kSlot[q];
          const r2inv = sRinv[b];
          const u2x = sDx[b] * r2inv, u2y = sDy[b] * r2inv, u2z = sDz[b] * r2inv;
          const cos = kCos[q], fc = kFc[q], g = kG[q], ex = kEx[q];
          const fgdEx = fc * kGd[q] * ex;
          const fgExd = fc * g * kExd[q];
          // ∂cos/∂x_j = (u2 − cos u1)/r1, ∂cos/∂x_k = (u1 − cos u2)/r2
          const aj = fgdEx * r1inv, ak = fgdEx * r2inv;
          const cj = prefactor * aj, ck = prefactor * ak;
          const uj = prefactor * (fgExd - aj * cos);
          const kk = prefactor * (kDfc[q] * g * ex - fgExd - ak * cos);
          const tjx = cj * u2x + uj * u1x, tjy = cj * u2y + uj * u1y, tjz = cj * u2z + uj * u1z;
          const tkx = ck * u1x + kk * u2x, tky = ck * u1y + kk * u2y, tkz = ck * u1z + kk * u2z;
          fjx += tjx; fjy += tjy; fjz += tjz;
          sFx[b] += tkx; sFy[b] += tky; sFz[b] += tkz;
          fxi -= tjx + tkx; fyi -= tjy + tky; fzi -= tjz + tkz;
        }
        sFx[a] += fjx; sFy[a] += fjy; sFz[a] += fjz;
      }

      for (let s = 0; s < ns; s++) {
        const j = sIndex[s];
        f[3 * j] += sFx[s]; f[3 * j + 1] += sFy[s]; f[3 * j + 2] += sFz[s];
      }
      f[3 * i] += fxi; f[3 * i + 1] += fyi; f[3 * i + 2] += fzi;
      if (eatom !== null) eatom[i] += ei;
    }
    return energy;
  }

  spec(): PotentialSpec {
    return { kind: this.kind, file: this.file, elements: [...this.elements] };
  }
}

/** Tersoff's smooth cutoff f_C(r) for range R ± D. */
function cutoffFunction(r: number, R: number, D: number): number {
  if (r < R - D) return 1;
  if (r > R + D) return 0;
  return 0.5 * (1 - Math.sin((Math.PI / 2) * (r - R) / D));
}

/** df_C/dr. */
function cutoffDerivative(r: number, R: number, D: number): number {
  if (r < R - D) return 0;
  if (r > R + D) return 0;
  return -(Math.PI / 4 / D) * Math.cos((Math.PI / 2) * (r - R) / D);
}

registerPotential('tersoff', (spec) => new Tersoff(spec as unknown as TersoffSpec));
