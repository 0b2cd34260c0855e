/**
 * Seeded pseudo-random numbers whose whole state is four 32-bit words, so that a
 * checkpoint can save it and a restarted run continues the same sequence.
 * Generator: xoshiro128** (Blackman & Vigna, 2018), seeded through splitmix32.
 */

export interface RngState {
  s: [number, number, number, number];
  /** A cached second normal deviate from the polar method, or null. */
  spare: number | null;
}

function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  // The state lives in typed arrays, not number fields: a uint32 above 2^31 or a
  // double stored in an object field is boxed, an allocation per draw (Langevin
  // draws 3 per atom-step). s holds the four words' bits as int32.
  private readonly s = new Int32Array(4);
  private readonly spareValue = new Float64Array(1);
  private hasSpare = false;
  /** normals()' four words per polar-method try. */
  private readonly words = new Float64Array(4);

  constructor(seed = 1) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    const next = splitmix32(Math.floor(seed) ^ Math.floor(seed / 2 ** 32));
    const s = this.s;
    for (let k = 0; k < 4; k++) s[k] = next();
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const s0 = s[0], s1 = s[1];
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const s2 = s[2] ^ s0, s3 = s[3] ^ s1;
    s[0] = s0 ^ s3;
    s[1] = s1 ^ s2;
    s[2] = s2 ^ (s1 << 9);
    s[3] = rotl(s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal deviate (Marsaglia polar method). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spareValue[0];
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareValue[0] = v * m;
    this.hasSpare = true;
    return u * m;
  }

  /**
   * out[start..start+count) = the next count normal() deviates, in order (the same
   * numbers, and the same state after). For per-atom loops: a number returned from a
   * call V8 does not inline is boxed, an allocation per deviate, so this loop keeps the
   * generator's words in locals and writes the deviates straight into the array.
   */
  normals(out: Float64Array, start = 0, count = out.length - start): void {
    if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= out.length)) {
      throw new Error(`Rng.normals: range [${start}, ${start}+${count}) is outside an array of ${out.length}`);
    }
    const st = this.s, w = this.words;
    let k = start;
    const end = start + count;
    if (this.hasSpare && k < end) { out[k++] = this.spareValue[0]; this.hasSpare = false; }
    let s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
    while (k < end) {
      let u = 0, v = 0, q = 0;
      do {
        // Four words, as two uniform() calls draw them (nextUint32, inlined).
        for (let d = 0; d < 4; d++) {
          w[d] = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
          const t = s1 << 9, t2 = s2 ^ s0, t3 = s3 ^ s1;
          s0 ^= t3; s1 ^= t2; s2 = t2 ^ t; s3 = rotl(t3, 11);
        }
        u = 2 * (((w[0] >>> 5) * 67108864 + (w[1] >>> 6)) / 9007199254740992) - 1;
        v = 2 * (((w[2] >>> 5) * 67108864 + (w[3] >>> 6)) / 9007199254740992) - 1;
        q = u * u + v * v;
      } while (q >= 1 || q === 0);
      const m = Math.sqrt((-2 * Math.log(q)) / q);
      out[k++] = u * m;
      if (k < end) out[k++] = v * m;
      else { this.spareValue[0] = v * m; this.hasSpare = true; }
    }
    st[0] = s0; st[1] = s1; st[2] = s2; st[3] = s3;
  }

  /** Sum of n squared standard normals (chi-squared with n degrees of freedom). */
  chiSquared(n: number): number {
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const g = this.normal();
      sum += g * g;
    }
    return sum;
  }

  getState(): RngState {
    const s = this.s;
    return { s: [s[0] >>> 0, s[1] >>> 0, s[2] >>> 0, s[3] >>> 0], spare: this.hasSpare ? this.spareValue[0] : null };
  }

  setState(state: RngState): void {
    for (let k = 0; k < 4; k++) this.s[k] = state.s[k];
    this.hasSpare = state.spare !== null;
    this.spareValue[0] = state.spare ?? 0;
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(1);
    r.setState(state);
    return r;
  }
}

/** 32-bit rotate left; the bits as int32. */
function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
