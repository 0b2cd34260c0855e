import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cell } from '../src/cell.ts';
import {
  ExtxyzError,
  ExtxyzWriter,
  formatExtxyz,
  frameEnergy,
  frameForces,
  frameToSystem,
  frameVirial,
  parseExtxyz,
  readExtxyz,
  systemToFrame,
  writeExtxyz,
  type Frame,
} from '../src/io/extxyz.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';
import { MVV_TO_EV } from '../src/units.ts';
import { aseReadFull, aseSummaries, aseWriteFrames, checksum, runAsePython, type AseFrameSummary } from './oracles/ase.ts';
import { hasAse } from './oracles/available.ts';
import { DATASETS } from './oracles/datasets.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'extxyz');

function datasetFiles(): string[] {
  const out: string[] = [];
  for (const d of readdirSync(DATASETS, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    for (const f of readdirSync(join(DATASETS, d.name))) if (f.endsWith('.xyz')) out.push(join(DATASETS, d.name, f));
  }
  return out.sort();
}

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tensormd-extxyz-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!hasAse())('datasets read as ASE reads them', () => {
  const files = datasetFiles();
  let ase: Record<string, AseFrameSummary[]> = {};
  const ours: Record<string, Frame[]> = {};
  beforeAll(() => {
    ase = aseSummaries(files, { full: 2 });
    for (const f of files) ours[f] = readExtxyz(f);
  });

  it('finds the datasets', () => {
    expect(files.length).toBeGreaterThanOrEqual(13);
  });

  for (const file of files) {
    it(file.slice(DATASETS.length + 1), () => {
      const a = ase[file];
      const t = ours[file];
      expect(t.length).toBe(a.length);
      // one expect per file: collect mismatches (vitest's expect is slow per call)
      const bad: string[] = [];
      const same = (what: string, k: number, x: unknown, y: unknown): void => {
        if (bad.length < 10 && JSON.stringify(x) !== JSON.stringify(y)) bad.push(`frame ${k} ${what}: ours ${JSON.stringify(x)?.slice(0, 200)}, ASE ${JSON.stringify(y)?.slice(0, 200)}`);
      };
      for (let k = 0; k < a.length; k++) {
        const f = t[k], s = a[k];
        same('natoms', k, f.symbols.length, s.natoms);
        same('symbols', k, f.symbols, s.symbols);
        same('cell', k, Array.from(f.cell), s.cell);
        same('pbc', k, f.pbc, s.pbc);
        same('energy', k, frameEnergy(f) ?? null, s.energy);
        // parsing is correctly rounded on both sides, so equality is exact
        same('positions checksum', k, checksum(f.positions), s.positions.checksum);
        same('first position', k, Array.from(f.positions.subarray(0, 3)), s.positions.first);
        same('last position', k, Array.from(f.positions.subarray(f.positions.length - 3)), s.positions.last);
        const forces = frameForces(f);
        same('has forces', k, forces !== undefined, s.forces !== null);
        if (forces !== undefined && s.forces !== null) {
          same('forces column', k, f.arrays[s.forcesName as string] !== undefined, true);
          same('forces checksum', k, checksum(forces), s.forces.checksum);
          same('first force', k, Array.from(forces.subarray(0, 3)), s.forces.first);
          same('last force', k, Array.from(forces.subarray(forces.length - 3)), s.forces.last);
        }
        const vir = frameVirial(f);
        same('virial', k, vir ? Array.from(vir) : null, s.virial);
        // ASE renames Z → numbers and always has numbers and positions
        const names = new Set([...Object.keys(f.arrays).map((n) => (n === 'Z' ? 'numbers' : n)), 'numbers', 'positions']);
        same('array names', k, [...names].sort(), s.arrayNames);
        same('info keys', k, Object.keys(f.info).sort(), s.infoKeys);
        if (s.full) {
          same('all positions', k, Array.from(f.positions), s.full.positions);
          same('all forces', k, forces ? Array.from(forces) : null, s.full.forces);
        }
      }
      expect(bad).toEqual([]);
    });
  }

  it('reads the non-periodic ethanol frames with their lattice kept and pbc false', () => {
    const f = ours[join(DATASETS, 'ethanol', 'train.xyz')][0];
    expect(f.pbc).toEqual([false, false, false]);
    expect(Array.from(f.cell)).toEqual([50, 0, 0, 0, 50, 0, 0, 0, 50]);
    const s = frameToSystem(f);
    expect(s.cell.pbc).toEqual([false, false, false]);
    expect(s.elements).toEqual(['C', 'O', 'H']);
  });
});

/** A two-frame set exercising every feature the writer supports. */
function richFrames(): Frame[] {
  const rng = new Rng(7);
  const n = 5;
  const symbols = ['Si', 'O', 'O', 'Ti', 'H'];
  const positions = new Float64Array(3 * n).map(() => rng.uniform() * 7 - 1);
  const forces = new Float64Array(3 * n).map(() => rng.normal() * 1e-3);
  const cell = Float64Array.from([5.5, 0, 0, 1.25, 6.125, 0, -0.7, 0.3, 7.2 + 1e-13]);
  const f0: Frame = {
    symbols,
    positions,
    cell,
    pbc: [true, false, true],
    info: {
      energy: -123.45678901234567,
      stress: [0.01, 0.002, -0.003, 0.002, 0.02, 0.004, -0.003, 0.004, 0.03],
      comment: 'he said "hi" to {me} = [you] \\ done',
      step: 42,
      temperature: 300.5,
      converged: true,
      weights: [1.5, 2, 3e-20],
      flags: [true, false, true],
      labels: ['a b', 'c'],
      tag: 'plain',
    },
    arrays: {
      forces: { type: 'R', columns: 3, data: forces },
      tags: { type: 'I', columns: 1, data: Int32Array.from([0, -1, 2, 3, 2147483647]) },
      kind: { type: 'S', columns: 1, data: ['core', 'shell', 'x', 'y', 'z'] },
      fixed: { type: 'L', columns: 1, data: [true, false, false, true, false] },
      pair: { type: 'I', columns: 2, data: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) },
    },
  };
  const f1: Frame = {
    symbols: ['Cu', 'Cu', 'Au'],
    positions: Float64Array.from([0, 0, 0, 1.8, 1.8, 0, 0.1 + 0.2, 1e-300, -5e-324]),
    cell: new Float64Array(9),
    pbc: [false, false, false],
    info: { energy: 1e21 },
    arrays: { forces: { type: 'R', columns: 3, data: Float64Array.from([1, 2, 3, -1, -2, -3, 1 / 3, 2 / 3, Math.PI]) } },
  };
  return [f0, f1];
}

describe('writing and reading back', () => {
  it('round-trips every number bit for bit', () => {
    const rng = new Rng(11);
    const n = 400;
    const pos = new Float64Array(3 * n).map((_, k) => {
      const e = Math.floor(rng.uniform() * 40) - 20;
      const v = (rng.uniform() - 0.5) * 10 ** e;
      return k === 0 ? Number.MIN_VALUE : k === 1 ? Number.MAX_VALUE : k === 2 ? 0.1 + 0.2 : v;
    });
    const frame: Frame = { symbols: new Array(n).fill('C'), positions: pos, cell: new Float64Array(9), pbc: [false, false, false], info: {}, arrays: {} };
    const back = parseExtxyz(formatExtxyz([frame]))[0];
    expect(back.positions).toEqual(pos);
  });

  it('parses decimal text exactly as Number() does (correct rounding)', () => {
    const rng = new Rng(3);
    const tokens: string[] = [];
    for (let k = 0; k < 3000; k++) {
      const digits = 1 + Math.floor(rng.uniform() * 19);
      let s = '';
      for (let d = 0; d < digits; d++) s += Math.floor(rng.uniform() * 10);
      const dot = Math.floor(rng.uniform() * (digits + 1));
      s = s.slice(0, dot) + '.' + s.slice(dot);
      if (s === '.') s = '0.';
      const r = rng.uniform();
      if (r < 0.3) s += 'e' + (Math.floor(rng.uniform() * 60) - 30);
      else if (r < 0.4) s += 'E+' + Math.floor(rng.uniform() * 25);
      if (rng.uniform() < 0.5) s = '-' + s;
      tokens.push(s);
    }
    const text = `${tokens.length / 3}\n\n` + Array.from({ length: tokens.length / 3 }, (_, i) => `H ${tokens[3 * i]} ${tokens[3 * i + 1]} ${tokens[3 * i + 2]}`).join('\n');
    const got = parseExtxyz(text)[0].positions;
    for (let k = 0; k < tokens.length; k++) {
      if (!Object.is(got[k], Number(tokens[k]))) expect(`${tokens[k]} → ${got[k]}`).toBe(`${tokens[k]} → ${Number(tokens[k])}`);
    }
  });

  it('reads back what it writes', () => {
    const frames = richFrames();
    const back = parseExtxyz(formatExtxyz(frames));
    expect(back).toEqual(frames);
  });

  it('reads CRLF files with trailing blank lines, and pbc from the header', () => {
    const f = readExtxyz(join(FIXTURES, 'crlf_trailing_blank.xyz'));
    expect(f.length).toBe(2);
    expect(f[0].pbc).toEqual([true, false, true]);
    expect(Array.from(frameForces(f[0]) as Float64Array)).toEqual([1, 2, 3]);
    expect(frameEnergy(f[0])).toBe(-2.5);
    expect(Array.from(f[1].cell)).toEqual(new Array(9).fill(0));
    expect(f[1].pbc).toEqual([false, false, false]);
  });

  it('selects frames by index as ASE does', () => {
    const path = join(tmp, 'index.xyz');
    writeExtxyz(path, richFrames());
    expect(readExtxyz(path, { index: 0 })[0].symbols).toEqual(['Si', 'O', 'O', 'Ti', 'H']);
    expect(readExtxyz(path, { index: -1 })[0].symbols).toEqual(['Cu', 'Cu', 'Au']);
    expect(readExtxyz(path, { index: ':' }).length).toBe(2);
    expect(() => readExtxyz(path, { index: 2 })).toThrow(/2 frame\(s\), index 2/);
  });

  it('header keys follow ASE rules: key alone is true, T/F/True/False, quotes, braces, brackets', () => {
    const text =
      '1\n' +
      'Properties=species:S:1:pos:R:3 flag a=True b=False c="T F T" d={1 2 3} e=[1.5, 2] s="x \\" y" w=\'single quoted\' n=7 x=-2.5e-3 pbc=[T, F, T]\n' +
      'H 0 0 0\n';
    const f = parseExtxyz(text)[0];
    expect(f.info).toEqual({ flag: true, a: true, b: false, c: [true, false, true], d: [1, 2, 3], e: [1.5, 2], s: 'x " y', w: 'single quoted', n: 7, x: -2.5e-3 });
    expect(f.pbc).toEqual([true, false, true]);
  });

  it('writes a trajectory frame by frame, each visible on disk at once, and appends', () => {
    const path = join(tmp, 'traj.xyz');
    const frames = richFrames();
    const w = new ExtxyzWriter(path);
    w.write(frames[0]);
    expect(readExtxyz(path).length).toBe(1);
    w.write(frames[1]);
    expect(readExtxyz(path)).toEqual(frames);
    w.close();
    expect(() => w.write(frames[0])).toThrow(/closed/);
    const w2 = new ExtxyzWriter(path, { append: true });
    w2.write(frames[1]);
    w2.close();
    expect(readExtxyz(path)).toEqual([...frames, frames[1]]);
    writeExtxyz(path, [frames[0]], { append: true });
    expect(readExtxyz(path).length).toBe(4);
    writeExtxyz(path, [frames[1]]);
    expect(readExtxyz(path)).toEqual([frames[1]]);
  });

  it('refuses to write what cannot be read back', () => {
    const f = richFrames()[1];
    expect(() => formatExtxyz([{ ...f, symbols: ['Cu', 'Cu'] }])).toThrow(/frame 0: 2 symbols but positions has length 9/);
    expect(() => formatExtxyz([{ ...f, arrays: { q: { type: 'S', columns: 1, data: ['a', 'b c', 'd'] } } }])).toThrow(/'q' atom 1 is 'b c'/);
    expect(() => formatExtxyz([{ ...f, arrays: { q: { type: 'R', columns: 2, data: new Float64Array(3) } } }])).toThrow(/'q' has 3 values, expected 3×2/);
    expect(() => formatExtxyz([f, { ...f, info: { 'bad key': 1 } }])).toThrow(/frame 1: header key "bad key"/);
  });
});

describe('frames and systems', () => {
  it('virial from stress is −stress·V (Voigt and 3×3), and from virial= transposed from Fortran order', () => {
    const base: Frame = { symbols: ['H'], positions: new Float64Array(3), cell: Float64Array.from([2, 0, 0, 0, 2, 0, 0, 0, 2]), pbc: [true, true, true], info: {}, arrays: {} };
    // V = 8; Voigt xx yy zz yz xz xy = 1..6
    const w = frameVirial({ ...base, info: { stress: [1, 2, 3, 4, 5, 6] } });
    expect(Array.from(w as Float64Array)).toEqual([-8, -48, -40, -48, -16, -32, -40, -32, -24]);
    const w9 = frameVirial({ ...base, info: { stress: [1, 6, 5, 6, 2, 4, 5, 4, 3] } });
    expect(Array.from(w9 as Float64Array)).toEqual([-8, -48, -40, -48, -16, -32, -40, -32, -24]);
    const wv = frameVirial({ ...base, info: { virial: [1, 2, 3, 4, 5, 6, 7, 8, 9] } });
    expect(Array.from(wv as Float64Array)).toEqual([1, 4, 7, 2, 5, 8, 3, 6, 9]);
    expect(frameVirial(base)).toBeUndefined();
  });

  it('systemToFrame → frameToSystem keeps positions, cell, velocities, masses, clock', () => {
    const s = new System({
      symbols: ['Ar', 'Kr', 'Ar'],
      positions: [0.1, 0.2, 0.3, 1.5, 1.6, 1.7, 3, 2, 1],
      cell: Cell.lammps(6, 7, 8, 0.5, -0.25, 0.125, [true, true, false]),
      masses: { Ar: 40 },
    });
    s.setTemperature(300, new Rng(5));
    s.time = 12.5;
    s.step = 25;
    s.forces.set([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const frame = systemToFrame(s, { energy: -1.25, forces: true, stress: Float64Array.from([1, 2, 3, 4, 5, 6]), info: { note: 'x' } });
    expect(frame.info.stress).toEqual([1, 6, 5, 6, 2, 4, 5, 4, 3]);
    const back = frameToSystem(parseExtxyz(formatExtxyz([frame]))[0]);
    expect(back.symbols).toEqual(s.symbols);
    expect(back.positions).toEqual(s.positions);
    expect(back.cell.matrix).toEqual(s.cell.matrix);
    expect(back.cell.pbc).toEqual([true, true, false]);
    expect(Array.from(back.masses)).toEqual([40, 83.798, 40]);
    for (let k = 0; k < 9; k++) expect(back.velocities[k]).toBeCloseTo(s.velocities[k], 14);
    expect(back.time).toBe(12.5);
    expect(back.step).toBe(25);
  });

  it('frameToSystem reads the zuo2020 Z/masses/momenta columns', () => {
    const f = readExtxyz(join(DATASETS, 'zuo2020', 'Mo_test.xyz'), { index: 0 })[0];
    const s = frameToSystem(f);
    expect(s.n).toBe(53);
    expect(s.masses[0]).toBe(95.95);
    expect(s.kineticEnergy()).toBe(0);
  });
});

describe('malformed input names file, frame and line', () => {
  const cases: [string, number, number, number, RegExp][] = [
    // file, frame, frame's first line, bad line, message
    ['truncated.xyz', 1, 5, 8, /file ends after 1 of 2 atom lines/],
    ['wrong_count.xyz', 1, 5, 9, /found '2', which looks like the atom count of a next frame, after 2 of the 3 atom lines this frame's count \(line 5\) announces/],
    ['missing_column.xyz', 0, 1, 4, /missing columns: found 6.*needs 7 \(no 'forces\[2\]'\)/],
    ['bad_number.xyz', 1, 4, 7, /column 3 \('pos\[1\]'\) is not a number: '1\.5\.2'/],
    ['bad_lattice.xyz', 0, 1, 2, /malformed Lattice '5 0 0 0 5 0 0 0': expected 9 numbers/],
    ['bad_properties.xyz', 0, 1, 2, /Properties 'species:S:1:pos:R:3:forces:R' must be name:type:columns triplets/],
    ['unknown_element.xyz', 0, 1, 4, /unknown element symbol 'Qx'/],
    ['extra_column.xyz', 1, 4, 6, /1 column\(s\) more than the 4 Properties/],
  ];
  for (const [name, frame, frameLine, line, msg] of cases) {
    it(name, () => {
      const path = join(FIXTURES, name);
      let err: unknown;
      try {
        readExtxyz(path);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ExtxyzError);
      const x = err as ExtxyzError;
      expect(x.file).toBe(path);
      expect([x.frame, x.frameLine, x.line]).toEqual([frame, frameLine, line]);
      expect(x.message).toMatch(msg);
      expect(x.message.startsWith(`${path}: frame ${frame} (starting at line ${frameLine}), line ${line}: `)).toBe(true);
    });
  }

  const inline: [string, string, RegExp][] = [
    ['too few columns', '1\n\nH\n', /line 3: missing columns: found 1, Properties 'species:S:1:pos:R:3' needs 4 \(no 'pos\[0\]'\)/],
    ['count', '2 atoms\n\nH 0 0 0\n', /line 1: expected the number of atoms, got '2 atoms'/],
    ['integer column', '1\nProperties=species:S:1:pos:R:3:t:I:1\nH 0 0 0 1.5\n', /line 3: column 5 \('t'\) is not an integer: '1\.5'/],
    ['logical column', '1\nProperties=species:S:1:pos:R:3:m:L:1\nH 0 0 0 yes\n', /line 3: column 5 \('m'\) is not a logical/],
    ['property type', '1\nProperties=species:S:1:pos:X:3\nH 0 0 0\n', /line 2: .*type of 'pos' is 'X'/],
    ['no pos', '1\nProperties=species:S:1:r:R:3\nH 0 0 0\n', /has no pos:R:3 column/],
    ['pbc', '1\npbc="T F"\nH 0 0 0\n', /line 2: malformed pbc 'T F'/],
    ['lattice text', '1\nLattice="a b c d e f g h i"\nH 0 0 0\n', /malformed Lattice/],
    ['quote', '1\nname="open\nH 0 0 0\n', /line 2: unterminated quoted value/],
    ['data after blank', '1\n\nH 0 0 0\n\n1\n\nH 0 0 0\n', /frame 1 \(starting at line 4\), line 5: data after a blank line/],
    ['no comment line', '3\n', /line 2: file ends before the comment line/],
  ];
  for (const [name, text, msg] of inline) {
    it(name, () => {
      expect(() => parseExtxyz(text, 'inline.xyz')).toThrow(ExtxyzError);
      expect(() => parseExtxyz(text, 'inline.xyz')).toThrow(msg);
    });
  }
});

describe.skipIf(!hasAse())('round trips with ASE', () => {
  it('parses comment lines as ase.io.extxyz.key_val_str_to_dict does', () => {
    const lines = [
      'a=1 b=2.5 c=hello d="two words" e="1 2 3" f="1.5 2 3" g=T h=F i="T F T" alone j={4 5 6} k=[7, 8] l=\'x y\'',
      'name="with \\"escaped\\" quotes" path=/a/b=c big=1e300 neg=-7 list="a b c" x = 3 y= 4 z =5',
      'uid=123 mixed="1 a" json="_JSON [1, 2, 3]" jsons="_JSON [\\"p\\", \\"q\\"]" spacegroup="P 1" unit_cell=conventional',
    ];
    const ase = runAsePython<Record<string, unknown>[]>(
      String.raw`
import sys, json
import numpy as np
from ase.io.extxyz import key_val_str_to_dict
def plain(v):
    if isinstance(v, np.ndarray): return v.tolist()
    if isinstance(v, np.generic): return v.item()
    return v
print(json.dumps([{k: plain(v) for k, v in key_val_str_to_dict(l).items()} for l in json.load(sys.stdin)]))
`,
      lines,
    );
    for (let k = 0; k < lines.length; k++) {
      const f = parseExtxyz(`1\n${lines[k]}\nH 0 0 0\n`)[0];
      expect(f.info, lines[k]).toEqual(ase[k]);
    }
  });

  it('a file written by tensormd reads the same in ASE', () => {
    const frames = richFrames();
    const path = join(tmp, 'ours.xyz');
    writeExtxyz(path, frames);
    const a = aseReadFull(path);
    expect(a.length).toBe(2);
    for (let k = 0; k < 2; k++) {
      const f = frames[k], s = a[k];
      expect(s.symbols).toEqual(f.symbols);
      expect(s.positions).toEqual(Array.from(f.positions));
      expect(s.cell).toEqual(Array.from(f.cell));
      expect(s.pbc).toEqual(f.pbc);
      expect(s.energy).toBe(frameEnergy(f));
      expect(s.forces).toEqual(Array.from(frameForces(f) as Float64Array));
    }
    const s0 = a[0], i0 = frames[0].info;
    // ASE holds stress as Voigt xx yy zz yz xz xy
    const st = i0.stress as number[];
    expect(s0.stress).toEqual([st[0], st[4], st[8], st[5], st[2], st[1]]);
    expect(s0.info.comment).toBe(i0.comment);
    expect(s0.info.step).toBe(42);
    expect(s0.info.temperature).toBe(300.5);
    expect(s0.info.converged).toBe(true);
    expect(s0.info.weights).toEqual(i0.weights);
    expect(s0.info.flags).toEqual(i0.flags);
    expect(s0.info.labels).toEqual(i0.labels);
    expect(s0.info.tag).toBe('plain');
    expect(s0.arrays.tags).toEqual({ kind: 'i', shape: [5], data: [0, -1, 2, 3, 2147483647] });
    expect(s0.arrays.kind.data).toEqual(['core', 'shell', 'x', 'y', 'z']);
    expect(s0.arrays.fixed).toEqual({ kind: 'b', shape: [5], data: [true, false, false, true, false] });
    expect(s0.arrays.pair).toEqual({ kind: 'i', shape: [5, 2], data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] });
  });

  it('velocities written as ASE momenta read back in ASE as the same velocities and kinetic energy', () => {
    const s = new System({ symbols: ['Ar', 'Kr', 'Ne', 'Ar'], positions: [0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2], cell: Cell.orthorhombic(9, 9, 9), masses: { Ne: 21 } });
    s.setTemperature(500, new Rng(9));
    const path = join(tmp, 'moving.xyz');
    writeExtxyz(path, [systemToFrame(s)]);
    // ASE's velocities in Å/fs (its time unit times ase.units.fs), its kinetic energy,
    // and its own value of amu·(Å/fs)² in eV (CODATA 2014 in ASE 3.22).
    const r = runAsePython<{ v: number[]; ke: number; mvv: number }>(
      String.raw`
import sys, json, ase.io, ase.units as u
a = ase.io.read(json.load(sys.stdin))
print(json.dumps({'v': (a.get_velocities() * u.fs).ravel().tolist(), 'ke': a.get_kinetic_energy(), 'mvv': u._amu * 1e10 / u._e}))
`,
      path,
    );
    let sumMv2 = 0;
    for (let k = 0; k < 3 * s.n; k++) {
      expect(Math.abs(r.v[k] - s.velocities[k])).toBeLessThan(1e-14 * Math.abs(s.velocities[k]) + 1e-300);
      sumMv2 += s.masses[Math.floor(k / 3)] * s.velocities[k] ** 2;
    }
    // ASE's ½Σmv² with its constant; ours differs from it only through LAMMPS's mvv2e (src/units.ts).
    expect(Math.abs(r.ke - 0.5 * sumMv2 * r.mvv) / r.ke).toBeLessThan(1e-14);
    expect(Math.abs(s.kineticEnergy() / r.ke - MVV_TO_EV / r.mvv)).toBeLessThan(1e-14);
  });

  it('a file written by ASE reads the same in tensormd', () => {
    const n = 4;
    const rng = new Rng(21);
    const positions = Array.from({ length: 3 * n }, () => rng.uniform() * 6);
    const forces = Array.from({ length: 3 * n }, () => rng.normal());
    const stress = [0.011, -0.022, 0.033, 0.0044, -0.0055, 0.0066];
    const path = join(tmp, 'ase.xyz');
    aseWriteFrames(path, [
      {
        symbols: ['Ga', 'As', 'Ga', 'As'],
        positions,
        cell: [5.6, 0, 0, 0.3, 5.1, 0, -0.2, 0.4, 6.3],
        pbc: [true, true, false],
        info: { config_type: 'two words here', temperature: 300.25, n_iter: 7, relaxed: false, kpts: [4, 4, 2] },
        arrays: {
          tags: { kind: 'i', shape: [n], data: [1, 2, 3, 4] },
          site: { kind: 'U', shape: [n], data: ['a1', 'b2', 'c3', 'd4'] },
          mobile: { kind: 'b', shape: [n], data: [true, false, true, true] },
          dipole: { kind: 'f', shape: [n, 2], data: [0.5, -0.5, 1.25, 2.5, 3.75, -1, 0, 1e-5] },
        },
        energy: -17.123456789012345,
        forces,
        stress,
      },
      { symbols: ['Ar'], positions: [1, 2, 3], cell: [0, 0, 0, 0, 0, 0, 0, 0, 0], pbc: [false, false, false], info: {}, arrays: {}, energy: -0.5 },
    ]);
    const ours = readExtxyz(path);
    const a = aseReadFull(path);
    expect(ours.length).toBe(2);
    for (let k = 0; k < 2; k++) {
      const f = ours[k], s = a[k];
      expect(f.symbols).toEqual(s.symbols);
      expect(Array.from(f.positions)).toEqual(s.positions);
      expect(Array.from(f.cell)).toEqual(s.cell);
      expect(f.pbc).toEqual(s.pbc);
      expect(frameEnergy(f)).toBe(s.energy);
    }
    const f = ours[0], s = a[0];
    expect(Array.from(frameForces(f) as Float64Array)).toEqual(s.forces);
    // ASE writes positions and forces with 8 decimals
    for (let k = 0; k < 3 * n; k++) {
      expect(Math.abs(f.positions[k] - positions[k])).toBeLessThanOrEqual(5e-9);
      expect(Math.abs((frameForces(f) as Float64Array)[k] - forces[k])).toBeLessThanOrEqual(5e-9);
    }
    // stress: W = −stress·V with ASE's Voigt stress
    const vol = new Cell(f.cell).volume;
    const [xx, yy, zz, yz, xz, xy] = s.stress as number[];
    expect(Array.from(frameVirial(f) as Float64Array)).toEqual([xx, xy, xz, xy, yy, yz, xz, yz, zz].map((v) => -v * vol));
    expect(s.stress).toEqual(stress);
    expect(f.info.config_type).toBe('two words here');
    expect(f.info.temperature).toBe(300.25);
    expect(f.info.n_iter).toBe(7);
    expect(f.info.relaxed).toBe(false);
    expect(f.info.kpts).toEqual([4, 4, 2]);
    expect(f.arrays.tags).toEqual({ type: 'I', columns: 1, data: Int32Array.from([1, 2, 3, 4]) });
    expect(f.arrays.site).toEqual({ type: 'S', columns: 1, data: ['a1', 'b2', 'c3', 'd4'] });
    expect(f.arrays.mobile).toEqual({ type: 'L', columns: 1, data: [true, false, true, true] });
    expect(f.arrays.dipole.type).toBe('R');
    expect(Array.from(f.arrays.dipole.data as Float64Array)).toEqual(s.arrays.dipole.data);
    expect(ours[1].info).toEqual({ energy: -0.5 });
  });
});
