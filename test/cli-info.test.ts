import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pack } from 'msgpackr';
import { averageModels } from '../potentials/latte/ensemble.ts';
import { saveModel } from '../potentials/latte/io.ts';
import { AceBasis, type BasisSpec } from '../potentials/trace/basis.ts';
import { saveModel as saveTrace } from '../potentials/trace/model.ts';
import { LatteModel } from '../potentials/latte/model.ts';
import { main } from '../src/cli/main.ts';

async function infoCli(args: string[]): Promise<{ code: number; lines: string[]; errors: string }> {
  const lines: string[] = [], errors: string[] = [];
  const log = console.log, error = console.error;
  console.log = (m: string) => lines.push(m);
  console.error = (m: string) => errors.push(m);
  try {
    return { code: await main(['info', ...args]), lines, errors: errors.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const lastJson = (lines: string[]) => JSON.parse(lines[lines.length - 1]) as { info: Record<string, any>[] };

describe('tensormd info (command line)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tensormd-info-'));

  // Two elements, blocks of rank 0, 1 and 2; '2,a,b,ab' has three bodies (a, b: rank 1; ab: rank 2).
  const config = {
    elements: ['Si', 'C'], cutoff: 4.5, descriptor: '3,-:2,a,a:2,a,b,ab', width: 1.2, trainWidths: true, widthMin: 1, widthMax: 1.5,
    hidden: [6, 4], activation: 'tanh' as const,
  };
  // Counted by hand from the spec: a block of n functions and B bodies gives n inputs and n·B radial
  // functions; each function has a species weight per (centre, neighbour) pair, a centre per centre
  // element and a width; each element's MLP D → 6 → 4 → 1 has weights and biases.
  const D = 3 + 2 + 2, F = 3 * 1 + 2 * 2 + 2 * 3, ns = 2;
  const mlp = D * 6 + 6 + 6 * 4 + 4 + 4 * 1 + 1;
  const parameters = F * ns * ns + F * ns + F + ns * mlp;
  const meta = { trainedOn: ['train.xyz', 'more.xyz (loss weight 0.5)'], epochs: 12, bestEpoch: 9, validation: { energyMaeMevPerAtom: 1.5, forceMaeEvPerA: 0.07 } };
  const model = new LatteModel(config);
  model.initialise(3);
  model.e0[0] = -4.25; model.e0[1] = -7.5;
  const latteFile = join(dir, 'SiC.msgpack');
  saveModel(latteFile, model, meta);

  it('reports a LATTE model: shape counted from the descriptor, reference energies and the recorded provenance', async () => {
    const { code, lines } = await infoCli([latteFile]);
    expect(code).toBe(0);
    const [info] = lastJson(lines).info;
    expect(info).toMatchObject({ file: latteFile, kind: 'latte', elements: ['Si', 'C'], cutoff: 4.5, parameters, e0: { Si: -4.25, C: -7.5 } });
    expect(info.shape).toEqual({
      descriptor: config.descriptor, descriptors: D, radialFunctions: F, widths: { trained: true, min: 1, max: 1.5 },
      hidden: [6, 4], activation: 'tanh', speciesMode: 'specific',
    });
    expect(info.meta).toEqual(meta);
    const text = lines.join('\n');
    expect(text).toContain(`D=${D} inputs from ${F} radial functions`);
    expect(text).toContain(`network per element: ${D} → 6 → 4 → 1, tanh`);
    expect(text).toContain('- more.xyz (loss weight 0.5)');
    expect(text).toContain('bestEpoch: 9');
  });

  it('--functions lists every radial function with its block, term, body, rank and support', async () => {
    const { code, lines } = await infoCli([latteFile, '--functions']);
    expect(code).toBe(0);
    const header = lines.findIndex((l) => l.trim().startsWith('f block term body rank'));
    expect(header).toBeGreaterThan(0);
    expect(lines[header - 1]).toMatch(/^ {2}\d+ of the functions are computed as multiples of others/);
    const rows = lines.slice(header + 1, header + 1 + F).map((l) => l.trim().split(' '));
    expect(rows).toHaveLength(F);
    // Body-major within each block, as the parameters are laid out (a term is numbered as --drop-blocks BLOCK.TERM names it).
    const expected = [
      [1, 1, 1, 0], [1, 2, 1, 0], [1, 3, 1, 0],
      [2, 1, 1, 1], [2, 2, 1, 1], [2, 1, 2, 1], [2, 2, 2, 1],
      [3, 1, 1, 1], [3, 2, 1, 1], [3, 1, 2, 1], [3, 2, 2, 1], [3, 1, 3, 2], [3, 2, 3, 2],
    ];
    rows.forEach((r, f) => {
      expect(Number(r[0])).toBe(f);
      expect(r.slice(1, 5).map(Number)).toEqual(expected[f]);
      const centres = r[5].split('/').map(Number), width = Number(r[6]);
      expect(centres).toHaveLength(ns);
      const th = model.theta;
      centres.forEach((c, t) => expect(c).toBeCloseTo(th[model.offCentres + t * F + f], 4));
      expect(width).toBeCloseTo(th[model.offWidths + f], 4);
      expect(Number(r[7])).toBeCloseTo(Math.max(...centres) + width, 3);
    });
    expect(lines[header + 1 + F].startsWith('{')).toBe(true);
  });

  it('reports the shipped ACE model of Mo with its fit report', async () => {
    const file = resolve(import.meta.dirname, '../models/trace/Mo.msgpack');
    const { code, lines } = await infoCli([file, '--functions']);
    expect(code).toBe(0);
    const [info] = lastJson(lines).info;
    // The documented shape (docs/ml-potentials.md): order 3, 324 functions, degree bounds 20/16/10, w_L 1, 5.5 Å.
    expect(info).toMatchObject({ kind: 'trace', elements: ['Mo'], cutoff: 5.5, parameters: 324 });
    expect(info.shape).toMatchObject({ order: 3, functions: 324, maxDegree: [20, 16, 10], wL: 1, channels: { kind: 'full' }, radial: { kind: 'chebexpcos', n: 20 } });
    expect(info.meta.test.frames).toBe(23);
    expect(lines.join('\n')).toContain('an ACE model has none');
  });

  it('gives an ACE model with a pair term the longer of its two ranges, and its channel construction', async () => {
    // Basis to 4.2 Å, pair term to 4.8 Å: MD's cutoff is 4.8 (TracePotential takes the larger).
    const spec: BasisSpec = { elements: ['Ti', 'Al'], radial: { kind: 'chebexpcos', n: 4, cutoff: 4.2 }, order: 2, maxDegree: [4, 5], channels: { kind: 'species', K: 3, seed: 2 } };
    const basis = new AceBasis(spec);
    const file = join(dir, 'TiAl.msgpack');
    saveTrace(file, {
      basis: spec, nFunctions: basis.nFunctions, coefficients: Array.from({ length: 2 * basis.nFunctions }, (_, k) => 0.01 * k), e0: [-1.5, -2.5],
      pair: { radial: { kind: 'poly', n: 4, cutoff: 4.8 }, coefficients: Array.from({ length: 12 }, () => 0.1) },
    });
    const { code, lines } = await infoCli([file]);
    expect(code).toBe(0);
    const [info] = lastJson(lines).info;
    expect(info).toMatchObject({ kind: 'trace', cutoff: 4.8, parameters: 2 * basis.nFunctions + 12, e0: { Ti: -1.5, Al: -2.5 } });
    expect(info.shape).toMatchObject({ order: 2, wL: 1.5, channels: { kind: 'species', K: 3, seed: 2 }, pair: { radial: { cutoff: 4.8 } } });
    expect(lines.join('\n')).toContain('channels species, K 3, seed 2');
  });

  it('says an ensemble is the mean of its members', async () => {
    const file = join(dir, 'ensemble.msgpack');
    const twin = model.clone();
    twin.theta[twin.offMlp[0]] += 0.1;
    saveModel(file, averageModels([model, twin], ['a', 'b']), { ensemble: [{ file: 'a.msgpack', meta }, { file: 'b.msgpack', meta }] });
    const { code, lines } = await infoCli([file]);
    expect(code).toBe(0);
    const [info] = lastJson(lines).info;
    expect(info.shape).toMatchObject({ hidden: [12, 8], ensembleMembers: 2 });
    expect(lines.join('\n')).toContain(`${D} → 12 → 8 → 1, tanh: the mean of 2 members' networks`);
  });

  it('reports several files in one JSON line, in order', async () => {
    const file = resolve(import.meta.dirname, '../models/latte/Si.msgpack');
    const { code, lines } = await infoCli([file, latteFile]);
    expect(code).toBe(0);
    const infos = lastJson(lines).info;
    expect(infos.map((i) => i.file)).toEqual([file, latteFile]);
    // The shipped Si: descriptor and MLP as documented (D=39, F=74, 48-24, 3343 parameters).
    expect(infos[0]).toMatchObject({ parameters: 3343, shape: { descriptors: 39, radialFunctions: 74, hidden: [48, 24] } });
  });

  it('finds a shipped model by its path in the package from any working directory', () => {
    const bin = resolve(import.meta.dirname, '../bin/tensormd.mjs');
    const out = execFileSync(process.execPath, [bin, 'info', 'models/latte/Si.msgpack'], { cwd: dir, encoding: 'utf8' });
    const [info] = lastJson(out.trim().split('\n')).info;
    expect(info).toMatchObject({ file: 'models/latte/Si.msgpack', kind: 'latte', parameters: 3343 });
  });

  it('names the file and the problem for files that are not LATTE or ACE models', async () => {
    const missing = join(dir, 'missing.msgpack');
    let r = await infoCli([missing]);
    expect(r.code).toBe(1);
    expect(r.errors).toContain('missing.msgpack');

    const noKind = join(dir, 'nokind.msgpack');
    writeFileSync(noKind, pack({ format: 'something' }));
    r = await infoCli([noKind]);
    expect(r.code).toBe(1);
    expect(r.errors).toMatch(/nokind\.msgpack.*does not name its kind/);

    const otherKind = join(dir, 'eam.msgpack');
    writeFileSync(otherKind, pack({ kind: 'eam' }));
    r = await infoCli([otherKind]);
    expect(r.code).toBe(1);
    expect(r.errors).toMatch(/eam\.msgpack.*kind 'eam'.*LATTE.*ACE/);

    const truncated = join(dir, 'truncated.msgpack');
    writeFileSync(truncated, pack({ kind: 'latte', format: 'tensormd-latte', version: 1, config, theta: new Uint8Array(16) }));
    r = await infoCli([truncated]);
    expect(r.code).toBe(1);
    expect(r.errors).toContain('truncated.msgpack');

    r = await infoCli([]);
    expect(r.code).toBe(2);
    r = await infoCli([latteFile, '--functions=yes']);
    expect(r.code).toBe(1);
    expect(r.errors).toContain("--functions is a flag (no value), got '--functions=yes'");
    r = await infoCli([latteFile, '--funtions']);
    expect(r.code).toBe(1);
    expect(r.errors).toContain('--funtions');
  });
});
