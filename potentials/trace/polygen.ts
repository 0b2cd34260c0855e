/**
 * The folded product-basis polynomial of one centre species, compiled at load time to
 * straight-line JavaScript (the coefficients and A indices become literals, so the hot
 * code has no index loads, no inner loops with tiny trip counts and no scattered
 * read-modify-writes of ω: every A_v and ω_v lives in a local).
 *
 * Monomials are arranged in a tree by their first factor v1, then their second v2:
 *   E = Σ_v1 a_v1 · H_v1,   H_v1 = c_v1 + Σ_v2 a_v2 · h_v1v2,   h_v1v2 = c_v1v2 + Σ_v3 c_v1v2v3 a_v3
 * (orders 1, 2, 3 share the nodes), and the adjoint follows the tree back:
 *   ω_v1 += H_v1,  ω_v2 += a_v1 h_v1v2,  ω_v3 += c a_v1 a_v2.
 * Order-4 monomials add one level (h gets Σ_v3 a_v3 k_v1v2v3 with k = Σ_v4 c a_v4).
 *
 * The code is cut into chunks of a few hundred monomials so that each function stays
 * small enough for V8's optimising compiler. Each chunk reads A, adds its part of ω
 * into w (which the caller zeroes) and writes its part of E to e[0] (not returned: a
 * double returned from a call V8 does not inline is boxed, an allocation per call).
 */

import { WasmFunction } from './wasm.ts';

export type PolyChunk = (A: Float64Array, w: Float64Array, e: Float64Array) => void;

/** Monomials per chunk: keeps a chunk's bytecode well under V8's optimisation limit. */
const CHUNK_MONOMIALS = 240;

/** The monomial tree below one first factor v1 (see the file comment). */
interface Node3 { c: number; leaves: Map<number, number> }
interface Node2 { c: number; kids: Map<number, Node3> }
interface Node1 { c: number; kids: Map<number, Node2>; size: number }
type MonomialTree = Map<number, Node1>;

/**
 * The tree of the polynomial with monomial factors idx[4·α .. 4·α+3] (−1 padded; order ν
 * monomials in [start[ν−1], start[ν])) and coefficients coef[cb + α]; zero ones left out.
 */
function monomialTree(idx: Int32Array, start: Int32Array, coef: Float64Array, cb: number): MonomialTree {
  const tree: MonomialTree = new Map();
  const maxOrder = start.length - 1;
  for (let nu = 1; nu <= maxOrder; nu++) {
    for (let a = start[nu - 1]; a < start[nu]; a++) {
      const c = coef[cb + a];
      if (c === 0) continue;
      const v1 = idx[4 * a], v2 = idx[4 * a + 1], v3 = idx[4 * a + 2], v4 = idx[4 * a + 3];
      let n1 = tree.get(v1);
      if (!n1) { n1 = { c: 0, kids: new Map(), size: 0 }; tree.set(v1, n1); }
      n1.size++;
      if (nu === 1) { n1.c += c; continue; }
      let n2 = n1.kids.get(v2);
      if (!n2) { n2 = { c: 0, kids: new Map() }; n1.kids.set(v2, n2); }
      if (nu === 2) { n2.c += c; continue; }
      let n3 = n2.kids.get(v3);
      if (!n3) { n3 = { c: 0, leaves: new Map() }; n2.kids.set(v3, n3); }
      if (nu === 3) { n3.c += c; continue; }
      n3.leaves.set(v4, (n3.leaves.get(v4) ?? 0) + c);
    }
  }
  return tree;
}

/** The tree's v1 subtrees in chunks of about CHUNK_MONOMIALS monomials. */
function chunksOf(tree: MonomialTree): [number, Node1][][] {
  const chunks: [number, Node1][][] = [];
  let chunk: [number, Node1][] = [], count = 0;
  for (const entry of tree) {
    chunk.push(entry);
    count += entry[1].size;
    if (count >= CHUNK_MONOMIALS) { chunks.push(chunk); chunk = []; count = 0; }
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * Compiles the polynomial with monomial factors idx[4·α .. 4·α+3] (−1 padded; order ν
 * monomials in [start[ν−1], start[ν])) and coefficients coef[cb + α].
 */
export function compilePolynomial(idx: Int32Array, start: Int32Array, coef: Float64Array, cb: number): PolyChunk[] {
  const lit = (c: number): string => (c < 0 || Object.is(c, -0) ? `(${String(c)})` : String(c));
  return chunksOf(monomialTree(idx, start, coef, cb)).map((chunk) => {
    const body: string[] = [], reads = new Set<number>(), writes = new Set<number>();
    for (const [v1, n1] of chunk) {
      reads.add(v1); writes.add(v1);
      body.push(`H = ${lit(n1.c)};`);
      for (const [v2, n2] of n1.kids) {
        reads.add(v2); writes.add(v2);
        const has3 = n2.kids.size > 0;
        if (has3) body.push(`p = a${v1} * a${v2};`);
        body.push(`h = ${lit(n2.c)};`);
        for (const [v3, n3] of n2.kids) {
          reads.add(v3); writes.add(v3);
          if (n3.leaves.size === 0) {
            body.push(`h += ${lit(n3.c)} * a${v3}; w${v3} += ${lit(n3.c)} * p;`);
            continue;
          }
          // Order 4 below (v1, v2, v3): k = c3 + Σ c4 a_v4; h += a_v3 k; ω_v3 += p k; ω_v4 += c4 p a_v3.
          body.push(`q = p * a${v3}; k = ${lit(n3.c)};`);
          for (const [v4, c4] of n3.leaves) {
            reads.add(v4); writes.add(v4);
            body.push(`k += ${lit(c4)} * a${v4}; w${v4} += ${lit(c4)} * q;`);
          }
          body.push(`h += a${v3} * k; w${v3} += p * k;`);
        }
        body.push(`H += a${v2} * h; w${v2} += a${v1} * h;`);
      }
      body.push(`E += a${v1} * H; w${v1} += H;`);
    }
    const head = [`'use strict';`];
    for (const v of reads) head.push(`const a${v} = A[${v}];`);
    for (const v of writes) head.push(`let w${v} = 0;`);
    head.push('let E = 0, H = 0, h = 0, k = 0, p = 0, q = 0;');
    const tail: string[] = [];
    for (const v of writes) tail.push(`w[${v}] += w${v};`);
    tail.push('e[0] = E;');
    return new Function('A', 'w', 'e', [...head, ...body, ...tail].join('\n')) as PolyChunk;
  });
}

/**
 * The same polynomial for two atoms at once, as WebAssembly functions of byte addresses
 * (see wasm.ts), one per chunk, each lane of an f64x2 one atom: A2 holds A of both
 * interleaved (entry v of lane λ at A2 + 16v + 8λ; `interleaveWasm` writes it), ω of
 * lane 0 is added into the row at W0 and of lane 1 into W1, and the E of both into the
 * two f64 at E2. Per monomial the same operations as the JavaScript chunks in the same
 * order: the two lanes have the same bits as two calls of those.
 */
export function polynomialWasm(idx: Int32Array, start: Int32Array, coef: Float64Array, cb: number, exportPrefix: string): WasmFunction[] {
  return chunksOf(monomialTree(idx, start, coef, cb)).map((chunk, c) => {
    const f = new WasmFunction(`${exportPrefix}${c}`, 4);
    const A2 = 0, W0 = 1, W1 = 2, E2 = 3;
    const w = new Map<number, number>();
    const omega = (v: number): number => {
      let local = w.get(v);
      if (local === undefined) { local = f.v128(); w.set(v, local); }
      return local;
    };
    const E = f.v128(), H = f.v128(), h = f.v128(), k = f.v128(), p = f.v128(), q = f.v128();
    const a = (v: number): WasmFunction => f.get(A2).loadV128(16 * v);
    // x += y · z, with y and z pushed by the callbacks.
    const fma = (x: number, y: () => void, z: () => void): void => { f.get(x); y(); z(); f.mulF64x2().addF64x2().set(x); };
    const lit = (c: number) => (): void => { f.constF64x2(c); };
    const at = (v: number) => (): void => { a(v); };
    const local = (l: number) => (): void => { f.get(l); };
    // The ω locals start at zero (WebAssembly zeroes locals), as the JavaScript ones.
    f.constF64x2(0).set(E);
    for (const [v1, n1] of chunk) {
      f.constF64x2(n1.c).set(H);
      for (const [v2, n2] of n1.kids) {
        if (n2.kids.size > 0) { a(v1); a(v2); f.mulF64x2().set(p); }
        f.constF64x2(n2.c).set(h);
        for (const [v3, n3] of n2.kids) {
          if (n3.leaves.size === 0) {
            fma(h, lit(n3.c), at(v3));
            fma(omega(v3), lit(n3.c), local(p));
            continue;
          }
          f.get(p); a(v3); f.mulF64x2().set(q);
          f.constF64x2(n3.c).set(k);
          for (const [v4, c4] of n3.leaves) {
            fma(k, lit(c4), at(v4));
            fma(omega(v4), lit(c4), local(q));
          }
          fma(h, at(v3), local(k));
          fma(omega(v3), local(p), local(k));
        }
        fma(H, at(v2), local(h));
        fma(omega(v2), at(v1), local(h));
      }
      fma(E, at(v1), local(H));
      const o1 = omega(v1);
      f.get(o1).get(H).addF64x2().set(o1);
    }
    for (const [v, l] of w) {
      f.get(W0).get(W0).loadF64(8 * v).get(l).extractLane(0).addF64().storeF64(8 * v);
      f.get(W1).get(W1).loadF64(8 * v).get(l).extractLane(1).addF64().storeF64(8 * v);
    }
    f.get(E2).get(E2).loadV128(0).get(E).addF64x2().storeV128(0);
    return f;
  });
}

/** A2[2v + λ] = (A0, A1)[λ][v] for v < n, as a WebAssembly function of the three byte addresses. */
export function interleaveWasm(n: number, exportName: string): WasmFunction {
  const f = new WasmFunction(exportName, 3);
  const A0 = 0, A1 = 1, A2 = 2;
  for (let v = 0; v < n; v++) {
    f.get(A2).get(A0).loadF64(8 * v).storeF64(16 * v);
    f.get(A2).get(A1).loadF64(8 * v).storeF64(16 * v + 8);
  }
  return f;
}

/**
 * Pair contraction of the pair-symmetric MD path (AceEvaluator.energyPairs) for a pair
 * of two atoms of the same model species, compiled to straight-line code for its block
 * layout: with Ω = ω_i + (−1)^l ω_j, per (l, m) t = Σ_a g_{a+shift} Ω_lma and
 * s = Σ_a g′_{a+shift} Ω_lma, then out = (Σ t ∇G_lm, Σ s Y_lm).
 */
export type PairContraction = (W: Float64Array, ai: number, aj: number, g: Float64Array, dg: Float64Array, rOff: number,
  Y: Float64Array, DG: Float64Array, yOff: number, out: Float64Array) => void;

/**
 * Block l of the fast layout for one neighbour species (the kernels take one per l):
 * active pairs [lo, hi), whose radial values are g_{a+shift}; A base of the block and
 * its pair count (entry (m, a) at base + m·count + a).
 */
export interface BlockLayout { lo: number; hi: number; shift: number; base: number; count: number }

export function compilePairContraction(blocks: readonly BlockLayout[]): PairContraction {
  const src = [`'use strict';`];
  const ns = new Set<number>();
  blocks.forEach((b) => { for (let a = b.lo; a < b.hi; a++) ns.add(a + b.shift); });
  for (const n of ns) src.push(`const g${n} = g[rOff + ${n}], d${n} = dg[rOff + ${n}];`);
  src.push('let o = 0, t = 0, s = 0, rad = 0, gx = 0, gy = 0, gz = 0;');
  blocks.forEach((b, l) => {
    if (b.lo === b.hi) return;
    const op = (l & 1) === 1 ? '-' : '+';
    for (let m = 0; m <= 2 * l; m++) {
      for (let a = b.lo; a < b.hi; a++) {
        const K = b.base + m * b.count + a, n = a + b.shift;
        src.push(`o = W[ai + ${K}] ${op} W[aj + ${K}]; ${a === b.lo ? `t = g${n} * o; s = d${n} * o;` : `t += g${n} * o; s += d${n} * o;`}`);
      }
      const lm = l * l + m;
      src.push(`rad += s * Y[yOff + ${lm}]; gx += t * DG[3 * yOff + ${3 * lm}]; gy += t * DG[3 * yOff + ${3 * lm + 1}]; gz += t * DG[3 * yOff + ${3 * lm + 2}];`);
    }
  });
  src.push('out[0] = gx; out[1] = gy; out[2] = gz; out[3] = rad;');
  return new Function('W', 'ai', 'aj', 'g', 'dg', 'rOff', 'Y', 'DG', 'yOff', 'out', src.join('\n')) as PairContraction;
}

/**
 * The same pair contraction as a WebAssembly function (see wasm.ts) of byte addresses
 * (wi, wj: ω_i and ω_j rows; g, dg: the pair's radial row; y, dgy: its Y and ∇G rows;
 * out: 4 f64), two radial indices a per f64x2 instruction (an odd block's last one in
 * f64). Sums in another order than the JavaScript one: equal to rounding.
 */
export function pairContractionWasm(blocks: readonly BlockLayout[], exportName: string): WasmFunction {
  const f = new WasmFunction(exportName, 7);
  // Parameters: ω rows, radial values g and derivatives g′, Y and ∇G rows, output.
  const WI = 0, WJ = 1, G = 2, DR = 3, Y = 4, GRADY = 5, OUT = 6;
  const maxPairs = Math.max(0, ...blocks.map((b) => (b.hi - b.lo) >> 1));
  const gv = Array.from({ length: maxPairs }, () => f.v128()), dv = Array.from({ length: maxPairs }, () => f.v128());
  // o = ω_i ± ω_j of two entries; t = Σ_a g_a o_a, s = Σ_a g′_a o_a (two lanes, then ts, ss).
  const o = f.v128(), t = f.v128(), s = f.v128();
  const os = f.f64(), ts = f.f64(), ss = f.f64(), rad = f.f64(), gx = f.f64(), gy = f.f64(), gz = f.f64();
  // The sums are stored after every row, not once at the end: TurboFan keeps the loads
  // in program order but sinks pure arithmetic towards its first use, so with one store
  // at the end every loaded ω and Y waits there, spilled (a 12 kB stack frame for
  // Si-large, 4× slower). A store per row keeps each row's work with its loads.
  const store = (): void => { f.get(OUT).get(gx).storeF64(0).get(OUT).get(gy).storeF64(8).get(OUT).get(gz).storeF64(16).get(OUT).get(rad).storeF64(24); };
  blocks.forEach((b, l) => {
    if (b.lo === b.hi) return;
    const pairs = (b.hi - b.lo) >> 1, odd = ((b.hi - b.lo) & 1) === 1, minus = (l & 1) === 1;
    // The block's radial values, two at a time, shared by its 2l + 1 rows.
    for (let k = 0; k < pairs; k++) {
      const n = b.lo + 2 * k + b.shift;
      f.get(G).loadV128(8 * n).set(gv[k]).get(DR).loadV128(8 * n).set(dv[k]);
    }
    for (let m = 0; m <= 2 * l; m++) {
      const row = b.base + m * b.count;
      for (let k = 0; k < pairs; k++) {
        const K = 8 * (row + b.lo + 2 * k);
        f.get(WI).loadV128(K).get(WJ).loadV128(K);
        if (minus) f.subF64x2(); else f.addF64x2();
        f.set(o);
        if (k === 0) {
          f.get(gv[k]).get(o).mulF64x2().set(t).get(dv[k]).get(o).mulF64x2().set(s);
        } else {
          f.get(t).get(gv[k]).get(o).mulF64x2().addF64x2().set(t).get(s).get(dv[k]).get(o).mulF64x2().addF64x2().set(s);
        }
      }
      if (pairs > 0) {
        f.get(t).extractLane(0).get(t).extractLane(1).addF64().set(ts);
        f.get(s).extractLane(0).get(s).extractLane(1).addF64().set(ss);
      } else {
        f.constF64(0).set(ts).constF64(0).set(ss);
      }
      if (odd) {
        const a = b.hi - 1, K = 8 * (row + a), n = a + b.shift;
        f.get(WI).loadF64(K).get(WJ).loadF64(K);
        if (minus) f.subF64(); else f.addF64();
        f.set(os);
        f.get(ts).get(G).loadF64(8 * n).get(os).mulF64().addF64().set(ts);
        f.get(ss).get(DR).loadF64(8 * n).get(os).mulF64().addF64().set(ss);
      }
      const lm = l * l + m;
      f.get(rad).get(ss).get(Y).loadF64(8 * lm).mulF64().addF64().set(rad);
      f.get(gx).get(ts).get(GRADY).loadF64(8 * (3 * lm)).mulF64().addF64().set(gx);
      f.get(gy).get(ts).get(GRADY).loadF64(8 * (3 * lm + 1)).mulF64().addF64().set(gy);
      f.get(gz).get(ts).get(GRADY).loadF64(8 * (3 * lm + 2)).mulF64().addF64().set(gz);
      store();
    }
  });
  if (blocks.every((b) => b.lo === b.hi)) store();
  return f;
}

/**
 * One neighbour's contribution to the atomic base in the fast layout, as a WebAssembly
 * function of byte addresses (A; r: the neighbour's radial row; y: its Y row): per
 * block l and row m, A_lma += Y_lm g_{a+shift}, two a per f64x2 instruction. For the
 * blocks of one neighbour species (all direct: full ACE).
 */
export function accumulationWasm(blocks: readonly BlockLayout[], exportName: string): WasmFunction {
  const f = new WasmFunction(exportName, 3);
  const A = 0, R = 1, Y = 2;
  const maxPairs = Math.max(0, ...blocks.map((b) => (b.hi - b.lo) >> 1));
  const rv = Array.from({ length: maxPairs }, () => f.v128());
  const yv = f.v128(), ys = f.f64(), rs = f.f64();
  blocks.forEach((b, l) => {
    if (b.lo === b.hi) return;
    const pairs = (b.hi - b.lo) >> 1, odd = ((b.hi - b.lo) & 1) === 1;
    for (let k = 0; k < pairs; k++) f.get(R).loadV128(8 * (b.lo + 2 * k + b.shift)).set(rv[k]);
    if (odd) f.get(R).loadF64(8 * (b.hi - 1 + b.shift)).set(rs);
    for (let m = 0; m <= 2 * l; m++) {
      const row = b.base + m * b.count;
      f.get(Y).loadF64(8 * (l * l + m)).set(ys);
      if (pairs > 0) f.get(ys).splatF64x2().set(yv);
      for (let k = 0; k < pairs; k++) {
        const K = 8 * (row + b.lo + 2 * k);
        f.get(A).get(A).loadV128(K).get(yv).get(rv[k]).mulF64x2().addF64x2().storeV128(K);
      }
      if (odd) {
        const K = 8 * (row + b.hi - 1);
        f.get(A).get(A).loadF64(K).get(ys).get(rs).mulF64().addF64().storeF64(K);
      }
    }
  });
  return f;
}
