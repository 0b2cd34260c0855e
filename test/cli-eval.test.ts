import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPotential } from '../potentials/registry.ts';
import '../potentials/builtin.ts';
import { main } from '../src/cli/main.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { systemToFrame, writeExtxyz, type Frame } from '../src/io/extxyz.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';

const LJ = { kind: 'lj', epsilon: 0.0104, sigma: 3.4, cutoff: 8 };

async function evalCli(args: string[]): Promise<{ code: number; lines: string[]; errors: string }> {
  const lines: string[] = [], errors: string[] = [];
  const log = console.log, error = console.error;
  console.log = (m: string) => lines.push(m);
  console.error = (m: string) => errors.push(m);
  try {
    return { code: await main(['eval', ...args]), lines, errors: errors.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('tensormd eval (command line)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tensormd-eval-'));

  // Reference data = the potential's own labels plus chosen errors, so the report's figures are known in advance:
  // frame f's energy is off by δ_f per atom, and every force component by ±c_f.
  const rng = new Rng(5), lj = createPotential(LJ);
  const frames: Frame[] = [];
  const energyErrors = [0.004, -0.010, 0.002]; // eV/atom
  const referenceEnergies: number[] = []; // eV/atom, as written to the files
  const forceErrors = [0.03, 0.01, 0.05]; // eV/Å, sign alternating per component
  let atoms = 0, forceComponents = 0, forceAbs = 0, forceSq = 0;
  energyErrors.forEach((de, f) => {
    const s = lattice('fcc', { element: 'Ar', a: 5.26, repeat: [2, 2, 2] });
    for (let k = 0; k < s.positions.length; k++) s.positions[k] += 0.1 * rng.normal();
    const ev = new ForceEvaluator(lj, { skin: 0 }).evaluate(s);
    const frame = systemToFrame(s, { energy: ev.energy - de * s.n, forces: true });
    referenceEnergies.push(ev.energy / s.n - de);
    const fs = frame.arrays.forces.data as Float64Array;
    for (let k = 0; k < fs.length; k++) fs[k] -= (k % 2 === 0 ? 1 : -1) * forceErrors[f];
    frames.push(frame);
    atoms += s.n; forceComponents += fs.length;
    forceAbs += fs.length * forceErrors[f]; forceSq += fs.length * forceErrors[f] ** 2;
  });
  const data = join(dir, 'data.xyz');
  writeExtxyz(data, frames.slice(0, 2));
  const data2 = join(dir, 'data2.xyz');
  writeExtxyz(data2, frames.slice(2));

  it('reports the energy and force errors it was given, over several files, as a last-line JSON object', async () => {
    const { code, lines } = await evalCli(['--potential', JSON.stringify(LJ), data, data2]);
    expect(code).toBe(0);
    const report = JSON.parse(lines[lines.length - 1]);
    expect(report.eval).toBe('lj');
    expect(report.frames).toBe(3);
    expect(report.atoms).toBe(atoms);
    const mae = (1000 * energyErrors.reduce((a, x) => a + Math.abs(x), 0)) / 3;
    const rmse = 1000 * Math.sqrt(energyErrors.reduce((a, x) => a + x * x, 0) / 3);
    expect(report.energy_mae_mev_per_atom).toBeCloseTo(mae, 6);
    expect(report.energy_rmse_mev_per_atom).toBeCloseTo(rmse, 6);
    expect(report.force_mae_ev_per_a).toBeCloseTo(forceAbs / forceComponents, 9);
    expect(report.force_rmse_ev_per_a).toBeCloseTo(Math.sqrt(forceSq / forceComponents), 9);
  });

  it('--per-frame prints each frame\'s reference energy, planted energy error and force MAE, named by file and frame', async () => {
    const { code, lines } = await evalCli(['--potential', JSON.stringify(LJ), '--per-frame', data, data2]);
    expect(code).toBe(0);
    const rows = lines.filter((l) => / atoms {2}E /.test(l));
    expect(rows.map((l) => l.split('  ')[0])).toEqual([`${data}: frame 0`, `${data}: frame 1`, `${data2}: frame 0`]);
    rows.forEach((l, f) => {
      const m = / E (\S+) eV\/atom {2}ΔE (\S+) meV\/atom {2}F MAE (\S+) eV/.exec(l)!;
      expect(Number(m[1])).toBeCloseTo(referenceEnergies[f], 4);
      expect(Number(m[2])).toBeCloseTo(1000 * energyErrors[f], 2);
      expect(Number(m[3])).toBeCloseTo(forceErrors[f], 4);
    });
  });

  it('reads the kind from a model file (the shipped ACE and LATTE silicon models)', async () => {
    for (const [model, kind] of [['models/trace/Si.msgpack', 'trace'], ['models/latte/Si-fast.msgpack', 'latte']]) {
      const si = lattice('diamond', { element: 'Si', a: 5.43, repeat: [1, 1, 1] });
      const file = join(dir, `si-${kind}.xyz`);
      writeExtxyz(file, [systemToFrame(si, { energy: 0, forces: true })]);
      const { code, lines } = await evalCli(['--model', model, file]);
      expect(code).toBe(0);
      expect(JSON.parse(lines[lines.length - 1]).eval).toBe(kind);
    }
  });

  it('names a model file that is not a model, and an element the potential lacks', async () => {
    const junk = join(dir, 'junk.msgpack');
    writeFileSync(junk, 'not msgpack at all');
    const bad = await evalCli(['--model', junk, data]);
    expect(bad.code).toBe(1);
    expect(bad.errors).toMatch(/junk\.msgpack/);
    const copper = await evalCli(['--model', 'models/trace/Si.msgpack', data]);
    expect(copper.code).toBe(1);
    expect(copper.errors).toMatch(/data\.xyz: frame 0: .*Ar/);
  });
});
