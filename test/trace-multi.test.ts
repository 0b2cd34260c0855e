import { describe, expect, it } from 'vitest';
import { AceBasis, type BasisSpec, type ChannelSpec } from '../potentials/trace/basis.ts';

/**
 * Descriptor length of tensor-reduced ACE versus full ACE as elements are added
 * (spec §2): TRACE channels give K × (single-element length) whatever the number of
 * elements; full ACE's species-resolved tuples grow like S^ν. The full-ACE counts are
 * checked against an independent enumeration of the admissible (channel, l) tuples
 * for correlation order ≤ 2, where each tuple carries exactly one invariant.
 */
const ELEMENTS = ['Ti', 'Al', 'Ni', 'Cu', 'O'];

function spec(elements: string[], channels: ChannelSpec, maxDegree = [6, 6, 5]): BasisSpec {
  return { elements, radial: { kind: 'chebexpcos', n: maxDegree[0], cutoff: 5 }, order: maxDegree.length, maxDegree, wL: 1.5, channels };
}

/** Full ACE, order ≤ 2: S·N one-body terms plus sorted pairs of (z, n, l) items with equal l and degree sum ≤ D₂. */
function fullCountOrder2(S: number, N: number, D2: number, wL: number): number {
  const items: { deg: number; l: number }[] = [];
  for (let z = 0; z < S; z++) for (let n = 0; n < N; n++) for (let l = 0; n + 1 + wL * l <= D2; l++) items.push({ deg: n + 1 + wL * l, l });
  let pairs = 0;
  for (let a = 0; a < items.length; a++) for (let b = a; b < items.length; b++) if (items[a].l === items[b].l && items[a].deg + items[b].deg <= D2 + 1e-9) pairs++;
  return S * N + pairs;
}

describe('descriptor length versus number of elements', () => {
  const counts = (channels: ChannelSpec, degree?: number[]) => [1, 2, 3, 4, 5].map((S) => new AceBasis(spec(ELEMENTS.slice(0, S), channels, degree)).nFunctions);

  it('TRACE (species mixing, K channels): constant, K × the single-element length', () => {
    const single = new AceBasis(spec(['Ti'], { kind: 'full' })).nFunctions;
    for (const K of [1, 3]) {
      const c = counts({ kind: 'species', K });
      expect(new Set(c).size).toBe(1);
      expect(c[0]).toBe(K * single);
    }
  });

  it('TRACE (radial + species mixing): constant', () => {
    const c = counts({ kind: 'radial-species', K: 2, Q: 4 });
    expect(new Set(c).size).toBe(1);
    expect(c[0]).toBeGreaterThan(0);
  });

  it('full ACE: grows with the element count, matching an independent enumeration at order 2', () => {
    const c2 = counts({ kind: 'full' }, [6, 7]);
    expect(c2).toEqual([1, 2, 3, 4, 5].map((S) => fullCountOrder2(S, 6, 7, 1.5)));
    const c3 = counts({ kind: 'full' });
    for (let s = 1; s < c3.length; s++) expect(c3[s]).toBeGreaterThan(c3[s - 1]);
    // Its order-3 part grows faster than S² (species-resolved triples ~ S³/6 multisets, each with several couplings).
    const triples = [1, 5].map((S) => new AceBasis(spec(ELEMENTS.slice(0, S), { kind: 'full' })).countsByOrder()[2]);
    expect(triples[1] / triples[0]).toBeGreaterThan(25);
  });
});
