/**
 * LJ and Morse forces and virial against central finite differences of the energy,
 * in a skewed triclinic cell (and a thin one, where atoms meet their own images).
 *
 * Forces: f_kc = −[E(x + h e_kc) − E(x − h e_kc)]/(2h), h = 1e-4 Å; metric
 * max |f − f_fd| ≤ 1e-6 · max |f|.
 * Virial: a homogeneous deformation x → x·(I + ε), h → h·(I + ε) (row vectors) gives
 * ∂E/∂ε_ab = −Σ_k x_ka f_kb = −W_ab, i.e. the stress σ = (1/V) ∂E/∂ε = −W/V. Each
 * Voigt component is checked with a single non-symmetric strain entry ε_ab = ±δ,
 * δ = 1e-6; metric max |W − W_fd| ≤ 1e-6 · max |W|.
 * Plain (unshifted) potentials jump at the cutoff, so the configurations are checked
 * to have no pair within 1e-3 Å of it (then no finite-difference step crosses it).
 */
import { describe, expect, it } from 'vitest';
import { Cell } from '../src/cell.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';
import { stress } from '../src/thermo.ts';
import { LennardJones } from '../potentials/lj.ts';
import { Morse } from '../potentials/morse.ts';
import type { Potential } from '../potentials/potential.ts';

function randomSystem(cell: Cell, n: number, dmin: number, rng: Rng): System {
  const x: number[] = [];
  const h = cell.matrix;
  let tries = 0;
  while (x.length < 3 * n) {
    if (++tries > 1e5) throw new Error('cannot place atoms');
    const r = cell.toCartesian([rng.uniform(), rng.uniform(), rng.uniform()]);
    let ok = true;
    for (let j = 0; j < x.length && ok; j += 3)
      for (let a = -2; a <= 2 && ok; a++) for (let b = -2; b <= 2 && ok; b++) for (let c = -2; c <= 2 && ok; c++) {
        const dx = r[0] - x[j] + a * h[0] + b * h[3] + c * h[6];
        const dy = r[1] - x[j + 1] + a * h[1] + b * h[4] + c * h[7];
        const dz = r[2] - x[j + 2] + a * h[2] + b * h[5] + c * h[8];
        if (dx * dx + dy * dy + dz * dz < dmin * dmin) ok = false;
      }
    if (ok) x.push(r[0], r[1], r[2]);
  }
  return new System({ symbols: Array(n).fill('Ar'), positions: x, cell });
}

/** Smallest |r − rc| over all pairs and images (brute force). */
function closestToCutoff(system: System, rc: number): number {
  const { n, positions: x } = system, h = system.cell.matrix;
  const R = [0, 1, 2].map((a) => Math.ceil(rc / system.cell.heights()[a]) + 1);
  let best = Infinity;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++)
    for (let a = -R[0]; a <= R[0]; a++) for (let b = -R[1]; b <= R[1]; b++) for (let c = -R[2]; c <= R[2]; c++) {
      if (i === j && a === 0 && b === 0 && c === 0) continue;
      const d = [0, 1, 2].map((k) => x[3 * j + k] - x[3 * i + k] + a * h[k] + b * h[3 + k] + c * h[6 + k]);
      best = Math.min(best, Math.abs(Math.hypot(d[0], d[1], d[2]) - rc));
    }
  return best;
}

function checkForces(system: System, potential: Potential): number {
  const ev = new ForceEvaluator(potential, { skin: 0.5 });
  ev.evaluate(system);
  const f = Float64Array.from(system.forces);
  const x0 = Float64Array.from(system.positions);
  const h = 1e-4;
  let fmax = 0, err = 0;
  for (let k = 0; k < x0.length; k++) {
    system.positions.set(x0); system.positions[k] += h;
    const ep = ev.evaluate(system).energy;
    system.positions.set(x0); system.positions[k] -= h;
    const em = ev.evaluate(system).energy;
    const fd = -(ep - em) / (2 * h);
    fmax = Math.max(fmax, Math.abs(f[k]));
    err = Math.max(err, Math.abs(fd - f[k]));
  }
  system.positions.set(x0);
  expect(fmax).toBeGreaterThan(1e-3);
  return err / fmax;
}

const VOIGT: [number, number][] = [[0, 0], [1, 1], [2, 2], [1, 2], [0, 2], [0, 1]];

function checkVirial(system: System, potential: Potential): number {
  const ev = new ForceEvaluator(potential, { skin: 0.5 });
  const W = Float64Array.from(ev.evaluate(system).virial);
  // The evaluator's virial and thermo.stress agree on σ = −W/V (no kinetic part).
  const sigma = stress(system, W, false);
  for (let v = 0; v < 6; v++) expect(sigma[v]).toBeCloseTo(-W[v] / system.cell.volume, 14);
  const x0 = Float64Array.from(system.positions), h0 = Float64Array.from(system.cell.matrix);
  const delta = 1e-6;
  const energyAt = (a: number, b: number, e: number): number => {
    // x' = x·(I + ε) with ε_ab = e only: component b gains e·x_a.
    const x = system.positions;
    x.set(x0);
    for (let p = 0; p < x.length; p += 3) x[p + b] += e * x0[p + a];
    const h = Float64Array.from(h0);
    for (let r = 0; r < 3; r++) h[3 * r + b] += e * h0[3 * r + a];
    system.cell.setMatrix(h);
    return ev.evaluate(system).energy;
  };
  let wmax = 0, err = 0;
  for (let v = 0; v < 6; v++) {
    const [a, b] = VOIGT[v];
    const fd = -(energyAt(a, b, delta) - energyAt(a, b, -delta)) / (2 * delta);
    wmax = Math.max(wmax, Math.abs(W[v]));
    err = Math.max(err, Math.abs(fd - W[v]));
  }
  system.positions.set(x0);
  system.cell.setMatrix(h0);
  expect(wmax).toBeGreaterThan(1e-3);
  return err / wmax;
}

const TOL = 1e-6;
const ljArgs = { epsilon: 0.0104, sigma: 3.405 };
const morseArgs = { D: 0.3429, alpha: 1.3588, r0: 2.866 };

describe('pair potentials against finite differences', () => {
  const skewedBase = randomSystem(Cell.lammps(13, 12, 11, 6, -5.5, 5), 45, 2.9, new Rng(3));
  const thinBase = randomSystem(new Cell([7, 0, 0, 3, 6.5, 0, -2, 1, 6]), 6, 2.9, new Rng(4));
  const skewed = () => skewedBase.clone();
  const thin = () => thinBase.clone();

  for (const [name, make, rc] of [
    ['LJ', (rc: number) => new LennardJones({ ...ljArgs, cutoff: rc }), 8.15],
    ['shifted LJ', (rc: number) => new LennardJones({ ...ljArgs, cutoff: rc, shift: true }), 8.15],
    ['Morse', (rc: number) => new Morse({ ...morseArgs, cutoff: rc }), 6.5],
    ['shifted Morse', (rc: number) => new Morse({ ...morseArgs, cutoff: rc, shift: true }), 6.5],
  ] as const) {
    it(`${name}: forces and virial in a skewed triclinic cell`, () => {
      const system = skewed();
      expect(closestToCutoff(system, rc)).toBeGreaterThan(1e-3);
      expect(checkForces(system, make(rc))).toBeLessThanOrEqual(TOL);
      expect(checkVirial(system, make(rc))).toBeLessThanOrEqual(TOL);
    });

    it(`${name}: forces and virial in a cell thinner than the cutoff`, () => {
      const system = thin();
      expect(Math.min(...system.cell.heights())).toBeLessThan(rc);
      expect(closestToCutoff(system, rc)).toBeGreaterThan(1e-3);
      expect(checkForces(system, make(rc))).toBeLessThanOrEqual(TOL);
      expect(checkVirial(system, make(rc))).toBeLessThanOrEqual(TOL);
    });
  }

  it('per-atom energies sum to the energy; parameters are validated by name', () => {
    const system = skewed();
    const ev = new ForceEvaluator(new LennardJones({ ...ljArgs, cutoff: 8 })).evaluate(system, { atomEnergies: true });
    const sum = ev.atomEnergies!.reduce((s, e) => s + e, 0);
    expect(Math.abs(sum - ev.energy)).toBeLessThan(1e-12 * Math.abs(ev.energy));
    expect(() => new LennardJones({ ...ljArgs, cutoff: -1 })).toThrow(/cutoff/);
    expect(() => new Morse({ ...morseArgs, alpha: Number.NaN, cutoff: 5 })).toThrow(/alpha/);
  });
});
