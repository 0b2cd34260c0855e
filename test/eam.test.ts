/**
 * EAM without an external oracle: forces and stress against central finite
 * differences of the energy, spec round trips through the registry, and clear errors
 * for malformed or truncated files and for elements a potential does not cover.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cell } from '../src/cell.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';
import { createPotential } from '../potentials/registry.ts';
import { LAMMPS_POTENTIALS_DIR } from '../potentials/files.ts';
import { readFs, readFuncfl, readSetfl } from '../potentials/eam/files.ts';
import '../potentials/eam/eam.ts';
import type { Potential, PotentialSpec } from '../potentials/potential.ts';

/** Random positions (minimum image distance ≥ dmin) with mixed species. */
function randomSystem(cell: Cell, n: number, dmin: number, elements: string[], rng: Rng): System {
  const x = new Float64Array(3 * n);
  const d = new Float64Array(3), s = new Float64Array(3);
  let placed = 0;
  while (placed < n) {
    s[0] = rng.uniform(); s[1] = rng.uniform(); s[2] = rng.uniform();
    const r = cell.toCartesian(s);
    let ok = true;
    for (let j = 0; j < placed && ok; j++) {
      d[0] = r[0] - x[3 * j]; d[1] = r[1] - x[3 * j + 1]; d[2] = r[2] - x[3 * j + 2];
      if (cell.minimumImage(d) < dmin * dmin) ok = false;
    }
    if (ok) x.set(r, 3 * placed++);
  }
  const symbols = Array.from({ length: n }, (_, i) => elements[i % elements.length]);
  return new System({ symbols, positions: x, cell });
}

function energyOf(ev: ForceEvaluator, system: System): number {
  return ev.evaluate(system).energy;
}

/** Forces vs −∂E/∂x and virial vs −∂E/∂ε by central differences; returns relative errors. */
function finiteDifferenceErrors(potential: Potential, system: System, h: number, eps: number) {
  const ev = new ForceEvaluator(potential, { skin: 1 });
  const res = ev.evaluate(system);
  const forces = Float64Array.from(system.forces);
  const virial = Float64Array.from(res.virial);
  const x = system.positions;
  let fmax = 0, df = 0;
  for (let k = 0; k < x.length; k++) {
    const x0 = x[k];
    x[k] = x0 + h;
    const ep = energyOf(ev, system);
    x[k] = x0 - h;
    const em = energyOf(ev, system);
    x[k] = x0;
    const fd = -(ep - em) / (2 * h);
    fmax = Math.max(fmax, Math.abs(forces[k]));
    df = Math.max(df, Math.abs(fd - forces[k]));
  }
  // Homogeneous strain x → x(I+ε) (row vectors) of atoms and cell: dE/dε_ab = −W_ab.
  const h0 = Float64Array.from(system.cell.matrix), x0 = Float64Array.from(x);
  const voigt = [[0, 0], [1, 1], [2, 2], [1, 2], [0, 2], [0, 1]];
  const strained = (a: number, b: number, e: number): number => {
    const m = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    m[3 * a + b] += a === b ? e : e / 2;
    if (a !== b) m[3 * b + a] += e / 2;
    const apply = (src: Float64Array, dst: Float64Array) => {
      for (let i = 0; i < src.length; i += 3) {
        for (let c = 0; c < 3; c++) dst[i + c] = src[i] * m[c] + src[i + 1] * m[3 + c] + src[i + 2] * m[6 + c];
      }
    };
    const hc = new Float64Array(9);
    apply(h0, hc);
    system.cell = new Cell(hc, system.cell.pbc);
    apply(x0, x);
    const e0 = energyOf(ev, system);
    return e0;
  };
  let wmax = 0, dw = 0;
  for (const [v, [a, b]] of voigt.entries()) {
    const fd = -(strained(a, b, eps) - strained(a, b, -eps)) / (2 * eps);
    wmax = Math.max(wmax, Math.abs(virial[v]));
    dw = Math.max(dw, Math.abs(fd - virial[v]));
  }
  system.cell = new Cell(h0, system.cell.pbc);
  x.set(x0);
  expect(fmax).toBeGreaterThan(0.1);
  expect(wmax).toBeGreaterThan(0.1);
  return { forces: df / fmax, virial: dw / wmax };
}

describe('EAM against finite differences', () => {
  const cases: [string, PotentialSpec, string[]][] = [
    ['eam Cu_u3 + Ni_u3', { kind: 'eam', files: { Cu: 'Cu_u3.eam', Ni: 'Ni_u3.eam' } }, ['Cu', 'Ni']],
    ['eam/alloy CuTa', { kind: 'eam/alloy', file: 'CuTa.eam.alloy' }, ['Cu', 'Ta']],
    ['eam/fs CuZr_mm', { kind: 'eam/fs', file: 'CuZr_mm.eam.fs' }, ['Zr', 'Cu']],
    // Asymmetric cross densities: catches a mix-up of ρ_{i→j} and ρ_{j→i}.
    ['eam/fs NiAlH_jea', { kind: 'eam/fs', file: 'NiAlH_jea.eam.fs' }, ['Al', 'H', 'Ni']],
  ];
  for (const [name, spec, elements] of cases) {
    it(`${name}: forces and virial (triclinic cell, mixed species)`, () => {
      const cell = Cell.lammps(10.5, 10, 9.8, 2.5, -1.8, 1.5);
      const system = randomSystem(cell, 40, 2.2, elements, new Rng(17));
      const errors = finiteDifferenceErrors(createPotential(spec), system, 1e-5, 1e-6);
      expect(errors.forces, `${name} forces`).toBeLessThan(1e-6);
      expect(errors.virial, `${name} virial`).toBeLessThan(1e-6);
    });
  }
});

describe('EAM specs and registry', () => {
  it('funcfl files as a list take elements from their atomic numbers; spec() rebuilds the same potential', () => {
    const system = randomSystem(Cell.orthorhombic(11, 11, 11), 60, 2.2, ['Ni', 'Cu'], new Rng(3));
    const byMap = createPotential({ kind: 'eam', files: { Cu: 'Cu_u3.eam', Ni: 'Ni_u3.eam' } });
    const byList = createPotential({ kind: 'eam', files: ['Ni_u3.eam', 'Cu_u3.eam'] });
    expect(byList.elements).toEqual(['Ni', 'Cu']);
    const e1 = new ForceEvaluator(byMap).evaluate(system).energy;
    const f1 = Float64Array.from(system.forces);
    const e2 = new ForceEvaluator(byList).evaluate(system).energy;
    expect(Math.abs(e2 - e1)).toBeLessThan(1e-12 * Math.abs(e1));
    for (let k = 0; k < f1.length; k++) expect(Math.abs(system.forces[k] - f1[k])).toBeLessThan(1e-12);
    const rebuilt = createPotential(JSON.parse(JSON.stringify(byMap.spec())) as PotentialSpec);
    expect(new ForceEvaluator(rebuilt).evaluate(system).energy).toBe(e1);
  });

  it('eam/alloy covers the file elements by default, a chosen subset on request', () => {
    const all = createPotential({ kind: 'eam/alloy', file: 'AlCu.eam.alloy' });
    expect(all.elements).toEqual(['Al', 'Cu']);
    expect(all.cutoff).toBe(6.6825);
    const cuOnly = createPotential({ kind: 'eam/alloy', file: 'AlCu.eam.alloy', elements: ['Cu'] });
    expect(() => cuOnly.bind(['Cu', 'Al'])).toThrow(/does not cover element Al/);
    // A Cu-only system gives the same energy through either.
    const system = randomSystem(Cell.orthorhombic(11, 11, 11), 50, 2.2, ['Cu'], new Rng(4));
    expect(new ForceEvaluator(cuOnly).evaluate(system).energy).toBe(new ForceEvaluator(all).evaluate(system).energy);
  });
});

describe('EAM input errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tensormd-eam-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const original = (name: string) => readFileSync(join(LAMMPS_POTENTIALS_DIR, name), 'utf8').split('\n');
  const write = (name: string, lines: string[]) => {
    const path = join(dir, name);
    writeFileSync(path, lines.join('\n'));
    return path;
  };

  it('truncated funcfl file: error names the file and what is missing', () => {
    // Cu_u3.eam: 3 header lines, F(rho) 500 values 5 per line (lines 4–103), then Z(r).
    const path = write('Cu_trunc.eam', original('Cu_u3.eam').slice(0, 150));
    expect(() => readFuncfl(path)).toThrow(/Cu_trunc\.eam:150: unexpected end of file, expected Z\(r\) \[236 of 500\]/);
    expect(() => createPotential({ kind: 'eam', files: { Cu: path } })).toThrow(/Cu_trunc\.eam:150/);
  });

  it('malformed number in a table: error names file and line', () => {
    const lines = original('Cu_u3.eam');
    const cols = lines[9].trim().split(/\s+/);
    cols[2] = '1.0x';
    lines[9] = cols.join(' ');
    const path = write('Cu_bad.eam', lines);
    expect(() => readFuncfl(path)).toThrow(/Cu_bad\.eam:10: expected F\(rho\) \[33 of 500\] \(a number\), found '1\.0x'/);
  });

  it('bad grid header: non-integer Nr, and a too short table', () => {
    const lines = original('Cu_u3.eam');
    lines[2] = '  500  5.0100200400801306e-04  500.5  1.0000000000000009e-02  4.9499999999999886e+00';
    expect(() => readFuncfl(write('Cu_hdr.eam', lines))).toThrow(/Cu_hdr\.eam:3: expected Nr \(an integer\), found 500\.5/);
    lines[2] = '  3  5.0e-04  500  1.0e-02  4.95';
    expect(() => readFuncfl(write('Cu_short.eam', lines))).toThrow(/Cu_short\.eam:3: Nrho must be at least 5/);
  });

  it('setfl element line that does not match its count; truncated fs file', () => {
    const lines = original('AlCu.eam.alloy');
    lines[3] = '2 Al';
    expect(() => readSetfl(write('bad.eam.alloy', lines))).toThrow(/bad\.eam\.alloy:4: element line declares 2 element\(s\) but names 1/);
    const fs = original('CuZr_mm.eam.fs');
    const path = write('CuZr_trunc.eam.fs', fs.slice(0, Math.floor(fs.length * 0.6)));
    expect(() => readFs(path)).toThrow(/CuZr_trunc\.eam\.fs:\d+: unexpected end of file, expected (rho|r\*phi)\(r\)/);
  });

  it('missing file and uncovered elements are named before any step', () => {
    expect(() => createPotential({ kind: 'eam/alloy', file: 'NoSuch.eam.alloy' })).toThrow(/NoSuch\.eam\.alloy' not found/);
    expect(() => createPotential({ kind: 'eam/fs', file: 'CuZr_mm.eam.fs', elements: ['Cu', 'Xe'] })).toThrow(/does not cover element Xe/);
    const pot = createPotential({ kind: 'eam/alloy', file: 'AlCu.eam.alloy' });
    const system = randomSystem(Cell.orthorhombic(10, 10, 10), 10, 2.2, ['Cu', 'Ta'], new Rng(5));
    const ev = new ForceEvaluator(pot);
    expect(() => ev.bind(system)).toThrow(/does not cover element Ta/);
    expect(() => createPotential({ kind: 'eam', files: { Cu: 'Cu_u3.eam' } }).bind(['Cu', 'Ni'])).toThrow(/element Ni/);
    expect(() => createPotential({ kind: 'eam' })).toThrow(/needs 'files'/);
  });
});
