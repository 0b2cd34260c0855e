/**
 * Potentials by kind: built-ins register a factory from their serialisable spec;
 * a plugin is a module whose default export (or `createPotential` export) is such a
 * factory, loaded by path with spec { kind: 'module', module: '/path/to/file.ts', ... }.
 * The same spec rebuilds the potential anywhere, e.g. inside a worker thread.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Potential, PotentialSpec } from './potential.ts';

export type PotentialFactory = (spec: PotentialSpec) => Potential;

const factories = new Map<string, PotentialFactory>();

export function registerPotential(kind: string, factory: PotentialFactory): void {
  factories.set(kind, factory);
}

export function registeredKinds(): string[] {
  return [...factories.keys()].sort();
}

/** Builds a registered (built-in) potential from its spec. */
export function createPotential(spec: PotentialSpec): Potential {
  if (!spec || typeof spec.kind !== 'string') throw new Error(`potential spec needs a 'kind' (one of ${registeredKinds().join(', ')})`);
  const factory = factories.get(spec.kind);
  if (!factory) {
    if (spec.kind === 'module') throw new Error(`a plugin potential ('module' spec) must be loaded with loadPotential()`);
    throw new Error(`unknown potential kind '${spec.kind}' (known: ${registeredKinds().join(', ')}, or 'module' for a plugin)`);
  }
  return factory(spec);
}

/**
 * Builds any potential from its spec, importing plugin modules as needed.
 * A relative `module` path is resolved against `baseDir` (default: the working directory).
 */
export async function loadPotential(spec: PotentialSpec, baseDir = process.cwd()): Promise<Potential> {
  if (spec.kind !== 'module') return createPotential(spec);
  const path = spec.module;
  if (typeof path !== 'string') throw new Error(`plugin potential spec needs 'module': the path of a module exporting a potential factory`);
  const absolute = isAbsolute(path) ? path : resolve(baseDir, path);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`cannot load plugin potential module '${absolute}': ${(err as Error).message}`);
  }
  const factory = (mod.createPotential ?? mod.default) as PotentialFactory | undefined;
  if (typeof factory !== 'function') {
    throw new Error(`plugin module '${absolute}' must export a potential factory as default or as 'createPotential'`);
  }
  const potential = factory({ ...spec, module: absolute });
  for (const key of ['cutoff', 'neighborList', 'bind', 'compute', 'spec'] as const) {
    if (!(key in potential)) throw new Error(`plugin potential from '${absolute}' lacks '${key}' (see the Potential interface)`);
  }
  return potential;
}
