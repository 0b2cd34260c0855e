/**
 * The comment (second) line of an extended-XYZ frame: `key=value` pairs as ASE
 * reads and writes them (format facts from ASE's ase/io/extxyz.py, 3.22):
 * - values may be bare, or delimited by "…", '…', {…} or […]; a backslash escapes
 *   the next character anywhere; a key alone means True;
 * - a value whose whitespace/comma-separated tokens are all integers or all
 *   floats becomes a number (one token) or a number array; all T/F/True/False
 *   tokens become a boolean or boolean array; `_JSON …` is JSON; otherwise a string;
 * - Lattice, virial and stress are 3×3 matrices written as 9 numbers in Fortran
 *   order (for Lattice that is the three cell vectors one after the other).
 */

export type InfoValue = number | string | boolean | number[] | string[] | boolean[];

/** A header entry before conversion: the key and the raw (unescaped, unquoted) value. */
export interface RawPair {
  key: string;
  value: string;
  /** True when the key had no `=value` at all (means True). */
  bare: boolean;
}

const CLOSER: Record<string, string> = { '"': '"', "'": "'", '{': '}', '[': ']' };

/**
 * Splits a comment line into key/value pairs following ASE's character rules.
 * Throws a plain Error with a short message on an unterminated quote; the caller
 * adds file/frame/line context.
 */
export function splitHeader(line: string): RawPair[] {
  // pairs[p] = [key, value part, value part, …] (parts after the first '=')
  const pairs: string[][] = [['']];
  let closer = '';
  let escaped = false;
  const s = line.trim();
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const pair = pairs[pairs.length - 1];
    if (escaped) {
      pair[pair.length - 1] += ch;
      escaped = false;
    } else if (ch === '\\') {
      escaped = true;
    } else if (closer !== '') {
      if (ch === closer) closer = '';
      else pair[pair.length - 1] += ch;
    } else if (ch in CLOSER) {
      closer = CLOSER[ch];
    } else if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n' || ch === '\f' || ch === '\v') {
      // a new pair starts only after a non-empty part, so "key = value" is one pair
      if (pair[pair.length - 1] !== '') pairs.push(['']);
    } else if (ch === '=') {
      if (pair.length === 1 && pair[0] === '' && pairs.length > 1) pairs.pop();
      pairs[pairs.length - 1].push('');
    } else {
      pair[pair.length - 1] += ch;
    }
  }
  if (closer !== '') throw new Error(`unterminated quoted value (missing ${closer})`);
  const out: RawPair[] = [];
  for (const p of pairs) {
    if (p.length === 1) {
      if (p[0] !== '') out.push({ key: p[0], value: 'T', bare: true });
    } else {
      if (p[0] === '') throw new Error(`value '${p.slice(1).join('=')}' has no key`);
      out.push({ key: p[0], value: p.slice(1).join('='), bare: false });
    }
  }
  return out;
}

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf|infinity)$/i;

/** Python's float() for a token already matched by FLOAT_RE. */
function pyFloat(tok: string): number {
  const low = tok.toLowerCase().replace(/^\+/, '');
  if (low === 'nan' || low === '-nan') return NaN;
  if (low === 'inf' || low === 'infinity') return Infinity;
  if (low === '-inf' || low === '-infinity') return -Infinity;
  return Number(tok);
}

function tokens(value: string): string[] {
  return value.split(/[\s,]+/).filter((t) => t !== '');
}

const BOOL: Record<string, boolean> = { T: true, F: false, True: true, False: false };

/** Converts a raw header value to a number, boolean, string or array (ASE's rules). */
export function convertValue(key: string, value: string): InfoValue {
  if (key.toLowerCase() === 'uid') return value;
  const toks = tokens(value);
  if (toks.length > 0) {
    if (toks.every((t) => INT_RE.test(t))) {
      const nums = toks.map(Number);
      return nums.length === 1 ? nums[0] : nums;
    }
    if (toks.every((t) => FLOAT_RE.test(t))) {
      const nums = toks.map(pyFloat);
      return nums.length === 1 ? nums[0] : nums;
    }
    if (toks.every((t) => t in BOOL)) {
      const b = toks.map((t) => BOOL[t]);
      return b.length === 1 ? b[0] : b;
    }
  }
  if (value.startsWith('_JSON ')) {
    try {
      const parsed: unknown = JSON.parse(value.slice(6));
      const flat = flatJson(parsed);
      if (flat !== undefined) return flat;
    } catch {
      // not valid JSON: keep the string as it is
    }
  }
  return value;
}

/** A JSON value that fits Frame.info (a scalar or a flat homogeneous array). */
function flatJson(v: unknown): InfoValue | undefined {
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (!Array.isArray(v)) return undefined;
  if (v.every((x) => typeof x === 'number')) return v as number[];
  if (v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  if (v.length > 0 && v.every((x) => typeof x === 'boolean')) return v as boolean[];
  return undefined;
}

/** Quotes a key or string value when ASE's reader would otherwise split or strip it. */
export function quote(s: string): string {
  if (s.includes('\n') || s.includes('\r')) throw new Error(`header text may not contain a line break: ${JSON.stringify(s)}`);
  if (s !== '' && !/[\s"'{}[\]\\=,]/.test(s)) return s;
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** Shortest decimal that reads back to exactly the same double (Python float() accepts it). */
export function formatNumber(x: number): string {
  return String(x);
}

/** One header entry `key=value` as ASE would read it back to the same value. */
export function formatPair(key: string, value: InfoValue): string {
  if (key === '' || /[\s="'{}[\]\\]/.test(key)) throw new Error(`header key ${JSON.stringify(key)} cannot be written (empty or has spaces, quotes, '=' or brackets)`);
  let text: string;
  if (typeof value === 'number') text = formatNumber(value);
  else if (typeof value === 'boolean') text = value ? 'T' : 'F';
  // an empty quoted value would swallow the next pair on reading (ASE's splitter)
  else if (typeof value === 'string') text = value === '' ? quote('_JSON ""') : quote(value);
  else if (Array.isArray(value)) {
    const arr = value as unknown[];
    if (arr.length >= 2 && arr.every((x) => typeof x === 'number')) {
      text = '"' + (arr as number[]).map(formatNumber).join(' ') + '"';
    } else if (arr.length >= 2 && arr.every((x) => typeof x === 'boolean')) {
      text = '"' + (arr as boolean[]).map((b) => (b ? 'T' : 'F')).join(' ') + '"';
    } else if (arr.every((x) => typeof x === 'number' || typeof x === 'boolean' || typeof x === 'string')) {
      // one element, empty, or strings: JSON keeps the type on reading back
      text = quote('_JSON ' + JSON.stringify(arr.map((x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x))));
    } else {
      throw new Error(`header value of '${key}' must be a number, string, boolean or a flat array of them`);
    }
  } else {
    throw new Error(`header value of '${key}' must be a number, string, boolean or a flat array of them`);
  }
  return `${key}=${text}`;
}
