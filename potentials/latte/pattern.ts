/**
 * LATTE descriptor strings: blocks separated by ':', each `n,body,body,…` where a
 * body is a string of index letters (a rank-p Cartesian tensor of the neighbour unit
 * vectors) or `-` (rank 0, the pure 2-body sum). Every letter must appear exactly
 * twice in its block, which is what makes the contraction rotation invariant.
 * Example: `16,-:16,a,a:16,ab,ab:8,a,b,ab` (see /work/shared/specs/latte.md).
 *
 * The parser compiles each block into a contraction plan over symmetric tensors in
 * compact storage (sorted index tuples): G_u = Σ_t coef_t Π_k T_k[u, idx_tk].
 */

/** Highest tensor rank one body may have. */
export const MAX_RANK = 4;
/** Highest body order (bodies + 1) of a block. */
export const MAX_BODY_ORDER = 5;

export interface BodySpec {
  /** Index letters of the body ('' for `-`). */
  letters: string;
  rank: number;
}

export interface BlockSpec {
  /** Number of descriptor elements (radial channels) in the block. */
  n: number;
  bodies: BodySpec[];
  /** Text of the block as written, for messages. */
  text: string;
}

export interface ContractionPlan {
  /** Number of distinct compact index tuples (terms). */
  nTerms: number;
  /** Multiplicity of each term. */
  coef: Float64Array;
  /** Compact component of each body per term, length nTerms·bodies. */
  index: Int32Array;
}

/** Compact size of a symmetric rank-p tensor in 3-D: (p+1)(p+2)/2. */
export function compactSize(rank: number): number {
  return ((rank + 1) * (rank + 2)) / 2;
}

/** Sorted index tuples of each rank in lexicographic order: TUPLES[p][c] = [i1 ≤ … ≤ ip]. */
export const TUPLES: number[][][] = [];
for (let p = 0; p <= MAX_RANK; p++) {
  const list: number[][] = [];
  // Non-decreasing tuples: each index ≥ the previous one.
  const rec = (prefix: number[], start: number): void => {
    if (prefix.length === p) { list.push(prefix.slice()); return; }
    for (let a = start; a < 3; a++) { prefix.push(a); rec(prefix, a); prefix.pop(); }
  };
  rec([], 0);
  TUPLES.push(list);
}

/** Compact index of an arbitrary (unsorted) index tuple. */
export function compactIndex(tuple: readonly number[]): number {
  const sorted = [...tuple].sort((x, y) => x - y);
  const list = TUPLES[sorted.length];
  for (let c = 0; c < list.length; c++) {
    const t = list[c];
    let same = true;
    for (let q = 0; q < t.length; q++) if (t[q] !== sorted[q]) { same = false; break; }
    if (same) return c;
  }
  throw new Error(`compactIndex: bad tuple ${tuple.join(',')}`);
}

/** Parses one descriptor string; throws an error naming the offending block. */
export function parseDescriptor(text: string): BlockSpec[] {
  if (typeof text !== 'string' || text.trim() === '') throw new Error(`LATTE descriptor: empty descriptor string`);
  const parts = text.split(':');
  return parts.map((raw, b) => parseBlock(raw.trim(), b + 1));
}

function parseBlock(raw: string, number: number): BlockSpec {
  const where = `LATTE descriptor block ${number} ('${raw}')`;
  if (raw === '') throw new Error(`${where}: empty block`);
  const fields = raw.split(',').map((f) => f.trim());
  const nText = fields[0];
  if (!/^[0-9]+$/.test(nText) || Number(nText) < 1) {
    throw new Error(`${where}: first field must be the number of terms (a positive integer), got '${nText}'`);
  }
  const n = Number(nText);
  const bodyTexts = fields.slice(1);
  if (bodyTexts.length === 0) throw new Error(`${where}: empty block (no bodies after the term count)`);
  if (bodyTexts.length + 1 > MAX_BODY_ORDER) {
    throw new Error(`${where}: ${bodyTexts.length} bodies make a ${bodyTexts.length + 1}-body term; at most ${MAX_BODY_ORDER}-body terms are supported`);
  }
  const count = new Map<string, number>();
  const bodies: BodySpec[] = bodyTexts.map((bt, k) => {
    if (bt === '-') return { letters: '', rank: 0 };
    if (bt === '') throw new Error(`${where}: body ${k + 1} is empty (use '-' for a 2-body term)`);
    if (!/^[a-z]+$/.test(bt)) throw new Error(`${where}: body ${k + 1} '${bt}' must be lower-case index letters or '-'`);
    if (bt.length > MAX_RANK) throw new Error(`${where}: body ${k + 1} '${bt}' has rank ${bt.length}; at most ${MAX_RANK} is supported`);
    for (const ch of bt) count.set(ch, (count.get(ch) ?? 0) + 1);
    return { letters: bt, rank: bt.length };
  });
  for (const [ch, c] of count) {
    if (c === 1) throw new Error(`${where}: index '${ch}' appears once; every index must appear exactly twice (the pattern is not fully paired)`);
    if (c > 2) throw new Error(`${where}: index '${ch}' appears ${c} times; every index must appear exactly twice`);
  }
  for (const [k, body] of bodies.entries()) {
    const seen = new Set<string>();
    for (const ch of body.letters) {
      if (seen.has(ch)) throw new Error(`${where}: index '${ch}' is repeated inside body ${k + 1} '${body.letters}' (a trivial trace); pair it with another body`);
      seen.add(ch);
    }
  }
  return { n, bodies, text: raw };
}

/** Builds the compact contraction plan of a block. */
export function contractionPlan(block: BlockSpec): ContractionPlan {
  const letters = [...new Set(block.bodies.flatMap((b) => [...b.letters]))];
  const L = letters.length;
  const m = block.bodies.length;
  const terms = new Map<string, { coef: number; idx: number[] }>();
  const total = 3 ** L;
  const assign = new Map<string, number>();
  for (let code = 0; code < total; code++) {
    let c = code;
    for (const ch of letters) { assign.set(ch, c % 3); c = Math.floor(c / 3); }
    const idx = block.bodies.map((body) => compactIndex([...body.letters].map((ch) => assign.get(ch)!)));
    const key = idx.join(',');
    const t = terms.get(key);
    if (t) t.coef++;
    else terms.set(key, { coef: 1, idx });
  }
  const list = [...terms.values()];
  const coef = new Float64Array(list.length);
  const index = new Int32Array(list.length * m);
  list.forEach((t, q) => {
    coef[q] = t.coef;
    for (let k = 0; k < m; k++) index[q * m + k] = t.idx[k];
  });
  return { nTerms: list.length, coef, index };
}

/** Number of descriptor elements Σ_b n_b. */
export function descriptorSize(blocks: readonly BlockSpec[]): number {
  return blocks.reduce((s, b) => s + b.n, 0);
}
