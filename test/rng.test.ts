/**
 * Seeded RNG: reproducible sequences, state save/restore (including the cached
 * normal deviate), and the moments of uniform(), normal() and chiSquared() within
 * 5 standard errors over 200,000 draws. nextUint32 is checked against xoshiro128**
 * as published (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
 * 2018/2021), written here in BigInt arithmetic modulo 2^32 from the paper's definition.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/rng.ts';

const N = 200_000;

const MASK = 0xffffffffn;
const rotl32 = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & MASK;

/** xoshiro128** from its definition: result = rotl(s1·5, 7)·9, then the xorshift state update. */
function referenceXoshiro128ss(state: readonly number[], count: number): number[] {
  let [s0, s1, s2, s3] = state.map(BigInt);
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    out.push(Number((rotl32((s1 * 5n) & MASK, 7n) * 9n) & MASK));
    const t = (s1 << 9n) & MASK;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
    s3 = rotl32(s3, 11n);
  }
  return out;
}

describe('Rng', () => {
  it('reproduces a sequence from a seed; different seeds differ', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.nextUint32());
    const sb = Array.from({ length: 100 }, () => b.nextUint32());
    const sc = Array.from({ length: 100 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    expect(new Set(sa).size).toBe(100);
    for (const v of sa) expect(Number.isInteger(v) && v >= 0 && v < 2 ** 32).toBe(true);
  });

  it('nextUint32 is xoshiro128** (words above 2^31 included)', () => {
    for (const seed of [1, 42, 2 ** 40 + 3]) {
      const r = new Rng(seed);
      const start = r.getState().s;
      const got = Array.from({ length: 1000 }, () => r.nextUint32());
      expect(got).toEqual(referenceXoshiro128ss(start, 1000));
    }
    // A state of all-high words (each word's top bit set).
    const r = Rng.fromState({ s: [0xffffffff, 0x80000000, 0xdeadbeef, 0x9e3779b9], spare: null });
    expect(Array.from({ length: 1000 }, () => r.nextUint32())).toEqual(referenceXoshiro128ss([0xffffffff, 0x80000000, 0xdeadbeef, 0x9e3779b9], 1000));
    expect(r.getState().s.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)).toBe(true);
  });

  it('restores a saved state exactly, with a pending normal deviate', () => {
    const r = new Rng(7);
    for (let k = 0; k < 11; k++) r.normal(); // odd count: a spare deviate is cached
    const state = structuredClone(r.getState());
    expect(state.spare).not.toBeNull();
    const expected = [r.normal(), r.uniform(), r.normal(), r.normal(), r.nextUint32()];
    r.uniform(); // disturb
    r.setState(state);
    expect([r.normal(), r.uniform(), r.normal(), r.normal(), r.nextUint32()]).toEqual(expected);
    const copy = Rng.fromState(state);
    expect([copy.normal(), copy.uniform(), copy.normal(), copy.normal(), copy.nextUint32()]).toEqual(expected);
    // A JSON round trip (as in a checkpoint) works too.
    const viaJson = Rng.fromState(JSON.parse(JSON.stringify(state)));
    expect(viaJson.normal()).toBe(expected[0]);
  });

  it('normals() fills a range with the deviates normal() would return, in order, and leaves the same state', () => {
    for (const pending of [false, true]) {
      for (let count = 0; count <= 7; count++) {
        const a = new Rng(9), b = new Rng(9);
        if (pending) { a.normal(); b.normal(); } // a spare deviate is cached: normals() starts with it
        const out = new Float64Array(count + 3).fill(-7);
        a.normals(out, 2, count);
        const expected = [-7, -7, ...Array.from({ length: count }, () => b.normal()), -7];
        expect(Array.from(out)).toEqual(expected);
        expect(a.getState()).toEqual(b.getState());
        expect([a.normal(), a.nextUint32()]).toEqual([b.normal(), b.nextUint32()]);
      }
    }
    const r = new Rng(1), out = new Float64Array(12);
    expect(() => r.normals(out, 5, 8)).toThrow(/range \[5, 5\+8\) is outside an array of 12/);
    expect(() => r.normals(out, -1, 2)).toThrow(/outside/);
  });

  it('uniform() lies in [0,1) with mean 1/2 and variance 1/12', () => {
    const r = new Rng(1);
    let s = 0, s2 = 0, outside = 0;
    for (let k = 0; k < N; k++) {
      const u = r.uniform();
      if (!(u >= 0 && u < 1)) outside++;
      s += u; s2 += u * u;
    }
    expect(outside).toBe(0);
    const mean = s / N, variance = s2 / N - mean * mean;
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    // var of the sample variance of U(0,1): (1/80 − 1/144)/N
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / N));
  });

  it('normal() has mean 0, variance 1, zero skewness and kurtosis 3', () => {
    const r = new Rng(2);
    let s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    for (let k = 0; k < N; k++) {
      const g = r.normal();
      s1 += g; s2 += g * g; s3 += g ** 3; s4 += g ** 4;
    }
    expect(Math.abs(s1 / N)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(s2 / N - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(Math.abs(s3 / N)).toBeLessThan(5 * Math.sqrt(15 / N));
    expect(Math.abs(s4 / N - 3)).toBeLessThan(5 * Math.sqrt(96 / N));
  });

  it('chiSquared(n) has mean n and variance 2n', () => {
    const r = new Rng(3);
    const n = 5, M = 40_000;
    let s = 0, s2 = 0;
    for (let k = 0; k < M; k++) { const c = r.chiSquared(n); s += c; s2 += c * c; }
    const mean = s / M, variance = s2 / M - mean * mean;
    expect(Math.abs(mean - n)).toBeLessThan(5 * Math.sqrt((2 * n) / M));
    expect(Math.abs(variance - 2 * n) / (2 * n)).toBeLessThan(0.05);
  });

  it('rejects a non-finite seed', () => {
    expect(() => new Rng(Number.NaN)).toThrow(/seed/);
  });
});
