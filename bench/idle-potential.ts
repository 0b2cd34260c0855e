/**
 * A plugin potential that computes nothing (zero energy and forces), split by rows:
 * bench/parallel.ts uses it to time one synchronisation of the parallel evaluator
 * with no work in it. Built from its spec in every worker, as any plugin.
 */
import type { Potential, PotentialSpec } from '../potentials/potential.ts';

export default function createPotential(spec: PotentialSpec): Potential {
  return {
    kind: 'module',
    neighborList: 'half',
    elements: null,
    cutoff: Number(spec.cutoff ?? 5),
    parallel: 'rows',
    bind() {},
    compute() {},
    spec: () => ({ ...spec }),
  };
}
