/**
 * A fitted (tensor-reduced) ACE model: basis hyper-parameters, linear coefficients
 * c_{z,b} per centre species, per-element reference energies, and the fit report.
 * Stored as msgpack (msgpackr); the basis is rebuilt deterministically from its
 * spec on load and checked against the stored function count.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pack, unpack } from 'msgpackr';
import { resolveModelPath } from '../../src/model-path.ts';
import type { BasisSpec } from './basis.ts';
import { validatePair, type PairSpec } from './pair.ts';
import { RadialBasis } from './radial.ts';

export const MODEL_FORMAT = 'tensormd-trace';
export const MODEL_VERSION = 1;

export interface TraceModel {
  basis: BasisSpec;
  /** Number of basis functions F (a consistency check on load). */
  nFunctions: number;
  /** c[z·F + b]. */
  coefficients: number[];
  /** Reference energy per element, eV. */
  e0: number[];
  /** Optional pair term V_{ab}(r) (pair.ts); absent in models without one. */
  pair?: PairSpec;
  /** Free-form fit report (errors, weights, timings). */
  meta?: Record<string, unknown>;
}

/** The model's range, Å: the longer of the ACE basis's and the pair term's cutoffs. */
export function modelCutoff(model: TraceModel): number {
  return Math.max(model.basis.radial.cutoff, model.pair?.radial.cutoff ?? 0);
}

export function saveModel(path: string, model: TraceModel): void {
  const payload = { kind: 'trace', format: MODEL_FORMAT, version: MODEL_VERSION, ...model };
  writeFileSync(path, pack(payload));
}


export function loadModel(path: string): TraceModel {
  const file = resolveModelPath(path, 'trace model');
  let data: unknown;
  try {
    data = unpack(readFileSync(file));
  } catch (err) {
    throw new Error(`trace model '${file}': not a readable msgpack file (truncated or corrupt?): ${(err as Error).message}`);
  }
  return validateModel(data, file);
}

/** Checks the fields of a model object; `where` names it in errors. */
export function validateModel(data: unknown, where: string): TraceModel {
  if (typeof data !== 'object' || data === null) throw new Error(`trace model '${where}': expected an object`);
  const d = data as Record<string, unknown>;
  if (d.format !== undefined && d.format !== MODEL_FORMAT) throw new Error(`trace model '${where}': format is '${String(d.format)}', expected '${MODEL_FORMAT}'`);
  if (d.version !== undefined && d.version !== MODEL_VERSION) {
    throw new Error(`trace model '${where}': version ${String(d.version)} is not supported (this build reads version ${MODEL_VERSION})`);
  }
  const basis = d.basis as BasisSpec | undefined;
  if (typeof basis !== 'object' || basis === null || !Array.isArray(basis.elements)) throw new Error(`trace model '${where}': field 'basis' missing or without 'elements'`);
  const S = basis.elements.length;
  try {
    new RadialBasis(basis.radial);
  } catch (err) {
    throw new Error(`trace model '${where}': field 'basis.radial': ${(err as Error).message}`);
  }
  if (typeof d.nFunctions !== 'number' || !Number.isInteger(d.nFunctions) || d.nFunctions < 1) throw new Error(`trace model '${where}': field 'nFunctions' must be a positive integer`);
  const coefficients = d.coefficients;
  if (!Array.isArray(coefficients) && !(coefficients instanceof Float64Array)) throw new Error(`trace model '${where}': field 'coefficients' missing`);
  const c = Array.from(coefficients as ArrayLike<number>);
  if (c.length !== S * d.nFunctions) throw new Error(`trace model '${where}': 'coefficients' has ${c.length} entries, expected ${S}×${d.nFunctions} (truncated?)`);
  c.forEach((v, k) => { if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`trace model '${where}': coefficients[${k}] is not a finite number`); });
  const e0 = Array.from((d.e0 ?? []) as ArrayLike<number>);
  if (e0.length !== S || e0.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new Error(`trace model '${where}': 'e0' must list ${S} finite reference energies`);
  const model: TraceModel = { basis, nFunctions: d.nFunctions, coefficients: c, e0, meta: (d.meta as Record<string, unknown>) ?? undefined };
  if (d.pair !== undefined && d.pair !== null) model.pair = validatePair(d.pair, S, where);
  return model;
}
