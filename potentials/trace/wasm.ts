/**
 * A minimal WebAssembly binary writer for kernels generated at load time: one module
 * importing one memory ("e", "m") and exporting functions whose parameters are i32
 * (byte addresses in that memory) and which return nothing. Only the instructions the
 * kernels use are here: locals, f64, i32 and v128 loads and stores with constant offsets,
 * f64, i32 and f64x2 constants, add, sub, mul, f64x2 neg, splat and lane extraction and
 * replacement, a few i32 operations, and blocks, loops and branches
 * (WebAssembly 2.0 core and its fixed-width SIMD; binary format as in the
 * specification, §5).
 *
 * Why WebAssembly: a kernel's array accesses become single loads from a base address
 * plus a constant offset (no bounds check or index arithmetic per access, as a typed
 * array needs), and f64x2 does two multiply-adds per instruction. A generated kernel
 * is checked against the JavaScript one (test/trace-wasm.test.ts, trace-polygen.test.ts).
 */

const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b;
const SIMD = 0xfd;

function uleb(out: number[], value: number): void {
  if (!(Number.isInteger(value) && value >= 0 && value <= 0xffffffff)) throw new Error(`wasm writer: ${value} is not an unsigned 32-bit integer (an offset or index)`);
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v !== 0 ? byte | 0x80 : byte);
  } while (v !== 0);
}

function name(out: number[], text: string): void {
  const bytes = new TextEncoder().encode(text);
  uleb(out, bytes.length);
  for (const b of bytes) out.push(b);
}

function section(out: number[], id: number, body: number[]): void {
  out.push(id);
  uleb(out, body.length);
  for (const b of body) out.push(b);
}

/** The body of one function: i32 parameters 0 … nParams−1, then locals added with f64(), v128() and i32(). */
export class WasmFunction {
  readonly code: number[] = [];
  private readonly locals: number[] = [];

  constructor(readonly exportName: string, readonly nParams: number) {}

  /** A new f64 local; returns its index. */
  f64(): number { return this.addLocal(F64); }
  /** A new v128 local; returns its index. */
  v128(): number { return this.addLocal(V128); }
  /** A new i32 local; returns its index. */
  i32(): number { return this.addLocal(I32); }

  get(local: number): this { this.code.push(0x20); uleb(this.code, local); return this; }
  set(local: number): this { this.code.push(0x21); uleb(this.code, local); return this; }
  /** local.tee: sets the local and leaves the value on the stack. */
  tee(local: number): this { this.code.push(0x22); uleb(this.code, local); return this; }
  /** block … end (no result): `br` to it jumps past its end. */
  block(): this { this.code.push(0x02, 0x40); return this; }
  /** loop … end (no result): `br` to it jumps back to its start. */
  loop(): this { this.code.push(0x03, 0x40); return this; }
  end(): this { this.code.push(0x0b); return this; }
  /** Branch to the enclosing block or loop `depth` levels out (0: the innermost). */
  br(depth: number): this { this.code.push(0x0c); uleb(this.code, depth); return this; }
  /** Branch (as br) when the i32 on the stack is not zero. */
  brIf(depth: number): this { this.code.push(0x0d); uleb(this.code, depth); return this; }
  constI32(value: number): this {
    if (!(Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff)) throw new Error(`wasm writer: ${value} is not a signed 32-bit integer`);
    this.code.push(0x41);
    let v = value | 0;
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
      this.code.push(done ? byte : byte | 0x80);
      if (done) return this;
    }
  }
  /** i32.load from (address on the stack) + offset bytes. */
  loadI32(offset: number): this { this.code.push(0x28, 2); uleb(this.code, offset); return this; }
  addI32(): this { this.code.push(0x6a); return this; }
  subI32(): this { this.code.push(0x6b); return this; }
  andI32(): this { this.code.push(0x71); return this; }
  shrUI32(): this { this.code.push(0x76); return this; }
  /** i32.eqz: 1 when the i32 on the stack is zero. */
  eqzI32(): this { this.code.push(0x45); return this; }
  /** f64.load from (address on the stack) + offset bytes. */
  loadF64(offset: number): this { this.code.push(0x2b, 3); uleb(this.code, offset); return this; }
  /** f64.store of (address, value) at address + offset bytes. */
  storeF64(offset: number): this { this.code.push(0x39, 3); uleb(this.code, offset); return this; }
  /** v128.load of two f64 from (address) + offset bytes; 8-byte alignment promised, not 16. */
  loadV128(offset: number): this { this.simd(0x00); this.code.push(3); uleb(this.code, offset); return this; }
  /** v128.load64_splat: the f64 at (address) + offset bytes in both lanes. */
  loadSplatF64(offset: number): this { this.simd(0x0a); this.code.push(3); uleb(this.code, offset); return this; }
  constF64(value: number): this {
    this.code.push(0x44);
    const bytes = new DataView(new ArrayBuffer(8));
    bytes.setFloat64(0, value, true);
    for (let k = 0; k < 8; k++) this.code.push(bytes.getUint8(k));
    return this;
  }
  /** v128.const with both f64 lanes the value. */
  constF64x2(value: number): this {
    this.simd(0x0c);
    const bytes = new DataView(new ArrayBuffer(16));
    bytes.setFloat64(0, value, true);
    bytes.setFloat64(8, value, true);
    for (let k = 0; k < 16; k++) this.code.push(bytes.getUint8(k));
    return this;
  }
  addF64(): this { this.code.push(0xa0); return this; }
  subF64(): this { this.code.push(0xa1); return this; }
  mulF64(): this { this.code.push(0xa2); return this; }
  addF64x2(): this { return this.simd(0xf0); }
  subF64x2(): this { return this.simd(0xf1); }
  mulF64x2(): this { return this.simd(0xf2); }
  extractLane(lane: 0 | 1): this { this.simd(0x21); this.code.push(lane); return this; }
  /** f64x2.replace_lane: (v128, f64) → the v128 with that lane the f64. */
  replaceLane(lane: 0 | 1): this { this.simd(0x22); this.code.push(lane); return this; }
  negF64x2(): this { return this.simd(0xed); }
  /** f64x2.splat: both lanes the f64 on the stack. */
  splatF64x2(): this { return this.simd(0x14); }
  /** v128.store of (address, value) at address + offset bytes. */
  storeV128(offset: number): this { this.simd(0x0b); this.code.push(3); uleb(this.code, offset); return this; }

  /** The function's code-section entry: size, local declarations, body, end. */
  encode(): number[] {
    const body: number[] = [];
    const groups: [number, number][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(body, groups.length);
    for (const [count, type] of groups) { uleb(body, count); body.push(type); }
    for (const b of this.code) body.push(b);
    body.push(0x0b);
    const out: number[] = [];
    uleb(out, body.length);
    for (const b of body) out.push(b);
    return out;
  }

  private addLocal(type: number): number {
    this.locals.push(type);
    return this.nParams + this.locals.length - 1;
  }

  private simd(op: number): this {
    this.code.push(SIMD);
    uleb(this.code, op);
    return this;
  }
}

/** The module's bytes: functions (each its own type) and the imported memory "e"."m". */
export function wasmModule(functions: readonly WasmFunction[]): Uint8Array<ArrayBuffer> {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(types, functions.length);
  for (const f of functions) {
    types.push(0x60);
    uleb(types, f.nParams);
    for (let p = 0; p < f.nParams; p++) types.push(I32);
    types.push(0);
  }
  section(out, 1, types);
  const imports: number[] = [1];
  name(imports, 'e'); name(imports, 'm');
  imports.push(0x02, 0x00, 0x00); // memory, limits: minimum 0 pages, no maximum
  section(out, 2, imports);
  const funcs: number[] = [];
  uleb(funcs, functions.length);
  functions.forEach((_, k) => uleb(funcs, k));
  section(out, 3, funcs);
  const exports: number[] = [];
  uleb(exports, functions.length);
  functions.forEach((f, k) => { name(exports, f.exportName); exports.push(0x00); uleb(exports, k); });
  section(out, 7, exports);
  const code: number[] = [];
  uleb(code, functions.length);
  for (const f of functions) for (const b of f.encode()) code.push(b);
  section(out, 10, code);
  return new Uint8Array(out);
}

/** Compiles and instantiates a module of the functions on the memory; returns the exports by name. */
export function instantiate(functions: readonly WasmFunction[], memory: WebAssembly.Memory): Record<string, (...args: number[]) => void> {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasmModule(functions)), { e: { m: memory } });
  return instance.exports as Record<string, (...args: number[]) => void>;
}

let simdSupport: boolean | null = null;

/**
 * Whether this runtime compiles fixed-width SIMD (Node ≥ 16.4 does) on a little-endian
 * machine (WebAssembly memory is little-endian; the typed arrays that fill it use the
 * machine's order).
 */
export function wasmSimdAvailable(): boolean {
  if (simdSupport === null) {
    if (new Uint8Array(Float64Array.of(1).buffer)[7] !== 0x3f) return (simdSupport = false);
    const probe = new WasmFunction('probe', 1);
    const v = probe.v128();
    probe.get(0).loadV128(0).set(v).get(0).get(v).get(v).addF64x2().extractLane(0).storeF64(0);
    try {
      simdSupport = typeof WebAssembly === 'object' && WebAssembly.validate(wasmModule([probe]));
    } catch {
      simdSupport = false;
    }
  }
  return simdSupport;
}

/**
 * Float64 regions laid out one after another (16-byte aligned) in one WebAssembly
 * memory, for kernels that address them by byte. `layout` lays them out afresh, growing
 * the memory when needed (which detaches every earlier view): regions do not keep their
 * contents. It throws a RangeError when the memory cannot grow that far.
 */
export class WasmArena {
  readonly memory = new WebAssembly.Memory({ initial: 1 });

  layout(lengths: readonly number[]): Float64Array<ArrayBuffer>[] {
    const starts: number[] = [];
    let bytes = 0;
    for (const n of lengths) { starts.push(bytes); bytes += Math.ceil((8 * n) / 16) * 16; }
    const pages = Math.ceil(bytes / 65536) - this.memory.buffer.byteLength / 65536;
    if (pages > 0) this.memory.grow(pages);
    return lengths.map((n, k) => new Float64Array(this.memory.buffer, starts[k], n));
  }
}
