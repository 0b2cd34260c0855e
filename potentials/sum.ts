/**
 * A sum of potentials evaluated on one neighbour list (cut at the largest cutoff,
 * half and/or full as the terms need). The energy of each term from the last
 * compute is kept in `termEnergies`, in the order of `terms`.
 */
import { createPotential, registerPotential } from './registry.ts';
import type { ComputeOutput, Neighborhood, Potential, PotentialSpec } from './potential.ts';

export class SumPotential implements Potential {
  readonly kind = 'sum';
  readonly terms: readonly Potential[];
  readonly cutoff: number;
  readonly neighborList: 'half' | 'full' | 'both';
  readonly elements: readonly string[] | null;
  /** Energy of each term at the last compute, eV. */
  readonly termEnergies: Float64Array;

  constructor(terms: Potential[]) {
    if (terms.length === 0) throw new Error('sum of potentials: give at least one term');
    for (const t of terms) {
      if (t.computesVirial) throw new Error(`sum of potentials: term '${t.kind}' computes its own virial, which a sum cannot combine`);
    }
    this.terms = terms;
    this.cutoff = Math.max(...terms.map((t) => t.cutoff));
    const kinds = new Set(terms.map((t) => t.neighborList));
    this.neighborList = kinds.size === 1 ? terms[0].neighborList : 'both';
    const covered = terms.map((t) => t.elements).filter((e): e is readonly string[] => e !== null);
    this.elements = covered.length === 0 ? null : covered.reduce((a, b) => a.filter((e) => b.includes(e)));
    this.termEnergies = new Float64Array(terms.length);
  }

  /** Split by rows only when every term can be (a staged or serial term makes the sum serial). */
  get parallel(): 'rows' | 'serial' | undefined {
    if (this.terms.some((t) => t.parallel === 'serial' || t.parallel === 'staged')) return 'serial';
    return this.terms.every((t) => t.parallel === 'rows') ? 'rows' : undefined;
  }

  bind(elements: readonly string[]): void {
    for (const t of this.terms) t.bind(elements);
  }

  compute(atoms: Neighborhood, out: ComputeOutput): void {
    for (let k = 0; k < this.terms.length; k++) {
      const before = out.energy;
      this.terms[k].compute(atoms, out);
      this.termEnergies[k] = out.energy - before;
    }
  }

  spec(): PotentialSpec {
    return { kind: this.kind, terms: this.terms.map((t) => t.spec()) };
  }
}

registerPotential('sum', (spec) => {
  if (!Array.isArray(spec.terms)) throw new Error(`sum potential spec needs 'terms': a list of potential specs`);
  return new SumPotential((spec.terms as PotentialSpec[]).map(createPotential));
});
