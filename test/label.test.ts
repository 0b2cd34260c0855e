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
import { EV_PER_A3_TO_GPA } from '../src/units.ts';

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

  it('relaxCell: a sheared, stretched fcc crystal relaxes to the cubic cell whose lattice sum gives the target pressure', () => {
    // Independent of the minimiser, neighbour lists and cell filter: the per-atom energy of
    // fcc with lattice constant a is ½ Σ_R 4ε[(σ/R)¹² − (σ/R)⁶] over lattice vectors R < rc,
    // so P(a) = −dE/dV with V = a³/4. Between a = 4.91 and 5.37 Å the same shells stay inside 8.5 Å.
    const shells: number[] = []; // |R|/a of every lattice vector inside the cutoff at a = 5.2
    for (let i = -4; i <= 4; i++) for (let j = -4; j <= 4; j++) for (let k = -4; k <= 4; k++) {
      const r = Math.hypot(i, j, k) / 2;
      if ((i + j + k) % 2 === 0 && r > 0 && r * 5.2 < 8.5) shells.push(r);
    }
    const pressureGPa = (a: number): number => {
      let dEda = 0;
      for (const u of shells) { const r = u * a; dEda += 0.5 * 4 * EPS * (-12 * SIGMA ** 12 / r ** 13 + 6 * SIGMA ** 6 / r ** 7) * u; }
      return (-dEda / ((3 * a * a) / 4)) * EV_PER_A3_TO_GPA; // eV/Å³ → GPa
    };
    const latticeAt = (p: number): number => {
      let lo = 4.95, hi = 5.35; // P falls as a grows
      for (let it = 0; it < 100; it++) { const mid = 0.5 * (lo + hi); if (pressureGPa(mid) > p) lo = mid; else hi = mid; }
      return 0.5 * (lo + hi);
    };
    for (const pressure of [0, 0.2]) {
      const source = argonFrame(5.3);
      // Shear and stretch cell and atoms together: F = [[1.02, 0.03, 0], [0, 0.99, −0.02], [0.01, 0, 1]].
      const F = [1.02, 0.03, 0, 0, 0.99, -0.02, 0.01, 0, 1];
      const map = (v: ArrayLike<number>, out: Float64Array | number[], k: number) => {
        const x = v[k], y = v[k + 1], z = v[k + 2];
        out[k] = F[0] * x + F[1] * y + F[2] * z; out[k + 1] = F[3] * x + F[4] * y + F[5] * z; out[k + 2] = F[6] * x + F[7] * y + F[8] * z;
      };
      const cell = Float64Array.from(source.cell), positions = Float64Array.from(source.positions);
      for (let k = 0; k < 9; k += 3) map(source.cell, cell, k); // rows a, b, c
      for (let k = 0; k < positions.length; k += 3) map(source.positions, positions, k);
      const strained = { ...source, cell, positions };
      const [frame] = labelFrames(lj, [strained], { relaxFmax: 1e-6, relaxCell: true, pressure, relaxSmax: 1e-7, maxSteps: 5000, stress: true });
      const h = frame.cell, a = latticeAt(pressure);
      const row = (i: number) => [h[3 * i], h[3 * i + 1], h[3 * i + 2]];
      const dot = (u: number[], v: number[]) => u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
      for (let i = 0; i < 3; i++) {
        expect(Math.abs(Math.sqrt(dot(row(i), row(i))) - 3 * a)).toBeLessThan(1e-5); // 3 unit cells a side
        for (let j = i + 1; j < 3; j++) expect(Math.abs(dot(row(i), row(j)))).toBeLessThan(1e-4); // right angles
      }
      expect(frame.info.label_relaxed_pressure).toBe(pressure);
      const stress = frame.info.stress as number[]; // written by the labeller, positive under tension
      for (let k = 0; k < 9; k++) expect(Math.abs(stress[k] * EV_PER_A3_TO_GPA + (k % 4 === 0 ? pressure : 0))).toBeLessThan(1e-6);
    }
  });

  it('bad input is named: a negative or non-finite rattle, a frame not relaxed in the steps allowed', () => {
    expect(() => labelFrames(lj, [dimerFrame()], { rattle: [-0.1] })).toThrow(/rattle amplitudes must be finite numbers ≥ 0/);
    expect(() => labelFrames(lj, [dimerFrame()], { rattle: [NaN] })).toThrow(/rattle/);
    expect(() => labelFrames(lj, [argonFrame(), dimerFrame()], { relaxFmax: 1e-9, maxSteps: 3, frameName: (i) => `in.xyz: frame ${i}` }))
      .toThrow(/in.xyz: frame 1: not relaxed to 1e-9 eV\/Å in 3 FIRE steps/);
    expect(() => labelFrames(lj, [argonFrame()], { relaxCell: true })).toThrow(/relaxCell \(--relax-cell\) relaxes the cell with the positions: give relaxFmax \(--relax FMAX\) too/);
    expect(() => labelFrames(lj, [argonFrame()], { relaxFmax: 0.01, pressure: 1 })).toThrow(/pressure and relaxSmax \(--pressure, --relax-smax\) apply to the cell relaxation: set relaxCell \(--relax-cell\)/);
    expect(() => labelFrames(lj, [argonFrame()], { relaxFmax: 0.01, relaxCell: true, relaxSmax: 0 })).toThrow(/relaxSmax must be a positive stress in GPa, got 0/);
    expect(() => labelFrames(lj, [argonFrame(5.3, 2)], { relaxFmax: 1e-9, relaxCell: true, relaxSmax: 1e-9, maxSteps: 2 }))
      .toThrow(/frame 0: not relaxed to 1e-9 eV\/Å and the stress within 1e-9 GPa of 0 GPa \(largest deviation [0-9.e-]+ GPa\) in 2 FIRE steps/);
    const slab = dimerFrame(); // a box with no periodic stress along all three axes is fine for positions, not for the cell
    slab.pbc = [true, true, false];
    expect(() => labelFrames(lj, [slab], { relaxFmax: 0.01, relaxCell: true, frameName: () => 'slab.xyz: frame 0' })).toThrow(/slab.xyz: frame 0: CellFilter: the cell must be periodic along all three axes/);
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
    // --relax-cell with a target pressure: the crystal's cell shrinks, and the header says to what pressure.
    const crystal = join(dir, 'fcc.xyz'), relaxed = join(dir, 'relaxed.xyz');
    writeFileSync(crystal, formatExtxyz([argonFrame(5.3, 2)]));
    console.log = () => {};
    try {
      expect(await labelCommand.run(['--potential', spec, crystal, '--out', relaxed, '--relax', '1e-4', '--relax-cell', '--pressure', '0.2', '--relax-smax', '1e-4'])).toBe(0);
    } finally {
      console.log = log;
    }
    const [cellRelaxed] = readExtxyz(relaxed);
    expect(cellRelaxed.info.label_relaxed_pressure).toBe(0.2);
    expect(cellRelaxed.info.label_relaxed_smax).toBe(1e-4);
    expect(cellRelaxed.cell[0]).toBeLessThan(2 * 5.2);
    await expect(labelCommand.run(['--potential', spec, crystal, '--out', relaxed, '--relax', '1e-4', '--relax-cell', '--pressure', 'high'])).rejects.toThrow(/--pressure needs a number, got 'high'/);
    await expect(labelCommand.run(['--potential', spec, crystal, '--out', relaxed, '--relax', '1e-4', '--relax-cell=yes'])).rejects.toThrow(/--relax-cell is a flag \(no value\), got '--relax-cell=yes'/);
    await expect(labelCommand.run(['--potential', spec, crystal, '--out', relaxed, '--relax-cell'])).rejects.toThrow(/give relaxFmax \(--relax FMAX\) too/);
    await expect(labelCommand.run(['--potential', spec, crystal, '--out', relaxed, '--relax', '1e-4', '--pressure', '1'])).rejects.toThrow(/\(--pressure, --relax-smax\) apply to the cell relaxation: set relaxCell \(--relax-cell\)/);
  });
});
