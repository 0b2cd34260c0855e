/**
 * The run input file (YAML or JSON) and how it becomes a Simulation. Paths that
 * the input reads (structure file, potential files, plugin modules) are relative
 * to the input file's directory; outputs are relative to the output directory
 * (default: the current directory).
 *
 *   structure: { lattice: fcc, element: Ar, a: 5.26, repeat: [5, 5, 5] }   # or { file: start.xyz, frame: -1 }
 *   potential: { kind: lj, epsilon: 0.0104, sigma: 3.4, cutoff: 8.5 }
 *   velocities: { temperature: 60, seed: 1 }
 *   integrator: { name: langevin, timestep: 2, temperature: 60, damping: 200, seed: 7 }
 *   steps: 5000
 *   neighbor: { skin: 1.0 }
 *   output: { thermo: { every: 100, file: thermo.csv }, trajectory: { every: 500, file: traj.xyz }, final: final.xyz }
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { lattice, type LatticeKind } from './lattice.ts';
import { Rng } from './rng.ts';
import type { System } from './system.ts';
import { frameToSystem, readExtxyz } from './io/extxyz.ts';
import { createIntegrator } from '../integrators/registry.ts';
import type { Integrator } from '../integrators/integrator.ts';
import '../potentials/builtin.ts';
import { loadPotential } from '../potentials/registry.ts';
import type { Potential, PotentialSpec } from '../potentials/potential.ts';

export interface RunInput {
  structure: { file: string; frame?: number } | { lattice: LatticeKind; element: string | string[]; a: number; c?: number; repeat?: number | [number, number, number] };
  masses?: Record<string, number>;
  potential: PotentialSpec;
  velocities?: { temperature: number; seed?: number };
  integrator: { name: string; timestep: number; [key: string]: unknown };
  steps: number;
  neighbor?: { skin?: number };
  minDistance?: number;
  output?: {
    directory?: string;
    thermo?: { every?: number; file?: string; console?: boolean };
    trajectory?: { every?: number; file: string; forces?: boolean; velocities?: boolean };
    final?: string;
    progress?: boolean;
  };
}

/** Error in an input file, naming the file and the offending field. */
export class InputError extends Error {
  override name = 'InputError';
}

const TOP_LEVEL = ['structure', 'masses', 'potential', 'velocities', 'integrator', 'steps', 'neighbor', 'minDistance', 'output'];

/** Reads and validates a run input file. */
export function readRunInput(path: string): RunInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read input file '${path}': ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new InputError(`${path}: not valid YAML/JSON: ${(err as Error).message}`);
  }
  return validateRunInput(raw, path);
}

export function validateRunInput(raw: unknown, where = 'input'): RunInput {
  const fail = (field: string, msg: string): never => { throw new InputError(`${where}: '${field}' ${msg}`); };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(`${where}: expected a mapping of settings (structure, potential, integrator, steps, …)`);
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!TOP_LEVEL.includes(key)) fail(key, `is not a known setting (known: ${TOP_LEVEL.join(', ')})`);
  for (const key of ['structure', 'potential', 'integrator', 'steps']) if (o[key] === undefined) fail(key, 'is required');
  const s = o.structure as Record<string, unknown>;
  if (!s || typeof s !== 'object') fail('structure', 'must be { file: … } or { lattice: …, element: …, a: … }');
  if ('file' in s) {
    if (typeof s.file !== 'string') fail('structure.file', 'must be a path');
  } else {
    if (typeof s.lattice !== 'string') fail('structure', 'needs either file or lattice (sc, fcc, bcc, hcp, diamond)');
    if (typeof s.a !== 'number') fail('structure.a', 'must be the lattice constant in Å');
    if (s.element === undefined) fail('structure.element', 'is required with a lattice');
  }
  const p = o.potential as Record<string, unknown>;
  if (!p || typeof p !== 'object' || typeof p.kind !== 'string') fail('potential', "must be a mapping with a 'kind'");
  const integ = o.integrator as Record<string, unknown>;
  if (!integ || typeof integ !== 'object' || typeof integ.name !== 'string') fail('integrator', "must be a mapping with a 'name' (e.g. nve, langevin)");
  if (!(typeof integ.timestep === 'number' && integ.timestep > 0)) fail('integrator.timestep', 'must be a positive number of fs');
  if (!(Number.isInteger(o.steps) && (o.steps as number) >= 0)) fail('steps', 'must be a non-negative integer');
  if (o.velocities !== undefined) {
    const v = o.velocities as Record<string, unknown>;
    if (typeof v?.temperature !== 'number' || v.temperature < 0) fail('velocities.temperature', 'must be a temperature in K');
  }
  return o as unknown as RunInput;
}

/** Builds the system described by an input; `baseDir` resolves relative paths. */
export function buildSystem(input: RunInput, baseDir: string): System {
  const s = input.structure;
  let system: System;
  if ('file' in s) {
    const path = resolve(baseDir, s.file);
    const frames = readExtxyz(path);
    const index = s.frame ?? -1;
    const frame = frames[index < 0 ? frames.length + index : index];
    if (!frame) throw new InputError(`structure.frame ${index} is out of range: '${path}' has ${frames.length} frames`);
    system = frameToSystem(frame, { masses: input.masses });
  } else {
    system = lattice(s.lattice, { element: s.element, a: s.a, c: s.c, repeat: s.repeat, masses: input.masses });
  }
  if (input.velocities) system.setTemperature(input.velocities.temperature, new Rng(input.velocities.seed ?? 1));
  return system;
}

export async function buildPotential(input: RunInput, baseDir: string): Promise<Potential> {
  return loadPotential(resolvePaths(input.potential, baseDir) as PotentialSpec, baseDir);
}

export function buildIntegrator(input: RunInput): Integrator {
  const { name, timestep, ...rest } = input.integrator;
  return createIntegrator(name, { ...rest, dt: timestep });
}

/**
 * Makes file-valued fields of a potential spec (`file`, `files`, `model`)
 * absolute against the input's directory, so built-in potentials that read files
 * find them wherever the CLI was started.
 */
function resolvePaths(node: unknown, baseDir: string): unknown {
  if (Array.isArray(node)) return node.map((v) => resolvePaths(v, baseDir));
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if ((k === 'file' || k === 'model') && typeof v === 'string') out[k] = resolveDataPath(v, baseDir);
    else if (k === 'files' && v && typeof v === 'object') {
      out[k] = Array.isArray(v) ? v.map((f) => (typeof f === 'string' ? resolveDataPath(f, baseDir) : f))
        : Object.fromEntries(Object.entries(v).map(([e, f]) => [e, typeof f === 'string' ? resolveDataPath(f, baseDir) : f]));
    } else out[k] = resolvePaths(v, baseDir);
  }
  return out;
}

/** A path that exists beside the input wins; otherwise it stays as given (a bare name a potential looks up in its library). */
function resolveDataPath(path: string, baseDir: string): string {
  const beside = resolve(baseDir, path);
  return existsSync(beside) ? beside : path;
}

export function inputDirectory(path: string): string {
  return dirname(resolve(path));
}
