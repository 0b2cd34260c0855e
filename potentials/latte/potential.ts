/**
 * LATTE as a tensormd Potential (kind 'latte'): spec { kind: 'latte', model: 'models/latte/Si.msgpack' }.
 * A relative model path is tried against the working directory, then the package (src/model-path.ts).
 */
import { resolveModelPath } from '../../src/model-path.ts';
import { registerPotential } from '../registry.ts';
import { requireElements, type ComputeOutput, type Neighborhood, type Potential, type PotentialSpec } from '../potential.ts';
import { loadModel } from './io.ts';
import type { LatteModel } from './model.ts';

export class LattePotential implements Potential {
  readonly kind = 'latte';
  readonly neighborList = 'full';
  /** A sum of per-atom MLP energies over rows of the full list; evaluate() honours rowStart/rowEnd. */
  readonly parallel = 'rows';
  readonly cutoff: number;
  readonly elements: readonly string[];
  readonly model: LatteModel;
  private readonly modelPath: string | null;
  private typeMap = new Int32Array(0);

  constructor(model: LatteModel, modelPath: string | null = null) {
    this.model = model;
    this.cutoff = model.config.cutoff;
    this.elements = model.config.elements;
    this.modelPath = modelPath;
  }

  bind(elements: readonly string[]): void {
    requireElements('LATTE model' + (this.modelPath ? ` '${this.modelPath}'` : ''), this.elements, elements);
    this.typeMap = Int32Array.from(elements, (e) => this.elements.indexOf(e));
  }

  compute(atoms: Neighborhood, out: ComputeOutput): void {
    // The MD path (same results as model.evaluate to rounding; see LatteModel.evaluateMd).
    out.energy += this.model.evaluateMd(atoms, this.typeMap, out.forces, out.atomEnergies);
  }

  spec(): PotentialSpec {
    if (!this.modelPath) throw new Error('LATTE potential built from an in-memory model has no serialisable spec; save the model and load it by path');
    return { kind: this.kind, model: this.modelPath };
  }
}


export function latteFromSpec(spec: PotentialSpec): LattePotential {
  if (typeof spec.model !== 'string') throw new Error(`latte potential spec needs 'model': the path of a LATTE model file (.msgpack)`);
  const path = resolveModelPath(spec.model, 'LATTE model');
  return new LattePotential(loadModel(path).model, path);
}

registerPotential('latte', latteFromSpec);
