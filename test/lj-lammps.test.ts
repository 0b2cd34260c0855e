/**
 * Lennard-Jones and Morse forces, energies and virial against the real LAMMPS
 * (`pair_style lj/cut`, `pair_style morse`, metal units) on generated structures:
 * a random 500-atom orthorhombic configuration, strongly skewed triclinic cells
 * with tilts near LAMMPS's limits (|tilt| ≈ 0.49 of the box length), and cells
 * thinner than twice (even once) the cutoff, where an atom meets several images
 * of its neighbours and of itself.
 *
 * Metrics (all must be ≤ 1e-10):
 *  - energy: |E − E_lmp| / |E_lmp|;
 *  - forces: max over atoms and components |f − f_lmp| / max over atoms and components |f_lmp|
 *    (a relative error per component would be meaningless for components near zero);
 *  - pressure (virial part, eV/Å³, LAMMPS's bar converted with its own LAMMPS_NKTV2P):
 *    |P − P_lmp| / |P_lmp|; the six virial components: max |ΔW| / max |W_lmp|;
 *  - per-atom energies: max |Δe| / max |e_lmp|.
 */
import { describe, expect, it } from 'vitest';
import { Cell } from '../src/cell.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';
import { LennardJones } from '../potentials/lj.ts';
import { Morse } from '../potentials/morse.ts';
import type { Potential } from '../potentials/potential.ts';
import { hasLammps } from './oracles/available.ts';
import { LAMMPS_NKTV2P, lammpsSinglePoint } from './oracles/lammps.ts';

const TOL = 1e-10;
const ARGON = { epsilon: 0.0104, sigma: 3.405 };
const MASS_AR = 39.948;

/** Random positions in a cell with a minimum image distance ≥ dmin (random sequential addition). */
function randomPositions(cell: Cell, n: number, dmin: number, rng: Rng): Float64Array {
  const x = new Float64Array(3 * n);
  const d = new Float64Array(3);
  const s = new Float64Array(3);
  let placed = 0, tries = 0;
  while (placed < n) {
    if (++tries > 2000 * n) throw new Error(`could not place ${n} atoms with dmin ${dmin}`);
    s[0] = rng.uniform(); s[1] = rng.uniform(); s[2] = rng.uniform();
    const r = cell.toCartesian(s);
    let ok = true;
    for (let j = 0; j < placed && ok; j++) {
      d[0] = r[0] - x[3 * j]; d[1] = r[1] - x[3 * j + 1]; d[2] = r[2] - x[3 * j + 2];
      if (cell.minimumImage(d) < dmin * dmin) ok = false;
    }
    if (!ok) continue;
    x.set(r, 3 * placed);
    placed++;
  }
  return x;
}

/**
 * Random positions with min image distance in a cell too thin for minimumImage to
 * be trusted (it only searches 27 images): checks distance to every image up to ±3.
 */
function randomPositionsThin(cell: Cell, n: number, dmin: number, rng: Rng): Float64Array {
  const x = new Float64Array(3 * n);
  const h = cell.matrix;
  let placed = 0, tries = 0;
  const s = new Float64Array(3);
  while (placed < n) {
    if (++tries > 2000 * n) throw new Error(`could not place ${n} atoms with dmin ${dmin}`);
    s[0] = rng.uniform(); s[1] = rng.uniform(); s[2] = rng.uniform();
    const r = cell.toCartesian(s);
    let ok = true;
    for (let j = 0; j < placed && ok; j++) {
      for (let a = -3; a <= 3 && ok; a++) for (let b = -3; b <= 3 && ok; b++) for (let c = -3; c <= 3 && ok; c++) {
        const dx = r[0] - x[3 * j] + a * h[0] + b * h[3] + c * h[6];
        const dy = r[1] - x[3 * j + 1] + a * h[1] + b * h[4] + c * h[7];
        const dz = r[2] - x[3 * j + 2] + a * h[2] + b * h[5] + c * h[8];
        if (dx * dx + dy * dy + dz * dz < dmin * dmin) ok = false;
      }
    }
    if (!ok) continue;
    x.set(r, 3 * placed);
    placed++;
  }
  return x;
}

interface Case {
  cell: Cell;
  positions: Float64Array;
}

function compare(c: Case, potential: Potential, pairCommands: string[]) {
  const n = c.positions.length / 3;
  const system = new System({ symbols: Array(n).fill('Ar'), positions: c.positions, cell: c.cell, masses: { Ar: MASS_AR } });
  const ref = lammpsSinglePoint(
    { cell: c.cell.matrix, pbc: c.cell.pbc, positions: c.positions, species: new Int32Array(n), elements: ['Ar'], masses: [MASS_AR] },
    pairCommands,
  );
  const ev = new ForceEvaluator(potential, { skin: 0.7 }).evaluate(system, { atomEnergies: true });

  const energyError = Math.abs(ev.energy - ref.energy) / Math.abs(ref.energy);
  let fmax = 0, dfmax = 0;
  for (let k = 0; k < 3 * n; k++) {
    fmax = Math.max(fmax, Math.abs(ref.forces[k]));
    dfmax = Math.max(dfmax, Math.abs(system.forces[k] - ref.forces[k]));
  }
  let emax = 0, demax = 0;
  for (let i = 0; i < n; i++) {
    emax = Math.max(emax, Math.abs(ref.atomEnergies[i]));
    demax = Math.max(demax, Math.abs(ev.atomEnergies![i] - ref.atomEnergies[i]));
  }
  const V = c.cell.volume;
  const p = (ev.virial[0] + ev.virial[1] + ev.virial[2]) / (3 * V);
  const pLmp = ref.pressureBar / LAMMPS_NKTV2P;
  let wmax = 0, dwmax = 0;
  for (let a = 0; a < 6; a++) {
    wmax = Math.max(wmax, Math.abs(ref.virial[a]));
    dwmax = Math.max(dwmax, Math.abs(ev.virial[a] - ref.virial[a]));
  }
  // Guard against vacuous comparisons: the structure must have real interactions.
  expect(fmax).toBeGreaterThan(1e-3);
  expect(Math.abs(pLmp)).toBeGreaterThan(1e-6);
  return {
    energy: energyError,
    forces: dfmax / fmax,
    pressure: Math.abs(p - pLmp) / Math.abs(pLmp),
    virial: dwmax / wmax,
    atomEnergies: demax / emax,
  };
}

function expectAgreement(errors: Record<string, number>): void {
  for (const [what, err] of Object.entries(errors)) {
    expect(err, `${what} relative error`).toBeLessThanOrEqual(TOL);
  }
}

const rc = 8.5;
const lj = () => new LennardJones({ ...ARGON, cutoff: rc });
const ljCommands = [`pair_style lj/cut ${rc}`, `pair_coeff * * ${ARGON.epsilon} ${ARGON.sigma}`];

describe.skipIf(!hasLammps())('LJ and Morse against LAMMPS', () => {
  it('random 500-atom orthorhombic configuration (perturbed fcc), plain and shifted', () => {
    const rng = new Rng(2024);
    const a = 5.3;
    // 5×5×5 fcc with unequal edges, every atom displaced by up to ±0.4 Å per axis.
    const cell = Cell.orthorhombic(5 * a, 5 * a * 1.03, 5 * a * 0.97);
    const frac: number[] = [];
    const basis = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]];
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) for (let k = 0; k < 5; k++)
      for (const b of basis) frac.push((i + b[0]) / 5, (j + b[1]) / 5, (k + b[2]) / 5);
    const positions = cell.toCartesian(frac);
    for (let k = 0; k < positions.length; k++) positions[k] += 0.8 * (rng.uniform() - 0.5);
    expect(positions.length).toBe(1500);
    expectAgreement(compare({ cell, positions }, lj(), ljCommands));
    expectAgreement(
      compare({ cell, positions }, new LennardJones({ ...ARGON, cutoff: rc, shift: true }), [...ljCommands, 'pair_modify shift yes']),
    );
  });

  it('strongly skewed triclinic cell (xy ≈ 0.49 lx, xz ≈ −0.48 lx, yz ≈ 0.49 ly)', () => {
    const rng = new Rng(7);
    const lx = 22, ly = 21, lz = 20;
    const cell = Cell.lammps(lx, ly, lz, 0.49 * lx, -0.48 * lx, 0.49 * ly);
    const positions = randomPositions(cell, 200, 2.9, rng);
    expectAgreement(compare({ cell, positions }, lj(), ljCommands));
  });

  it('skewed triclinic cell with Morse', () => {
    const rng = new Rng(8);
    const lx = 18, ly = 17, lz = 16;
    const cell = Cell.lammps(lx, ly, lz, -0.49 * lx, 0.47 * lx, -0.46 * ly);
    const positions = randomPositions(cell, 250, 2.2, rng);
    const morse = { D: 0.3429, alpha: 1.3588, r0: 2.866 }; // Cu parameters of Girifalco & Weizer (1959)
    const rcm = 7.0;
    const errors = compare({ cell, positions }, new Morse({ ...morse, cutoff: rcm }), [
      `pair_style morse ${rcm}`,
      `pair_coeff * * ${morse.D} ${morse.alpha} ${morse.r0}`,
    ]);
    expectAgreement(errors);
    const shifted = compare({ cell, positions }, new Morse({ ...morse, cutoff: rcm, shift: true }), [
      `pair_style morse ${rcm}`,
      `pair_coeff * * ${morse.D} ${morse.alpha} ${morse.r0}`,
      'pair_modify shift yes',
    ]);
    expectAgreement(shifted);
  });

  it('orthorhombic cell thinner than the cutoff along z (lz = 6 Å < rc = 8.5 Å)', () => {
    const rng = new Rng(11);
    const cell = Cell.orthorhombic(20, 19, 6);
    const positions = randomPositionsThin(cell, 40, 3.0, rng);
    expectAgreement(compare({ cell, positions }, lj(), ljCommands));
  });

  it('skewed triclinic cell thinner than twice the cutoff in every direction, shifted LJ', () => {
    const rng = new Rng(12);
    const lx = 12, ly = 11, lz = 9;
    const cell = Cell.lammps(lx, ly, lz, 0.49 * lx, 0.45 * lx, -0.49 * ly);
    const positions = randomPositionsThin(cell, 25, 3.0, rng);
    expect(Math.max(...cell.heights())).toBeLessThan(2 * rc);
    expectAgreement(
      compare({ cell, positions }, new LennardJones({ ...ARGON, cutoff: rc, shift: true }), [...ljCommands, 'pair_modify shift yes']),
    );
  });
});
