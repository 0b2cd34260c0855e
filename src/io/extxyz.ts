/**
 * Extended-XYZ reading and writing, faithful to ASE's format (facts from ASE's
 * ase/io/extxyz.py): per frame an atom-count line, a comment line of key=value
 * pairs (Lattice, pbc, Properties, anything else) and one line per atom whose
 * columns Properties=name:type:ncols:… describes (types R real, I integer,
 * S string, L logical). Many frames per file; trailing blank lines allowed.
 *
 * The atom-line parser walks the text by character codes and writes straight into
 * typed arrays: no regex per token and no per-atom object.
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { Cell } from '../cell.ts';
import { atomicMass, isElement, symbolOf } from '../elements.ts';
import { System } from '../system.ts';
import { ASE_TIME_FS } from '../units.ts';
import { convertValue, formatNumber, formatPair, splitHeader, type InfoValue } from './extxyz-header.ts';

export type { InfoValue } from './extxyz-header.ts';

export interface PerAtomColumn {
  type: 'R' | 'I' | 'S' | 'L';
  columns: number;
  /** n·columns values, atom-major (atom i, column c at i·columns + c). */
  data: Float64Array | Int32Array | string[] | boolean[];
}

export interface Frame {
  symbols: string[];
  /** Cartesian positions, Å, length 3n. */
  positions: Float64Array;
  /** Cell vectors as rows (a, b, c), length 9; zeros when there is no Lattice. */
  cell: Float64Array;
  pbc: [boolean, boolean, boolean];
  /** Header keys other than Lattice, pbc and Properties. */
  info: Record<string, InfoValue>;
  /** Every per-atom column except species and pos, under its name in the file. */
  arrays: Record<string, PerAtomColumn>;
}

/** Bad input: names the file, the frame (0-based, with its first line) and the line. */
export class ExtxyzError extends Error {
  constructor(
    readonly file: string,
    readonly frame: number,
    readonly frameLine: number,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}: frame ${frame} (starting at line ${frameLine}), line ${line}: ${detail}`);
    this.name = 'ExtxyzError';
  }
}

/** Every frame of several files, in order, with a name for each (`PATH: frame K`) for messages. */
export function readExtxyzFiles(paths: readonly string[]): { frames: Frame[]; names: string[] } {
  const perFile = paths.map((p) => readExtxyz(p));
  return { frames: perFile.flat(), names: perFile.flatMap((fs, k) => fs.map((_, i) => `${paths[k]}: frame ${i}`)) };
}

// ---------------------------------------------------------------------------
// Reading

interface Property {
  name: string;
  type: 'R' | 'I' | 'S' | 'L';
  columns: number;
}

/** Parses "species:S:1:pos:R:3:…"; throws a plain Error describing the problem. */
function parseProperties(spec: string): Property[] {
  const fields = spec.split(':');
  if (fields.length % 3 !== 0) {
    throw new Error(`Properties '${spec}' must be name:type:columns triplets (got ${fields.length} fields)`);
  }
  const props: Property[] = [];
  const seen = new Set<string>();
  for (let k = 0; k < fields.length; k += 3) {
    const name = fields[k], type = fields[k + 1], cols = fields[k + 2];
    if (name === '') throw new Error(`Properties '${spec}': property ${k / 3} has an empty name`);
    if (seen.has(name)) throw new Error(`Properties '${spec}': '${name}' appears twice`);
    seen.add(name);
    if (type !== 'R' && type !== 'I' && type !== 'S' && type !== 'L') {
      throw new Error(`Properties '${spec}': type of '${name}' is '${type}', expected R, I, S or L`);
    }
    if (!/^\d+$/.test(cols) || Number(cols) < 1) {
      throw new Error(`Properties '${spec}': column count of '${name}' is '${cols}', expected a positive integer`);
    }
    props.push({ name, type, columns: Number(cols) });
  }
  return props;
}

const POW10 = new Float64Array(23);
for (let k = 0; k < 23; k++) POW10[k] = Number(`1e${k}`);

const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_RE = /^[+-]?(?:nan|inf|infinity)$/i;

/** Set by parseReal: false when the token is not a number; where the token ended. */
let realOk = true;
let realEnd = 0;

/**
 * Parses a decimal real in text[a, b). Fast exact path (Clinger): at most 15
 * significant digits and a power of ten up to 1e22, both exactly representable,
 * so one multiplication or division rounds correctly. Anything else goes
 * through Number() after a syntax check (Python float() syntax).
 */
function parseReal(text: string, a: number, e: number): number {
  let b = e;
  let i = a;
  let neg = false;
  let c = text.charCodeAt(i);
  if (c === 45 /* - */ || c === 43 /* + */) {
    neg = c === 45;
    i++;
  }
  let mant = 0;
  let digits = 0; // significant digits taken into mant
  let scale = 0; // decimal exponent adjustment
  let any = false;
  let exact = true;
  while (i < b) {
    c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    any = true;
    if (mant !== 0 || c !== 48) {
      if (digits < 15) { mant = mant * 10 + (c - 48); digits++; } else { exact = false; }
    }
    i++;
  }
  if (i < b && text.charCodeAt(i) === 46 /* . */) {
    i++;
    while (i < b) {
      c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      any = true;
      if (mant !== 0 || c !== 48) {
        if (digits < 15) { mant = mant * 10 + (c - 48); digits++; } else { exact = false; }
      }
      scale--;
      i++;
    }
  }
  if (any && i < b && (text.charCodeAt(i) | 32) === 101 /* e */) {
    i++;
    let eneg = false;
    c = text.charCodeAt(i);
    if (c === 45 || c === 43) { eneg = c === 45; i++; }
    let e = 0;
    let edigits = 0;
    while (i < b) {
      c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      if (e < 100000) e = e * 10 + (c - 48);
      edigits++;
      i++;
    }
    if (edigits === 0) any = false;
    scale += eneg ? -e : e;
  }
  // the token ends at the first blank; anything else glued to the number makes it invalid
  let clean = true;
  if (i < e && !isSpace(text.charCodeAt(i))) {
    clean = false;
    while (i < e && !isSpace(text.charCodeAt(i))) i++;
  }
  b = i;
  realEnd = b;
  if (any && clean && exact) {
    if (mant === 0) return neg ? -0 : 0;
    if (scale >= 0 && scale <= 22) return neg ? -(mant * POW10[scale]) : mant * POW10[scale];
    if (scale < 0 && scale >= -22) return neg ? -(mant / POW10[-scale]) : mant / POW10[-scale];
  }
  const tok = text.slice(a, b);
  if (DECIMAL_RE.test(tok)) return Number(tok);
  if (SPECIAL_RE.test(tok)) {
    const low = tok.toLowerCase();
    if (low.endsWith('nan')) return NaN;
    return low.startsWith('-') ? -Infinity : Infinity;
  }
  realOk = false;
  return NaN;
}

let intOk = true;

/** Parses a decimal integer in text[a, b) within the Int32 range. */
function parseInt32(text: string, a: number, b: number): number {
  let i = a;
  let neg = false;
  const c0 = text.charCodeAt(i);
  if (c0 === 45 || c0 === 43) { neg = c0 === 45; i++; }
  if (i === b) { intOk = false; return 0; }
  let v = 0;
  for (; i < b; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) { intOk = false; return 0; }
    v = v * 10 + (c - 48);
  }
  if (neg) v = -v;
  if (v > 2147483647 || v < -2147483648) { intOk = false; return 0; }
  return v;
}

/** Element symbols already seen, keyed by the token's (up to 2) character codes. */
const symbolCache = new Map<number, string>();

/** ASE capitalises species ('CU' → 'Cu'); unknown symbols are rejected. Returns undefined if unknown. */
function symbolAt(text: string, a: number, b: number): string | undefined {
  const len = b - a;
  if (len <= 2) {
    const c0 = text.charCodeAt(a), c1 = len === 2 ? text.charCodeAt(a + 1) : 0;
    if (c0 < 128 && c1 < 128) {
      const key = c0 | (c1 << 8);
      const hit = symbolCache.get(key);
      if (hit !== undefined) return hit;
      const tok = text.slice(a, b);
      const sym = tok.charAt(0).toUpperCase() + tok.slice(1).toLowerCase();
      if (!isElement(sym)) return undefined;
      symbolCache.set(key, sym);
      return sym;
    }
  }
  return undefined;
}

const K_SPECIES = 0, K_REAL = 1, K_INT = 2, K_STR = 3, K_BOOL = 4;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12;
}

/** Position just past the end of the line starting at p (before '\n' / '\r\n'). */
function lineEnd(text: string, p: number): number {
  let e = text.indexOf('\n', p);
  if (e < 0) e = text.length;
  return e;
}

const E_EOF = 1, E_MISSING = 2, E_EXTRA = 3, E_REAL = 4, E_INT = 5, E_BOOL = 6, E_SYMBOL = 7;

/** Where readAtomLines stopped on bad input (atom index within the frame, column, token). */
const atomError = { code: 0, atom: 0, column: 0, token: '' };

function atomFail(code: number, atom: number, column: number, token: string): number {
  atomError.code = code;
  atomError.atom = atom;
  atomError.column = column;
  atomError.token = token;
  return -1;
}

/**
 * The hot loop: n atom lines from p into the column targets. Returns the start of
 * the line after the block, or −1 with atomError filled in.
 */
function readAtomLines(
  text: string, p: number, n: number, ncol: number,
  kind: Uint8Array, stride: Int32Array, offset: Int32Array,
  targetF: (Float64Array | null)[], targetI: (Int32Array | null)[],
  targetS: (string[] | null)[], targetL: (boolean[] | null)[], symbols: string[],
): number {
  const len = text.length;
  for (let i = 0; i < n; i++) {
    if (p >= len) return atomFail(E_EOF, i, 0, '');
    const e = lineEnd(text, p);
    let q = p;
    for (let col = 0; col < ncol; col++) {
      while (q < e && isSpace(text.charCodeAt(q))) q++;
      if (q >= e) return atomFail(E_MISSING, i, col, '');
      const a = q;
      const k = kind[col];
      if (k === K_REAL) {
        // parseReal finds the end of the token itself (one pass over the characters)
        const v = parseReal(text, a, e);
        q = realEnd;
        if (!realOk) {
          realOk = true;
          return atomFail(E_REAL, i, col, text.slice(a, q));
        }
        (targetF[col] as Float64Array)[i * stride[col] + offset[col]] = v;
        continue;
      }
      while (q < e && !isSpace(text.charCodeAt(q))) q++;
      if (k === K_SPECIES) {
        const s = symbolAt(text, a, q);
        if (s === undefined) return atomFail(E_SYMBOL, i, col, text.slice(a, q));
        symbols[i] = s;
      } else if (k === K_INT) {
        const v = parseInt32(text, a, q);
        if (!intOk) {
          intOk = true;
          return atomFail(E_INT, i, col, text.slice(a, q));
        }
        (targetI[col] as Int32Array)[i * stride[col] + offset[col]] = v;
      } else if (k === K_STR) {
        (targetS[col] as string[])[i * stride[col] + offset[col]] = text.slice(a, q);
      } else {
        const t = text.slice(a, q);
        let b: boolean;
        if (t === 'T' || t === 'True') b = true;
        else if (t === 'F' || t === 'False') b = false;
        else return atomFail(E_BOOL, i, col, t);
        (targetL[col] as boolean[])[i * stride[col] + offset[col]] = b;
      }
    }
    while (q < e && isSpace(text.charCodeAt(q))) q++;
    if (q < e) {
      let extra = 0;
      while (q < e) {
        while (q < e && isSpace(text.charCodeAt(q))) q++;
        if (q < e) extra++;
        while (q < e && !isSpace(text.charCodeAt(q))) q++;
      }
      return atomFail(E_EXTRA, i, extra, '');
    }
    p = e + 1;
  }
  return p;
}

/** Start of the line `skip` lines after the one starting at p. */
function lineStart(text: string, skip: number, p: number): number {
  for (let k = 0; k < skip; k++) p = lineEnd(text, p) + 1;
  return p;
}

/**
 * Parses every frame of an extended-XYZ text. `fileName` only labels errors.
 */
export function parseExtxyz(text: string, fileName = '<string>'): Frame[] {
  const frames: Frame[] = [];
  const len = text.length;
  let p = 0; // start of the current line
  let lineNo = 1;
  let frameIndex = 0;

  while (p < len) {
    // atom-count line
    const frameLine = lineNo;
    let e = lineEnd(text, p);
    const countText = text.slice(p, e).trim();
    const fail = (line: number, detail: string): never => {
      throw new ExtxyzError(fileName, frameIndex, frameLine, line, detail);
    };
    if (countText === '') {
      // only blank lines may follow the last frame
      const rest = text.slice(e);
      if (rest.trim() === '') break;
      let q = e, ln = lineNo;
      while (q < len && text.slice(q, lineEnd(text, q)).trim() === '') {
        q = lineEnd(text, q) + 1;
        ln++;
      }
      fail(ln, `data after a blank line (frames must follow each other without blank lines)`);
    }
    if (!/^\d+$/.test(countText)) fail(lineNo, `expected the number of atoms, got '${countText.slice(0, 60)}'`);
    const n = Number(countText);
    p = e + 1;
    lineNo++;

    // comment line
    if (p >= len) fail(lineNo, `file ends before the comment line`);
    e = lineEnd(text, p);
    const header = text.slice(p, e);
    const headerLine = lineNo;
    p = e + 1;
    lineNo++;

    const info: Record<string, InfoValue> = {};
    let cell = new Float64Array(9);
    let pbc: [boolean, boolean, boolean] | undefined;
    let hasLattice = false;
    let propSpec = 'species:S:1:pos:R:3';
    let pairs;
    try {
      pairs = splitHeader(header);
    } catch (err) {
      return fail(headerLine, (err as Error).message);
    }
    for (const { key, value } of pairs) {
      if (key === 'Properties') {
        propSpec = value;
        continue;
      }
      const v = convertValue(key, value);
      if (key === 'Lattice') {
        if (!Array.isArray(v) || v.length !== 9 || typeof v[0] !== 'number') {
          fail(headerLine, `malformed Lattice '${value}': expected 9 numbers (three cell vectors)`);
        }
        const nums = v as number[];
        for (let k = 0; k < 9; k++) {
          if (!Number.isFinite(nums[k])) fail(headerLine, `malformed Lattice '${value}': entry ${k} is not finite`);
          cell[k] = nums[k];
        }
        hasLattice = true;
      } else if (key === 'pbc') {
        if (typeof v === 'boolean') pbc = [v, v, v];
        else if (Array.isArray(v) && v.length === 3 && typeof v[0] === 'boolean') pbc = [v[0] as boolean, v[1] as boolean, v[2] as boolean];
        else fail(headerLine, `malformed pbc '${value}': expected three of T/F`);
      } else {
        if ((key === 'virial' || key === 'stress') && !(Array.isArray(v) && typeof v[0] === 'number' && (v.length === 9 || (key === 'stress' && v.length === 6)))) {
          fail(headerLine, `malformed ${key} '${value}': expected ${key === 'stress' ? '9 (3×3) or 6 (Voigt)' : '9 (3×3)'} numbers`);
        }
        info[key] = v;
      }
    }
    if (pbc === undefined) pbc = hasLattice ? [true, true, true] : [false, false, false];
    if (!hasLattice) cell = new Float64Array(9);

    let props: Property[];
    try {
      props = parseProperties(propSpec);
    } catch (err) {
      return fail(headerLine, (err as Error).message);
    }

    // per-column dispatch tables
    let ncol = 0;
    for (const pr of props) ncol += pr.columns;
    const kind = new Uint8Array(ncol);
    const stride = new Int32Array(ncol);
    const offset = new Int32Array(ncol);
    const targetF: (Float64Array | null)[] = new Array(ncol).fill(null);
    const targetI: (Int32Array | null)[] = new Array(ncol).fill(null);
    const targetS: (string[] | null)[] = new Array(ncol).fill(null);
    const targetL: (boolean[] | null)[] = new Array(ncol).fill(null);
    const colName: string[] = new Array(ncol);
    const symbols: string[] = new Array(n);
    let positions: Float64Array | undefined;
    let hasSpecies = false;
    const arrays: Record<string, PerAtomColumn> = {};
    let c = 0;
    for (const pr of props) {
      let data: Float64Array | Int32Array | string[] | boolean[];
      const isSpecies = pr.name === 'species';
      if (isSpecies) {
        if (pr.type !== 'S' || pr.columns !== 1) fail(headerLine, `species must be species:S:1, got species:${pr.type}:${pr.columns}`);
        hasSpecies = true;
      }
      if (pr.name === 'pos' && (pr.type !== 'R' || pr.columns !== 3)) {
        fail(headerLine, `pos must be pos:R:3, got pos:${pr.type}:${pr.columns}`);
      }
      if (pr.type === 'R') data = new Float64Array(n * pr.columns);
      else if (pr.type === 'I') data = new Int32Array(n * pr.columns);
      else if (pr.type === 'S') data = isSpecies ? symbols : new Array<string>(n * pr.columns);
      else data = new Array<boolean>(n * pr.columns);
      if (pr.name === 'pos') positions = data as Float64Array;
      else if (!isSpecies) arrays[pr.name] = { type: pr.type, columns: pr.columns, data };
      for (let k = 0; k < pr.columns; k++, c++) {
        stride[c] = pr.columns;
        offset[c] = k;
        colName[c] = pr.columns === 1 ? pr.name : `${pr.name}[${k}]`;
        if (isSpecies) kind[c] = K_SPECIES;
        else if (pr.type === 'R') { kind[c] = K_REAL; targetF[c] = data as Float64Array; }
        else if (pr.type === 'I') { kind[c] = K_INT; targetI[c] = data as Int32Array; }
        else if (pr.type === 'S') { kind[c] = K_STR; targetS[c] = data as string[]; }
        else { kind[c] = K_BOOL; targetL[c] = data as boolean[]; }
      }
    }
    if (positions === undefined) fail(headerLine, `Properties '${propSpec}' has no pos:R:3 column`);
    const zColumn = arrays['Z'];
    if (!hasSpecies && !(zColumn && zColumn.type === 'I' && zColumn.columns === 1)) {
      fail(headerLine, `Properties '${propSpec}' has neither species:S:1 nor Z:I:1`);
    }

    // atom lines
    const q = readAtomLines(text, p, n, ncol, kind, stride, offset, targetF, targetI, targetS, targetL, symbols);
    if (q < 0) {
      const line = lineNo + atomError.atom;
      if (atomError.code !== E_EOF) {
        const bad = text.slice(lineStart(text, line - lineNo, p), lineEnd(text, lineStart(text, line - lineNo, p))).trim();
        if (/^\d+$/.test(bad)) {
          fail(line, `found '${bad}', which looks like the atom count of a next frame, after ${atomError.atom} of the ${n} atom lines this frame's count (line ${frameLine}) announces`);
        }
      }
      const col = atomError.column;
      const tok = atomError.token;
      switch (atomError.code) {
        case E_EOF: fail(line, `file ends after ${atomError.atom} of ${n} atom lines`); break;
        case E_MISSING: fail(line, `missing columns: found ${col}, Properties '${propSpec}' needs ${ncol} (no '${colName[col]}')`); break;
        case E_EXTRA: fail(line, `${atomError.column} column(s) more than the ${ncol} Properties '${propSpec}' describes`); break;
        case E_REAL: fail(line, `column ${col + 1} ('${colName[col]}') is not a number: '${tok}'`); break;
        case E_INT: fail(line, `column ${col + 1} ('${colName[col]}') is not an integer: '${tok}'`); break;
        case E_BOOL: fail(line, `column ${col + 1} ('${colName[col]}') is not a logical (T/F/True/False): '${tok}'`); break;
        default: fail(line, `unknown element symbol '${tok}'`);
      }
    }
    p = q;
    lineNo += n;

    if (!hasSpecies) {
      const z = (zColumn as PerAtomColumn).data as Int32Array;
      for (let i = 0; i < n; i++) {
        try {
          symbols[i] = symbolOf(z[i]);
        } catch (err) {
          fail(headerLine + 1 + i, (err as Error).message);
        }
      }
    }

    frames.push({ symbols, positions: positions as Float64Array, cell, pbc, info, arrays });
    frameIndex++;
  }
  return frames;
}

/**
 * Reads an extended-XYZ file: all frames (default or ':'), or the single frame
 * at `index` (negative counts from the end, as in ASE).
 */
export function readExtxyz(path: string, options: { index?: number | ':' } = {}): Frame[] {
  const frames = parseExtxyz(readFileSync(path, 'utf8'), path);
  const index = options.index ?? ':';
  if (index === ':') return frames;
  if (!Number.isInteger(index)) throw new Error(`readExtxyz: index must be an integer or ':', got ${index}`);
  const k = index < 0 ? frames.length + index : index;
  if (k < 0 || k >= frames.length) {
    throw new Error(`readExtxyz: ${path} has ${frames.length} frame(s), index ${index} is out of range`);
  }
  return [frames[k]];
}

// ---------------------------------------------------------------------------
// Writing

/** Checks a frame's arrays and returns the number of atoms. */
function checkFrame(f: Frame, where: string): number {
  const n = f.symbols.length;
  if (f.positions.length !== 3 * n) throw new Error(`${where}: ${n} symbols but positions has length ${f.positions.length}`);
  if (f.cell.length !== 9) throw new Error(`${where}: cell must have 9 entries, got ${f.cell.length}`);
  for (const [name, col] of Object.entries(f.arrays)) {
    if (name === 'species' || name === 'pos') throw new Error(`${where}: arrays may not contain '${name}' (it is written from symbols/positions)`);
    if (name === '' || /[\s:"'=]/.test(name)) throw new Error(`${where}: array name '${name}' cannot be written (empty, or has spaces, ':', quotes or '=')`);
    if (!Number.isInteger(col.columns) || col.columns < 1) throw new Error(`${where}: array '${name}' has column count ${col.columns}`);
    if (col.data.length !== n * col.columns) {
      throw new Error(`${where}: array '${name}' has ${col.data.length} values, expected ${n}×${col.columns}`);
    }
    const okType =
      (col.type === 'R' && col.data instanceof Float64Array) ||
      (col.type === 'I' && col.data instanceof Int32Array) ||
      ((col.type === 'S' || col.type === 'L') && Array.isArray(col.data));
    if (!okType) throw new Error(`${where}: array '${name}' of type ${col.type} has the wrong kind of data`);
  }
  return n;
}

function formatFrame(f: Frame, index: number): string {
  const where = `formatExtxyz: frame ${index}`;
  const n = checkFrame(f, where);
  const cols = Object.entries(f.arrays);
  const head: string[] = [];
  let anyCell = false;
  for (let k = 0; k < 9; k++) if (f.cell[k] !== 0) anyCell = true;
  if (anyCell) head.push(`Lattice="${Array.from(f.cell, formatNumber).join(' ')}"`);
  head.push('Properties=species:S:1:pos:R:3' + cols.map(([name, c]) => `:${name}:${c.type}:${c.columns}`).join(''));
  for (const [key, value] of Object.entries(f.info)) {
    if (key === 'Lattice' || key === 'pbc' || key === 'Properties') continue;
    try {
      head.push(formatPair(key, value));
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
  }
  head.push(`pbc="${f.pbc.map((b) => (b ? 'T' : 'F')).join(' ')}"`);
  const out: string[] = [String(n), head.join(' ')];
  const pos = f.positions;
  for (let i = 0; i < n; i++) {
    const sym = f.symbols[i];
    if (typeof sym !== 'string' || sym === '' || /\s/.test(sym)) throw new Error(`${where}: symbol of atom ${i} is '${sym}'`);
    let line = `${sym} ${formatNumber(pos[3 * i])} ${formatNumber(pos[3 * i + 1])} ${formatNumber(pos[3 * i + 2])}`;
    for (let c = 0; c < cols.length; c++) {
      const col = cols[c][1];
      const m = col.columns;
      for (let k = 0; k < m; k++) {
        const v = col.data[i * m + k];
        if (col.type === 'R') line += ' ' + formatNumber(v as number);
        else if (col.type === 'I') line += ' ' + String(v);
        else if (col.type === 'L') {
          if (typeof v !== 'boolean') throw new Error(`${where}: array '${cols[c][0]}' atom ${i} is not a boolean`);
          line += v ? ' T' : ' F';
        } else {
          if (typeof v !== 'string' || v === '' || /\s/.test(v)) {
            throw new Error(`${where}: array '${cols[c][0]}' atom ${i} is '${v}' (strings in columns must be non-empty, without spaces)`);
          }
          line += ' ' + v;
        }
      }
    }
    out.push(line);
  }
  return out.join('\n') + '\n';
}

/** Frames as extended-XYZ text, numbers with full round-trip precision. */
export function formatExtxyz(frames: Frame[]): string {
  let s = '';
  for (let k = 0; k < frames.length; k++) s += formatFrame(frames[k], k);
  return s;
}

export function writeExtxyz(path: string, frames: Frame[], options: { append?: boolean } = {}): void {
  writeFileSync(path, formatExtxyz(frames), { flag: options.append ? 'a' : 'w' });
}

/**
 * Writes frames one at a time (a trajectory). Each frame goes to the file with
 * one writeSync (no user-space buffering) followed by fsync, so a crash of the
 * process — or the machine — never loses a frame already written.
 */
export class ExtxyzWriter {
  private fd: number | null;
  private count = 0;

  constructor(readonly path: string, options: { append?: boolean } = {}) {
    this.fd = openSync(path, options.append ? 'a' : 'w');
  }

  write(frame: Frame): void {
    if (this.fd === null) throw new Error(`ExtxyzWriter: ${this.path} is closed`);
    writeSync(this.fd, formatFrame(frame, this.count));
    fsyncSync(this.fd);
    this.count++;
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}

// ---------------------------------------------------------------------------
// Frame ↔ physics

/** Total energy from info.energy, eV. */
export function frameEnergy(f: Frame): number | undefined {
  const e = f.info.energy;
  return typeof e === 'number' ? e : undefined;
}

/** Forces (3n, eV/Å) from the per-atom column 'forces' or 'force'. */
export function frameForces(f: Frame): Float64Array | undefined {
  const col = f.arrays.forces ?? f.arrays.force;
  if (col === undefined) return undefined;
  if (col.type !== 'R' || col.columns !== 3) throw new Error(`frameForces: forces column is ${col.type}:${col.columns}, expected R:3`);
  return col.data as Float64Array;
}

/** A 3×3 row-major matrix from 9 numbers in ASE's (Fortran) order, or 6 Voigt numbers. */
function matrix3(v: number[]): Float64Array {
  const m = new Float64Array(9);
  if (v.length === 6) {
    const [xx, yy, zz, yz, xz, xy] = v;
    m.set([xx, xy, xz, xy, yy, yz, xz, yz, zz]);
  } else {
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) m[3 * i + j] = v[3 * j + i];
  }
  return m;
}

/**
 * The virial W = Σ r⊗f (eV, 3×3 row-major) from info.virial, or from info.stress
 * (eV/Å³, 3×3 or Voigt xx yy zz yz xz xy) as W = −stress·V.
 */
export function frameVirial(f: Frame): Float64Array | undefined {
  const vir = f.info.virial;
  if (Array.isArray(vir) && vir.length === 9 && typeof vir[0] === 'number') return matrix3(vir as number[]);
  const st = f.info.stress;
  if (Array.isArray(st) && (st.length === 9 || st.length === 6) && typeof st[0] === 'number') {
    const volume = new Cell(f.cell, false).volume;
    if (!(volume > 0)) throw new Error('frameVirial: stress given but the frame has no cell volume');
    const m = matrix3(st as number[]);
    for (let k = 0; k < 9; k++) m[k] = -m[k] * volume;
    return m;
  }
  return undefined;
}

function realColumn(f: Frame, name: string, columns: number): Float64Array | undefined {
  const col = f.arrays[name];
  if (col === undefined) return undefined;
  if (col.type !== 'R' || col.columns !== columns) {
    throw new Error(`frameToSystem: column '${name}' is ${col.type}:${col.columns}, expected R:${columns}`);
  }
  return col.data as Float64Array;
}

/**
 * A System from a frame. Masses: options.masses, else a per-atom 'masses' column
 * (one value per element), else standard atomic weights. Velocities (Å/fs) from a
 * 'velocities' column, else from ASE 'momenta' (amu·Å per ASE time unit) / mass.
 * info.time (fs) and info.step, when present, set the clock.
 */
export function frameToSystem(f: Frame, options: { masses?: Record<string, number> } = {}): System {
  const n = f.symbols.length;
  let masses = options.masses;
  const massCol = realColumn(f, 'masses', 1);
  if (masses === undefined && massCol !== undefined) {
    const m: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const s = f.symbols[i];
      if (m[s] === undefined) m[s] = massCol[i];
      else if (m[s] !== massCol[i]) throw new Error(`frameToSystem: atoms of ${s} have different masses (${m[s]}, ${massCol[i]}); pass options.masses`);
    }
    masses = m;
  }
  let velocities = realColumn(f, 'velocities', 3);
  const momenta = velocities === undefined ? realColumn(f, 'momenta', 3) : undefined;
  if (momenta !== undefined) {
    velocities = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      const s = f.symbols[i];
      const mi = massCol ? massCol[i] : (masses?.[s] ?? atomicMass(s));
      for (let k = 0; k < 3; k++) velocities[3 * i + k] = momenta[3 * i + k] / (mi * ASE_TIME_FS);
    }
  }
  let anyCell = false;
  for (let k = 0; k < 9; k++) if (f.cell[k] !== 0) anyCell = true;
  const cell = anyCell || f.pbc.some((p) => p) ? new Cell(f.cell, f.pbc) : Cell.none();
  const system = new System({ symbols: f.symbols, positions: f.positions, cell, velocities, masses });
  if (typeof f.info.time === 'number') system.time = f.info.time;
  if (typeof f.info.step === 'number') system.step = f.info.step;
  return system;
}

/**
 * A frame of a System: symbols, positions, cell, pbc; ASE-style 'momenta' and
 * 'masses' columns when any velocity is non-zero; time and step when non-zero;
 * optional energy, forces (system.forces) and stress (Voigt, eV/Å³, written as
 * 3×3 as ASE does).
 */
export function systemToFrame(
  system: System,
  extras: { energy?: number; forces?: boolean; stress?: Float64Array; info?: Frame['info'] } = {},
): Frame {
  const n = system.n;
  const info: Record<string, InfoValue> = { ...(extras.info ?? {}) };
  if (extras.energy !== undefined) info.energy = extras.energy;
  if (extras.stress !== undefined) {
    const s = extras.stress;
    if (s.length !== 6) throw new Error(`systemToFrame: stress must be Voigt (6 values), got ${s.length}`);
    info.stress = [s[0], s[5], s[4], s[5], s[1], s[3], s[4], s[3], s[2]];
  }
  if (system.time !== 0) info.time = system.time;
  if (system.step !== 0) info.step = system.step;
  const arrays: Record<string, PerAtomColumn> = {};
  if (extras.forces) arrays.forces = { type: 'R', columns: 3, data: Float64Array.from(system.forces) };
  const v = system.velocities;
  let moving = false;
  for (let k = 0; k < 3 * n; k++) if (v[k] !== 0) { moving = true; break; }
  if (moving) {
    const p = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      const f = system.masses[i] * ASE_TIME_FS;
      p[3 * i] = v[3 * i] * f;
      p[3 * i + 1] = v[3 * i + 1] * f;
      p[3 * i + 2] = v[3 * i + 2] * f;
    }
    arrays.momenta = { type: 'R', columns: 3, data: p };
    arrays.masses = { type: 'R', columns: 1, data: Float64Array.from(system.masses) };
  }
  return {
    symbols: system.symbols,
    positions: Float64Array.from(system.positions),
    cell: Float64Array.from(system.cell.matrix),
    pbc: [system.cell.pbc[0], system.cell.pbc[1], system.cell.pbc[2]],
    info,
    arrays,
  };
}
