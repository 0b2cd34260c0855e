/**
 * Parallel replicas: independent runs (different temperatures and seeds) on a pool
 * give, each, exactly the results of the same run done serially in this thread,
 * with their own outputs; a failing replica is reported by name after the others
 * finished.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunInput } from '../src/config.ts';
import { runReplicas } from '../src/parallel/replicas.ts';
import { runReplica } from '../src/parallel/replica-run.ts';
import { runCommand } from '../src/cli/run.ts';
import { WorkerPool } from '../src/parallel/pool.ts';

const dir = mkdtempSync(join(tmpdir(), 'tensormd-replicas-'));
let pool: WorkerPool;
beforeAll(() => { pool = new WorkerPool(2); });
afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

function input(temperature: number, seed: number): RunInput {
  return {
    structure: { lattice: 'fcc', element: 'Ar', a: 5.26, repeat: 3 },
    potential: { kind: 'lj', epsilon: 0.0104, sigma: 3.4, cutoff: 6.5, shift: true },
    velocities: { temperature, seed },
    integrator: { name: 'langevin', timestep: 4, temperature, damping: 200, seed: seed + 100 },
    steps: 300,
    output: { thermo: { every: 100, file: 'thermo.csv' }, final: 'final.xyz' },
  };
}

describe('parallel replicas', () => {
  it('two replicas at different temperatures equal their serial runs, each with its own outputs', async () => {
    const replicas = [
      { input: input(40, 1), outputDirectory: join(dir, 'T40'), label: 'T40' },
      { input: input(90, 2), outputDirectory: join(dir, 'T90'), label: 'T90' },
    ];
    const results = await runReplicas(replicas, { workers: 2, pool });
    expect(results.map((r) => r.label)).toEqual(['T40', 'T90']);
    for (const [k, r] of results.entries()) {
      const serial = await runReplica({ input: replicas[k].input, baseDir: process.cwd(), outputDirectory: join(dir, `serial-${k}`), label: 'serial' });
      expect(r.final).toEqual(serial.final);
      expect(readFileSync(join(dir, `T${k === 0 ? 40 : 90}`, 'final.xyz'), 'utf8')).toBe(readFileSync(join(dir, `serial-${k}`, 'final.xyz'), 'utf8'));
      expect(existsSync(join(replicas[k].outputDirectory, 'thermo.csv'))).toBe(true);
    }
    // The thermostats hold each replica near its own temperature.
    expect(results[1].final.temperature).toBeGreaterThan(results[0].final.temperature);
  });

  it('a failing replica is named, and the others still finish', async () => {
    const bad = { ...input(40, 3), potential: { kind: 'no-such-potential' } };
    await expect(runReplicas([
      { input: input(40, 3), outputDirectory: join(dir, 'ok'), label: 'good one' },
      { input: bad, outputDirectory: join(dir, 'bad'), label: 'bad one' },
    ], { workers: 2, pool })).rejects.toThrow(/1 of 2 replicas failed:\n {2}bad one: unknown potential kind 'no-such-potential'/);
    expect(existsSync(join(dir, 'ok', 'final.xyz'))).toBe(true);
  });

  it('tensormd run a.yaml b.yaml --workers 2 writes each replica\'s outputs, as single runs do', async () => {
    for (const T of [40, 90]) writeFileSync(join(dir, `T${T}.json`), JSON.stringify({ ...input(T, T), steps: 100 }));
    const log = console.log;
    console.log = () => {};
    try {
      expect(await runCommand.run([join(dir, 'T40.json'), join(dir, 'T90.json'), '--workers', '2', '--output-dir', join(dir, 'cli')])).toBe(0);
      expect(await runCommand.run([join(dir, 'T90.json'), '--quiet', '--output-dir', join(dir, 'single')])).toBe(0);
    } finally {
      console.log = log;
    }
    expect(readFileSync(join(dir, 'cli', 'T90', 'final.xyz'), 'utf8')).toBe(readFileSync(join(dir, 'single', 'final.xyz'), 'utf8'));
    expect(existsSync(join(dir, 'cli', 'T40', 'thermo.csv'))).toBe(true);
  });
});
