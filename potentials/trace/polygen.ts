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
  // Below each (v1, v2), the v3 without order-4 terms first: the table kernel runs them
  // as one loop, then the others (the sums of h follow this order in both kernels).
  for (const n1 of tree.values()) {
    for (const n2 of n1.kids.values()) {
      const kids = [...n2.kids];
      n2.kids = new Map([...kids.filter(([, n3]) => n3.leaves.size === 0), ...kids.filter(([, n3]) => n3.leaves.size > 0)]);
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

/** Bytes per record of a polynomial table: an f64 coefficient, then two i32 fields. */
const RECORD = 16;

/**
 * The polynomial of `compilePolynomial` as a table of 16-byte records that
 * `polynomialTableWasm` walks: the same chunks and, per chunk, the same tree in the same
 * order (records [c f64][x i32][y i32]):
 *   [0][chunks][0], then per chunk: [0][v1 nodes][ω entries written], then each v1 node
 *   [c1][16·v1][v2 nodes], each v2 node [c2][16·v2][leaves | nodes << 16], its v3 leaves
 *   [c3][16·v3][0], its v3 nodes with order-4 terms [c3][16·v3][v4 leaves] each followed
 *   by those [c4][16·v4][0]; then per ω entry v the chunk wrote [0][16·v][8·v].
 */
export function polynomialTable(idx: Int32Array, start: Int32Array, coef: Float64Array, cb: number): Float64Array<ArrayBuffer> {
  const chunks = chunksOf(monomialTree(idx, start, coef, cb));
  const rows: [number, number, number][] = [[0, chunks.length, 0]];
  for (const chunk of chunks) {
    const head: [number, number, number] = [0, chunk.length, 0], touched = new Set<number>();
    rows.push(head);
    for (const [v1, n1] of chunk) {
      touched.add(v1);
      rows.push([n1.c, 16 * v1, n1.kids.size]);
      for (const [v2, n2] of n1.kids) {
        touched.add(v2);
        let leaves = 0, nodes = 0;
        for (const n3 of n2.kids.values()) if (n3.leaves.size === 0) leaves++; else nodes++;
        if (leaves > 0xffff || nodes > 0x7fff) throw new Error(`polynomial table: ${leaves} + ${nodes} terms below one pair of factors, more than a record holds`);
        rows.push([n2.c, 16 * v2, leaves | (nodes << 16)]);
        for (const [v3, n3] of n2.kids) {
          touched.add(v3);
          rows.push([n3.c, 16 * v3, n3.leaves.size]);
          for (const [v4, c4] of n3.leaves) { touched.add(v4); rows.push([c4, 16 * v4, 0]); }
        }
      }
    }
    head[2] = touched.size;
    for (const v of touched) rows.push([0, 16 * v, 8 * v]);
  }
  const bytes = new ArrayBuffer(RECORD * rows.length), c = new Float64Array(bytes), x = new Int32Array(bytes);
  rows.forEach(([coefficient, a, b], r) => { c[2 * r] = coefficient; x[4 * r + 2] = a; x[4 * r + 3] = b; });
  return c;
}

/**
 * The WebAssembly kernel that evaluates a `polynomialTable` for two atoms at once, one
 * per f64x2 lane: parameters A2 (A of both interleaved, entry v of lane λ at
 * A2 + 16v + 8λ, as `interleaveWasm` writes it), T (the table), W0 and W1 (ω of lane 0
 * and 1 is added into these rows) and E2 (the energies of both are added into the two
 * f64 there). Per monomial the operations of the JavaScript chunks in the same order, so
 * each lane has their bits. ω is summed per chunk in a scratch of interleaved pairs after
 * A (A2 + 16·nA, nA pairs; zero before a call, and left zero).
 *
 * A loop over a table, not straight-line code with the coefficients as constants: that
 * code (~150 bytes of machine code per monomial, 0.86 MB for Si-large's 5,901) was far
 * more than an instruction cache holds; the 3 kB loop made Si-large's MD step ~0.81×.
 */
export function polynomialTableWasm(nA: number, exportName: string): WasmFunction {
  const f = new WasmFunction(exportName, 5);
  const A2 = 0, T = 1, W0 = 2, W1 = 3, E2 = 4, S = 16 * nA;
  const chunks = f.i32(), n1 = f.i32(), n2 = f.i32(), leaves = f.i32(), nodes = f.i32(), n4 = f.i32(), written = f.i32();
  const at1 = f.i32(), at2 = f.i32(), at3 = f.i32(), at4 = f.i32(), wAt = f.i32();
  const a1 = f.v128(), a2 = f.v128(), a3 = f.v128(), E = f.v128(), H = f.v128(), h = f.v128(), k = f.v128(), p = f.v128(), q = f.v128(), c = f.v128();
  const next = (): void => { f.get(T).constI32(RECORD).addI32().set(T); };
  // at = A2 + (the record's x field).
  const address = (at: number): void => { f.get(A2).get(T).loadI32(8).addI32().set(at); };
  // Counted loop: while (count ≠ 0) { count −= 1; body }.
  const repeat = (count: number, body: () => void): void => {
    f.block().loop();
    f.get(count).eqzI32().brIf(1);
    f.get(count).constI32(1).subI32().set(count);
    body();
    f.br(0).end().end();
  };
  // The scratch sum of the entry at `at` += y · z (locals).
  const addScratch = (at: number, y: number, z: number): void => {
    f.get(at).get(at).loadV128(S).get(y).get(z).mulF64x2().addF64x2().storeV128(S);
  };
  // A term record [c][16·v][·]: sum += c · A_v and ω_v += c · y (the entry's address in at).
  const term = (sum: number, at: number, y: number): void => {
    f.get(T).loadSplatF64(0).set(c);
    address(at);
    next();
    f.get(sum).get(c).get(at).loadV128(0).mulF64x2().addF64x2().set(sum);
    addScratch(at, c, y);
  };
  f.get(T).loadI32(8).set(chunks);
  next();
  repeat(chunks, () => {
    f.get(T).loadI32(8).set(n1).get(T).loadI32(12).set(written);
    next();
    f.constF64x2(0).set(E);
    repeat(n1, () => {
      f.get(T).loadSplatF64(0).set(H).get(T).loadI32(12).set(n2);
      address(at1);
      next();
      f.get(at1).loadV128(0).set(a1);
      repeat(n2, () => {
        // The packed count: order-3 leaves in the low 16 bits, v3 nodes above.
        f.get(T).loadSplatF64(0).set(h);
        f.get(T).loadI32(12).tee(nodes).constI32(0xffff).andI32().set(leaves);
        f.get(nodes).constI32(16).shrUI32().set(nodes);
        address(at2);
        next();
        f.get(at2).loadV128(0).set(a2);
        f.get(a1).get(a2).mulF64x2().set(p);
        repeat(leaves, () => term(h, at3, p));
        repeat(nodes, () => {
          f.get(T).loadSplatF64(0).set(k).get(T).loadI32(12).set(n4);
          address(at3);
          next();
          f.get(at3).loadV128(0).set(a3);
          f.get(p).get(a3).mulF64x2().set(q);
          repeat(n4, () => term(k, at4, q));
          f.get(h).get(a3).get(k).mulF64x2().addF64x2().set(h);
          addScratch(at3, p, k);
        });
        f.get(H).get(a2).get(h).mulF64x2().addF64x2().set(H);
        addScratch(at2, a1, h);
      });
      f.get(E).get(a1).get(H).mulF64x2().addF64x2().set(E);
      f.get(at1).get(at1).loadV128(S).get(H).addF64x2().storeV128(S);
    });
    f.get(E2).get(E2).loadV128(0).get(E).addF64x2().storeV128(0);
    // The chunk's ω into the two rows; its scratch back to zero.
    repeat(written, () => {
      address(at1);
      f.get(T).loadI32(12).set(wAt);
      next();
      for (const [row, lane] of [[W0, 0], [W1, 1]] as const) {
        f.get(row).get(wAt).addI32().set(at2);
        f.get(at2).get(at2).loadF64(0).get(at1).loadV128(S).extractLane(lane).addF64().storeF64(0);
      }
      f.get(at1).constF64x2(0).storeV128(S);
    });
  });
  return f;
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
  // Si-large; a call ~4× slower in a scratch timing). A store per row keeps each row's
  // work with its loads.
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
