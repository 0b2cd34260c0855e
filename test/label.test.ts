import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelFrames } from '../src/workflows/label.ts';
import { labelCommand } from '../src/cli/label.ts';
import { frameEnergy, frameForces, frameVirial, formatExtxyz, readExtxyz, systemToFrame, type Frame } from '../src/io/extxyz.ts';
import { LennardJones } from '../potentials/lj.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Cell } from '../src/cell.ts';
import { System } from '../src/system.ts';

const EPS = 0.0104, SIGMA = 3.4;
const lj = new LennardJones({ epsilon: EPS, sigma: SIGMA, cutoff: 8.5, shift: false });

/** An fcc argon crystal as a frame carrying a wrong energy and a stress of its own (labels to be replaced). */
function argonFrame(a = 5.3, repeat = 3): Frame {
  const s = lattice('fcc', { element: 'Ar', a, repeat });
  return { ...systemToFrame(s, { energy: 123, stress: new Float64Array([1, 1, 1, 0, 0, 0]) }), info: { energy: 123, stress: [1, 0, 0, 0, 1, 0, 0, 0, 1], config_type: 'fcc' } };
}

/** Two argon atoms 3.4 Å apart in a box much larger than the cutoff. */
function dimerFrame(): Frame {
  const s = new System({ symbols: ['Ar', 'Ar'], positions: [10, 10, 10, 13.4, 10, 10], cell: new Cell([30, 0, 0, 0, 30, 0, 0, 0, 30]) });
  return systemToFrame(s, { info: { config_type: 'dimer' } });
}

describe('labelFrames', () => {
  it('relaxes a Lennard-Jones dimer to 2^(1/6)σ with energy −ε, and labels it with energy and forces', () => {
    const [frame] = labelFrames(lj, [dimerFrame()], { relaxFmax: 1e-6 });
    const p = frame.positions;
    const r = Math.hypot(p[3] - p[0], p[4] - p[1], p[5] - p[2]);
    // |F| ≤ 1e-6 eV/Å on each atom bounds |r − r0| by 1e-6/k, k = U''(r0) = 36·2^(2/3)·ε/σ² (the FIRE path stops inside).
    const k = (36 * 2 ** (2 / 3) * EPS) / SIGMA ** 2;
    expect(Math.abs(r - 2 ** (1 / 6) * SIGMA)).toBeLessThanOrEqual(1e-6 / k);
    expect(Math.abs(frameEnergy(frame)! + EPS)).toBeLessThan(1e-10);
    const f = frameForces(frame)!;
    expect(Math.max(...Array.from(f, Math.abs))).toBeLessThanOrEqual(1e-6);
    expect(frame.info.config_type).toBe('dimer');
    expect(frame.info.label_relaxed_fmax).toBe(1e-6);
  });

  it('rattled copies: σ per component as asked, 0 the frame itself, seeded; source labels replaced', () => {
    const source = argonFrame();
    const out = labelFrames(lj, [source], { rattle: [0, 0.1], seed: 3 });
    expect(out).toHaveLength(2);
    expect(Array.from(out[0].positions)).toEqual(Array.from(source.positions));
    const box = 3 * 5.3; // displacements across the cube's faces come back wrapped
    const d = Array.from(out[1].positions, (x, k) => { const u = x - source.positions[k]; return u - box * Math.round(u / box); });
    const rms = Math.sqrt(d.reduce((s, x) => s + x * x, 0) / d.length);
    // 324 components: the sample σ scatters by 1/√(2·324) ≈ 4 % about 0.1; the bound is 2.5 of those.
    expect(Math.abs(rms - 0.1)).toBeLessThan(0.01);
    expect(out[1].info.label_rattle).toBe(0.1);
    // The labels are the potential's at the written positions, not the source's.
    for (const frame of out) {
      const s = lattice('fcc', { element: 'Ar', a: 5.3, repeat: 3 });
      s.positions.set(frame.positions);
      const e = new ForceEvaluator(lj, { skin: 0 }).evaluate(s).energy;
      expect(frameEnergy(frame)).toBeCloseTo(e, 10);
      expect(frame.info.stress).toBeUndefined();
    }
    const again = labelFrames(lj, [source], { rattle: [0, 0.1], seed: 3 });
    expect(Array.from(again[1].positions)).toEqual(Array.from(out[1].positions));
    const other = labelFrames(lj, [source], { rattle: [0, 0.1], seed: 4 });
    expect(Array.from(other[1].positions)).not.toEqual(Array.from(out[1].positions));
  });

  it('the stress it writes is −∂E/∂ε of the crystal (finite difference of a uniform strain)', () => {
    const a = 5.3, h = 1e-5;
    const [frame] = labelFrames(lj, [argonFrame(a)], { stress: true });
    const W = frameVirial(frame)!; // −stress·V
    const energyAt = (scale: number): number => frameEnergy(labelFrames(lj, [argonFrame(a * scale)])[0])!;
    // Under a uniform strain ε (cell and positions scaled by 1 + ε), dE/dε = −tr W.
    const dEde = (energyAt(1 + h) - energyAt(1 - h)) / (2 * h);
    expect(W[1]).toBeCloseTo(0, 12);
    expect(Math.abs(-(W[0] + W[4] + W[8]) - dEde)).toBeLessThan(1e-6 * Math.abs(dEde));
  });

  it('bad input is named: a negative or non-finite rattle, a frame not relaxed in the steps allowed', () => {
    expect(() => labelFrames(lj, [dimerFrame()], { rattle: [-0.1] })).toThrow(/rattle amplitudes must be finite numbers ≥ 0/);
    expect(() => labelFrames(lj, [dimerFrame()], { rattle: [NaN] })).toThrow(/rattle/);
    expect(() => labelFrames(lj, [argonFrame(), dimerFrame()], { relaxFmax: 1e-9, maxSteps: 3, frameName: (i) => `in.xyz: frame ${i}` }))
      .toThrow(/in.xyz: frame 1: not relaxed to 1e-9 eV\/Å in 3 FIRE steps/);
  });
});

describe('tensormd label', () => {
  it('writes the labelled copies of every input frame and says so on its last line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'label-'));
    const input = join(dir, 'in.xyz'), out = join(dir, 'out.xyz');
    writeFileSync(input, formatExtxyz([dimerFrame(), argonFrame()]));
    const spec = JSON.stringify({ kind: 'lj', epsilon: EPS, sigma: SIGMA, cutoff: 8.5 });
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    let code: number;
    try {
      code = await labelCommand.run(['--potential', spec, input, '--out', out, '--rattle', '0,0.05', '--seed', '2']);
    } finally {
      console.log = log;
    }
    expect(code).toBe(0);
    const written = readExtxyz(out);
    expect(written.map((f) => f.info.config_type)).toEqual(['dimer', 'dimer', 'fcc', 'fcc']);
    expect(written.map((f) => f.info.label_rattle)).toEqual([0, 0.05, 0, 0.05]);
    expect(written.every((f) => frameEnergy(f) !== undefined && frameForces(f) !== undefined)).toBe(true);
    expect(JSON.parse(lines[lines.length - 1])).toMatchObject({ label: 'lj', framesRead: 2, framesWritten: 4, atoms: 2 * 2 + 2 * 108 });
    await expect(labelCommand.run(['--potential', spec, input, '--out', out, '--rattle', '0,x'])).rejects.toThrow(/--rattle needs comma-separated numbers/);
    await expect(labelCommand.run(['--potential', spec, input, '--out', out, '--relax', 'abc'])).rejects.toThrow(/--relax needs a number/);
  });
});
