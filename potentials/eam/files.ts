/**
 * Readers for LAMMPS's three EAM table formats (DYNAMO conventions, as documented
 * for LAMMPS's pair_style eam, eam/alloy and eam/fs):
 *
 * - funcfl (`pair_style eam`, one element per file): comment line; "Z mass a lattice";
 *   "Nrho drho Nr dr cutoff"; F(rho) [Nrho], Z(r) [Nr], rho(r) [Nr]. The pair term is
 *   built from the effective charges Z(r), see tables.ts.
 * - setfl (`eam/alloy`): 3 comment lines; "N el1 … elN"; "Nrho drho Nr dr cutoff";
 *   per element "Z mass a lattice", F(rho) [Nrho], rho(r) [Nr]; then r·φ_ij(r) [Nr]
 *   for i = 1..N, j = 1..i.
 * - Finnis–Sinclair (`eam/fs`): like setfl, but each element block lists N density
 *   functions rho_{i,1..N}(r) after F(rho).
 *
 * Tables are stored 1-based (index 0 unused), as the grid formulas in tables.ts
 * count points from 1. Parse errors name file and line.
 */
import { resolvePotentialFile, TokenReader } from '../files.ts';

/** One funcfl file. */
export interface FuncflFile {
  file: string;
  atomicNumber: number;
  mass: number;
  nrho: number;
  drho: number;
  nr: number;
  dr: number;
  cut: number;
  /** F(rho), 1-based, length nrho+1. */
  frho: Float64Array;
  /** Effective charge Z(r), 1-based, length nr+1. */
  zr: Float64Array;
  /** rho(r), 1-based, length nr+1. */
  rhor: Float64Array;
}

/** A setfl or Finnis–Sinclair file. */
export interface MultiElementFile {
  file: string;
  format: 'setfl' | 'fs';
  elements: string[];
  masses: number[];
  nrho: number;
  drho: number;
  nr: number;
  dr: number;
  cut: number;
  /** F_i(rho), 1-based. */
  frho: Float64Array[];
  /**
   * Density tables, 1-based. setfl: rhor[i] is element i's density function.
   * fs: rhor[i * N + j] is the j-th density function listed in element i's block.
   */
  rhor: Float64Array[];
  /** r·φ for i ≥ j, stored at index i(i+1)/2 + j, 1-based. */
  z2r: Float64Array[];
}

/** Minimum table length the spline construction needs. */
const MIN_POINTS = 5;

function gridHeader(reader: TokenReader): { nrho: number; drho: number; nr: number; dr: number; cut: number } {
  const line = reader.line;
  const nrho = reader.integer('Nrho');
  const drho = reader.number('drho');
  const nr = reader.integer('Nr');
  const dr = reader.number('dr');
  const cut = reader.number('cutoff');
  if (nrho < MIN_POINTS) throw reader.error(`Nrho must be at least ${MIN_POINTS}, got ${nrho}`, line);
  if (nr < MIN_POINTS) throw reader.error(`Nr must be at least ${MIN_POINTS}, got ${nr}`, line);
  if (!(drho > 0)) throw reader.error(`drho must be positive, got ${drho}`, line);
  if (!(dr > 0)) throw reader.error(`dr must be positive, got ${dr}`, line);
  if (!(cut > 0)) throw reader.error(`cutoff must be positive, got ${cut}`, line);
  return { nrho, drho, nr, dr, cut };
}

/** Reads `count` numbers into a 1-based table. */
function table(reader: TokenReader, count: number, what: string): Float64Array {
  const out = new Float64Array(count + 1);
  for (let k = 1; k <= count; k++) out[k] = reader.number(`${what} [${k} of ${count}]`);
  return out;
}

/** "Z mass [a lattice]" line: atomic number and mass. */
function elementLine(reader: TokenReader, what: string): { z: number; mass: number } {
  const line = reader.line;
  if (reader.done) throw reader.error(`unexpected end of file, expected the ${what} line (atomic number, mass, …)`);
  const tokens = reader.restOfLine();
  if (tokens.length < 2) throw reader.error(`${what} line needs atomic number and mass, found '${tokens.join(' ')}'`, line);
  const z = Number(tokens[0]);
  const mass = Number(tokens[1].replace(/[dD]/, 'e'));
  if (!Number.isInteger(z)) throw reader.error(`${what} line: atomic number must be an integer, found '${tokens[0]}'`, line);
  if (!(mass > 0)) throw reader.error(`${what} line: mass must be a positive number, found '${tokens[1]}'`, line);
  return { z, mass };
}

function expectEnd(reader: TokenReader): void {
  if (!reader.done) throw reader.error(`unexpected data after the last table ('${reader.word('')}')`);
}

/** Reads a funcfl file, by path or by name in the LAMMPS potentials directory. */
export function readFuncfl(name: string, text?: string): FuncflFile {
  const file = text === undefined ? resolvePotentialFile(name) : name;
  const reader = new TokenReader(file, text, '#');
  reader.skipLines(1);
  const { z, mass } = elementLine(reader, 'element');
  const grid = gridHeader(reader);
  const frho = table(reader, grid.nrho, 'F(rho)');
  const zr = table(reader, grid.nr, 'Z(r)');
  const rhor = table(reader, grid.nr, 'rho(r)');
  expectEnd(reader);
  return { file, atomicNumber: z, mass, ...grid, frho, zr, rhor };
}

function readMulti(name: string, format: 'setfl' | 'fs', text?: string): MultiElementFile {
  const file = text === undefined ? resolvePotentialFile(name) : name;
  const reader = new TokenReader(file, text, '#');
  reader.skipLines(3);
  const headerLine = reader.line;
  if (reader.done) throw reader.error('unexpected end of file, expected the element line (N el1 … elN)');
  const header = reader.restOfLine();
  const n = Number(header[0]);
  if (!Number.isInteger(n) || n < 1) throw reader.error(`element count must be a positive integer, found '${header[0]}'`, headerLine);
  if (header.length !== n + 1) {
    throw reader.error(`element line declares ${n} element(s) but names ${header.length - 1} (${header.slice(1).join(' ')})`, headerLine);
  }
  const elements = header.slice(1);
  const grid = gridHeader(reader);
  const masses: number[] = [];
  const frho: Float64Array[] = [];
  const rhor: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const el = elements[i];
    masses.push(elementLine(reader, `${el} element`).mass);
    frho.push(table(reader, grid.nrho, `F(rho) of ${el}`));
    if (format === 'setfl') rhor.push(table(reader, grid.nr, `rho(r) of ${el}`));
    else for (let j = 0; j < n; j++) rhor.push(table(reader, grid.nr, `rho(r) of ${el} block, ${elements[j]}`));
  }
  const z2r: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) z2r.push(table(reader, grid.nr, `r*phi(r) of ${elements[i]}-${elements[j]}`));
  }
  expectEnd(reader);
  return { file, format, elements, masses, ...grid, frho, rhor, z2r };
}

/** Reads a setfl (eam/alloy) file. */
export function readSetfl(name: string, text?: string): MultiElementFile {
  return readMulti(name, 'setfl', text);
}

/** Reads a Finnis–Sinclair (eam/fs) file. */
export function readFs(name: string, text?: string): MultiElementFile {
  return readMulti(name, 'fs', text);
}
