/**
 * Stillinger–Weber three-body potential, read from LAMMPS `.sw` files and
 * evaluated exactly as LAMMPS's `pair_style sw` does (functional form, parameter
 * mixing, `tol` cutoff shortening, per-atom energy split):
 *
 *   E = Σ_i Σ_{j>i} φ2(r_ij) + Σ_i Σ_{j<k} φ3(r_ij, r_ik, θ_jik)
 *   φ2(r) = A ε [B (σ/r)^p − (σ/r)^q] exp(σ / (r − aσ))
 *   φ3 = λ ε (cosθ_jik − cosθ0)² exp(γ_ij σ_ij / (r_ij − a_ij σ_ij)) exp(γ_ik σ_ik / (r_ik − a_ik σ_ik))
 *
 * Two-body parameters of a pair i-j come from the file entry i j j; the radial
 * factors of φ3 from entries i j j and i k k; λ, ε and cosθ0 from entry i j k
 * (Stillinger & Weber, PRB 31, 5262 (1985); LAMMPS pair_sw documentation).
 *
 * An entry's `tol` > 0 (capped at 0.01) shortens its cutoff from aσ to
 * aσ + σ/ln(tol) (γσ/ln(tol) when γ < 1) while the functional form keeps aσ, as in
 * LAMMPS. Per-atom energies: half of φ2 to each atom of the pair, a third of φ3
 * to each atom of the triplet (LAMMPS's ev_tally / ev_tally3).
 */
import { registerPotential } from './registry.ts';
import { requireElements, type ComputeOutput, type Neighborhood, type Potential, type PotentialSpec, maxNeighborCount } from './potential.ts';
import { resolvePotentialFile } from './files.ts';
import { checkField, readTripletFile } from './sw-triplets.ts';

export interface StillingerWeberSpec {
  /** A `.sw` file: a path, or a bare name in the LAMMPS potentials directory. */
  file: string;
  /** File elements to use (like LAMMPS pair_coeff); default every element of the file. */
  elements?: string[];
}

/** The numbers of a `.sw` entry, in file order. */
export const SW_FIELDS = ['epsilon', 'sigma', 'a', 'lambda', 'gamma', 'costheta0', 'A', 'B', 'p', 'q', 'tol'] as const;

/** Largest tol LAMMPS accepts; larger values are reduced to it. */
const SW_MAX_TOL = 0.01;
/** Numbers per short-list record: dx, dy, dz, 1/r, 1/r², exp(γσ/(r−aσ)), γσ/(r−aσ)²/r. */
const SHORT = 7;
/** Integer exponents up to this are evaluated as products instead of Math.pow. */
const MAX_INTEGER_POWER = 64;

/** b^n for a small non-negative integer n, by squaring. */
function integerPower(b: number, n: number): number {
  let r = 1;
  while (n > 0) {
    if (n & 1) r *= b;
    b *= b;
    n >>= 1;
  }
  return r;
}

export class StillingerWeber implements Potential {
  readonly kind = 'sw';
  readonly neighborList = 'full';
  /** Each row computes its own three-body terms and the pairs it owns; compute() honours rowStart/rowEnd. */
  readonly parallel = 'rows';
  readonly elements: readonly string[];
  readonly cutoff: number;
  /** Resolved path of the parameter file. */
  readonly file: string;

  private readonly ne: number;
  // Two-body tables, index a·ne + b (from entry a b b).
  private readonly cut: Float64Array;
  private readonly cutsq: Float64Array;
  private readonly sigma: Float64Array;
  private readonly sigmaGamma: Float64Array;
  private readonly powerP: Float64Array;
  private readonly powerQ: Float64Array;
  private readonly c1: Float64Array;
  private readonly c2: Float64Array;
  private readonly c3: Float64Array;
  private readonly c4: Float64Array;
  private readonly c5: Float64Array;
  private readonly c6: Float64Array;
  // Three-body tables, index (a·ne + b)·ne + c (entry a b c).
  private readonly lambdaEpsilon: Float64Array;
  private readonly cosTheta0: Float64Array;

  /** Potential type of each system species, set by bind(). */
  private typeOf = new Int32Array(0);

  /** Exponents p, q when every pair type has small non-negative integers (then powers are products). */
  private readonly integerPowers: boolean;

  // Per-atom short neighbour list (within the pair cutoff): one record of SHORT
  // numbers per neighbour, plus its accumulated force (3 per neighbour).
  private shortCap = 0;
  private sIndex = new Int32Array(0);
  private sType = new Int32Array(0);
  private short = new Float64Array(0);
  private sForce = new Float64Array(0);

  constructor(spec: StillingerWeberSpec) {
    if (!spec || typeof spec.file !== 'string') throw new Error(`sw: spec needs 'file', the .sw parameter file`);
    if (spec.elements !== undefined && !Array.isArray(spec.elements)) throw new Error(`sw: 'elements' must be an array of element names`);
    this.file = resolvePotentialFile(spec.file);
    const table = readTripletFile(this.file, 'sw', SW_FIELDS, spec.elements);
    const nonNegative = (v: number) => v >= 0;
    for (const entry of table.entries) {
      for (const field of SW_FIELDS) {
        if (field === 'costheta0') continue;
        checkField(table, entry, SW_FIELDS, field, nonNegative, 'must be ≥ 0');
      }
    }
    this.elements = table.elements;
    const ne = (this.ne = table.elements.length);
    const n2 = ne * ne, n3 = n2 * ne;
    this.cut = new Float64Array(n2);
    this.cutsq = new Float64Array(n2);
    this.sigma = new Float64Array(n2);
    this.sigmaGamma = new Float64Array(n2);
    this.powerP = new Float64Array(n2);
    this.powerQ = new Float64Array(n2);
    this.c1 = new Float64Array(n2);
    this.c2 = new Float64Array(n2);
    this.c3 = new Float64Array(n2);
    this.c4 = new Float64Array(n2);
    this.c5 = new Float64Array(n2);
    this.c6 = new Float64Array(n2);
    this.lambdaEpsilon = new Float64Array(n3);
    this.cosTheta0 = new Float64Array(n3);

    const F = Object.fromEntries(SW_FIELDS.map((f, k) => [f, k])) as Record<(typeof SW_FIELDS)[number], number>;
    let cutmax = 0;
    for (let a = 0; a < ne; a++) {
      for (let b = 0; b < ne; b++) {
        for (let c = 0; c < ne; c++) {
          const v = table.entries[(a * ne + b) * ne + c].values;
          this.lambdaEpsilon[(a * ne + b) * ne + c] = v[F.lambda] * v[F.epsilon];
          this.cosTheta0[(a * ne + b) * ne + c] = v[F.costheta0];
          // Every entry's (possibly shortened) cutoff counts for the list range, as in LAMMPS.
          cutmax = Math.max(cutmax, effectiveCutoff(v, F));
        }
        const v = table.entries[(a * ne + b) * ne + b].values;
        const ab = a * ne + b;
        const eps = v[F.epsilon], sig = v[F.sigma], A = v[F.A], B = v[F.B], p = v[F.p], q = v[F.q];
        this.cut[ab] = sig * v[F.a];
        const rc = effectiveCutoff(v, F);
        this.cutsq[ab] = rc * rc;
        this.sigma[ab] = sig;
        this.sigmaGamma[ab] = sig * v[F.gamma];
        this.powerP[ab] = p;
        this.powerQ[ab] = q;
        // Prefactors of φ2 and of −(1/r)dφ2/dr·r (LAMMPS's c1..c6).
        this.c1[ab] = A * eps * p * B * sig ** p;
        this.c2[ab] = A * eps * q * sig ** q;
        this.c3[ab] = A * eps * B * sig ** (p + 1);
        this.c4[ab] = A * eps * sig ** (q + 1);
        this.c5[ab] = A * eps * B * sig ** p;
        this.c6[ab] = A * eps * sig ** q;
      }
    }
    this.cutoff = cutmax;
    if (!(cutmax > 0)) throw new Error(`sw file ${this.file}: every entry has a zero cutoff (a·sigma)`);
    const small = (v: number) => Number.isInteger(v) && v >= 0 && v <= MAX_INTEGER_POWER;
    this.integerPowers = this.powerP.every(small) && this.powerQ.every(small);
  }

  bind(elements: readonly string[]): void {
    requireElements(`sw potential ${this.file}`, this.elements, elements);
    this.typeOf = Int32Array.from(elements, (e) => this.elements.indexOf(e));
  }

  private ensureShort(n: number): void {
    if (n <= this.shortCap) return;
    const cap = Math.max(n, 2 * this.shortCap, 64);
    this.shortCap = cap;
    this.sIndex = new Int32Array(cap);
    this.sType = new Int32Array(cap);
    this.short = new Float64Array(SHORT * cap);
    this.sForce = new Float64Array(3 * cap);
  }

  compute(atoms: Neighborhood, out: ComputeOutput): void {
    const full = atoms.full;
    if (!full) throw new Error('sw: needs a full neighbour list');
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
    const ne = this.ne, typeOf = this.typeOf, single = ne === 1;
    const cut = this.cut, cutsq = this.cutsq, sigma = this.sigma, sigmaGamma = this.sigmaGamma;
    const powerP = this.powerP, powerQ = this.powerQ, integerPowers = this.integerPowers;
    const c1 = this.c1, c2 = this.c2, c3 = this.c3, c4 = this.c4, c5 = this.c5, c6 = this.c6;
    const lambdaEpsilon = this.lambdaEpsilon, cosTheta0 = this.cosTheta0;
    const sIndex = this.sIndex, sType = this.sType, sh = this.short, sf = this.sForce;
    const cutmaxsq = this.cutoff * this.cutoff;
    const third = 1 / 3;
    let energy = 0;

    for (let i = rowStart; i < rowEnd; i++) {
      const ti = single ? 0 : typeOf[species[i]];
      const xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2];
      let fxi = 0, fyi = 0, fzi = 0, ei = 0;
      let ns = 0;
      const end = offsets[i + 1];

      // Two-body terms (each pair once, chosen as LAMMPS does) and the short list.
      for (let p = offsets[i]; p < end; p++) {
        const j = neighbors[p];
        const dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - zi;
        const rsq = dx * dx + dy * dy + dz * dz;
        if (rsq >= cutmaxsq) continue;
        const tj = single ? 0 : typeOf[species[j]];
        const ij = ti * ne + tj;
        if (rsq >= cutsq[ij]) continue;
        const r = Math.sqrt(rsq);
        const rinv = 1 / r;
        const rainv = 1 / (r - cut[ij]);
        const gsrainv = sigmaGamma[ij] * rainv;
        const s = ns++;
        sIndex[s] = j; sType[s] = tj;
        const q = SHORT * s;
        sh[q] = dx; sh[q + 1] = dy; sh[q + 2] = dz;
        sh[q + 3] = rinv;
        sh[q + 4] = rinv * rinv;
        sh[q + 5] = Math.exp(gsrainv);
        sh[q + 6] = gsrainv * rainv * rinv;
        sf[3 * s] = 0; sf[3 * s + 1] = 0; sf[3 * s + 2] = 0;

        if (!ownsPair(i, j, owner[j], xi, yi, zi, x)) continue;
        let rp: number, rq: number;
        if (integerPowers) { rp = integerPower(rinv, powerP[ij]); rq = integerPower(rinv, powerQ[ij]); }
        else { rp = Math.pow(r, -powerP[ij]); rq = Math.pow(r, -powerQ[ij]); }
        const rainvsq = rainv * rainv * r;
        const expsrainv = Math.exp(sigma[ij] * rainv);
        // fpair = −(1/r) dφ2/dr
        const fpair = (c1[ij] * rp - c2[ij] * rq + (c3[ij] * rp - c4[ij] * rq) * rainvsq) * expsrainv / rsq;
        const e = (c5[ij] * rp - c6[ij] * rq) * expsrainv;
        energy += e;
        fxi -= dx * fpair; fyi -= dy * fpair; fzi -= dz * fpair;
        sf[3 * s] = dx * fpair; sf[3 * s + 1] = dy * fpair; sf[3 * s + 2] = dz * fpair;
        if (eatom !== null) { ei += 0.5 * e; eatom[j] += 0.5 * e; }
      }

      // Three-body terms over pairs j < k of the short list.
      for (let a = 0; a < ns - 1; a++) {
        const ijBase = (ti * ne + sType[a]) * ne;
        const qa = SHORT * a;
        const d1x = sh[qa], d1y = sh[qa + 1], d1z = sh[qa + 2];
        const r1inv = sh[qa + 3], rinvsq1 = sh[qa + 4], e1 = sh[qa + 5], gs1 = sh[qa + 6];
        let fjx = 0, fjy = 0, fjz = 0, e3sum = 0;
        for (let b = a + 1; b < ns; b++) {
          const ijk = ijBase + sType[b];
          const qb = SHORT * b;
          const d2x = sh[qb], d2y = sh[qb + 1], d2z = sh[qb + 2];
          const rinv12 = r1inv * sh[qb + 3];
          const cs = (d1x * d2x + d1y * d2y + d1z * d2z) * rinv12;
          const delcs = cs - cosTheta0[ijk];
          const le = lambdaEpsilon[ijk];
          const facexp = le * e1 * sh[qb + 5];
          const facrad = facexp * delcs * delcs;
          const facang = 2 * facexp * delcs;
          const facang12 = rinv12 * facang;
          const csfacang = cs * facang;
          const k1 = facrad * gs1 + rinvsq1 * csfacang, k2 = facrad * sh[qb + 6] + sh[qb + 4] * csfacang;
          const fjxa = d1x * k1 - d2x * facang12, fjya = d1y * k1 - d2y * facang12, fjza = d1z * k1 - d2z * facang12;
          const fkx = d2x * k2 - d1x * facang12, fky = d2y * k2 - d1y * facang12, fkz = d2z * k2 - d1z * facang12;
          fjx += fjxa; fjy += fjya; fjz += fjza;
          sf[3 * b] += fkx; sf[3 * b + 1] += fky; sf[3 * b + 2] += fkz;
          fxi -= fkx; fyi -= fky; fzi -= fkz;
          e3sum += facrad;
          if (eatom !== null) eatom[sIndex[b]] += third * facrad;
        }
        fxi -= fjx; fyi -= fjy; fzi -= fjz;
        sf[3 * a] += fjx; sf[3 * a + 1] += fjy; sf[3 * a + 2] += fjz;
        energy += e3sum;
        if (eatom !== null) { ei += third * e3sum; eatom[sIndex[a]] += third * e3sum; }
      }

      for (let s = 0; s < ns; s++) {
        const j = 3 * sIndex[s];
        f[j] += sf[3 * s]; f[j + 1] += sf[3 * s + 1]; f[j + 2] += sf[3 * s + 2];
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

/** Cutoff of one entry: aσ, shortened by σ/ln(tol) (γσ/ln(tol) if γ < 1) when tol > 0. */
function effectiveCutoff(v: Float64Array, F: Record<(typeof SW_FIELDS)[number], number>): number {
  let rc = v[F.sigma] * v[F.a];
  const tol = Math.min(v[F.tol], SW_MAX_TOL);
  if (tol > 0) rc += (v[F.gamma] < 1 ? v[F.gamma] * v[F.sigma] : v[F.sigma]) / Math.log(tol);
  return rc;
}

/**
 * Whether local atom i evaluates its pair term with neighbour entry j (owned by
 * local atom o): LAMMPS's rule over atom tags (1-based indices), which picks one of
 * the two directions of every pair from a full list; an atom's own periodic image
 * goes to the direction where the image lies above (z, then y, then x).
 */
export function ownsPair(i: number, j: number, o: number, xi: number, yi: number, zi: number, x: Float64Array): boolean {
  if (o !== i) return ((i + o) & 1) === (i > o ? 1 : 0);
  const zj = x[3 * j + 2];
  if (zj < zi) return false;
  const yj = x[3 * j + 1];
  if (zj === zi && yj < yi) return false;
  if (zj === zi && yj === yi && x[3 * j] < xi) return false;
  return true;
}

registerPotential('sw', (spec) => new StillingerWeber(spec as unknown as StillingerWeberSpec));
