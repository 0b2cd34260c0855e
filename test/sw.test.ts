/**
 * Stillinger–Weber against LAMMPS's pair_style sw (29 Sep 2021) at round-off
 * level, and against central finite differences; file and element errors.
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
import { StillingerWeber } from '../potentials/sw.ts';
import { hasLammps } from './oracles/available.ts';
import {
  deform, evaluate, expectMatchesLammps, finiteDifferenceForceError, finiteDifferenceVirialError, perturb, randomStructure,
} from './manybody-oracle.ts';

const DIR = '/usr/share/lammps/potentials';
const SI = `${DIR}/Si.sw`;
const GAN = `${DIR}/GaN.sw`;

/** Wurtzite GaN (a, c, u from experiment) repeated, in LAMMPS's triclinic form. */
function wurtzite(a: number, c: number, u: number, repeat: [number, number, number]): System {
  const cell = new Cell([a, 0, 0, -a / 2, (a * Math.sqrt(3)) / 2, 0, 0, 0, c]);
  const frac = [1 / 3, 2 / 3, 0, 2 / 3, 1 / 3, 0.5, 1 / 3, 2 / 3, u, 2 / 3, 1 / 3, 0.5 + u];
  return supercell(new System({ symbols: ['Ga', 'Ga', 'N', 'N'], positions: cell.toCartesian(frac), cell }), repeat);
}

function writeTemp(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tensormd-sw-')), name);
  writeFileSync(path, text);
  return path;
}

describe.skipIf(!hasLammps())('Stillinger–Weber matches LAMMPS pair_style sw', () => {
  const si = new StillingerWeber({ file: 'Si.sw' });
  const gan = new StillingerWeber({ file: 'GaN.sw' });

  it('Si.sw: perturbed diamond crystal', () => {
    const s = perturb(lattice('diamond', { element: 'Si', a: 5.431, repeat: 2 }), 0.15, new Rng(1));
    expectMatchesLammps(s, si, 'sw', SI);
  });

  it('Si.sw: liquid-like random configuration', () => {
    const s = randomStructure(Cell.orthorhombic(11, 11, 11), 66, 2.0, new Rng(2), ['Si']);
    expectMatchesLammps(s, si, 'sw', SI);
  });

  it('Si.sw: perturbed crystal in a tilted triclinic cell', () => {
    const d = lattice('diamond', { element: 'Si', a: 5.431, repeat: 2 });
    const s = perturb(deform(d, Cell.lammps(10.862, 10.5, 11.2, 2.1, -1.7, 1.3)), 0.1, new Rng(3));
    expectMatchesLammps(s, si, 'sw', SI);
  });

  it('Si.sw: small triclinic cell where atoms meet their own images', () => {
    const s = randomStructure(Cell.lammps(3.5, 5.9, 6.3, 1.4, -1.1, 0.9), 6, 2.1, new Rng(4), ['Si']);
    expectMatchesLammps(s, si, 'sw', SI);
  });

  it('GaN.sw: perturbed wurtzite', () => {
    const s = perturb(wurtzite(3.189, 5.185, 0.377, [3, 3, 2]), 0.1, new Rng(5));
    expectMatchesLammps(s, gan, 'sw', GAN);
  });

  it('GaN.sw: perturbed zincblende in a tilted cell', () => {
    const zb = lattice('diamond', { element: ['Ga', 'Ga', 'Ga', 'Ga', 'N', 'N', 'N', 'N'], a: 4.50, repeat: 2 });
    const s = perturb(deform(zb, Cell.lammps(9.0, 9.2, 8.8, 1.5, 0.7, -1.2)), 0.12, new Rng(6));
    expectMatchesLammps(s, gan, 'sw', GAN);
  });

  it('GaN.sw: random mixed compositions (N-rich and Ga-rich)', () => {
    const nRich = randomStructure(Cell.orthorhombic(10, 10, 10), 70, 1.75, new Rng(7), ['N', 'Ga'], [0.7, 0.3]);
    expectMatchesLammps(nRich, gan, 'sw', GAN);
    const gaRich = randomStructure(Cell.lammps(10, 9.5, 10.5, 1.0, -2.0, 0.5), 60, 1.9, new Rng(8), ['Ga', 'N'], [0.75, 0.25]);
    expectMatchesLammps(gaRich, gan, 'sw', GAN);
  });

  it('GaN.sw restricted to Ga (pair_coeff with one element)', () => {
    const pot = new StillingerWeber({ file: 'GaN.sw', elements: ['Ga'] });
    const s = randomStructure(Cell.orthorhombic(10, 10, 10), 50, 2.2, new Rng(9), ['Ga']);
    expectMatchesLammps(s, pot, 'sw', GAN);
  });

  it('tol > 0 shortens the cutoff as LAMMPS does', () => {
    // Si.sw with tol = 0.005 on the single entry.
    const file = writeTemp('Si-tol.sw', 'Si Si Si 2.1683 2.0951 1.80 21.0 1.20 -0.333333333333\n 7.049556277 0.6022245584 4.0 0.0 0.005\n');
    const pot = new StillingerWeber({ file });
    const expected = 2.0951 * 1.8 + 2.0951 / Math.log(0.005);
    expect(pot.cutoff).toBeCloseTo(expected, 14);
    const s = randomStructure(Cell.orthorhombic(11, 11, 11), 66, 2.0, new Rng(10), ['Si']);
    expectMatchesLammps(s, pot, 'sw', file);
  });
});

describe('Stillinger–Weber derivatives', () => {
  it('forces equal central differences of the energy (Si, GaN)', () => {
    const si = randomStructure(Cell.lammps(8, 8.5, 7.5, 1.0, -0.5, 0.7), 26, 2.0, new Rng(11), ['Si']);
    expect(finiteDifferenceForceError(si, new StillingerWeber({ file: 'Si.sw' }))).toBeLessThan(1e-7);
    const gan = randomStructure(Cell.orthorhombic(7.5, 7.5, 7.5), 30, 1.8, new Rng(12), ['Ga', 'N']);
    expect(finiteDifferenceForceError(gan, new StillingerWeber({ file: 'GaN.sw' }))).toBeLessThan(1e-7);
  });

  it('virial equals −dE/dstrain (Si, GaN, triclinic)', () => {
    const si = perturb(deform(lattice('diamond', { element: 'Si', a: 5.431, repeat: 2 }), Cell.lammps(10.862, 10.5, 11.2, 2.1, -1.7, 1.3)), 0.1, new Rng(13));
    expect(finiteDifferenceVirialError(si, new StillingerWeber({ file: 'Si.sw' }))).toBeLessThan(1e-7);
    const gan = randomStructure(Cell.lammps(8, 8, 8, 0.8, 0.4, -0.6), 36, 1.8, new Rng(14), ['Ga', 'N']);
    expect(finiteDifferenceVirialError(gan, new StillingerWeber({ file: 'GaN.sw' }))).toBeLessThan(1e-7);
  });

  it('per-atom energies sum to the energy', () => {
    const s = perturb(lattice('diamond', { element: 'Si', a: 5.431, repeat: 2 }), 0.1, new Rng(15));
    const ev = evaluate(s, new StillingerWeber({ file: 'Si.sw' }));
    const sum = ev.atomEnergies!.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - ev.energy)).toBeLessThan(1e-12 * Math.abs(ev.energy));
    // Perfect diamond at a = 5.431 Å is SW's minimum, −2ε = −4.3366 eV per atom (Stillinger & Weber, PRB 31, 5262 (1985)).
    const perfect = evaluate(lattice('diamond', { element: 'Si', a: 5.431, repeat: 2 }), new StillingerWeber({ file: 'Si.sw' }));
    expect(perfect.energy / 64).toBeCloseTo(-4.3366, 3);
  });
});

describe('Stillinger–Weber input errors', () => {
  const good = 'Si Si Si 2.1683 2.0951 1.80 21.0 1.20 -0.333333333333 7.049556277 0.6022245584 4.0 0.0 0.0\n';

  it('builds from a registry spec and round-trips it', () => {
    const pot = createPotential({ kind: 'sw', file: 'Si.sw' });
    expect(pot.kind).toBe('sw');
    expect(pot.cutoff).toBeCloseTo(2.0951 * 1.8, 14);
    expect(pot.spec()).toEqual({ kind: 'sw', file: SI, elements: ['Si'] });
    expect(createPotential(pot.spec()).cutoff).toBe(pot.cutoff);
  });

  it('names a missing file', () => {
    expect(() => new StillingerWeber({ file: 'no-such.sw' })).toThrow(/no-such\.sw.*not found/);
  });

  it('names file, line and field of a malformed number', () => {
    const file = writeTemp('bad.sw', `# comment\n${good.replace('1.80', '1.8x')}`);
    expect(() => new StillingerWeber({ file })).toThrow(new RegExp(`${file}:2: .*\\ba of entry Si Si Si.*'1\\.8x'`));
  });

  it('names a truncated entry', () => {
    const file = writeTemp('short.sw', 'Si Si Si 2.1683 2.0951 1.80 21.0 1.20 -0.333333333333\n 7.049556277 0.6022245584\n');
    expect(() => new StillingerWeber({ file })).toThrow(/short\.sw:\d+: unexpected end of file in the sw entry Si Si Si \(line 1\): missing p, q, tol/);
  });

  it('rejects extra values on an entry line', () => {
    const file = writeTemp('extra.sw', good.replace('\n', ' 1.0\n'));
    expect(() => new StillingerWeber({ file })).toThrow(/extra\.sw:1: extra value '1\.0'/);
  });

  it('names a missing triplet', () => {
    const text = readGaNWithout('N  Ga N');
    const file = writeTemp('GaN-missing.sw', text);
    expect(() => new StillingerWeber({ file })).toThrow(/missing the entry for triplet N Ga N/);
  });

  it('names a duplicate entry', () => {
    const file = writeTemp('dup.sw', good + good);
    expect(() => new StillingerWeber({ file })).toThrow(/dup\.sw:2: duplicate sw entry Si Si Si \(first given at line 1\)/);
  });

  it('rejects an illegal (negative) parameter naming it', () => {
    const file = writeTemp('neg.sw', good.replace(' 21.0 ', ' -21.0 '));
    expect(() => new StillingerWeber({ file })).toThrow(/neg\.sw:1: entry Si Si Si: lambda = -21 is illegal/);
  });

  it('rejects elements the file does not cover', () => {
    expect(() => new StillingerWeber({ file: 'Si.sw', elements: ['C'] })).toThrow(/no entries for element C/);
    const pot = new StillingerWeber({ file: 'Si.sw' });
    expect(() => pot.bind(['Si', 'Ge'])).toThrow(/does not cover element Ge/);
    const ga = new StillingerWeber({ file: 'GaN.sw', elements: ['Ga'] });
    expect(() => ga.bind(['N'])).toThrow(/does not cover element N/);
  });
});

function readGaNWithout(prefix: string): string {
  // The installed GaN.sw with the entry starting with `prefix` removed.
  return readFileSync(GAN, 'utf8').split('\n').filter((l) => !l.startsWith(prefix)).join('\n');
}
