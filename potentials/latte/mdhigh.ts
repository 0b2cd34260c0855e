/**
 * The rank-3 and rank-4 loops of LATTE's MD path (LatteModel.mdForwardHigh and
 * mdBackHighPair), generated once at module load from the compact component tables
 * (pattern.ts TUPLES). Their bodies run over every component of a tensor (10 for rank
 * 3, 15 for rank 4), each component in a local; written by hand they were near-copies
 * of one another. The derivative of Σ_c A_c M_c(u) along an axis is read off the tuples
 * too (each tuple's count of the axis times the tuple with one copy of it removed),
 * where the hand-written code spelled out those coefficients.
 *
 * The generated code performs the same floating-point operations in the same order as
 * the hand-written loops it replaced (sums left to right, products left to right), so
 * MD gives the same bits (bench/build-ab.ts: identical). Only integers and the fixed
 * run margin enter the source; nothing from a model file does.
 */

import { compile } from './mdgen.ts';
import { compactIndex, TUPLES } from './pattern.ts';

/** First row of each rank's compact components in the monomial table M (rank p: TUPLES[p].length rows). */
const ROW: number[] = [];
for (let p = 0, o = 0; p < TUPLES.length; p++) { ROW.push(o); o += TUPLES[p].length; }

/** f(i) for i = 0 … n−1, joined by sep. */
function each(n: number, f: (i: number) => string, sep = ', '): string {
  return Array.from({ length: n }, (_, i) => f(i)).join(sep);
}

/**
 * ∂/∂u_axis of Σ_c acc_c M_c for rank p: Σ over tuples containing the axis of
 * (its count) · acc_c · (rank p−1 monomial without one copy of the axis), in tuple order.
 */
function derivative(p: number, axis: number, acc: string, lower: string): string {
  const terms: string[] = [];
  TUPLES[p].forEach((t, c) => {
    const e = t.filter((a) => a === axis).length;
    if (e === 0) return;
    const rest = t.slice();
    rest.splice(rest.indexOf(axis), 1);
    const m = `${lower}${compactIndex(rest)}`;
    terms.push(e > 1 ? `${e} * ${acc}${c} * ${m}` : `${acc}${c} * ${m}`);
  });
  return terms.join(' + ');
}

/**
 * Forward pass of rank group 3 (ranks 3 and 4) for centre species ti over sorted
 * functions [kStart, kEnd): T = Σ_j w·phi·M(u_j), and W = (w·phi, w·phi') per
 * (neighbour, function). Rank-3 functions go two at a time below split, then one at a
 * time; rank-4 ones one at a time.
 */
export type ForwardHigh = (ti: number, kStart: number, kEnd: number, F: number, ns: number, split: number,
  R: Float64Array, T: Float64Array, W: Float64Array, seg: Int32Array, segLo: Int32Array, segHi: Int32Array,
  ordIs: Float64Array, CA: Float64Array, CB: Float64Array, hC: Float64Array, hBase: Int32Array,
  mv: Float64Array[], grpSmax: Float64Array) => void;

/**
 * Backward pass of ranks 3 and 4 for two adjacent sorted neighbours qa, qb over the
 * function runs in rg (rank 3: a alone over [rg[0], rg[1]), both over [rg[2], rg[3]),
 * b alone over [rg[4], rg[5]); rank 4 likewise in rg[6 … 11]): out = (b_a, radial sum
 * a, b_b, radial sum b).
 */
export type BackHighPair = (rg: Int32Array, M: Float64Array, W: Float64Array, gT: Float64Array, hBase: Int32Array,
  cap: number, qa: number, qb: number, wA: number, wB: number, out: Float64Array) => void;

/** Run margin (Å) added to a group's largest width: LatteModel's RUN_MARGIN. */
export function compileForwardHigh(runMargin: number): ForwardHigh {
  if (!Number.isFinite(runMargin)) throw new Error('LATTE code generation: non-finite run margin');
  const n3 = TUPLES[3].length, n4 = TUPLES[4].length;
  // The run of sorted neighbours inside the support of the functions centred at cLo, cHi.
  const run = (cLo: string, cHi: string): string[] => [
    'for (let tj = 0; tj < ns; tj++) {',
    '  const qEnd = seg[tj + 1];',
    '  let lo = segLo[tj], hi = segHi[tj];',
    `  while (lo < qEnd && !(R[lo] - ${cLo} > -S)) lo++;`,
    '  if (hi < lo) hi = lo;',
    `  while (hi < qEnd && R[hi] - ${cHi} < S) hi++;`,
    '  segLo[tj] = lo; segHi[tj] = hi;',
  ];
  // One function at a time, rank p, monomial arrays named X0, X1, …
  const single = (p: number, X: string, end: string): string[] => {
    const n = TUPLES[p].length;
    return [
      `for (; k < ${end}; k++) {`,
      '  const c = hC[k], is = ordIs[k], kk = k - k0, base = hBase[k], wo = 2 * kk;',
      `  let ${each(n, (c) => `t${c} = 0`)};`,
      ...run('c', 'c'),
      '  const e = (ti * ns + tj) * F + kk, ca = CA[e], cb = CB[e];',
      '  for (let q = lo, o = lo * F2 + wo; q < hi; q++, o += F2) {',
      '    const y = (R[q] - c) * is;',
      '    let wp = 0, wd = 0;',
      '    { const t = 1 - y * y; if (t > 0) { const u = t * t; wp = ca * t * u; wd = cb * y * u; } }',
      '    W[o] = wp; W[o + 1] = wd;',
      `    ${each(n, (c) => `t${c} += wp * ${X}${c}[q]`, '; ')};`,
      '  }',
      '  }',
      `  ${each(n, (c) => `T[base${c ? ` + ${c}` : ''}] = t${c}`, '; ')};`,
      '}',
    ];
  };
  const body = [
    'const k0 = ti * F, F2 = 2 * F;',
    `const ${each(n3, (c) => `N${c} = mv[${ROW[3] + c}]`)};`,
    `const ${each(n4, (c) => `O${c} = mv[${ROW[4] + c}]`)};`,
    `const S = grpSmax[ti * 4 + 3] + ${String(runMargin)};`,
    'for (let tj = 0; tj < ns; tj++) { segLo[tj] = seg[tj]; segHi[tj] = seg[tj]; }',
    'let k = kStart;',
    // Rank 3, two functions per pass over the union of their runs (loads of r and M shared).
    'for (; k + 1 < split; k += 2) {',
    '  const ca = hC[k], cb = hC[k + 1], isa = ordIs[k], isb = ordIs[k + 1], kk = k - k0, ba = hBase[k], bb = hBase[k + 1], wo = 2 * kk;',
    `  let ${each(n3, (c) => `a${c} = 0`)};`,
    `  let ${each(n3, (c) => `b${c} = 0`)};`,
    ...run('ca', 'cb'),
    '  const e = (ti * ns + tj) * F + kk, wa = CA[e], wb = CA[e + 1], da = CB[e], db = CB[e + 1];',
    '  for (let q = lo, o = lo * F2 + wo; q < hi; q++, o += F2) {',
    '    const r = R[q], ya = (r - ca) * isa, yb = (r - cb) * isb;',
    '    let pa = 0, pb = 0, qa = 0, qb = 0;',
    '    { const t = 1 - ya * ya; if (t > 0) { const u = t * t; pa = wa * t * u; qa = da * ya * u; } }',
    '    { const t = 1 - yb * yb; if (t > 0) { const u = t * t; pb = wb * t * u; qb = db * yb * u; } }',
    '    W[o] = pa; W[o + 1] = qa; W[o + 2] = pb; W[o + 3] = qb;',
    `    const ${each(n3, (c) => `n${c} = N${c}[q]`)};`,
    `    ${each(n3, (c) => `a${c} += pa * n${c}`, '; ')};`,
    `    ${each(n3, (c) => `b${c} += pb * n${c}`, '; ')};`,
    '  }',
    '  }',
    `  ${each(n3, (c) => `T[ba${c ? ` + ${c}` : ''}] = a${c}`, '; ')};`,
    `  ${each(n3, (c) => `T[bb${c ? ` + ${c}` : ''}] = b${c}`, '; ')};`,
    '}',
    ...single(3, 'N', 'split'),
    'k = split;',
    'for (let tj = 0; tj < ns; tj++) { segLo[tj] = seg[tj]; segHi[tj] = seg[tj]; }',
    ...single(4, 'O', 'kEnd'),
  ];
  return compile<ForwardHigh>(['ti', 'kStart', 'kEnd', 'F', 'ns', 'split', 'R', 'T', 'W', 'seg', 'segLo', 'segHi',
    'ordIs', 'CA', 'CB', 'hC', 'hBase', 'mv', 'grpSmax'], body);
}

export function compileBackHighPair(): BackHighPair {
  // Loads of side s's rank-p monomials: m<s><p>_<c> = M[(ROW[p] + c)·cap + q<s>].
  const loads = (p: number, s: string): string =>
    `const ${each(TUPLES[p].length, (c) => `m${s}${p}_${c} = M[${ROW[p] + c} * cap + q${s}]`)};`;
  // One run of functions [lo, hi) for the given sides: acc<s><p>_c += ∂E/∂T_c·w·phi, s<S> += (∂E/∂T·M)·w·phi'.
  const loop = (p: number, lo: string, hi: string, sides: string[]): string[] => {
    const n = TUPLES[p].length;
    const out = [
      `for (let k = ${lo}; k < ${hi}; k++) {`,
      '  const b = hBase[k];',
      `  const ${each(n, (c) => `h${c} = gT[b${c ? ` + ${c}` : ''}]`)};`,
    ];
    for (const s of sides) {
      const S = s.toUpperCase();
      out.push(
        `  { const e = w${S} + 2 * k, wp = W[e], wd = W[e + 1];`,
        `    ${each(n, (c) => `c${s}${p}_${c} += h${c} * wp`, '; ')};`,
        `    s${S} += (${each(n, (c) => `h${c} * m${s}${p}_${c}`, ' + ')}) * wd; }`,
      );
    }
    out.push('}');
    return out;
  };
  const rank = (p: number): string[] => [
    `let ${each(TUPLES[p].length, (c) => `ca${p}_${c} = 0`)};`,
    `let ${each(TUPLES[p].length, (c) => `cb${p}_${c} = 0`)};`,
    ...loop(p, `loA${p}`, `mid${p}`, ['a']),
    ...loop(p, `lo${p}`, `hiA${p}`, ['a', 'b']),
    ...loop(p, `end${p}`, `hi${p}`, ['b']),
  ];
  const axes = ['x', 'y', 'z'];
  const body = [
    // The runs, rank 3 then rank 4 (LatteModel.mdBackHighPair, pairRuns).
    ...[3, 4].map((p, r) => `const ${['loA', 'mid', 'lo', 'hiA', 'end', 'hi'].map((v, i) => `${v}${p} = rg[${6 * r + i}]`).join(', ')};`),
    loads(3, 'a'), loads(3, 'b'),
    'let sA = 0, sB = 0;',
    ...rank(3),
    loads(2, 'a'), loads(2, 'b'),
    ...['a', 'b'].flatMap((s) => axes.map((x, a) => `let b${x}${s.toUpperCase()} = ${derivative(3, a, `c${s}3_`, `m${s}2_`)};`)),
    'if (loA4 < hi4) {',
    loads(4, 'a'), loads(4, 'b'),
    ...rank(4),
    ...['a', 'b'].flatMap((s) => axes.map((x, a) => `b${x}${s.toUpperCase()} += ${derivative(4, a, `c${s}4_`, `m${s}3_`)};`)),
    '}',
    'out[0] = bxA; out[1] = byA; out[2] = bzA; out[3] = sA;',
    'out[4] = bxB; out[5] = byB; out[6] = bzB; out[7] = sB;',
  ];
  return compile<BackHighPair>(['rg', 'M', 'W', 'gT', 'hBase', 'cap', 'qa', 'qb', 'wA', 'wB', 'out'], body);
}
