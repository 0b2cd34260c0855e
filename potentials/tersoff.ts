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
 *
 * Evaluation: per atom, a short list of neighbours within the largest cutoff;
 * the ζ factors of each ordered neighbour pair are computed once (and shared by
 * the j-k and k-j orders when the two entries agree) and reused by the force
 * loop; powers in b_ij are taken as exp(y ln x), a few ulps from pow.
 */
import { registerPotential } from './registry.ts';
import { requireElements, type ComputeOutput, type Neighborhood, type Potential, type PotentialSpec, maxNeighborCount } from './potential.ts';
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
  /** Each row computes its own three-body terms and the pairs it owns; compute() honours rowStart/rowEnd. */
  readonly parallel = 'rows';
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

  /** Per triplet type: 1 when entries i j k and i k j share λ3, m, γ, c, d, h (then ζ terms of j-k and k-j share work). */
  private readonly tSymmetric: Uint8Array;


  // Per-atom short neighbour list (within the largest cutoff) and its cached terms.
  private shortCap = 0;
  private sIndex = new Int32Array(0);
  private sType = new Int32Array(0);
  private sBond = new Uint8Array(0);
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
  /** ζ terms of ordered short-list pairs (a, b) at a·ns + b, reused by the force loop. */
  private readonly m = new TripletScratch();

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
    this.tSymmetric = new Uint8Array(n3);
    for (let a = 0; a < ne; a++)
      for (let b = 0; b < ne; b++)
        for (let c = 0; c < ne; c++) {
          const u = table.entries[(a * ne + b) * ne + c].values, w = table.entries[(a * ne + c) * ne + b].values;
          const same = (['m', 'gamma', 'lambda3', 'c', 'd', 'costheta0'] as const).every((k) => u[F[k]] === w[F[k]]);
          this.tSymmetric[(a * ne + b) * ne + c] = same ? 1 : 0;
        }
    this.cutoff = cutmax;
    if (!(cutmax > 0)) throw new Error(`tersoff file ${this.file}: every entry has a zero cutoff (R + D)`);
  }

  bind(elements: readonly string[]): void {
    requireElements(`tersoff potential ${this.file}`, this.elements, elements);
    this.typeOf = Int32Array.from(elements, (e) => this.elements.indexOf(e));
  }

  private ensureShort(n: number): void {
    if (n <= this.shortCap) return;
    const cap = Math.max(n, 2 * this.shortCap, 32);
    this.shortCap = cap;
    const f = () => new Float64Array(cap);
    this.sIndex = new Int32Array(cap); this.sType = new Int32Array(cap); this.sBond = new Uint8Array(cap);
    this.sDx = f(); this.sDy = f(); this.sDz = f(); this.sRsq = f(); this.sR = f(); this.sRinv = f();
    this.sFc = f(); this.sDfc = f(); this.sFx = f(); this.sFy = f(); this.sFz = f();
    this.m.ensure(cap * cap);
  }

  compute(atoms: Neighborhood, out: ComputeOutput): void {
    const full = atoms.full;
    if (!full) throw new Error('tersoff: needs a full neighbour list');
    const { offsets, neighbors } = full;
    const nLocal = atoms.nLocal;
    const rowStart = atoms.rowStart ?? 0, rowEnd = atoms.rowEnd ?? nLocal;
    this.ensureShort(maxNeighborCount(full, rowEnd, rowStart));
    out.energy += this.evaluate(rowStart, rowEnd, offsets, neighbors, atoms.positions, atoms.species, atoms.owner, out.forces, out.atomEnergies);
  }

  private evaluate(
    rowStart: number,
    rowEnd: number,
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
    const tGamma = this.tGamma, tC2 = this.tC2, tD2 = this.tD2, tH = this.tH, tSymmetric = this.tSymmetric;
    const perPair = this.cutoffPerPair;
    const sIndex = this.sIndex, sType = this.sType, sBond = this.sBond, sDx = this.sDx, sDy = this.sDy, sDz = this.sDz;
    const sRsq = this.sRsq, sR = this.sR, sRinv = this.sRinv, sFc = this.sFc, sDfc = this.sDfc;
    const sFx = this.sFx, sFy = this.sFy, sFz = this.sFz;
    const m = this.m;
    const mValid = m.valid, mCos = m.cos, mFc = m.fc, mDfc = m.dfc, mG = m.g, mGd = m.gd, mEx = m.ex, mExd = m.exd;
    const cutmaxsq = this.cutoff * this.cutoff;
    let energy = 0;

    for (let i = rowStart; i < rowEnd; i++) {
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
        const bond = rsq < pCutsq[ij];
        sBond[s] = bond ? 1 : 0;
        if (!bond) continue;
        // f_C of the pair (entry i j j); with perPair also f_C(r_ik) of every i j k.
        const R = pR[ij], D = pD[ij];
        const fc = cutoffFunction(r, R, D), dfc = cutoffDerivative(r, R, D);
        sFc[s] = fc; sDfc[s] = dfc;
        if (!ownsPair(i, j, owner[j], xi, yi, zi, x)) continue;
        const lam1 = pLam1[ij];
        const ex = Math.exp(-lam1 * r);
        // fpair = −(1/r) dV_R/dr
        const fpair = (-pA[ij] * ex * (dfc - fc * lam1)) / r;
        const e = fc * pA[ij] * ex;
        energy += e;
        fxi -= dx * fpair; fyi -= dy * fpair; fzi -= dz * fpair;
        sFx[s] += dx * fpair; sFy[s] += dy * fpair; sFz[s] += dz * fpair;
        if (eatom !== null) { ei += 0.5 * e; eatom[j] += 0.5 * e; }
      }

      // ζ terms of every ordered pair (a, b): bond i-a, neighbour b within the cutoff
      // of entry i a b. When entries i a b and i b a agree, the b-a terms follow from
      // the a-b ones (same angle, exponent of opposite sign).
      for (let a = 0; a < ns; a++) {
        const ta = sType[a], bondA = sBond[a];
        const ra = sR[a], rsqA = sRsq[a], raInv = sRinv[a];
        const uax = sDx[a] * raInv, uay = sDy[a] * raInv, uaz = sDz[a] * raInv;
        const rowA = a * ns;
        for (let b = a + 1; b < ns; b++) {
          const tb = sType[b];
          const ab = rowA + b, ba = b * ns + a;
          const iab = (ti * ne + ta) * ne + tb, iba = (ti * ne + tb) * ne + ta;
          const needAB = bondA === 1 && sRsq[b] < tCutsq[iab];
          const needBA = sBond[b] === 1 && rsqA < tCutsq[iba];
          mValid[ab] = needAB ? 1 : 0;
          mValid[ba] = needBA ? 1 : 0;
          if (!needAB && !needBA) continue;
          const rbInv = sRinv[b];
          const cos = (uax * sDx[b] + uay * sDy[b] + uaz * sDz[b]) * rbInv;
          const dr = ra - sR[b];
          let argAB = 0;
          if (needAB) {
            mCos[ab] = cos;
            argAB = zetaExponent(tLam3[iab], tCube[iab], dr);
            {
              let ex: number;
              if (argAB > ZETA_EXP_LIMIT) ex = ZETA_EXP_HUGE;
              else if (argAB < -ZETA_EXP_LIMIT) ex = 0;
              else ex = Math.exp(argAB);
              const lam3 = tLam3[iab];
              mEx[ab] = ex;
              mExd[ab] = tCube[iab] === 1 ? 3 * lam3 * lam3 * lam3 * dr * dr * ex : lam3 * ex;
              const c2 = tC2[iab], d2 = tD2[iab], hcth = tH[iab] - cos, gamma = tGamma[iab];
              const den = 1 / (d2 + hcth * hcth);
              mG[ab] = gamma * (1 + c2 / d2 - c2 * den);
              mGd[ab] = gamma * -2 * c2 * hcth * den * den;
            }
            if (!perPair) { mFc[ab] = cutoffFunction(sR[b], tR[iab], tD[iab]); mDfc[ab] = cutoffDerivative(sR[b], tR[iab], tD[iab]); }
          }
          if (needBA) {
            mCos[ba] = cos;
            if (needAB && tSymmetric[iab] === 1 && argAB <= ZETA_EXP_LIMIT && argAB >= -ZETA_EXP_LIMIT) {
              const lam3 = tLam3[iab];
              const ex = 1 / mEx[ab];
              mEx[ba] = ex;
              mExd[ba] = tCube[iab] === 1 ? 3 * lam3 * lam3 * lam3 * dr * dr * ex : lam3 * ex;
              mG[ba] = mG[ab];
              mGd[ba] = mGd[ab];
            } else {
              const lam3 = tLam3[iba];
              const arg = zetaExponent(lam3, tCube[iba], -dr);
              let ex: number;
              if (arg > ZETA_EXP_LIMIT) ex = ZETA_EXP_HUGE;
              else if (arg < -ZETA_EXP_LIMIT) ex = 0;
              else ex = Math.exp(arg);
              mEx[ba] = ex;
              mExd[ba] = tCube[iba] === 1 ? 3 * lam3 * lam3 * lam3 * dr * dr * ex : lam3 * ex;
              const c2 = tC2[iba], d2 = tD2[iba], hcth = tH[iba] - cos, gamma = tGamma[iba];
              const den = 1 / (d2 + hcth * hcth);
              mG[ba] = gamma * (1 + c2 / d2 - c2 * den);
              mGd[ba] = gamma * -2 * c2 * hcth * den * den;
            }
            if (!perPair) { mFc[ba] = cutoffFunction(ra, tR[iba], tD[iba]); mDfc[ba] = cutoffDerivative(ra, tR[iba], tD[iba]); }
          }
        }
      }

      // Bond-order (attractive) terms of each bond i-a.
      for (let a = 0; a < ns; a++) {
        if (sBond[a] === 0) continue;
        const ij = ti * ne + sType[a];
        const r1 = sR[a], r1inv = sRinv[a];
        const u1x = sDx[a] * r1inv, u1y = sDy[a] * r1inv, u1z = sDz[a] * r1inv;
        const rowA = a * ns;

        let zeta = 0;
        for (let b = 0; b < ns; b++) {
          const ab = rowA + b;
          if (b === a || mValid[ab] === 0) continue;
          const fc = perPair ? sFc[b] : mFc[ab];
          zeta += fc * mG[ab] * mEx[ab];
        }

        // b_ij(ζ), its derivative and the attractive pair function f_A = −B e^{−λ2 r} f_C.
        const fc1 = sFc[a], dfc1 = sDfc[a];
        const bex = pB[ij] * Math.exp(-pLam2[ij] * r1);
        const fa = -bex * fc1;
        const faD = bex * (pLam2[ij] * fc1 - dfc1);
        const beta = pBeta[ij], n = pN[ij];
        const tmp = beta * zeta;
        // Powers as exp(y·ln x): a few ulps from Math.pow at half the cost.
        let bij: number, bijD: number;
        if (tmp > pC1[ij]) {
          bij = 1 / Math.sqrt(tmp);
          bijD = beta * -0.5 * bij / tmp;
        } else if (tmp > pC2[ij]) {
          const tn = Math.exp(-n * Math.log(tmp)), rs = 1 / Math.sqrt(tmp);
          bij = (1 - tn / (2 * n)) * rs;
          bijD = beta * (-0.5 * (rs / tmp) * (1 - (1 + 1 / (2 * n)) * tn));
        } else if (tmp < pC4[ij]) {
          bij = 1;
          bijD = 0;
        } else if (tmp < pC3[ij]) {
          const tn = Math.exp(n * Math.log(tmp));
          bij = 1 - tn / (2 * n);
          bijD = (-0.5 * beta * tn) / tmp;
        } else {
          const tn = Math.exp(n * Math.log(tmp));
          const onePlus = 1 + tn;
          bij = Math.exp(-Math.log1p(tn) / (2 * n));
          bijD = (-0.5 * (bij / onePlus) * tn) / zeta;
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
        if (prefactor === 0) { sFx[a] += fjx; sFy[a] += fjy; sFz[a] += fjz; continue; }
        for (let b = 0; b < ns; b++) {
          const ab = rowA + b;
          if (b === a || mValid[ab] === 0) continue;
          const r2inv = sRinv[b];
          const u2x = sDx[b] * r2inv, u2y = sDy[b] * r2inv, u2z = sDz[b] * r2inv;
          const cos = mCos[ab], g = mG[ab], ex = mEx[ab];
          const fc = perPair ? sFc[b] : mFc[ab], dfc = perPair ? sDfc[b] : mDfc[ab];
          const fgdEx = fc * mGd[ab] * ex;
          const fgExd = fc * g * mExd[ab];
          // ∂cos/∂x_j = (u2 − cos u1)/r1, ∂cos/∂x_k = (u1 − cos u2)/r2
          const aj = fgdEx * r1inv, ak = fgdEx * r2inv;
          const cj = prefactor * aj, ck = prefactor * ak;
          const uj = prefactor * (fgExd - aj * cos);
          const kk = prefactor * (dfc * g * ex - fgExd - ak * cos);
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

/** Exponent of the ζ term, (λ3 Δr)^m with m = 3 (cube) or 1. */
function zetaExponent(lam3: number, cube: number, dr: number): number {
  const t = lam3 * dr;
  return cube === 1 ? t * t * t : t;
}

/** Angular and radial ζ factors of ordered neighbour pairs, by slot. */
class TripletScratch {
  valid = new Uint8Array(0);
  cos = new Float64Array(0);
  fc = new Float64Array(0);
  dfc = new Float64Array(0);
  g = new Float64Array(0);
  gd = new Float64Array(0);
  ex = new Float64Array(0);
  exd = new Float64Array(0);

  ensure(n: number): void {
    if (this.valid.length >= n) return;
    this.valid = new Uint8Array(n);
    this.cos = new Float64Array(n); this.fc = new Float64Array(n); this.dfc = new Float64Array(n);
    this.g = new Float64Array(n); this.gd = new Float64Array(n); this.ex = new Float64Array(n); this.exd = new Float64Array(n);
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
