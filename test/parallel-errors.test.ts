/**
 * A potential that throws inside a worker: the step fails in the main thread with
 * the worker's message and stack, nothing hangs, the pool shuts down and the
 * process exits. Run in a child process with a timeout, so a hang fails the test.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { LennardJones, lattice, type ComputeOutput, type Neighborhood, type Potential } from '../src/index.ts';
import { ParallelForceEvaluator } from '../src/parallel/evaluator.ts';

describe('errors in parallel evaluation', () => {
  it('a plugin failing in a worker surfaces its error in the main thread and the process exits', () => {
    const script = resolve(import.meta.dirname, 'fixtures/parallel/failing-run.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.error).toBeUndefined(); // a hang would be killed: ETIMEDOUT
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('CAUGHT: simulation stopped at step');
    expect(r.stdout).toContain('failed in worker 1 of 1');
    expect(r.stdout).toMatch(/RangeError: failing plugin: cannot handle atom \d+/);
    expect(r.stdout).toContain('failing-plugin.ts'); // the worker's stack
    expect(r.stdout).not.toContain('NO ERROR');
  });

  it('refuses a potential that gives energy to atoms without neighbours unless it honours row ranges', () => {
    const lj = new LennardJones({ epsilon: 0.01, sigma: 3.4, cutoff: 7 });
    const withOffset: Potential = {
      kind: 'offset-lj', neighborList: 'half', elements: null, cutoff: 7,
      bind: () => {},
      compute(atoms: Neighborhood, out: ComputeOutput) {
        lj.compute(atoms, out);
        out.energy -= 1.5 * atoms.nLocal; // a per-atom reference energy, ignoring rowStart/rowEnd
      },
      spec: () => ({ kind: 'offset-lj' }),
    };
    const system = lattice('fcc', { element: 'Ar', a: 5.26, repeat: 3 });
    expect(() => new ParallelForceEvaluator(withOffset, { workers: 1 }).evaluate(system))
      .toThrow(/offset-lj' gives energy to atoms without neighbours .*rowStart\/rowEnd/);
  });

  it('refuses a potential that writes forces outside the rows it was given and their neighbours', () => {
    const lj = new LennardJones({ epsilon: 0.01, sigma: 3.4, cutoff: 7 });
    const leaky: Potential = {
      kind: 'leaky', neighborList: 'half', elements: null, cutoff: 7,
      bind: () => {},
      compute(atoms: Neighborhood, out: ComputeOutput) {
        lj.compute(atoms, out);
        if ((atoms.rowEnd ?? atoms.nLocal) > (atoms.rowStart ?? 0)) out.forces[3 * (atoms.nTotal - 1)] += 1; // a far ghost
      },
      spec: () => ({ kind: 'leaky' }),
    };
    const system = lattice('fcc', { element: 'Ar', a: 5.26, repeat: 4 });
    expect(() => new ParallelForceEvaluator(leaky, { workers: 1, chunks: 16 }).evaluate(system))
      .toThrow(/'leaky' wrote forces on atom \d+, outside the rows/);
  });
});
