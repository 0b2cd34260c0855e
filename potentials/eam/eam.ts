/**
 * Embedded-atom method, evaluated exactly as LAMMPS's pair_style eam, eam/alloy and
 * eam/fs (29 Sep 2021):
 *   E = Σ_i F_{t_i}(ρ_i) + ½ Σ_{i≠j} φ_{t_i t_j}(r_ij),  ρ_i = Σ_{j≠i} ρ_{t_j→t_i}(r_ij),
 * with the splines of tables.ts, F extrapolated linearly past the table's ρmax.
 *
 * Two passes: densities over the half list (ghost contributions folded into their
 * owners), recording the pairs within the cutoff with their displacements and distances; then F'(ρ) per
 * local atom, copied to ghosts, and the pair forces over the recorded pairs. Buffers
 * are reused across calls; nothing is allocated per step once they have grown.
 *
 * Specs:
 *   { kind: 'eam', files: { Cu: 'Cu_u3.eam', Ni: 'Ni_u3.eam' } }   (or files: ['Cu_u3.eam', …],
 *       the element of each taken from its atomic number)
 *   { kind: 'eam/alloy', file: 'CuTa.eam.alloy', elements?: ['Cu', 'Ta'] }
 *   { kind: 'eam/fs', file: 'CuZr_mm.eam.fs', elements?: ['Cu', 'Zr'] }
 * `elements` restricts the file's elements (default: all of them, in the file's order).
 */
import { symbolOf } from '../../src/elements.ts';
import { registerPotential } from '../registry.ts';
import { requireElements, type ComputeOutput, type Neighborhood, type Potential, type PotentialSpec, type StagedCompute } from '../potential.ts';
import { readFs, readFuncfl, readSetfl, type FuncflFile } from './files.ts';
import { funcflTables, multiTables, NCOEF, type EamTables } from './tables.ts';

export type EamKind = 'eam' | 'eam/alloy' | 'eam/fs';

export class Eam implements Potential {
  readonly kind: EamKind;
  readonly cutoff: number;
  readonly neighborList = 'half';
  /** ρ_i collects contributions from other rows: parallel runs use the stage protocol below. */
  readonly parallel = 'staged';
  readonly stages: StagedCompute = {
    width: 1,
    accumulate: (atoms, values) => {
      this.checkBound();
      const start = atoms.rowStart ?? 0, stop = atoms.rowEnd ?? atoms.nLocal;
      if (this.nSpecies === 1) this.densitiesOneType(atoms, values, start, stop);
      else this.densities(atoms, values, start, stop);
    },
    combine: (atoms, rho, fp, out) => {
      out.energy += this.embedding(atoms, rho, fp, out.atomEnergies, atoms.rowStart ?? 0, atoms.rowEnd ?? atoms.nLocal);
    },
    finish: (atoms, fp, out) => {
      const start = atoms.rowStart ?? 0, stop = atoms.rowEnd ?? atoms.nLocal;
      out.energy += this.nSpecies === 1
        ? this.pairForcesOneType(atoms, fp, out.forces, out.atomEnergies, start, stop)
        : this.pairForces(atoms, fp, out.forces, out.atomEnergies, start, stop);
    },
  };
  /** Elements covered (bind refuses others). */
  readonly elements: readonly string[];
  /** Element of each table type. */
  readonly typeElements: readonly string[];
  readonly tables: EamTables;
  private readonly specData: PotentialSpec;

  /** Per system species: offset of F; of ρ (due to a, at b) at [a·ns+b]; of r·φ. */
  private spFrho = new Int32Array(0);
  private spRho = new Int32Array(0);
  private spZ2r = new Int32Array(0);
  private nSpecies = 0;
  private rho = new Float64Array(0);
  private fp = new Float64Array(0);

  constructor(kind: EamKind, tables: EamTables, typeElements: readonly string[], spec: PotentialSpec, covered = typeElements) {
    this.kind = kind;
    this.tables = tables;
    this.typeElements = typeElements;
    this.elements = covered;
    this.cutoff = tables.cut;
    this.specData = spec;
  }

  /** Type index (into the tables) of each covered element. */
  private typeOf(element: string): number {
    return this.typeElements.indexOf(element);
  }

  bind(elements: readonly string[]): void {
    requireElements(`${this.kind} potential`, this.elements, elements);
    const ns = elements.length, t = this.tables, nt = t.ntypes;
    const types = elements.map((e) => this.typeOf(e));
    this.nSpecies = ns;
    this.spFrho = Int32Array.from(types, (a) => t.frho[a]);
    this.spRho = new Int32Array(ns * ns);
    this.spZ2r = new Int32Array(ns * ns);
    for (let a = 0; a < ns; a++) {
      for (let b = 0; b < ns; b++) {
        this.spRho[a * ns + b] = t.rhor[types[a] * nt + types[b]];
        this.spZ2r[a * ns + b] = t.z2r[types[a] * nt + types[b]];
      }
    }
  }

  private checkBound(): void {
    if (this.spFrho.length === 0) throw new Error(`${this.kind}: bind() must be called before compute()`);
  }

  compute(atoms: Neighborhood, out: ComputeOutput): void {
    this.checkBound();
    const nLocal = atoms.nLocal, nTotal = atoms.nTotal;
    if (this.rho.length < nTotal) {
      this.rho = new Float64Array(Math.ceil(nTotal * 1.2));
      this.fp = new Float64Array(Math.ceil(nTotal * 1.2));
    }
    const rho = this.rho, fp = this.fp;
    rho.fill(0, 0, nTotal);
    if (this.nSpecies === 1) this.densitiesOneType(atoms, rho, 0, nLocal);
    else this.densities(atoms, rho, 0, nLocal);
    const owner = atoms.owner;
    for (let k = nLocal; k < nTotal; k++) rho[owner[k]] += rho[k];
    out.energy += this.embedding(atoms, rho, fp, out.atomEnergies, 0, nLocal);
    for (let k = nLocal; k < nTotal; k++) fp[k] = fp[owner[k]];
    out.energy += this.nSpecies === 1
      ? this.pairForcesOneType(atoms, fp, out.forces, out.atomEnergies, 0, nLocal)
      : this.pairForces(atoms, fp, out.forces, out.atomEnergies, 0, nLocal);
  }

  /**
   * Pass 1: ρ contributions of the pairs in rows start..end-1 of the half list, at
   * every extended atom (ghost entries still unfolded). The whole system in a serial
   * compute(); one chunk of rows in a parallel stage.
   */
  private densities(atoms: Neighborhood, rho: Float64Array, start: number, stop: number): void {
    const x = atoms.positions, species = atoms.species;
    const { offsets, neighbors } = atoms.half!;
    const t = this.tables, c = t.coeffs, spRho = this.spRho, ns = this.nSpecies;
    const cutsq = t.cut * t.cut, rdr = 1.0 / t.dr, nrm1 = t.nr - 1;
    for (let i = start; i < stop; i++) {
      const xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2];
      const si = species[i];
      let rhoi = 0;
      const end = offsets[i + 1];
      for (let q = offsets[i]; q < end; q++) {
        const j = neighbors[q];
        const dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - zi;
        const rsq = dx * dx + dy * dy + dz * dz;
        if (rsq >= cutsq) continue;
        const sj = species[j];
        const r = Math.sqrt(rsq);
        let p = r * rdr + 1.0;
        let m = p | 0;
        if (m > nrm1) m = nrm1;
        p -= m;
        if (p > 1.0) p = 1.0;
        const ka = spRho[sj * ns + si], kb = spRho[si * ns + sj];
        let k = ka + m * NCOEF;
        const toI = ((c[k + 3] * p + c[k + 4]) * p + c[k + 5]) * p + c[k + 6];
        rhoi += toI;
        // Same function both ways (one element, or setfl/funcfl like pairs): same value.
        if (kb === ka) {
          rho[j] += toI;
        } else {
          k = kb + m * NCOEF;
          rho[j] += ((c[k + 3] * p + c[k + 4]) * p + c[k + 5]) * p + c[k + 6];
        }
      }
      rho[i] += rhoi;
    }
  }

  /** Pass 1 for a single element (one density function): same arithmetic, no species lookups. */
  private densitiesOneType(atoms: Neighborhood, rho: Float64Array, start: number, stop: number): void {
    const x = atoms.positions;
    const { offsets, neighbors } = atoms.half!;
    const t = this.tables, c = t.coeffs, base = this.spRho[0];
    const cutsq = t.cut * t.cut, rdr = 1.0 / t.dr, nrm1 = t.nr - 1;
    for (let i = start; i < stop; i++) {
      const xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2];
      let rhoi = 0;
      const end = offsets[i + 1];
      for (let q = offsets[i]; q < end; q++) {
        const j = neighbors[q];
        const dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - zi;
        const rsq = dx * dx + dy * dy + dz * dz;
        if (rsq >= cutsq) continue;
        const r = Math.sqrt(rsq);
        let p = r * rdr + 1.0;
        let m = p | 0;
        if (m > nrm1) m = nrm1;
        p -= m;
        if (p > 1.0) p = 1.0;
        const k = base + m * NCOEF;
        const v = ((c[k + 3] * p + c[k + 4]) * p + c[k + 5]) * p + c[k + 6];
        rhoi += v;
        rho[j] += v;
      }
      rho[i] += rhoi;
    }
  }

  /** F(ρ) and F'(ρ) of local atoms start..stop-1; returns their embedding energy. */
  private embedding(atoms: Neighborhood, rho: Float64Array, fp: Float64Array, eatom: Float64Array | null, start: number, stop: number): number {
    const t = this.tables, c = t.coeffs, spFrho = this.spFrho, species = atoms.species;
    const rdrho = 1.0 / t.drho, nrhom1 = t.nrho - 1, rhomax = t.rhomax;
    let energy = 0;
    for (let i = start; i < stop; i++) {
      const r = rho[i];
      let p = r * rdrho + 1.0;
      let m = Math.trunc(p);
      if (m > nrhom1) m = nrhom1;
      if (m < 1) m = 1;
      p -= m;
      if (p > 1.0) p = 1.0;
      const k = spFrho[species[i]] + m * NCOEF;
      const d = (c[k] * p + c[k + 1]) * p + c[k + 2];
      fp[i] = d;
      let phi = ((c[k + 3] * p + c[k + 4]) * p + c[k + 5]) * p + c[k + 6];
      if (r > rhomax) phi += d * (r - rhomax);
      energy += phi;
      if (eatom !== null) eatom[i] += phi;
    }
    return energy;
  }

  /**
   * Pass 2: pair forces −∂E/∂x from the embedding and pair terms of rows
   * start..end-1, given F'(ρ) of every extended atom; returns the pair energy.
   * The pair's distance is recomputed (as LAMMPS does): caching pass 1's pairs
   * is no faster and would not survive the rows of a chunk moving between threads.
   */
  private pairForces(atoms: Neighborhood, fp: Float64Array, f: Float64Array, eatom: Float64Array | null, start: number, stop: number): number {
    const x = atoms.positions, species = atoms.species;
    const { offsets, neighbors } = atoms.half!;
    const t = this.tables, c = t.coeffs, spRho = this.spRho, spZ2r = this.spZ2r, ns = this.nSpecies;
    const cutsq = t.cut * t.cut, rdr = 1.0 / t.dr, nrm1 = t.nr - 1;
    let energy = 0;
    for (let i = start; i < stop; i++) {
      const xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2];
      const si = species[i], fpi = fp[i];
      let fxi = 0, fyi = 0, fzi = 0, ei = 0;
      const end = offsets[i + 1];
      for (let q = offsets[i]; q < end; q++) {
        const j = neighbors[q];
        const ddx = x[3 * j] - xi, ddy = x[3 * j + 1] - yi, ddz = x[3 * j + 2] - zi;
        const rsq = ddx * ddx + ddy * ddy + ddz * ddz;
        if (rsq >= cutsq) continue;
        // LAMMPS's del = x_i − x_j.
        const dx = -ddx, dy = -ddy, dz = -ddz;
        const sj = species[j];
        const r = Math.sqrt(rsq);
        let p = r * rdr + 1.0;
        let m = p | 0;
        if (m > nrm1) m = nrm1;
        p -= m;
        if (p > 1.0) p = 1.0;
        const mo = m * NCOEF;
        const ka = spRho[si * ns + sj], kb = spRho[sj * ns + si];
        let k = ka + mo; // density at j due to i
        const rhoip = (c[k] * p + c[k + 1]) * p + c[k + 2];
        let rhojp = rhoip; // density at i due to j: the same function for like pairs
        if (kb !== ka) {
          k = kb + mo;
          rhojp = (c[k] * p + c[k + 1]) * p + c[k + 2];
        }
        k = spZ2r[si * ns + sj] + mo;
        const z2p = (c[k] * p + c[k + 1]) * p + c[k + 2];
        const z2 = ((c[k + 3] * p + c[k + 4]) * p + c[k + 5]) * p + c[k + 6];
        const recip = 1.0 / r;
        const phi = z2 * recip;
        const phip = z2p * recip - phi * recip;
        const psip = fpi * rhojp + fp[j] * rhoip + phip;
        const fpair = -psip * recip;
        fxi += dx * fpair; fyi += dy * fpair; fzi += dz * fpair;
        f[3 * j] -= dx * fpair; f[3 * j + 1] -= dy * fpair; f[3 * j + 2] -= dz * fpair;
        energy += phi;
        if (eatom !== null) { ei += 0.5 * phi; eatom[j] += 0.5 * phi; }
      }
      f[3 * i] += fxi; f[3 * i + 1] += fyi; f[3 * i + 2] += fzi;
      if (eatom !== null) eatom[i] += ei;
    }
    return energy;
  }

  /** Pass 2 for a single element: same arithmetic, no species lookups. */
  private pairForcesOneType(atoms: Neighborhood, fp: Float64Array, f: Float64Array, eatom: Float64Array | null, start: number, stop: number): number {
    const x = atoms.positions;
    const { offsets, neighbors } = atoms.half!;
    const t = this.tables, c = t.coeffs, rhoBase = this.spRho[0], z2rBase = this.spZ2r[0];
    const cutsq = t.cut * t.cut, rdr = 1.0 / t.dr, nrm1 = t.nr - 1;
    let energy = 0;
    for (let i = start; i < stop; i++) {
      const xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2];
      const fpi = fp[i];
      let fxi = 0, fyi = 0, fzi = 0, ei = 0;
      const end = offsets[i + 1];
      for (let q = offsets[i]; q < end; q++) {
        const j = neighbors[q];
        const ddx = x[3 * j] - xi, ddy = x[3 * j + 1] - yi, ddz = x[3 * j + 2] - zi;
        const rsq = ddx * ddx + ddy * ddy + ddz * ddz;
        if (rsq >= cutsq) continue;
        const dx = -ddx, dy = -ddy, dz = -ddz;
        const r = Math.sqrt(rsq);
        let p = r * rdr + 1.0;
        let m = p | 0;
        if (m > nrm1) m = nrm1;
        p -= m;
        if (p > 1.0) p = 1.0;
        const mo = m * NCOEF;
        let k = rhoBase + mo;
        const rhop = (c[k] * p + c[k + 1]) * p + c[k + 2];
        k = z2rBase + mo;
        const z2p = (c[k] * p + c[k + 1]) * p + c[k + 2];
        const z2 = ((c[k + 3] * p + c[k + 4]) * p + c[k + 5]) * p + c[k + 6];
        const recip = 1.0 / r;
        const phi = z2 * recip;
        const phip = z2p * recip - phi * recip;
        const psip = fpi * rhop + fp[j] * rhop + phip;
        const fpair = -psip * recip;
        fxi += dx * fpair; fyi += dy * fpair; fzi += dz * fpair;
        f[3 * j] -= dx * fpair; f[3 * j + 1] -= dy * fpair; f[3 * j + 2] -= dz * fpair;
        energy += phi;
        if (eatom !== null) { ei += 0.5 * phi; eatom[j] += 0.5 * phi; }
      }
      f[3 * i] += fxi; f[3 * i + 1] += fyi; f[3 * i + 2] += fzi;
      if (eatom !== null) eatom[i] += ei;
    }
    return energy;
  }

  /** Host electron densities ρ of the local atoms from the last compute() (a view, overwritten by the next). */
  hostDensities(nLocal: number): Float64Array {
    return this.rho.subarray(0, nLocal);
  }

  spec(): PotentialSpec {
    return this.specData;
  }
}

function fileName(spec: PotentialSpec, kind: string): string {
  if (typeof spec.file !== 'string' || spec.file === '') {
    throw new Error(`${kind} potential spec needs 'file': a path or a name in the LAMMPS potentials directory`);
  }
  return spec.file;
}

/** Restricts a file's element list to `wanted` (default: all), naming elements the file lacks. */
function chooseElements(kind: string, file: string, inFile: readonly string[], wanted: unknown): string[] {
  if (wanted === undefined) return [...inFile];
  if (!Array.isArray(wanted) || wanted.some((e) => typeof e !== 'string')) {
    throw new Error(`${kind} potential spec: 'elements' must be an array of element symbols`);
  }
  const missing = wanted.filter((e) => !inFile.includes(e));
  if (missing.length > 0) {
    throw new Error(`${kind}: ${file} does not cover element${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (it has ${inFile.join(', ')})`);
  }
  return [...wanted] as string[];
}

/** `eam/alloy` or `eam/fs` from a setfl / Finnis–Sinclair file. */
export function createMultiEam(kind: 'eam/alloy' | 'eam/fs', spec: PotentialSpec): Eam {
  const name = fileName(spec, kind);
  const file = kind === 'eam/alloy' ? readSetfl(name) : readFs(name);
  const elements = chooseElements(kind, file.file, file.elements, spec.elements);
  const tables = multiTables(file);
  // Types are the file's elements; the potential covers the chosen subset.
  return new Eam(kind, tables, file.elements, { ...spec, kind }, elements);
}

/** `eam` from one funcfl file per element. */
export function createFuncflEam(spec: PotentialSpec): Eam {
  const files = spec.files;
  let entries: [string | null, string][];
  if (Array.isArray(files)) entries = files.map((f) => [null, f as string]);
  else if (files !== null && typeof files === 'object') entries = Object.entries(files as Record<string, unknown>).map(([e, f]) => [e, f as string]);
  else throw new Error(`eam potential spec needs 'files': { Element: 'file.eam', … } (funcfl files, one per element)`);
  if (entries.length === 0) throw new Error(`eam potential spec: 'files' is empty`);
  const byName = new Map<string, FuncflFile>();
  const order: FuncflFile[] = [];
  const elements: string[] = [];
  const typeFile: FuncflFile[] = [];
  for (const [element, name] of entries) {
    if (typeof name !== 'string' || name === '') throw new Error(`eam potential spec: file for ${element ?? 'an element'} must be a file name`);
    let f = byName.get(name);
    if (!f) {
      f = readFuncfl(name);
      byName.set(name, f);
      order.push(f);
    }
    const el = element ?? symbolOf(f.atomicNumber);
    if (elements.includes(el)) throw new Error(`eam potential spec: element ${el} given twice`);
    elements.push(el);
    typeFile.push(f);
  }
  // One table set per distinct file (LAMMPS reads a file named twice once); types map to files.
  const tables = funcflTables(order);
  const typeIndex = typeFile.map((f) => order.indexOf(f));
  const mapped = remapTypes(tables, typeIndex);
  const specOut: PotentialSpec = { kind: 'eam', files: Array.isArray(files) ? [...files] : { ...(files as object) } };
  return new Eam('eam', mapped, elements, specOut);
}

/** Tables indexed by element type when several elements share a file. */
function remapTypes(t: EamTables, typeIndex: number[]): EamTables {
  const nt = typeIndex.length, nf = t.ntypes;
  const rhor = new Int32Array(nt * nt), z2r = new Int32Array(nt * nt);
  for (let a = 0; a < nt; a++) {
    for (let b = 0; b < nt; b++) {
      rhor[a * nt + b] = t.rhor[typeIndex[a] * nf + typeIndex[b]];
      z2r[a * nt + b] = t.z2r[typeIndex[a] * nf + typeIndex[b]];
    }
  }
  return { ...t, ntypes: nt, frho: Int32Array.from(typeIndex, (k) => t.frho[k]), rhor, z2r, masses: typeIndex.map((k) => t.masses[k]) };
}

registerPotential('eam', (spec) => createFuncflEam(spec));
registerPotential('eam/alloy', (spec) => createMultiEam('eam/alloy', spec));
registerPotential('eam/fs', (spec) => createMultiEam('eam/fs', spec));
