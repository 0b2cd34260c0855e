/**
 * The (tensor-reduced) ACE potential: E = Σ_i [E0(z_i) + Σ_b c_{z_i b} B_{i b}]
 * (+ ½ Σ_{i≠j} V_{z_i z_j}(r_ij) when the model has a pair term, pair.ts),
 * evaluated with the folded monomial coefficients c̃ = Uᵀc (spec §3).
 * Registered as kind 'trace' with spec { kind: 'trace', model: 'models/trace/Si.msgpack' }
 * or the model inline ({ kind: 'trace', basis, nFunctions, coefficients, e0 }).
 */
import { registerPotential } from '../registry.ts';
import type { ComputeOutput, Neighborhood, Potential, PotentialSpec } from '../potential.ts';
import { AceBasis } from './basis.ts';
import { AceEvaluator } from './evaluator.ts';
import { loadModel, modelCutoff, validateModel, type TraceModel } from './model.ts';
import { PairTerm } from './pair.ts';

export class TracePotential implements Potential {
  readonly kind = 'trace';
  readonly neighborList = 'full';
  /** A sum of site energies over rows of the full list; the evaluator honours rowStart/rowEnd. */
  readonly parallel = 'rows';
  readonly cutoff: number;
  readonly elements: readonly string[];
  readonly basis: AceBasis;
  readonly model: TraceModel;
  private readonly evaluator: AceEvaluator;
  private readonly folded: Float64Array;
  private readonly e0: Float64Array;
  private readonly modelPath: string | null;
  private readonly pair: PairTerm | null;

  constructor(model: TraceModel, options: { basis?: AceBasis; modelPath?: string } = {}) {
    this.model = model;
    this.basis = options.basis ?? new AceBasis(model.basis);
    if (this.basis.nFunctions !== model.nFunctions) {
      throw new Error(`trace model: its basis spec gives ${this.basis.nFunctions} functions but the model stores ${model.nFunctions} (inconsistent model file)`);
    }
    this.modelPath = options.modelPath ?? null;
    this.pair = model.pair ? new PairTerm(model.pair, this.basis.nSpecies) : null;
    this.cutoff = modelCutoff(model);
    this.elements = this.basis.elements;
    this.evaluator = new AceEvaluator(this.basis);
    this.e0 = Float64Array.from(model.e0);
    this.folded = foldCoefficients(this.basis, Float64Array.from(model.coefficients));
  }

  bind(elements: readonly string[]): void {
    this.evaluator.bind(elements);
  }

  compute(atoms: Neighborhood, out: ComputeOutput): void {
    out.energy += this.evaluator.energy(atoms, this.folded, this.e0, out.forces, out.atomEnergies);
    if (this.pair) out.energy += this.pair.compute(atoms, this.evaluator.modelSpecies(), out.forces, out.atomEnergies);
  }

  spec(): PotentialSpec {
    if (this.modelPath) return { kind: 'trace', model: this.modelPath };
    return { kind: 'trace', ...this.model } as unknown as PotentialSpec;
  }
}

/** c̃[z·nMono + α] = Σ_b c[z·F + b] U_{bα}. */
export function foldCoefficients(basis: AceBasis, c: Float64Array): Float64Array {
  const F = basis.nFunctions, S = basis.nSpecies, M = basis.nMono;
  const out = new Float64Array(S * M);
  for (let z = 0; z < S; z++) {
    for (let b = 0; b < F; b++) {
      const cb = c[z * F + b];
      if (cb === 0) continue;
      for (let k = basis.fOffsets[b]; k < basis.fOffsets[b + 1]; k++) out[z * M + basis.fMono[k]] += cb * basis.fCoef[k];
    }
  }
  return out;
}

export function createTracePotential(spec: PotentialSpec): TracePotential {
  if (typeof spec.model === 'string') return new TracePotential(loadModel(spec.model), { modelPath: spec.model });
  if (spec.basis !== undefined) return new TracePotential(validateModel(spec, 'inline spec'));
  throw new Error(`trace potential spec needs 'model' (path of a .msgpack model) or an inline model (basis, nFunctions, coefficients, e0)`);
}

registerPotential('trace', createTracePotential);
