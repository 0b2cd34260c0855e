import { describe, expect, it } from 'vitest';
import { accumulationWasm, compilePairContraction, pairContractionWasm } from '../potentials/trace/polygen.ts';
import { WasmArena, WasmFunction, instantiate, wasmModule, wasmSimdAvailable } from '../potentials/trace/wasm.ts';
import { AceBasis } from '../potentials/trace/basis.ts';
import { AceEvaluator } from '../potentials/trace/evaluator.ts';
import { Rng } from '../src/rng.ts';

// The WebAssembly writer (potentials/trace/wasm.ts) and the pair contraction it
// compiles, against values worked by hand and against the JavaScript contraction.
// The evaluator's results through either contraction are compared with the per-pair
// reference in test/trace-pairs.test.ts.

describe('WebAssembly writer', () => {
  it('runs on this runtime with fixed-width SIMD', () => {
    expect(wasmSimdAvailable()).toBe(true);
  });

  it('encodes loads, stores, f64 and f64x2 arithmetic, lanes, constants and LEB128 offsets', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const f = new WasmFunction('k', 2);
    const v = f.v128(), x = f.f64();
    // v = [a0·a2, a1·a3] − [a0, a1]; x = v0 + v1 + 0.25; stored at b + 200 (offset ≥ 128: a two-byte LEB128).
    f.get(0).loadV128(0).get(0).loadV128(16).mulF64x2().get(0).loadV128(0).subF64x2().set(v);
    f.get(v).extractLane(0).get(v).extractLane(1).addF64().constF64(0.25).addF64().set(x);
    f.get(1).get(x).storeF64(200);
    const { k } = instantiate([f], memory);
    const a = new Float64Array(memory.buffer);
    a.set([1.5, -2, 3, 4]);
    k(0, 64);
    expect(a[(64 + 200) / 8]).toBe((1.5 * 3 - 1.5) + (-2 * 4 + 2) + 0.25);
  });

  it('encodes i32 constants (signed LEB128), i32 loads and arithmetic, loops and branches', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const f = new WasmFunction('k', 1);
    const n = f.i32(), sum = f.i32();
    const constants = [63, 64, -64, -65, 0x1234, -0x1234, 10000, -10000, 300, -129];
    // sum = the n i32 at b added (n read from b + 64), the constants (one to three LEB128
    // bytes, either sign), then sum + (sum & 0xf0) + (sum >>> 4); the f64 at b + 1000 + sum is
    // copied to b + 128 (the kernels have no i32 store: a wrong sum reads another f64).
    f.get(0).loadI32(64).set(n);
    f.block().loop();
    f.get(n).eqzI32().brIf(1);
    f.get(n).constI32(1).subI32().tee(n);
    f.get(n).addI32().get(n).addI32().get(n).addI32(); // 4n, the word's byte offset
    f.get(0).addI32().loadI32(0).get(sum).addI32().set(sum);
    f.br(0).end().end();
    for (const c of constants) f.get(sum).constI32(c).addI32().set(sum);
    f.get(sum).get(sum).constI32(0xf0).andI32().addI32().get(sum).constI32(4).shrUI32().addI32().set(sum);
    f.get(0).get(0).get(sum).addI32().loadF64(1000).storeF64(128);
    const { k } = instantiate([f], memory);
    const b = 256, words = new Int32Array(memory.buffer), view = new DataView(memory.buffer);
    words.set([5, -7, 11], b / 4);
    words[(b + 64) / 4] = 3;
    let expected = 5 - 7 + 11;
    for (const c of constants) expected += c;
    expected = expected + (expected & 0xf0) + (expected >>> 4);
    expect(expected).toBe(365);
    view.setFloat64(b + 1000 + expected, -3.75, true);
    k(b);
    expect(view.getFloat64(b + 128, true)).toBe(-3.75);
  });

  it('writes a module the runtime validates, with several functions', () => {
    const fs = [new WasmFunction('a', 1), new WasmFunction('b', 3)];
    fs[0].get(0).constF64(1).storeF64(0);
    fs[1].get(2).get(0).loadF64(8).get(1).loadF64(16).subF64().storeF64(0);
    expect(WebAssembly.validate(wasmModule(fs))).toBe(true);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const { a, b } = instantiate(fs, memory);
    const m = new Float64Array(memory.buffer);
    a(32);
    expect(m[4]).toBe(1);
    m[2] = 10; m[4] = 2.5;
    b(8, 16, 48);
    expect(m[6]).toBe(7.5);
  });

  it('lays regions out 16-byte aligned, growing the memory', () => {
    const arena = new WasmArena();
    const [p, q, r] = arena.layout([3, 20000, 5]);
    expect([p.byteOffset, q.byteOffset, r.byteOffset]).toEqual([0, 32, 32 + 160000]);
    expect(arena.memory.buffer.byteLength).toBeGreaterThanOrEqual(r.byteOffset + 40);
    expect(r.length).toBe(5);
  });
});

describe('pair contraction in WebAssembly', () => {
  // Blocks with even and odd entry counts, an empty one, a single entry (no f64x2 pair),
  // a start above 0 and radial shifts.
  const blocks = [
    { lo: 0, hi: 7, shift: 0, base: 0, count: 7 },
    { lo: 1, hi: 5, shift: 2, base: 7, count: 6 },
    { lo: 0, hi: 0, shift: 0, base: 25, count: 3 },
    { lo: 2, hi: 5, shift: -1, base: 40, count: 5 },
    { lo: 3, hi: 4, shift: 1, base: 75, count: 4 },
  ];
  const nA = 111, RW = 9, nY = 25;

  it('equals the JavaScript contraction to rounding', () => {
    const rng = new Rng(4);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const all = new Float64Array(memory.buffer);
    // Layout (f64 indices): W (2 rows of nA), g, dg (RW), Y (nY), DG (3 nY), out (4).
    const W = all.subarray(0, 2 * nA), g = all.subarray(240, 240 + RW), dg = all.subarray(256, 256 + RW);
    const Y = all.subarray(272, 272 + nY), DG = all.subarray(304, 304 + 3 * nY), out = all.subarray(384, 388);
    for (const v of [W, g, dg, Y, DG]) for (let k = 0; k < v.length; k++) v[k] = rng.normal();
    const js = compilePairContraction(blocks), expected = new Float64Array(4);
    js(W, 0, nA, g, dg, 0, Y, DG, 0, expected);
    const { k } = instantiate([pairContractionWasm(blocks, 'k')], memory);
    k(0, 8 * nA, 8 * 240, 8 * 256, 8 * 272, 8 * 304, 8 * 384);
    for (let c = 0; c < 4; c++) {
      expect(Math.abs(expected[c])).toBeGreaterThan(0.1);
      expect(Math.abs(out[c] - expected[c])).toBeLessThan(1e-12 * Math.abs(expected[c]));
    }
  });

  it('accumulates one neighbour into A as A_lma += Y_lm g_(a+shift)', () => {
    const rng = new Rng(5);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const all = new Float64Array(memory.buffer);
    const A = all.subarray(0, nA), g = all.subarray(120, 120 + RW), Y = all.subarray(136, 136 + nY);
    for (const v of [A, g, Y]) for (let k = 0; k < v.length; k++) v[k] = rng.normal();
    const expected = Float64Array.from(A);
    blocks.forEach((b, l) => {
      for (let m = 0; m <= 2 * l; m++) for (let a = b.lo; a < b.hi; a++) expected[b.base + m * b.count + a] += Y[l * l + m] * g[a + b.shift];
    });
    const { k } = instantiate([accumulationWasm(blocks, 'k')], memory);
    k(0, 8 * 120, 8 * 136);
    for (let c = 0; c < nA; c++) expect(A[c]).toBe(expected[c]);
  });

  it('is what the evaluator of a full-ACE basis builds at its first MD evaluation, unless told not to', () => {
    const basis = new AceBasis({ elements: ['Si'], radial: { kind: 'chebexpcos', n: 5, cutoff: 4.6 }, order: 3, maxDegree: [5, 6, 6] });
    type Inside = { wasmContract: unknown[]; wasmAccumulate: unknown[]; arena: unknown; buildKernels: (() => void) | null };
    const ev = new AceEvaluator(basis) as unknown as Inside;
    expect(ev.arena).toBeNull();
    ev.buildKernels!();
    expect([ev.wasmContract.length, ev.wasmAccumulate.length, ev.buildKernels]).toEqual([1, 1, null]);
    expect(ev.arena).not.toBeNull();
    expect((new AceEvaluator(basis, { wasm: false }) as unknown as Inside).buildKernels).toBeNull();
  });
});
