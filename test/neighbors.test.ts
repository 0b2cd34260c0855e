/**
 * The linked-cell neighbour list (src/neighbors.ts) against a brute-force search
 * that enumerates periodic images explicitly, over many random cells: general
 * (rotated, non-triangular) triclinic cells, strongly skewed ones, cells thinner
 * than the cutoff, mixed and no periodicity, zero-volume (isolated) cells; after
 * reuse within the skin and after rebuilds; under a changed cell.
 *
 * A neighbour is identified by (owner atom, integer image vector n), its position
 * being x_owner + n·h. The full list of i must equal the brute-force set
 * {(j, n) : 0 < |x_j + n·h − x_i| < r_list}; the half list must hold every unordered
 * pair {(i,0), (j,n)} ≡ {(j,0), (i,−n)} exactly once (in the row of either atom, as
 * LAMMPS's half/bin/newton lists: the upper half of the bin stencil decides).
 */
import { describe, expect, it } from 'vitest';
import { Cell, type Pbc } from '../src/cell.ts';
import { NeighborList } from '../src/neighbors.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';
import type { NeighborCsr } from '../potentials/potential.ts';

/** Brute-force neighbours within r of each atom: arrays of "j:n0,n1,n2" keys. */
function bruteForce(system: System, r: number): string[][] {
  const { n, positions: x, cell } = system;
  const h = cell.matrix;
  const heights = cell.hasVolume ? cell.heights() : [Infinity, Infinity, Infinity];
  const range = [0, 1, 2].map((a) => (cell.pbc[a] ? Math.ceil(r / heights[a]) + 2 : 0));
  const out: string[][] = [];
  for (let i = 0; i < n; i++) {
    const mine: string[] = [];
    for (let j = 0; j < n; j++) {
      for (let a = -range[0]; a <= range[0]; a++) for (let b = -range[1]; b <= range[1]; b++) for (let c = -range[2]; c <= range[2]; c++) {
        if (i === j && a === 0 && b === 0 && c === 0) continue;
        const dx = x[3 * j] + a * h[0] + b * h[3] + c * h[6] - x[3 * i];
        const dy = x[3 * j + 1] + a * h[1] + b * h[4] + c * h[7] - x[3 * i + 1];
        const dz = x[3 * j + 2] + a * h[2] + b * h[5] + c * h[8] - x[3 * i + 2];
        if (dx * dx + dy * dy + dz * dz < r * r) mine.push(`${j}:${a},${b},${c}`);
      }
    }
    out.push(mine.sort());
  }
  return out;
}

/** The (owner, image) key of extended entry k, checking its coordinates are x_owner + n·h. */
function entryKey(nl: NeighborList, system: System, k: number): string {
  const o = nl.owner[k];
  const h = system.cell.matrix, g = system.cell.inverse, x = system.positions, e = nl.positions;
  const d = [e[3 * k] - x[3 * o], e[3 * k + 1] - x[3 * o + 1], e[3 * k + 2] - x[3 * o + 2]];
  const img = [0, 1, 2].map((a) => (system.cell.hasVolume ? Math.round(d[0] * g[a] + d[1] * g[3 + a] + d[2] * g[6 + a]) : 0));
  for (let c = 0; c < 3; c++) {
    const expected = x[3 * o + c] + img[0] * h[c] + img[1] * h[3 + c] + img[2] * h[6 + c];
    if (Math.abs(e[3 * k + c] - expected) > 1e-9 * (1 + Math.abs(expected))) throw new Error(`entry ${k} is not an image of atom ${o}`);
  }
  if (k < nl.nLocal && (k !== o || img.some((v) => v !== 0))) throw new Error(`local entry ${k} is not atom ${k}`);
  if (nl.species[k] !== system.species[o]) throw new Error(`entry ${k} has the wrong species`);
  return `${o}:${img.join(',')}`;
}

function rowKeys(csr: NeighborCsr, i: number, nl: NeighborList, system: System): string[] {
  const keys: string[] = [];
  for (let p = csr.offsets[i]; p < csr.offsets[i + 1]; p++) keys.push(entryKey(nl, system, csr.neighbors[p]));
  return keys.sort();
}

/** Canonical name of the unordered pair {(i,0), (j,n)}. */
function pairKey(i: number, key: string): string {
  const [js, ns] = key.split(':');
  const j = Number(js);
  const nvec = ns.split(',').map(Number);
  const neg = nvec.map((v) => (v === 0 ? 0 : -v));
  if (i < j) return `${i}-${j}:${nvec.join(',')}`;
  if (i > j) return `${j}-${i}:${neg.join(',')}`;
  const positive = nvec[0] > 0 || (nvec[0] === 0 && (nvec[1] > 0 || (nvec[1] === 0 && nvec[2] > 0)));
  return `${i}-${i}:${(positive ? nvec : neg).join(',')}`;
}

/** Exact equality with brute force at radius r (the list cutoff right after a build). */
function expectExact(nl: NeighborList, system: System, r: number): void {
  const brute = bruteForce(system, r);
  const full = nl.full!, half = nl.half!;
  const bruteHalf = new Set<string>();
  const listHalf = new Set<string>();
  for (let i = 0; i < system.n; i++) {
    expect(rowKeys(full, i, nl, system), `full list of atom ${i}`).toEqual(brute[i]);
    for (const key of brute[i]) bruteHalf.add(pairKey(i, key));
    for (let p = half.offsets[i]; p < half.offsets[i + 1]; p++) {
      const k = half.neighbors[p];
      const pk = pairKey(i, entryKey(nl, system, k));
      expect(listHalf.has(pk), `pair ${pk} listed twice`).toBe(false);
      listHalf.add(pk);
    }
  }
  expect([...listHalf].sort()).toEqual([...bruteHalf].sort());
}

/** After reuse: every pair within the interaction cutoff is still in both lists. */
function expectCovers(nl: NeighborList, system: System, r: number): void {
  const brute = bruteForce(system, r);
  for (let i = 0; i < system.n; i++) {
    const full = new Set(rowKeys(nl.full!, i, nl, system));
    for (const key of brute[i]) expect(full.has(key), `atom ${i} lost neighbour ${key}`).toBe(true);
  }
  const half = new Set<string>();
  for (let i = 0; i < system.n; i++) for (let p = nl.half!.offsets[i]; p < nl.half!.offsets[i + 1]; p++) half.add(pairKey(i, entryKey(nl, system, nl.half!.neighbors[p])));
  for (let i = 0; i < system.n; i++) for (const key of brute[i]) expect(half.has(pairKey(i, key)), `pair of ${i} with ${key} missing`).toBe(true);
}

/** A random rotation applied to a cell matrix's rows (so the cell is a general, non-triangular one). */
function rotate(h: number[], rng: Rng): number[] {
  const q = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
  const s = Math.hypot(...q);
  const [w, x, y, z] = q.map((v) => v / s);
  const R = [
    1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
    2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
    2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
  ];
  const out: number[] = [];
  for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) out.push(h[3 * i] * R[k] + h[3 * i + 1] * R[3 + k] + h[3 * i + 2] * R[6 + k]);
  return out;
}

function randomSystem(cell: Cell, n: number, rng: Rng, spread = 1.3): System {
  const frac = new Float64Array(3 * n);
  // Fractional coordinates partly outside [0,1) so that wrapping is exercised.
  for (let k = 0; k < 3 * n; k++) frac[k] = spread * (rng.uniform() - 0.5) + 0.5;
  const positions = cell.hasVolume ? cell.toCartesian(frac) : frac.map((v) => 12 * v);
  const symbols = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 'Cu' : 'Ar'));
  return new System({ symbols, positions, cell });
}

function lists(cutoff: number, skin: number): NeighborList {
  return new NeighborList({ cutoff, skin, half: true, full: true });
}

describe('neighbour list against brute force', () => {
  it('many random general triclinic cells with mixed periodicity', () => {
    const rng = new Rng(99);
    for (let trial = 0; trial < 40; trial++) {
      const lx = 6 + 10 * rng.uniform(), ly = 6 + 10 * rng.uniform(), lz = 6 + 10 * rng.uniform();
      const tilt = (l: number) => (rng.uniform() - 0.5) * l;
      const base = [lx, 0, 0, tilt(lx), ly, 0, tilt(lx), tilt(ly), lz];
      const pbc: Pbc = [rng.uniform() < 0.7, rng.uniform() < 0.7, rng.uniform() < 0.7];
      const cell = new Cell(trial % 2 === 0 ? rotate(base, rng) : base, pbc);
      const system = randomSystem(cell, 20 + Math.floor(30 * rng.uniform()), rng);
      const cutoff = 2.5 + 4 * rng.uniform(), skin = 0.5 * rng.uniform();
      const nl = lists(cutoff, skin);
      expect(nl.update(system)).toBe(true);
      expectExact(nl, system, cutoff + skin);
    }
  });

  it('thin cells (height below the cutoff: several images of each atom, and of itself)', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 12; trial++) {
      const cell = new Cell(rotate([3 + 2 * rng.uniform(), 0, 0, 1, 7, 0, -0.5, 2, 2.5 + 3 * rng.uniform()], rng), [true, trial % 3 !== 0, true]);
      const system = randomSystem(cell, 6 + Math.floor(8 * rng.uniform()), rng);
      const nl = lists(6 + 2 * rng.uniform(), 0.4);
      nl.update(system);
      expect(Math.min(...cell.heights())).toBeLessThan(nl.listCutoff);
      expectExact(nl, system, nl.listCutoff);
    }
  });

  it('strongly skewed cells (tilts near and beyond LAMMPS limits)', () => {
    const rng = new Rng(17);
    for (let trial = 0; trial < 12; trial++) {
      const l = 10;
      const f = trial < 6 ? 0.49 : 1.7; // LAMMPS's limit is 0.5; tensormd accepts any cell
      const sign = () => (rng.uniform() < 0.5 ? -1 : 1);
      const cell = Cell.lammps(l, l * 0.9, l * 1.1, sign() * f * l, sign() * f * l, sign() * f * l * 0.9);
      const system = randomSystem(cell, 40, rng);
      const nl = lists(4 + 2 * rng.uniform(), 0.3);
      nl.update(system);
      expectExact(nl, system, nl.listCutoff);
    }
  });

  it('orthorhombic cells (pruned stencil), periodic and not', () => {
    const rng = new Rng(23);
    for (let trial = 0; trial < 10; trial++) {
      const cell = Cell.orthorhombic(8 + 12 * rng.uniform(), 8 + 12 * rng.uniform(), 8 + 12 * rng.uniform(), [true, trial % 2 === 0, true]);
      const system = randomSystem(cell, 60, rng, 1);
      const nl = lists(3 + 3 * rng.uniform(), 0.5);
      nl.update(system);
      expectExact(nl, system, nl.listCutoff);
    }
  });

  it('isolated systems: zero-volume cell and a non-periodic cell', () => {
    const rng = new Rng(31);
    for (const cell of [Cell.none(), Cell.none(), new Cell([9, 0, 0, 2, 8, 0, 1, 1, 7], false)]) {
      const system = randomSystem(cell, 50, rng);
      const nl = lists(3.5, 0.5);
      nl.update(system);
      expectExact(nl, system, nl.listCutoff);
    }
  });

  it('is reused while atoms move less than skin/2, and rebuilt beyond', () => {
    const rng = new Rng(41);
    for (let trial = 0; trial < 6; trial++) {
      const cell = new Cell(rotate([11, 0, 0, 4, 10, 0, -3, 2, 9], rng), [true, true, trial % 2 === 0]);
      const system = randomSystem(cell, 40, rng);
      const cutoff = 4, skin = 1;
      const nl = lists(cutoff, skin);
      nl.update(system);
      const builds = nl.builds;
      // Each atom moves by less than skin/2 in a random direction, in small steps.
      const dir = Array.from({ length: 3 * system.n }, () => rng.normal());
      for (let step = 1; step <= 4; step++) {
        for (let i = 0; i < system.n; i++) {
          const norm = Math.hypot(dir[3 * i], dir[3 * i + 1], dir[3 * i + 2]);
          for (let c = 0; c < 3; c++) system.positions[3 * i + c] += (0.1 * skin * dir[3 * i + c]) / norm;
        }
        expect(nl.update(system), 'reused').toBe(false);
        expectCovers(nl, system, cutoff);
      }
      expect(nl.builds).toBe(builds);
      // Beyond skin/2: atom 0 moves on along its direction, 0.55 skin in total.
      const norm0 = Math.hypot(dir[0], dir[1], dir[2]);
      for (let c = 0; c < 3; c++) system.positions[c] += (0.15 * skin * dir[c]) / norm0;
      expect(nl.update(system), 'rebuilt').toBe(true);
      expectExact(nl, system, cutoff + skin);
    }
  });

  it('follows a changed cell: reused for a small strain, rebuilt for a large one', () => {
    const rng = new Rng(43);
    const base = [10, 0, 0, 3, 9, 0, -2, 1.5, 8];
    const cell = new Cell(base);
    const system = randomSystem(cell, 40, rng, 1);
    const cutoff = 4, skin = 1;
    const nl = lists(cutoff, skin);
    nl.update(system);
    const strain = (e: number) => {
      // Affine deformation x → x·(1+e·M) of positions and cell, with a shear part.
      const M = [1 + e, 0.5 * e, 0, 0, 1 - e, 0.3 * e, 0.2 * e, 0, 1 + 0.5 * e];
      const apply = (v: Float64Array) => {
        for (let p = 0; p < v.length; p += 3) {
          const x = v[p], y = v[p + 1], z = v[p + 2];
          v[p] = x * M[0] + y * M[3] + z * M[6];
          v[p + 1] = x * M[1] + y * M[4] + z * M[7];
          v[p + 2] = x * M[2] + y * M[5] + z * M[8];
        }
      };
      const h = Float64Array.from(system.cell.matrix);
      apply(h);
      apply(system.positions);
      system.cell.setMatrix(h);
    };
    strain(0.004);
    expect(nl.update(system), 'small strain reuses the list').toBe(false);
    expectCovers(nl, system, cutoff);
    strain(0.05);
    expect(nl.update(system), 'large strain rebuilds').toBe(true);
    expectExact(nl, system, cutoff + skin);
    // A new cell object (as an NPT integrator might assign) is followed too.
    system.cell = new Cell(Array.from(system.cell.matrix, (v) => v * 1.08));
    system.positions.forEach((v, k) => (system.positions[k] = v * 1.08));
    nl.update(system);
    expectCovers(nl, system, cutoff);
  });

  it('follows a LAMMPS-like rebuild policy (every, delay, check)', () => {
    const rng = new Rng(47);
    const cell = new Cell(rotate([11, 0, 0, 4, 10, 0, -3, 2, 9], rng));
    const start = randomSystem(cell, 40, rng);
    const cutoff = 4, skin = 1;
    const dir = Array.from({ length: 3 * start.n }, () => rng.normal());
    // Every atom moves 0.2·skin per update along its own direction, so skin/2 is
    // passed on the third update after a build.
    const move = (system: System) => {
      for (let i = 0; i < system.n; i++) {
        const norm = Math.hypot(dir[3 * i], dir[3 * i + 1], dir[3 * i + 2]);
        for (let c = 0; c < 3; c++) system.positions[3 * i + c] += (0.2 * skin * dir[3 * i + c]) / norm;
      }
    };
    const schedule = (rebuild: { every?: number; delay?: number; check?: boolean }, updates: number) => {
      const system = start.clone();
      const nl = new NeighborList({ cutoff, skin, half: true, full: true, rebuild });
      nl.update(system);
      const built: number[] = [];
      let last = 0;
      for (let u = 1; u <= updates; u++) {
        move(system);
        if (nl.update(system)) {
          built.push(u);
          last = u;
          expectExact(nl, system, cutoff + skin);
        } else if (u - last <= 2) {
          expectCovers(nl, system, cutoff); // moved ≤ 0.4·skin since the build
        }
      }
      return { built, dangerous: nl.dangerousBuilds };
    };
    // Default: checked at every update, rebuilt when skin/2 is passed (0.6·skin at the third).
    expect(schedule({}, 12)).toEqual({ built: [3, 6, 9, 12], dangerous: 0 });
    // Checked only every 2nd update: 0.4·skin at the 2nd, 0.8·skin at the 4th.
    expect(schedule({ every: 2 }, 12)).toEqual({ built: [4, 8, 12], dangerous: 0 });
    // Not before 5 updates since the last build (delay, as in LAMMPS), checked at each after;
    // each build came at the first update allowed, so LAMMPS calls it dangerous.
    expect(schedule({ delay: 5 }, 12)).toEqual({ built: [5, 10], dangerous: 2 });
    // No check: every 2nd update unconditionally, none dangerous (0.4·skin < skin/2) ...
    expect(schedule({ every: 2, check: false }, 8)).toEqual({ built: [2, 4, 6, 8], dangerous: 0 });
    // ... and every 4th, each one dangerous (0.8·skin moved).
    expect(schedule({ every: 4, check: false }, 8)).toEqual({ built: [4, 8], dangerous: 2 });
    expect(() => new NeighborList({ cutoff, half: true, rebuild: { every: 0 } })).toThrow(/rebuild.every/);
    expect(() => new NeighborList({ cutoff, half: true, rebuild: { delay: 1.5 } })).toThrow(/rebuild.delay/);
  });

  it('rejects bad parameters and absurd cutoffs with clear errors', () => {
    expect(() => new NeighborList({ cutoff: -1, half: true })).toThrow(/cutoff/);
    expect(() => new NeighborList({ cutoff: 3, skin: -0.1, half: true })).toThrow(/skin/);
    expect(() => new NeighborList({ cutoff: 3 })).toThrow(/half list/);
    const system = randomSystem(Cell.orthorhombic(1, 10, 10), 3, new Rng(1));
    expect(() => lists(15, 1).update(system)).toThrow(/periodic images/);
  });
});
