/**
 * The compiled build (scripts/build.mjs → dist/, used by bin/tensormd.mjs): built in a
 * scratch copy of the sources, so the worktree's own dist/ is left alone. The compiled
 * CLI must give the same MD trajectory (energies and forces, full precision) as the
 * TypeScript sources run through tsx, including worker threads and a plugin potential
 * written in TypeScript; any change to a source file must send the CLI back to tsx.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameEnergy, frameForces, readExtxyz } from '../src/io/extxyz.ts';

const REPO = resolve(import.meta.dirname, '..');
let root: string;

function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/tensormd.mjs'), ...args], {
    cwd: root, encoding: 'utf8', env: { ...process.env, TENSORMD_DEBUG_BUILD: '1', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const INPUT = `
structure: { lattice: diamond, element: Si, a: 5.43, repeat: [2, 2, 2] }
potential:
  kind: sum
  terms:
    - { kind: trace, model: models/trace/Si.msgpack }
    - { kind: module, module: buckingham.ts, A: 100, rho: 0.3, C: 5, cutoff: 4 }
velocities: { temperature: 800, seed: 3 }
integrator: { name: nve, timestep: 1 }
steps: 4
output:
  thermo: { every: 1, file: thermo.csv }
  final: final.xyz
`;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tensormd-build-'));
  for (const p of ['src', 'potentials', 'integrators', 'bench', 'test/oracles', 'scripts', 'bin']) cpSync(join(REPO, p), join(root, p), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) cpSync(join(REPO, f), join(root, f));
  cpSync(join(REPO, 'examples/buckingham.ts'), join(root, 'examples/buckingham.ts'));
  symlinkSync(realpathSync(join(REPO, 'node_modules')), join(root, 'node_modules'), 'dir');
  symlinkSync(join(REPO, 'models'), join(root, 'models'), 'dir');
  for (const dir of ['compiled', 'tsx']) {
    mkdirSync(join(root, dir));
    writeFileSync(join(root, dir, 'md.yaml'), INPUT.replace('models/trace', '../models/trace'));
    cpSync(join(REPO, 'examples/buckingham.ts'), join(root, dir, 'buckingham.ts'));
  }
  const b = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build failed:\n${b.stdout}\n${b.stderr}`);
}, 180_000); // the build is ~5 s of CPU, but runs beside the rest of the suite on 2 cores

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('compiled build', () => {
  it('the compiled CLI (2 worker threads, a TypeScript plugin) reproduces the tsx run exactly', () => {
    // The buckingham.ts plugin imports ../potentials/potential.ts for types only; it sits beside md.yaml.
    const compiled = cli(['run', 'compiled/md.yaml', '--workers', '2', '--quiet', '--output-dir', 'compiled']);
    expect(compiled.stderr + compiled.stdout).toContain('tensormd: compiled build (dist/)');
    expect(compiled.status, compiled.stderr).toBe(0);
    const viaTsx = cli(['run', 'tsx/md.yaml', '--workers', '2', '--quiet', '--output-dir', 'tsx'], { TENSORMD_TSX: '1' });
    expect(viaTsx.stderr).toContain('TypeScript sources through tsx');
    expect(viaTsx.status, viaTsx.stderr).toBe(0);

    const thermoC = readFileSync(join(root, 'compiled/thermo.csv'), 'utf8').trim().split('\n');
    const thermoT = readFileSync(join(root, 'tsx/thermo.csv'), 'utf8').trim().split('\n');
    expect(thermoC.length).toBe(6); // header + steps 0..4
    expect(thermoC).toEqual(thermoT);
    const [fc] = readExtxyz(join(root, 'compiled/final.xyz'));
    const [ft] = readExtxyz(join(root, 'tsx/final.xyz'));
    const energy = frameEnergy(fc), forces = frameForces(fc);
    expect(Number.isFinite(energy)).toBe(true);
    expect(energy).toBe(frameEnergy(ft));
    expect(forces?.length).toBe(3 * 64);
    expect(Array.from(forces!)).toEqual(Array.from(frameForces(ft)!));
    expect(Array.from(fc.positions)).toEqual(Array.from(ft.positions));
  });

  it('falls back to tsx when a source file is added or changed after the build', async () => {
    const check = (await import(pathToFileURL(join(root, 'scripts/dist-check.mjs')).href)) as { distStaleReason(): string | null };
    expect(check.distStaleReason()).toBeNull();
    const added = join(root, 'src/new-module.ts');
    writeFileSync(added, 'export const x = 1;\n');
    expect(check.distStaleReason()).toMatch(/sources changed/);
    rmSync(added);
    expect(check.distStaleReason()).toBeNull();
    const file = join(root, 'potentials/trace/evaluator.ts');
    const later = new Date(Date.now() + 5_000);
    utimesSync(file, later, later);
    expect(check.distStaleReason()).toMatch(/sources changed/);
    // The CLI then runs the TypeScript sources (and works).
    const stale = cli(['--version']);
    expect(stale.stderr).toContain('TypeScript sources through tsx (sources changed since the last `npm run build`)');
    expect(stale.stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
  });
});
