/**
 * The per-neighbour loops of LATTE's MD path (LatteModel.evaluateMd), generated once
 * per maximum rank from the compact component tables (pattern.ts TUPLES): the forward
 * pass T = Σ_j w·phi·M(u_j) over every rank group, and the backward pass from ∂E/∂T
 * to the forces, two sorted neighbours at a time. Their bodies run over every component of a
 * tensor (1, 3, 6, 10 or 15), each in a local; written by hand they were one near-copy
 * per rank and per pass. The derivative of Σ_c A_c M_c(u) along an axis is read off
 * the tuples too (each tuple's count of the axis times the tuple with one copy of it
 * removed).
 *
 * The generated code performs the same floating-point operations in the same order as
 * the hand-written loops it replaced (sums left to right, products left to right), so
 * MD gives the same bits (bench/build-ab.ts: identical) — except for models of rank 0
 * alone, whose MD forces the hand-written backward pass zeroed (it read u as 0 below
 * rank 1). The backward pass reads u from rows 1–3 of M, which LatteModel writes for
 * every model. Only integers and the fixed run margin enter the source; nothing from a
 * model file does.
 */

import { compile } from './mdgen.ts';
import { compactIndex, MAX_RANK, TUPLES } from './pattern.ts';

/** First row of each rank's compact components in the monomial table M (rank p: TUPLES[p].length rows). */
const ROW: number[] = [];
for (let p = 0, o = 0; p < TUPLES.length; p++) { ROW.push(o); o += TUPLES[p].length; }

/** f(i) for i = 0 … n−1, joined by sep. */
function each(n: number, f: (i: number) => string, sep = ', '): string {
  return Array.from({ length: n }, (_, i) => f(i)).join(sep);
}

/** `${base}` or `${base} + c`: the index of component c. */
function at(base: string, c: number): string {
  return c ? `${base} + ${c}` : base;
}

/**
 * ∂/∂u_axis of Σ_c acc_c M_c for rank p ≥ 1: Σ over tuples containing the axis of
 * (its count) · acc_c · (rank p−1 monomial without one copy of the axis), in tuple
 * order; for rank 1 the monomial left is the constant 1 and is not written.
 */
function derivative(p: number, axis: number, acc: string, lower: string): string {
  const terms: string[] = [];
  TUPLES[p].forEach((t, c) => {
    const e = t.filter((a) => a === axis).length;
    if (e === 0) return;
    const rest = t.slice();
    rest.splice(rest.indexOf(axis), 1);
    const m = rest.length === 0 ? '' : ` * ${lower}${compactIndex(rest)}`;
    terms.push(e > 1 ? `${e} * ${acc}${c}${m}` : `${acc}${c}${m}`);
  });
  return terms.join(' + ');
}

/**
 * Forward pass for centre species ti: T = Σ_j w·phi·M(u_j) and W = (w·phi, w·phi') per
 * (neighbour, sorted function), rank group by rank group (grp[5ti + g] … grp[5ti + g + 1];
 * group 3 is rank 3 below split, then rank 4). Two adjacent functions per pass (ranks
 * 0–3) over the union of their runs, the odd one and rank 4 one at a time.
 */
export type Forward = (ti: number, F: number, ns: number, grp: Int32Array, split: number,
  R: Float64Array, T: Float64Array, W: Float64Array, seg: Int32Array, segLo: Int32Array, segHi: Int32Array,
  ordIs: Float64Array, CA: Float64Array, CB: Float64Array, hC: Float64Array, hBase: Int32Array,
  mv: Float64Array[], grpSmax: Float64Array) => void;

/**
 * Backward pass of atom i (nn sorted neighbours, centre species ti): adds −∂E/∂x to
 * forces from ∂E/∂T (gT) and the forward pass's w·phi, w·phi' (W). Two adjacent sorted
 * neighbours a, b of one species segment (r_a ≤ r_b) per pass: over the functions
 * alive for both, the loads of ∂E/∂T and the loop are shared; the functions alive for
 * one only are visited for it alone (the forward pass wrote W only where
 * |fl(r − c)| < S). A neighbour left without a partner is processed as a pair with
 * itself, the copy's result unused. Per neighbour, A = Σ_k ∂E/∂T_k·w·phi gives
 * b = Σ_c A_c ∇_u M_c, the radial sum s = Σ_k (∂E/∂T_k·M)·w·phi', and the pair gradient
 * ∂E_i/∂r_ij = s·u + (b − (u·b)·u)/r.
 */
export type Backward = (i: number, nn: number, ti: number, forces: Float64Array, F: number, cap: number,
  grp: Int32Array, split: number, smax: Float64Array, keyT: Int32Array, J: Int32Array, R: Float64Array,
  M: Float64Array, W: Float64Array, gT: Float64Array, hC: Float64Array, hBase: Int32Array) => void;

/** Margin (Å) added to the largest width of a rank group when finding runs of (neighbour, function) pairs. */
const RUN_MARGIN = 1e-9;

/** The kernels of each maximum rank, generated on first use. */
const kernels: ({ forward: Forward; backward: Backward } | undefined)[] = [];

/** The loops for models of rank ≤ maxRank (generated on first use, then shared). */
export function mdLoops(maxRank: number): { forward: Forward; backward: Backward } {
  if (!Number.isInteger(maxRank) || maxRank < 0 || maxRank > MAX_RANK) throw new Error(`LATTE code generation: bad rank ${String(maxRank)}`);
  return (kernels[maxRank] ??= { forward: compileForward(maxRank), backward: compileBackward(maxRank) });
}

function compileForward(maxRank: number): Forward {
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
  const reset = 'for (let tj = 0; tj < ns; tj++) { segLo[tj] = seg[tj]; segHi[tj] = seg[tj]; }';
  // Rank p's monomial arrays are X<p>_0, X<p>_1, …; rank 0's is the constant 1.
  const term = (p: number, acc: string, w: string, m: (c: number) => string): string =>
    p === 0 ? `${acc}0 += ${w}` : each(TUPLES[p].length, (c) => `${acc}${c} += ${w} * ${m(c)}`, '; ');
  // w·phi and w·phi' of a function at scaled distance y (zero outside |y| < 1): into val, der.
  const bump = (y: string, w: string, d: string, val: string, der: string): string =>
    `{ const t = 1 - ${y} * ${y}; if (t > 0) { const u = t * t; ${val} = ${w} * t * u; ${der} = ${d} * ${y} * u; } }`;
  // Two adjacent functions of rank p per pass (the loads of r and M shared).
  const paired = (p: number, end: string): string[] => {
    const n = TUPLES[p].length;
    return [
      `for (; k + 1 < ${end}; k += 2) {`,
      '  const ca = hC[k], cb = hC[k + 1], isa = ordIs[k], isb = ordIs[k + 1], kk = k - k0, ba = hBase[k], bb = hBase[k + 1], wo = 2 * kk;',
      `  let ${each(n, (c) => `a${c} = 0`)};`,
      `  let ${each(n, (c) => `b${c} = 0`)};`,
      ...run('ca', 'cb'),
      '  const e = (ti * ns + tj) * F + kk, wa = CA[e], wb = CA[e + 1], da = CB[e], db = CB[e + 1];',
      '  for (let q = lo, o = lo * F2 + wo; q < hi; q++, o += F2) {',
      '    const r = R[q], ya = (r - ca) * isa, yb = (r - cb) * isb;',
      '    let pa = 0, pb = 0, qa = 0, qb = 0;',
      `    ${bump('ya', 'wa', 'da', 'pa', 'qa')}`,
      `    ${bump('yb', 'wb', 'db', 'pb', 'qb')}`,
      '    W[o] = pa; W[o + 1] = qa; W[o + 2] = pb; W[o + 3] = qb;',
      ...(p === 0 ? [] : [`    const ${each(n, (c) => `n${c} = X${p}_${c}[q]`)};`]),
      `    ${term(p, 'a', 'pa', (c) => `n${c}`)};`,
      `    ${term(p, 'b', 'pb', (c) => `n${c}`)};`,
      '  }',
      '  }',
      `  ${each(n, (c) => `T[${at('ba', c)}] = a${c}`, '; ')};`,
      `  ${each(n, (c) => `T[${at('bb', c)}] = b${c}`, '; ')};`,
      '}',
    ];
  };
  // One function of rank p at a time.
  const single = (p: number, end: string): string[] => {
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
      `    ${bump('y', 'ca', 'cb', 'wp', 'wd')}`,
      '    W[o] = wp; W[o + 1] = wd;',
      `    ${term(p, 't', 'wp', (c) => `X${p}_${c}[q]`)};`,
      '  }',
      '  }',
      `  ${each(n, (c) => `T[${at('base', c)}] = t${c}`, '; ')};`,
      '}',
    ];
  };
  const body = ['const k0 = ti * F, F2 = 2 * F;', 'let k = 0, S = 0;'];
  for (let p = 1; p <= maxRank; p++) body.push(`const ${each(TUPLES[p].length, (c) => `X${p}_${c} = mv[${ROW[p] + c}]`)};`);
  for (let g = 0; g <= Math.min(maxRank, 2); g++) {
    body.push(`k = grp[ti * 5 + ${g}]; S = grpSmax[ti * 4 + ${g}] + ${RUN_MARGIN};`, reset,
      ...paired(g, `grp[ti * 5 + ${g + 1}]`), ...single(g, `grp[ti * 5 + ${g + 1}]`));
  }
  if (maxRank >= 3) {
    body.push('k = grp[ti * 5 + 3];', 'if (k < grp[ti * 5 + 4]) {', `S = grpSmax[ti * 4 + 3] + ${RUN_MARGIN};`, reset,
      ...paired(3, 'split'), ...single(3, 'split'));
    if (maxRank >= 4) body.push('k = split;', reset, ...single(4, 'grp[ti * 5 + 4]'));
    body.push('}');
  }
  return compile<Forward>(['ti', 'F', 'ns', 'grp', 'split', 'R', 'T', 'W', 'seg', 'segLo', 'segHi',
    'ordIs', 'CA', 'CB', 'hC', 'hBase', 'mv', 'grpSmax'], body);
}

function compileBackward(maxRank: number): Backward {
  // Loads of side s's rank-p monomials: m<s><p>_<c> = M[(ROW[p] + c)·cap + q<s>].
  const loads = (p: number, s: string): string =>
    `const ${each(TUPLES[p].length, (c) => `m${s}${p}_${c} = M[${ROW[p] + c} * cap + q${s}]`)};`;
  // One run of functions [lo, hi) for the given sides: c<s><p>_c += ∂E/∂T_c·w·phi and
  // radial sum += (∂E/∂T·M)·w·phi' (rank 0: ∂E/∂T·w·phi' only).
  const loop = (p: number, lo: string, hi: string, sides: string[], sum: string): string[] => {
    const n = TUPLES[p].length;
    const out = [
      `for (let k = ${lo}; k < ${hi}; k++) {`,
      '  const b = hBase[k];',
      `  const ${each(n, (c) => `h${c} = gT[${at('b', c)}]`)};`,
    ];
    for (const s of sides) {
      const S = s.toUpperCase();
      if (p === 0) out.push(`  ${sum}${S} += h0 * W[w${S} + 2 * k + 1];`);
      else {
        out.push(
          `  { const e = w${S} + 2 * k, wp = W[e], wd = W[e + 1];`,
          `    ${each(n, (c) => `c${s}${p}_${c} += h${c} * wp`, '; ')};`,
          `    ${sum}${S} += (${each(n, (c) => `h${c} * m${s}${p}_${c}`, ' + ')}) * wd; }`,
        );
      }
    }
    out.push('}');
    return out;
  };
  // Rank p's three parts: a alone [loA, mid), both [lo, hiA), b alone [end, hi).
  const loops = (p: number, sum: string): string[] => [
    ...loop(p, `loA${p}`, `mid${p}`, ['a'], sum),
    ...loop(p, `lo${p}`, `hiA${p}`, ['a', 'b'], sum),
    ...loop(p, `end${p}`, `hi${p}`, ['b'], sum),
  ];
  const accumulators = (p: number): string =>
    `let ${['a', 'b'].map((s) => each(TUPLES[p].length, (c) => `c${s}${p}_${c} = 0`)).join(', ')};`;
  // Rank p's functions alive at r_a, then at r_b ≥ r_a, each end moved up from the
  // previous pair's run [lo<p>, hi<p>) (rank p: sorted functions [B<p>, B<p+1>)).
  const runs = (p: number): string[] => [
    `lo${p} = runStart(hC, lo${p}, B${p + 1}, ra, S${p}); if (hi${p} < lo${p}) hi${p} = lo${p}; hi${p} = runEnd(hC, hi${p}, B${p + 1}, ra, S${p});`,
    `const loA${p} = lo${p}, hiA${p} = hi${p};`,
    `lo${p} = runStart(hC, lo${p}, B${p + 1}, rb, S${p}); if (hi${p} < lo${p}) hi${p} = lo${p}; hi${p} = runEnd(hC, hi${p}, B${p + 1}, rb, S${p});`,
    `const mid${p} = lo${p} < hiA${p} ? lo${p} : hiA${p}, end${p} = lo${p} > hiA${p} ? lo${p} : hiA${p};`,
  ];
  const ranks = Array.from({ length: maxRank + 1 }, (_, p) => p);
  const axes = ['x', 'y', 'z'];
  const sides = ['a', 'b'];
  // ∂/∂u of ranks 1 and 2's Σ_c A_c M_c (their part of b).
  const low = (s: string, a: number): string =>
    maxRank === 0 ? '0' : [1, 2].filter((p) => p <= maxRank).map((p) => derivative(p, a, `c${s}${p}_`, `m${s}${p - 1}_`)).join(' + ');
  const pair: string[] = [
    'const paired = qa + 1 < nn && keyT[qa + 1] === keyT[qa];',
    'const qb = paired ? qa + 1 : qa;',
    'const ra = R[qa], rb = R[qb], wA = qa * F2 - 2 * k0, wB = qb * F2 - 2 * k0;',
    ...ranks.flatMap(runs),
    loads(1, 'a'), loads(1, 'b'),
    'let sA = 0, sB = 0;',
    ...loops(0, 's'),
  ];
  if (maxRank >= 1) pair.push(accumulators(1), ...loops(1, 's'));
  if (maxRank >= 2) pair.push(accumulators(2), 'if (loA2 < hi2) {', loads(2, 'a'), loads(2, 'b'), ...loops(2, 's'), '}');
  if (maxRank <= 2) {
    pair.push(...sides.flatMap((s) => axes.map((x, a) => `const b${x}${s.toUpperCase()} = ${low(s, a)};`)));
  } else {
    // Ranks 3 and 4 in sums of their own (rank 4's loops only when one of its functions is alive), added last.
    pair.push('let sHA = 0, sHB = 0;', `let ${sides.flatMap((s) => axes.map((x) => `h${x}${s.toUpperCase()} = 0`)).join(', ')};`,
      '{', loads(3, 'a'), loads(3, 'b'), accumulators(3), ...loops(3, 'sH'), loads(2, 'a'), loads(2, 'b'),
      ...sides.flatMap((s) => axes.map((x, a) => `h${x}${s.toUpperCase()} = ${derivative(3, a, `c${s}3_`, `m${s}2_`)};`)), '}');
    if (maxRank >= 4) {
      pair.push('if (loA4 < hi4) {', loads(4, 'a'), loads(4, 'b'), accumulators(4), ...loops(4, 'sH'), loads(3, 'a'), loads(3, 'b'),
        ...sides.flatMap((s) => axes.map((x, a) => `h${x}${s.toUpperCase()} += ${derivative(4, a, `c${s}4_`, `m${s}3_`)};`)), '}');
    }
    pair.push('sA += sHA; sB += sHB;',
      ...sides.flatMap((s) => axes.map((x, a) => `const b${x}${s.toUpperCase()} = ${low(s, a)} + h${x}${s.toUpperCase()};`)));
  }
  // The pair gradient g = ∂E_i/∂r_ij = s·u + (b − (u·b)·u)/r of a, then of b when paired.
  const gradient = (s: string): string[] => {
    const S = s.toUpperCase(), u = (a: number): string => `m${s}1_${a}`;
    return [
      '{',
      `  const ub = ${u(0)} * bx${S} + ${u(1)} * by${S} + ${u(2)} * bz${S}, ir = 1 / r${s};`,
      `  const ${axes.map((x, a) => `g${x} = s${S} * ${u(a)} + (b${x}${S} - ub * ${u(a)}) * ir`).join(', ')};`,
      `  const j3 = 3 * J[q${s}];`,
      '  forces[j3] -= gx; forces[j3 + 1] -= gy; forces[j3 + 2] -= gz;',
      '  fx += gx; fy += gy; fz += gz;',
      '}',
    ];
  };
  pair.push(...gradient('a'), 'if (paired)', ...gradient('b'), 'qa = paired ? qa + 2 : qa + 1;');
  const reset = ranks.map((p) => `lo${p} = B${p}; hi${p} = B${p};`).join(' ');
  const params = ['i', 'nn', 'ti', 'forces', 'F', 'cap', 'grp', 'split', 'smax', 'keyT', 'J', 'R', 'M', 'W', 'gT', 'hC', 'hBase'];
  const body = [
    'const k0 = ti * F, F2 = 2 * F;',
    // Rank p's sorted functions are [B<p>, B<p+1>): ranks 0–2 are rank groups 0–2, rank group 3 is rank 3 then rank 4.
    'const B0 = grp[ti * 5], B1 = grp[ti * 5 + 1], B2 = grp[ti * 5 + 2], B3 = grp[ti * 5 + 3], B4 = split, B5 = grp[ti * 5 + 4];',
    `const ${ranks.map((p) => `S${p} = smax[ti * 4 + ${Math.min(p, 3)}] + ${RUN_MARGIN}`).join(', ')};`,
    `let ${ranks.map((p) => `lo${p} = B${p}, hi${p} = B${p}`).join(', ')};`,
    'let fx = 0, fy = 0, fz = 0;',
    'for (let qa = 0; qa < nn;) {',
    `  if (qa > 0 && keyT[qa] !== keyT[qa - 1]) { ${reset} }`,
    ...pair.map((line) => `  ${line}`),
    '}',
    'forces[3 * i] += fx; forces[3 * i + 1] += fy; forces[3 * i + 2] += fz;',
  ];
  // The run helpers sit outside the kernel (declared inside, they would be new closures
  // at every call). Helpers rather than inline loops so that every call site (inlined)
  // shares one feedback: a loop that runs rarely (a second neighbour's start) otherwise
  // deoptimises the kernel the first time it runs after optimisation.
  return compile<() => Backward>([], [
    'function runStart(C, k, end, r, S) { while (k < end && !(r - C[k] < S)) k++; return k; }',
    'function runEnd(C, k, end, r, S) { while (k < end && r - C[k] > -S) k++; return k; }',
    `return function backward(${params.join(', ')}) {`,
    ...body,
    '};',
  ])();
}
