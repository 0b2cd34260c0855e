import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AceBasis, type BasisSpec } from '../potentials/trace/basis.ts';
import { loadModel } from '../potentials/trace/model.ts';
import { TracePotential } from '../potentials/trace/potential.ts';
import { main } from '../src/cli/main.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { systemToFrame, writeExtxyz, type Frame } from '../src/io/extxyz.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import type { System } from '../src/system.ts';

// The basis the command line below must build: order 2, degrees 5/6, w_L 1, agnesi radial.
const SPEC: BasisSpec = {
  elements: ['Si'], order: 2, maxDegree: [5, 6], wL: 1,
  radial: { kind: 'agnesi', n: 5, cutoff: 4.2, r0: 2.35, p: 2, q: 4 },
};
const ARGS = ['--order', '2', '--degree', '5,6', '--wl', '1', '--cutoff', '4.2', '--radial', 'agnesi', '--r0', '2.35', '--threads', '1'];

function rattled(rng: Rng): System {
  const s = lattice('diamond', { element: 'Si', a: 5.43 * (0.96 + 0.08 * rng.uniform()), repeat: [1, 1, 1] });
  for (let k = 0; k < s.positions.length; k++) s.positions[k] += 0.15 * rng.normal();
  return s;
}

async function fitCli(args: string[]): Promise<{ code: number; errors: string }> {
  const errors: string[] = [];
  const log = console.log, error = console.error;
  console.log = () => {};
  console.error = (m: string) => errors.push(m);
  try {
    return { code: await main(['fit', ...args]), errors: errors.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('tensormd fit (command line)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tensormd-fit-'));
  const rng = new Rng(11);
  const basis = new AceBasis(SPEC);
  const truth = new TracePotential({ basis: SPEC, nFunctions: basis.nFunctions, coefficients: Array.from({ length: basis.nFunctions }, () => 0.05 * rng.normal()), e0: [-4] }, { basis });
  const frames: Frame[] = [];
  const held: System[] = [];
  for (let f = 0; f < 16; f++) {
    const s = rattled(rng);
    frames.push(systemToFrame(s, { energy: new ForceEvaluator(truth, { skin: 0 }).evaluate(s).energy, forces: true }));
  }
  for (let f = 0; f < 3; f++) held.push(rattled(rng));
  const train = join(dir, 'train.xyz');
  writeExtxyz(train, frames);

  it('builds the basis its options name (agnesi radial) and recovers a target in that basis', async () => {
    const out = join(dir, 'model.msgpack');
    const { code, errors } = await fitCli(['--train', train, '--out', out, '--lambda', '1e-14', ...ARGS]);
    expect(errors).toBe('');
    expect(code).toBe(0);
    const model = loadModel(out);
    expect(model.basis.radial).toMatchObject({ kind: 'agnesi', r0: 2.35, p: 2, q: 4, cutoff: 4.2 });
    expect(model.nFunctions).toBe(basis.nFunctions);
    // Energies of structures the fit never saw: the truth lies in the fitted span, so they agree.
    const fitted = new TracePotential(model);
    for (const s of held) {
      const want = new ForceEvaluator(truth, { skin: 0 }).evaluate(s).energy;
      const got = new ForceEvaluator(fitted, { skin: 0 }).evaluate(s).energy;
      expect(Math.abs(got - want)).toBeLessThan(1e-7 * Math.max(1, Math.abs(want)));
    }
  });

  it('asks for --r0 with --radial agnesi, and names an unknown radial kind', async () => {
    const out = join(dir, 'never.msgpack');
    const noR0 = await fitCli(['--train', train, '--out', out, '--radial', 'agnesi', '--order', '2', '--degree', '5,6']);
    expect(noR0.code).toBe(1);
    expect(noR0.errors).toMatch(/--radial agnesi needs --r0/);
    const unknown = await fitCli(['--train', train, '--out', out, '--radial', 'bessel', '--order', '2', '--degree', '5,6']);
    expect(unknown.code).toBe(1);
    expect(unknown.errors).toMatch(/unknown kind 'bessel'/);
  });

  it('--energy-loss huber:δ refits robustly (a frame with a wrong energy no longer pulls the fit); a bad loss is named', async () => {
    const bad = frames.map((f, i) => (i === 5 ? { ...f, info: { ...f.info, energy: (f.info.energy as number) + 0.3 * f.symbols.length } } : f));
    const path = join(dir, 'outlier.xyz');
    writeExtxyz(path, bad);
    const worst = async (extra: string[]): Promise<number> => {
      const out = join(dir, `outlier-${extra.length}.msgpack`);
      const { code, errors } = await fitCli(['--train', path, '--out', out, '--lambda', '1e-14', ...ARGS, ...extra]);
      expect(errors).toBe('');
      expect(code).toBe(0);
      const fitted = new TracePotential(loadModel(out));
      let w = 0;
      for (const s of held) {
        const want = new ForceEvaluator(truth, { skin: 0 }).evaluate(s).energy, got = new ForceEvaluator(fitted, { skin: 0 }).evaluate(s).energy;
        w = Math.max(w, (1000 * Math.abs(got - want)) / s.n);
      }
      return w;
    };
    const l2 = await worst([]), huber = await worst(['--energy-loss', 'huber:0.01', '--irls-iterations', '10']);
    expect(l2).toBeGreaterThan(1); // meV/atom on unseen structures
    expect(huber).toBeLessThan(1e-3 * l2);
    const wrong = await fitCli(['--train', train, '--out', join(dir, 'never.msgpack'), ...ARGS, '--energy-loss', 'l3']);
    expect(wrong.code).toBe(1);
    expect(wrong.errors).toMatch(/--energy-loss must be .*'l3'/);
  });

  it('names the frame of a training file without forces', async () => {
    const bare = join(dir, 'bare.xyz');
    writeFileSync(bare, '2\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3 energy=-8.0 pbc="T T T"\nSi 0 0 0\nSi 1.3 1.3 1.3\n');
    const { code, errors } = await fitCli(['--train', bare, '--out', join(dir, 'bare.msgpack'), ...ARGS]);
    expect(code).toBe(1);
    expect(errors).toMatch(/bare\.xyz.*frame 0.*force/i);
  });

  it('a numeric option given without its value is named (it used to read as 1)', async () => {
    const { code, errors } = await fitCli(['--train', train, '--out', join(dir, 'r0.msgpack'), ...ARGS, '--r0', '--p', '2']);
    expect(code).toBe(1);
    expect(errors).toMatch(/--r0 needs a number, got 'true'/);
  });
});
