/**
 * Potentials by kind: built-ins register a factory from their serialisable spec;
 * a plugin is a module whose default export (or `createPotential` export) is such a
 * factory, referenced as { kind: 'module', module: '/path/to/file.ts', ...options }.
 * The same spec rebuilds the potential anywhere, e.g. inside a worker thread.
 *
 * createPotential() is synchronous; loadPotential() first imports every plugin
 * module named anywhere in the spec (also inside a sum), then builds it.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Potential, PotentialSpec } from './potential.ts';

export type PotentialFactory = (spec: PotentialSpec) => Potential;

const factories = new Map<string, PotentialFactory>();
const pluginFactories = new Map<string, PotentialFactory>();

export function registerPotential(kind: string, factory: PotentialFactory): void {
  factories.set(kind, factory);
}

export function registeredKinds(): string[] {
  return [...factories.keys()].sort();
}

/** Builds a potential from its spec; plugin modules must have been loaded by loadPotential. */
export function createPotential(spec: PotentialSpec): Potential {
  if (!spec || typeof spec !== 'object' || typeof spec.kind !== 'string') {
    throw new Error(`potential spec needs a 'kind' (one of ${registeredKinds().join(', ')}, or 'module' for a plugin)`);
  }
  if (spec.kind === 'module') {
    const factory = pluginFactories.get(String(spec.module));
    if (!factory) throw new Error(`plugin module '${String(spec.module)}' is not loaded: build plugin potentials with loadPotential()`);
    return checkPlugin(factory(spec), String(spec.module));
  }
  const factory = factories.get(spec.kind);
  if (!factory) throw new Error(`unknown potential kind '${spec.kind}' (known: ${registeredKinds().join(', ')}, or 'module' for a plugin)`);
  return factory(spec);
}

/**
 * Builds any potential from its spec, importing plugin modules as needed. Relative
 * `module` paths are resolved against `baseDir` (default: the working directory);
 * the built potential's spec() carries absolute paths.
 */
export async function loadPotential(spec: PotentialSpec, baseDir = process.cwd()): Promise<Potential> {
  const resolved = (await importPlugins(spec, baseDir)) as PotentialSpec;
  return createPotential(resolved);
}

/** Walks a spec tree, importing each { kind: 'module' } and returning the tree with absolute module paths. */
async function importPlugins(node: unknown, baseDir: string): Promise<unknown> {
  if (Array.isArray(node)) return Promise.all(node.map((v) => importPlugins(v, baseDir)));
  if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node)) return node;
  const obj = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = await importPlugins(v, baseDir);
  if (obj.kind === 'module') {
    if (typeof obj.module !== 'string') throw new Error(`plugin potential spec needs 'module': the path of a module exporting a potential factory`);
    const absolute = isAbsolute(obj.module) ? obj.module : resolve(baseDir, obj.module);
    out.module = absolute;
    if (!pluginFactories.has(absolute)) {
      let mod: Record<string, unknown>;
      try {
        mod = await importPluginModule(absolute);
      } catch (err) {
        throw new Error(`cannot load plugin potential module '${absolute}': ${(err as Error).message}`);
      }
      const factory = (mod.createPotential ?? mod.default) as PotentialFactory | undefined;
      if (typeof factory !== 'function') {
        throw new Error(`plugin module '${absolute}' must export a potential factory as default or as 'createPotential'`);
      }
      pluginFactories.set(absolute, factory);
    }
  }
  return out;
}

/**
 * Imports a plugin module. Under the compiled build (plain node, no TypeScript loader)
 * a plugin written in TypeScript fails with ERR_UNKNOWN_FILE_EXTENSION: tsx is then
 * registered (after the engine itself has loaded, so the engine stays plain JS) and
 * the import retried.
 */
async function importPluginModule(absolute: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(absolute).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.[cm]?tsx?$/.test(absolute)) throw err;
    const { register } = await import('tsx/esm/api');
    register();
    return (await import(`${url}?tsx`)) as Record<string, unknown>;
  }
}

function checkPlugin(potential: Potential, path: string): Potential {
  for (const key of ['cutoff', 'neighborList', 'bind', 'compute', 'spec'] as const) {
    if (!(key in potential)) throw new Error(`plugin potential from '${path}' lacks '${key}' (see the Potential interface in potentials/potential.ts)`);
  }
  if (!(potential.cutoff > 0)) throw new Error(`plugin potential from '${path}' has cutoff ${potential.cutoff}; it must be positive`);
  return potential;
}
