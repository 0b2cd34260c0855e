/**
 * EAM (pair_style eam, eam/alloy, eam/fs) against the real LAMMPS (29 Sep 2021) on
 * the potential files it ships: a perturbed crystal, a liquid-like random
 * configuration, a triclinic cell in LAMMPS's form, mixed compositions for the
 * multi-element files, and compressed crystals whose host density exceeds the
 * F(ρ) table (LAMMPS's linear extrapolation).
 *
 * Metrics (all must be ≤ 1e-9):
 *  - energy: |E − E_lmp| / |E_lmp|;
 *  - forces: max over atoms and components |f − f_lmp| / max |f_lmp|;
 *  - virial (six components, eV): max |ΔW| / max |W_lmp|;
 *  - per-atom energies: max |Δe| / max |e_lmp|.
 */
import { describe, expect, it } from 'vitest';
import { Cell } from '../src/cell.ts';
import { atomicMass } from '../src/elements.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';
import { createPotential } from '../potentials/registry.ts';
import '../potentials/eam/eam.ts';
import type { Eam } from '../potentials/eam/eam.ts';
import type { PotentialSpec } from '../potentials/potential.ts';
import { hasLammps } from './oracles/available.ts';
import { lammpsSinglePoint } from './oracles/lammps.ts';

const TOL = 1e-9;

interface Structure {
  cell: Cell;
  positions: Float64Array;
  /** Index into `elements` per atom. */
  types: Int32Array;
}

interface Setup {
  name: string;
  spec: PotentialSpec;
  /** Elements of the potential in LAMMPS type order. */
  elements: string[];
  /** pair_style / pair_coeff lines for LAMMPS types 1..N = elements. */
  commands: string[];
}

const setups: Setup[] = [
  {
    name: 'eam Cu_u3.eam',
    spec: { kind: 'eam', files: { Cu: 'Cu_u3.eam' } },
    elements: ['Cu'],
    commands: ['pair_style eam', 'pair_coeff 1 1 Cu_u3.eam'],
  },
  {
    name: 'eam Cu_u3.eam + Ni_u3.eam (different r grids, Z_i·Z_j cross term)',
    spec: { kind: 'eam', files: { Cu: 'Cu_u3.eam', Ni: 'Ni_u3.eam' } },
    elements: ['Cu', 'Ni'],
    commands: ['pair_style eam', 'pair_coeff 1 1 Cu_u3.eam', 'pair_coeff 2 2 Ni_u3.eam'],
  },
  {
    name: 'eam/alloy Cu_mishin1.eam.alloy',
    spec: { kind: 'eam/alloy', file: 'Cu_mishin1.eam.alloy' },
    elements: ['Cu'],
    commands: ['pair_style eam/alloy', 'pair_coeff * * Cu_mishin1.eam.alloy Cu'],
  },
  {
    name: 'eam/alloy AlCu.eam.alloy',
    spec: { kind: 'eam/alloy', file: 'AlCu.eam.alloy' },
    elements: ['Al', 'Cu'],
    commands: ['pair_style eam/alloy', 'pair_coeff * * AlCu.eam.alloy Al Cu'],
  },
  {
    name: 'eam/alloy CuTa.eam.alloy',
    spec: { kind: 'eam/alloy', file: 'CuTa.eam.alloy' },
    elements: ['Cu', 'Ta'],
    commands: ['pair_style eam/alloy', 'pair_coeff * * CuTa.eam.alloy Cu Ta'],
  },
  {
    name: 'eam/fs CuZr_mm.eam.fs',
    spec: { kind: 'eam/fs', file: 'CuZr_mm.eam.fs' },
    elements: ['Cu', 'Zr'],
    commands: ['pair_style eam/fs', 'pair_coeff * * CuZr_mm.eam.fs Cu Zr'],
  },
  {
    // Its cross densities are not symmetric (ρ listed in element a's block for b ≠ the one in b's block
    // for a), so this one pins down which fs table gives the density at which atom.
    name: 'eam/fs NiAlH_jea.eam.fs',
    spec: { kind: 'eam/fs', file: 'NiAlH_jea.eam.fs' },
    elements: ['Ni', 'Al', 'H'],
    commands: ['pair_style eam/fs', 'pair_coeff * * NiAlH_jea.eam.fs Ni Al H'],
  },
];

const FCC = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]];

/** fcc crystal of n×n×n cells, every coordinate displaced uniformly by ±amp/2, random species. */
function perturbedFcc(a: number, n: number, amp: number, nTypes: number, rng: Rng): Structure {
  const cell = Cell.orthorhombic(n * a, n * a, n * a);
  const frac: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++)
    for (const b of FCC) frac.push((i + b[0]) / n, (j + b[1]) / n, (k + b[2]) / n);
  const positions = cell.toCartesian(frac);
  for (let k = 0; k < positions.length; k++) positions[k] += amp * (rng.uniform() - 0.5);
  cell.wrap(positions);
  return { cell, positions, types: randomTypes(positions.length / 3, nTypes, rng) };
}

/** Random sequential addition with a minimum image distance ≥ dmin. */
function randomStructure(cell: Cell, n: number, dmin: number, nTypes: number, rng: Rng): Structure {
  const x = new Float64Array(3 * n);
  const d = new Float64Array(3), s = new Float64Array(3);
  let placed = 0, tries = 0;
  while (placed < n) {
    if (++tries > 5000 * n) throw new Error(`could not place ${n} atoms with dmin ${dmin}`);
    s[0] = rng.uniform(); s[1] = rng.uniform(); s[2] = rng.uniform();
    const r = cell.toCartesian(s);
    let ok = true;
    for (let j = 0; j < placed && ok; j++) {
      d[0] = r[0] - x[3 * j]; d[1] = r[1] - x[3 * j + 1]; d[2] = r[2] - x[3 * j + 2];
      if (cell.minimumImage(d) < dmin * dmin) ok = false;
    }
    if (!ok) continue;
    x.set(r, 3 * placed++);
  }
  return { cell, positions: x, types: randomTypes(n, nTypes, rng) };
}

/** Random species with every type present (mixed composition). */
function randomTypes(n: number, nTypes: number, rng: Rng): Int32Array {
  const t = Int32Array.from({ length: n }, () => Math.min(nTypes - 1, Math.floor(rng.uniform() * nTypes)));
  for (let k = 0; k < nTypes; k++) t[k] = k;
  return t;
}

/** Potentials built once per setup (file parsing is the slow part). */
const built = new Map<string, Eam>();

function compare(setup: Setup, s: Structure) {
  const n = s.types.length;
  // The element table given explicitly in type order: System orders elements by first appearance,
  // and randomTypes puts type k at atom k, so system.elements matches setup.elements.
  const symbols = Array.from(s.types, (t) => setup.elements[t]);
  const system = new System({ symbols, positions: s.positions, cell: s.cell.clone() });
  expect(system.elements).toEqual(setup.elements);
  let pot = built.get(setup.name);
  if (!pot) built.set(setup.name, (pot = createPotential(setup.spec) as Eam));
  const ev = new ForceEvaluator(pot, { skin: 1 }).evaluate(system, { atomEnergies: true });
  const ref = lammpsSinglePoint(
    { cell: s.cell.matrix, positions: s.positions, species: s.types, elements: setup.elements, masses: setup.elements.map(atomicMass) },
    setup.commands,
  );
  let fmax = 0, df = 0;
  for (let k = 0; k < 3 * n; k++) {
    fmax = Math.max(fmax, Math.abs(ref.forces[k]));
    df = Math.max(df, Math.abs(system.forces[k] - ref.forces[k]));
  }
  let wmax = 0, dw = 0;
  for (let a = 0; a < 6; a++) {
    wmax = Math.max(wmax, Math.abs(ref.virial[a]));
    dw = Math.max(dw, Math.abs(ev.virial[a] - ref.virial[a]));
  }
  let emax = 0, de = 0;
  for (let i = 0; i < n; i++) {
    emax = Math.max(emax, Math.abs(ref.atomEnergies[i]));
    de = Math.max(de, Math.abs(ev.atomEnergies![i] - ref.atomEnergies[i]));
  }
  // Non-vacuous comparison: real forces and stresses.
  expect(fmax).toBeGreaterThan(1e-2);
  expect(wmax).toBeGreaterThan(1e-2);
  const errors = {
    energy: Math.abs(ev.energy - ref.energy) / Math.abs(ref.energy),
    forces: df / fmax,
    virial: dw / wmax,
    atomEnergies: de / emax,
  };
  for (const [what, err] of Object.entries(errors)) expect(err, `${setup.name}: ${what} relative error`).toBeLessThanOrEqual(TOL);
  return { pot, system };
}

describe.skipIf(!hasLammps())('EAM against LAMMPS', () => {
  for (const [index, setup] of setups.entries()) {
    const nTypes = setup.elements.length;
    it(`${setup.name}: perturbed fcc crystal`, () => {
      compare(setup, perturbedFcc(3.7, 3, 0.4, nTypes, new Rng(100 + index)));
    });
    it(`${setup.name}: liquid-like random configuration`, () => {
      compare(setup, randomStructure(Cell.orthorhombic(12.5, 12, 11.5), 120, 2.1, nTypes, new Rng(200 + index)));
    });
    it(`${setup.name}: triclinic cell (LAMMPS form)`, () => {
      const cell = Cell.lammps(13, 12, 11.5, 4.1, -3.7, 3.2);
      compare(setup, randomStructure(cell, 110, 2.1, nTypes, new Rng(300 + index)));
    });
  }

  it('eam Cu_u3.eam and eam/alloy Cu_mishin1: compressed crystals with ρ beyond the F(ρ) table', () => {
    for (const [setup, a] of [[setups[0], 2.33], [setups[2], 3.0]] as const) {
      const { pot, system } = compare(setup, perturbedFcc(a, 3, 0.2, 1, new Rng(400)));
      const rho = pot.hostDensities(system.n);
      expect(Math.max(...rho), `${setup.name}: some ρ beyond ρmax`).toBeGreaterThan(pot.tables.rhomax);
    }
  });
});
