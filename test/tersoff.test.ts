/**
 * Tersoff against LAMMPS's pair_style tersoff (29 Sep 2021) at round-off level,
 * and against central finite differences; file and element errors.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Cell } from '../src/cell.ts';
import { lattice, supercell } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';
import { createPotential } from '../potentials/registry.ts';
import { Tersoff } from '../potentials/tersoff.ts';
import { hasLammps } from './oracles/available.ts';
import {
  deform, evaluate, expectMatchesLammps, finiteDifferenceForceError, finiteDifferenceVirialError, perturb, randomStructure,
} from './manybody-oracle.ts';

const DIR = '/usr/share/lammps/potentials';
const SI = `${DIR}/Si.tersoff`;
const SIC = `${DIR}/SiC.tersoff`;
const GAN = `${DIR}/GaN.tersoff`;
const SI_ENTRY = 'Si Si Si 3.0 1.0 1.3258 4.8381 2.0417 0.0000 22.956\n 0.33675 1.3258 95.373 3.0 0.2 3.2394 3264.7\n';

function writeTemp(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tensormd-tersoff-')), name);
  writeFileSync(path, text);
  return path;
}

/** The installed file with the numbers of entry `names` replaced by `values` (14 numbers). */
function withEntry(path: string, names: string, values: string): string {
  const lines = readFileSync(path, 'utf8').split('\n');
  const key = names.split(' ').join('\\s+');
  const k = lines.findIndex((l) => new RegExp(`^\\s*${key}\\s`).test(l));
  if (k < 0) throw new Error(`no entry ${names}`);
  lines.splice(k, 2, `${names} ${values}`);
  return lines.join('\n');
}

function zincblende(a: number, repeat: number, first: string, second: string): System {
  const basis = [first, first, first, first, second, second, second, second];
  return lattice('diamond', { element: basis, a, repeat });
}

function wurtzite(a: number, c: number, u: number, repeat: [number, number, number]): System {
  const cell = new Cell([a, 0, 0, -a / 2, (a * Math.sqrt(3)) / 2, 0, 0, 0, c]);
  const frac = [1 / 3, 2 / 3, 0, 2 / 3, 1 / 3, 0.5, 1 / 3, 2 / 3, u, 2 / 3, 1 / 3, 0.5 + u];
  return supercell(new System({ symbols: ['Ga', 'Ga', 'N', 'N'], positions: cell.toCartesian(frac), cell }), repeat);
}

describe.skipIf(!hasLammps())('Tersoff matches LAMMPS pair_style tersoff', () => {
  const si = new Tersoff({ file: 'Si.tersoff' });
  const sic = new Tersoff({ file: 'SiC.tersoff' });

  it('Si.tersoff: perturbed diamond crystal', () => {
    const s = perturb(lattice('diamond', { element: 'Si', a: 5.432, repeat: 2 }), 0.15, new Rng(1));
    expectMatchesLammps(s, si, 'tersoff', SI);
  });

  it('Si.tersoff: liquid-like random configuration', () => {
    const s = randomStructure(Cell.orthorhombic(11, 11, 11), 66, 2.0, new Rng(2), ['Si']);
    expectMatchesLammps(s, si, 'tersoff', SI);
  });

  it('Si.tersoff: perturbed crystal in a tilted triclinic cell', () => {
    const d = lattice('diamond', { element: 'Si', a: 5.432, repeat: 2 });
    const s = perturb(deform(d, Cell.lammps(10.864, 10.5, 11.2, 2.1, -1.7, 1.3)), 0.1, new Rng(3));
    expectMatchesLammps(s, si, 'tersoff', SI);
  });

  it('Si.tersoff: small triclinic cell where atoms meet their own images', () => {
    const s = randomStructure(Cell.lammps(2.9, 5.5, 5.8, 1.2, -0.9, 0.8), 5, 2.1, new Rng(4), ['Si']);
    expectMatchesLammps(s, si, 'tersoff', SI);
  });

  it('SiC.tersoff: perturbed zincblende SiC', () => {
    const s = perturb(zincblende(4.36, 2, 'Si', 'C'), 0.1, new Rng(5));
    expectMatchesLammps(s, sic, 'tersoff', SIC);
  });

  it('SiC.tersoff: random mixed compositions, orthorhombic and triclinic', () => {
    const cRich = randomStructure(Cell.orthorhombic(9, 9, 9), 70, 1.5, new Rng(6), ['C', 'Si'], [0.7, 0.3]);
    expectMatchesLammps(cRich, sic, 'tersoff', SIC);
    const siRich = randomStructure(Cell.lammps(10, 9.5, 10.5, 1.0, -2.0, 0.5), 60, 1.9, new Rng(7), ['Si', 'C'], [0.75, 0.25]);
    expectMatchesLammps(siRich, sic, 'tersoff', SIC);
  });

  it('GaN.tersoff (m = 1): perturbed wurtzite and a random mixture', () => {
    const gan = new Tersoff({ file: 'GaN.tersoff' });
    expectMatchesLammps(perturb(wurtzite(3.189, 5.185, 0.377, [3, 3, 2]), 0.1, new Rng(8)), gan, 'tersoff', GAN);
    expectMatchesLammps(randomStructure(Cell.orthorhombic(10, 10, 10), 60, 1.6, new Rng(9), ['Ga', 'N']), gan, 'tersoff', GAN);
  });

  it('SiC_Erhart-Albe.tersoff (m = 1) on a random mixture', () => {
    const s = randomStructure(Cell.orthorhombic(10, 10, 10), 60, 1.6, new Rng(10), ['Si', 'C']);
    expectMatchesLammps(s, new Tersoff({ file: 'SiC_Erhart-Albe.tersoff' }), 'tersoff', `${DIR}/SiC_Erhart-Albe.tersoff`);
  });

  it('uses LAMMPS parameter mixing: asymmetric i-j-j / j-i-i entries and triplet-specific cutoffs', () => {
    // C Si Si given a different A, λ1 than Si C C; Si Si C a different R, D than Si C C.
    let text = withEntry(SIC, 'C Si Si', '3.0 1.0 0.0 38049 4.3484 -.57058 .72751 0.00000015724 1.97205 395.126 2.36 0.15 2.7 1400.0');
    text = withEntry(writeTemp('a.tersoff', text), 'Si Si C', '3.0 1.0 0.0 100390 16.217 -.59825 0.0 0.0 0.0 0.0 2.5 0.2 0.0 0.0');
    const file = writeTemp('SiC-mixed.tersoff', text);
    const s = randomStructure(Cell.orthorhombic(9, 9, 9), 60, 1.6, new Rng(11), ['Si', 'C']);
    expectMatchesLammps(s, new Tersoff({ file }), 'tersoff', file);
  });

  it('follows b_ij through its asymptotic branches (β scaled to reach each)', () => {
    const s = perturb(lattice('diamond', { element: 'Si', a: 5.432, repeat: 2 }), 0.2, new Rng(12));
    // With n = 22.956 the thresholds are c4 ≈ 0.237, c3 ≈ 0.530, c2 ≈ 1.89, c1 ≈ 4.21; the file's β = 0.33675 gives
    // βζ ≈ 0.92–1.6 here (general form). β = 0.05 puts βζ below c4 (b = 1), 0.1 in (c4, c3), 0.75 in (c2, c1), 2 above c1.
    for (const beta of ['0.05', '0.1', '0.75', '2.0']) {
      const file = writeTemp(`Si-beta${beta}.tersoff`, SI_ENTRY.replace(' 0.33675 ', ` ${beta} `));
      expectMatchesLammps(s, new Tersoff({ file }), 'tersoff', file);
    }
  });
});

describe('Tersoff derivatives', () => {
  it('forces equal central differences of the energy (Si, SiC, GaN)', () => {
    const si = randomStructure(Cell.lammps(8, 8.5, 7.5, 1.0, -0.5, 0.7), 26, 2.0, new Rng(13), ['Si']);
    expect(finiteDifferenceForceError(si, new Tersoff({ file: 'Si.tersoff' }))).toBeLessThan(1e-7);
    const sic = randomStructure(Cell.orthorhombic(7, 7, 7), 30, 1.6, new Rng(14), ['Si', 'C']);
    expect(finiteDifferenceForceError(sic, new Tersoff({ file: 'SiC.tersoff' }))).toBeLessThan(1e-7);
    const gan = randomStructure(Cell.orthorhombic(7.5, 7.5, 7.5), 30, 1.7, new Rng(15), ['Ga', 'N']);
    expect(finiteDifferenceForceError(gan, new Tersoff({ file: 'GaN.tersoff' }))).toBeLessThan(1e-7);
  });

  it('virial equals −dE/dstrain (Si triclinic, SiC mixture)', () => {
    const si = perturb(deform(lattice('diamond', { element: 'Si', a: 5.432, repeat: 2 }), Cell.lammps(10.864, 10.5, 11.2, 2.1, -1.7, 1.3)), 0.1, new Rng(16));
    expect(finiteDifferenceVirialError(si, new Tersoff({ file: 'Si.tersoff' }))).toBeLessThan(1e-7);
    const sic = randomStructure(Cell.lammps(8, 8, 8, 0.8, 0.4, -0.6), 40, 1.6, new Rng(17), ['Si', 'C']);
    expect(finiteDifferenceVirialError(sic, new Tersoff({ file: 'SiC.tersoff' }))).toBeLessThan(1e-7);
  });

  it('reproduces the published Si cohesive energy and per-atom energies sum to the total', () => {
    // Tersoff, PRB 38, 9902 (1988): diamond Si, a = 5.432 Å, −4.63 eV/atom.
    const ev = evaluate(lattice('diamond', { element: 'Si', a: 5.432, repeat: 2 }), new Tersoff({ file: 'Si.tersoff' }));
    expect(ev.energy / 64).toBeCloseTo(-4.63, 2);
    const sum = ev.atomEnergies!.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - ev.energy)).toBeLessThan(1e-12 * Math.abs(ev.energy));
  });
});

describe('Tersoff input errors', () => {
  it('builds from a registry spec and round-trips it', () => {
    const pot = createPotential({ kind: 'tersoff', file: 'SiC.tersoff', elements: ['Si', 'C'] });
    expect(pot.kind).toBe('tersoff');
    expect(pot.cutoff).toBeCloseTo(3.0, 14); // Si-Si: R + D = 2.85 + 0.15
    expect(pot.spec()).toEqual({ kind: 'tersoff', file: SIC, elements: ['Si', 'C'] });
    expect(createPotential(pot.spec()).cutoff).toBe(pot.cutoff);
  });

  it('names file, line and field of a malformed or truncated entry', () => {
    const bad = writeTemp('bad.tersoff', `# header\n\n${SI_ENTRY.replace('95.373', '95.3.73')}`);
    expect(() => new Tersoff({ file: bad })).toThrow(new RegExp(`${bad}:4: expected B of entry Si Si Si \\(line 3\\).*'95\\.3\\.73'`));
    const short = writeTemp('short.tersoff', SI_ENTRY.split('\n')[0] + '\n 0.33675 1.3258\n');
    expect(() => new Tersoff({ file: short })).toThrow(/short\.tersoff:\d+: unexpected end of file in the tersoff entry Si Si Si \(line 1\): missing B, R, D, lambda1, A/);
  });

  it('names a missing triplet', () => {
    const lines = readFileSync(SIC, 'utf8').split('\n');
    const k = lines.findIndex((l) => /^C\s+Si\s+C\s/.test(l));
    lines.splice(k, 2);
    const file = writeTemp('SiC-missing.tersoff', lines.join('\n'));
    expect(() => new Tersoff({ file })).toThrow(/missing the entry for triplet C Si C/);
    // Using only Si needs only Si Si Si.
    expect(new Tersoff({ file, elements: ['Si'] }).elements).toEqual(['Si']);
  });

  it('rejects illegal parameters as LAMMPS does, naming them', () => {
    const m2 = writeTemp('m2.tersoff', SI_ENTRY.replace('Si Si Si 3.0', 'Si Si Si 2.0'));
    expect(() => new Tersoff({ file: m2 })).toThrow(/m2\.tersoff:1: entry Si Si Si: m = 2 is illegal \(m must be 1 or 3\)/);
    const bigD = writeTemp('d.tersoff', SI_ENTRY.replace('3.0 0.2', '3.0 3.2'));
    expect(() => new Tersoff({ file: bigD })).toThrow(/d\.tersoff:1: entry Si Si Si: D = 3\.2 is illegal \(D must not exceed R = 3\)/);
  });

  it('rejects elements the file does not cover', () => {
    expect(() => new Tersoff({ file: 'Si.tersoff', elements: ['Ge'] })).toThrow(/no entries for element Ge/);
    expect(() => new Tersoff({ file: 'Si.tersoff' }).bind(['Si', 'C'])).toThrow(/does not cover element C/);
    expect(() => new Tersoff({ file: 'no-such.tersoff' })).toThrow(/no-such\.tersoff.*not found/);
  });
});
