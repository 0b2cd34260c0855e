/**
 * LATTE model files: msgpack (msgpackr) of
 *   { kind: 'latte', format: 'tensormd-latte', version, config, theta, mean, invStd, e0, outScale, meta }
 * with the numeric arrays stored as little-endian Float64 bytes. Version 1: species
 * weights per (central, neighbour) pair; version 2 adds config.speciesMode
 * 'embedding' (and config.embeddingDim). Models in specific mode are still written as
 * version 1 so that older readers load them; a config without speciesMode is read
 * as 'specific'. Loading checks the format, version, every length and finiteness,
 * and names the file in errors.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pack, unpack } from 'msgpackr';
import { LatteModel, type LatteConfig } from './model.ts';

export const LATTE_FORMAT = 'tensormd-latte';
/** Newest version written (embedding mode); specific-mode models are written as version 1. */
export const LATTE_VERSION = 2;
const READABLE_VERSIONS = [1, 2];

function toBytes(a: Float64Array): Uint8Array {
  const out = new Uint8Array(a.length * 8);
  const view = new DataView(out.buffer);
  for (let k = 0; k < a.length; k++) view.setFloat64(8 * k, a[k], true);
  return out;
}

function fromBytes(where: string, field: string, b: unknown, expected: number): Float64Array {
  if (!(b instanceof Uint8Array)) throw new Error(`${where}: field '${field}' is missing or not binary`);
  if (b.byteLength !== 8 * expected) {
    throw new Error(`${where}: field '${field}' has ${b.byteLength / 8} values, the model's configuration needs ${expected} (inconsistent or truncated model file)`);
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Float64Array(expected);
  for (let k = 0; k < expected; k++) {
    out[k] = view.getFloat64(8 * k, true);
    if (!Number.isFinite(out[k])) throw new Error(`${where}: field '${field}' entry ${k} is not finite`);
  }
  return out;
}

/** Serialises a model (with optional metadata: training figures, dataset, …). */
export function encodeModel(model: LatteModel, meta: Record<string, unknown> = {}): Uint8Array {
  return pack({
    kind: 'latte',
    format: LATTE_FORMAT,
    version: model.embeddingDim > 0 ? 2 : 1,
    config: model.config,
    theta: toBytes(model.theta),
    mean: toBytes(model.mean),
    invStd: toBytes(model.invStd),
    e0: toBytes(model.e0),
    outScale: toBytes(model.outScale),
    meta,
  });
}

export function saveModel(path: string, model: LatteModel, meta: Record<string, unknown> = {}): void {
  writeFileSync(path, encodeModel(model, meta));
}

/** Decodes a model; `where` (e.g. the file name) prefixes every error. */
export function decodeModel(bytes: Uint8Array, where = 'LATTE model'): { model: LatteModel; meta: Record<string, unknown> } {
  let doc: Record<string, unknown>;
  try {
    doc = unpack(bytes) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${where}: not a readable msgpack LATTE model (truncated or corrupt?): ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new Error(`${where}: not a LATTE model (top level is not a map)`);
  if (doc.format !== LATTE_FORMAT) throw new Error(`${where}: not a LATTE model (format '${String(doc.format)}', expected '${LATTE_FORMAT}')`);
  if (!READABLE_VERSIONS.includes(doc.version as number)) {
    throw new Error(`${where}: unsupported LATTE model version ${String(doc.version)} (this build reads versions ${READABLE_VERSIONS.join(', ')})`);
  }
  const config = doc.config as LatteConfig;
  if (!config || typeof config !== 'object') throw new Error(`${where}: field 'config' is missing`);
  for (const key of ['elements', 'cutoff', 'descriptor', 'width', 'hidden'] as const) {
    if (config[key] === undefined) throw new Error(`${where}: config field '${key}' is missing`);
  }
  if (doc.version === 1 && config.speciesMode !== undefined && config.speciesMode !== 'specific') {
    throw new Error(`${where}: version 1 model files have specific species weights, but config.speciesMode is '${String(config.speciesMode)}'`);
  }
  let model: LatteModel;
  try {
    model = new LatteModel(config);
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
  model.theta.set(fromBytes(where, 'theta', doc.theta, model.theta.length));
  model.mean.set(fromBytes(where, 'mean', doc.mean, model.mean.length));
  model.invStd.set(fromBytes(where, 'invStd', doc.invStd, model.invStd.length));
  model.e0.set(fromBytes(where, 'e0', doc.e0, model.e0.length));
  model.outScale.set(fromBytes(where, 'outScale', doc.outScale, model.outScale.length));
  try {
    model.validate();
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
  return { model, meta: (doc.meta as Record<string, unknown>) ?? {} };
}

export function loadModel(path: string): { model: LatteModel; meta: Record<string, unknown> } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`LATTE model file '${path}' cannot be read: ${(err as Error).message}`);
  }
  return decodeModel(bytes, `LATTE model file '${path}'`);
}
