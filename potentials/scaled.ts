/**
 * λ·U for a potential U: what thermodynamic integration and alchemical paths
 * need. After each compute, `derivative` holds dE/dλ = U (the unscaled energy).
 */
import { createPotential, registerPotential } from './registry.ts';
import { requireNumber, type ComputeOutput, type Neighborhood, type Potential, type PotentialSpec } from './potential.ts';

export class ScaledPotential implements Potential {
  readonly kind = 'scaled';
  readonly inner: Potential;
  lambda: number;
  /** dE/dλ at the last compute (= the unscaled energy), eV. */
  derivative = 0;
  private readonly scratch: ComputeOutput = { energy: 0, forces: new Float64Array(0), atomEnergies: null, virial: new Float64Array(6) };
  private scratchEnergies: Float64Array = new Float64Array(0);

  constructor(inner: Potential, lambda: number) {
    this.inner = inner;
    this.lambda = requireNumber('scaled potential', 'lambda', lambda);
  }

  get cutoff(): number { return this.inner.cutoff; }
  get neighborList(): 'half' | 'full' | 'both' { return this.inner.neighborList; }
  get elements(): readonly string[] | null { return this.inner.elements; }
  get computesVirial(): boolean { return this.inner.computesVirial ?? false; }
  /** As the inner potential, except that a staged one is run serially. */
  get parallel(): 'rows' | 'serial' | undefined { return this.inner.parallel === 'staged' ? 'serial' : this.inner.parallel; }

  bind(elements: readonly string[]): void {
    this.inner.bind(elements);
  }

  compute(atoms: Neighborhood, out: ComputeOutput): void {
    const s = this.scratch, n3 = 3 * atoms.nTotal, lambda = this.lambda;
    if (s.forces.length < n3) s.forces = new Float64Array(out.forces.length);
    else s.forces.fill(0, 0, n3);
    if (out.atomEnergies) {
      if (this.scratchEnergies.length < atoms.nTotal) this.scratchEnergies = new Float64Array(out.atomEnergies.length);
      else this.scratchEnergies.fill(0, 0, atoms.nTotal);
      s.atomEnergies = this.scratchEnergies;
    } else s.atomEnergies = null;
    s.energy = 0;
    s.virial.fill(0);
    this.inner.compute(atoms, s);
    this.derivative = s.energy;
    out.energy += lambda * s.energy;
    const f = out.forces, g = s.forces;
    for (let k = 0; k < n3; k++) f[k] += lambda * g[k];
    if (out.atomEnergies && s.atomEnergies) {
      for (let k = 0; k < atoms.nTotal; k++) out.atomEnergies[k] += lambda * s.atomEnergies[k];
    }
    for (let k = 0; k < 6; k++) out.virial[k] += lambda * s.virial[k];
  }

  spec(): PotentialSpec {
    return { kind: this.kind, lambda: this.lambda, potential: this.inner.spec() };
  }
}

registerPotential('scaled', (spec) => {
  if (!spec.potential || typeof spec.potential !== 'object') throw new Error(`scaled potential spec needs 'potential': the spec of the potential to scale`);
  return new ScaledPotential(createPotential(spec.potential as PotentialSpec), spec.lambda as number);
});
