/**
 * Minimisers (FIRE, L-BFGS) and the cell filter: generalised forces against central
 * finite differences of the objective, fcc argon (LJ) relaxed with the cell against
 * LAMMPS `minimize` + `fix box/relax iso`, and a rattled, strained triclinic crystal
 * relaxed to a true minimum (finite-difference Hessian positive semidefinite).
 */
import { describe, expect, it } from 'vitest';
import { lattice } from '../src/lattice.ts';
import { Cell } from '../src/cell.ts';
import { System } from '../src/system.ts';
import { LennardJones } from '../potentials/lj.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { Rng } from '../src/rng.ts';
import { stress } from '../src/thermo.ts';
import { EV_PER_A3_TO_GPA } from '../src/units.ts';
import { CellFilter } from '../integrators/minimize/cell-filter.ts';
import { PositionTarget, type MinimizeTarget } from '../integrators/minimize/target.ts';
import { lbfgs } from '../integrators/minimize/lbfgs.ts';
import { fire } from '../integrators/minimize/fire.ts';
import { createFuncflEam } from '../potentials/eam/eam.ts';
import { hasLammps } from './oracles/available.ts';
import { lammpsData, lammpsPreamble, runLammps, thermoRows } from './oracles/lammps.ts';

const EPS = 0.0104, SIGMA = 3.4, RC = 8.5;
const argonLj = () => new ForceEvaluator(new LennardJones({ epsilon: EPS, sigma: SIGMA, cutoff: RC }), { skin: 1 });

/** Objective at x (restores nothing). */
function objectiveAt(t: MinimizeTarget, x: Float64Array): number {
  t.setX(x);
  return t.evaluate(new Float64Array(t.size));
}

/** Rattled 2×2×2 fcc-primitive (triclinic) argon supercell, cell strained. */
function rattledTriclinic(seed: number): System {
  const a = 5.3, rng = new Rng(seed);
  const prim = [0, a / 2, a / 2, a / 2, 0, a / 2, a / 2, a / 2, 0];
  // Random strain of a few per cent, then a supercell 2×2×2 of the one-atom cell.
  const e = Array.from({ length: 9 }, () => 0.04 * (rng.uniform() - 0.5));
  const h = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    let s = 0;
    for (let k = 0; k < 3; k++) s += prim[3 * i + k] * ((k === j ? 1 : 0) + e[3 * k + j]);
    h[3 * i + j] = s;
  }
  const positions: number[] = [], symbols: string[] = [];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 2; k++) {
    for (let d = 0; d < 3; d++) positions.push(i * h[d] + j * h[3 + d] + k * h[6 + d] + 0.15 * (rng.uniform() - 0.5));
    symbols.push('Ar');
  }
  return new System({ symbols, positions, cell: new Cell(Array.from(h, (v) => 2 * v)) });
}

describe('cell filter generalised forces', () => {
  it('are minus the central finite differences of the objective (enthalpy at 2 GPa, non-hydrostatic target too)', () => {
    for (const options of [{ pressure: 2 }, { stress: [0.5, -0.3, 0.2, 0.1, -0.2, 0.3] }, { pressure: -0.5, hydrostatic: true }]) {
      const system = rattledTriclinic(3);
      const t = new CellFilter(system, argonLj(), options);
      const x = new Float64Array(t.size), f = new Float64Array(t.size);
      t.getX(x);
      // Move away from F = I so that the F⁻ᵀ factors matter.
      for (let k = 3 * system.n; k < t.size; k++) x[k] += 0.02 * system.n * Math.sin(7 * k);
      t.setX(x);
      t.evaluate(f);
      const h = 1e-5;
      for (let k = 0; k < t.size; k++) {
        // Hydrostatic mode projects the cell force onto the identity, and a non-hydrostatic target's
        // deviatoric part is not in the objective (see cell-filter.ts): there only the atomic components
        // are exact gradients; the unprojected, hydrostatic-target case checks the cell components.
        if ((options.hydrostatic || options.stress) && k >= 3 * system.n) continue;
        const xp = Float64Array.from(x), xm = Float64Array.from(x);
        xp[k] += h; xm[k] -= h;
        const fd = -(objectiveAt(t, xp) - objectiveAt(t, xm)) / (2 * h);
        expect(Math.abs(f[k] - fd), `component ${k}: analytic ${f[k]}, fd ${fd}`).toBeLessThan(1e-7 + 1e-6 * Math.abs(fd));
      }
      if (options.hydrostatic) {
        // Along the identity in deformation space the projected force is the exact directional derivative.
        const n3 = 3 * system.n, xp = Float64Array.from(x), xm = Float64Array.from(x);
        for (const k of [0, 4, 8]) { xp[n3 + k] += h; xm[n3 + k] -= h; }
        const fd = -(objectiveAt(t, xp) - objectiveAt(t, xm)) / (2 * h);
        const analytic = f[n3] + f[n3 + 4] + f[n3 + 8];
        expect(Math.abs(analytic - fd), `hydrostatic: analytic ${analytic}, fd ${fd}`).toBeLessThan(1e-7 + 1e-6 * Math.abs(fd));
      }
    }
  });
});

describe('fcc argon (LJ 12-6, rc 8.5 Å) relaxed with the cell, against LAMMPS minimize + fix box/relax iso', () => {
  for (const pressureGPa of [0, 1]) {
    it.skipIf(!hasLammps())(`P = ${pressureGPa} GPa: lattice constant and energy per atom agree to 1e-6 (L-BFGS and FIRE)`, () => {
      const start = lattice('fcc', { element: 'Ar', a: 5.6, repeat: 2 });
      const data = lammpsData({ cell: start.cell.matrix, positions: start.positions, species: start.species, elements: start.elements, masses: [39.948] });
      const input = [
        lammpsPreamble(), `pair_style lj/cut ${RC}`, `pair_coeff * * ${EPS} ${SIGMA}`, 'neighbor 1.0 bin',
        'thermo_style custom step pe lx press', 'thermo_modify format float %.17g',
        `fix r all box/relax iso ${pressureGPa * 1e4} vmax 0.001`, 'min_modify line quadratic', 'minimize 0 1e-14 10000 100000',
      ].join('\n');
      const rows = thermoRows(runLammps(input, { data }).log);
      const [, peRef, lxRef] = rows[rows.length - 1];
      const aRef = lxRef / 2, eRef = peRef / start.n;
      for (const [name, method] of [['L-BFGS', lbfgs], ['FIRE', fire]] as const) {
        const system = lattice('fcc', { element: 'Ar', a: 5.6, repeat: 2 });
        const r = method(new CellFilter(system, argonLj(), { pressure: pressureGPa, hydrostatic: true }), { fmax: 1e-8, smax: 1e-7, maxSteps: 1000 });
        const a = system.cell.matrix[0] / 2, e = r.energy / system.n;
        console.log(`${name} P=${pressureGPa} GPa: ${r.steps} steps, a = ${a} (LAMMPS ${aRef}), E/atom = ${e} (LAMMPS ${eRef})`);
        expect(r.converged).toBe(true);
        expect(Math.abs(a / aRef - 1)).toBeLessThan(1e-6);
        expect(Math.abs(e / eRef - 1)).toBeLessThan(1e-6);
        // The path starts at the initial structure and ends at the result.
        expect(r.path.length).toBe(r.steps + 1);
        expect(r.path[r.path.length - 1].energy).toBe(r.energy);
      }
    });
  }
});

describe('fcc copper (EAM Cu_u3.eam) relaxed with the cell, against LAMMPS minimize + fix box/relax iso 0.0', () => {
  it.skipIf(!hasLammps())('lattice constant and cohesive energy agree to 1e-6 (L-BFGS and FIRE)', () => {
    const start = lattice('fcc', { element: 'Cu', a: 3.7, repeat: 2 });
    const data = lammpsData({ cell: start.cell.matrix, positions: start.positions, species: start.species, elements: start.elements, masses: [63.55] });
    const input = [
      lammpsPreamble(), 'pair_style eam', 'pair_coeff 1 1 Cu_u3.eam', 'neighbor 1.0 bin',
      'thermo_style custom step pe lx press', 'thermo_modify format float %.17g',
      'fix r all box/relax iso 0.0 vmax 0.001', 'min_modify line quadratic', 'minimize 0 1e-12 1000 10000', // stops on ftol in ~26 iterations
    ].join('\n');
    const rows = thermoRows(runLammps(input, { data }).log);
    const [, peRef, lxRef] = rows[rows.length - 1];
    const aRef = lxRef / 2, eRef = peRef / start.n;
    for (const [name, method] of [['L-BFGS', lbfgs], ['FIRE', fire]] as const) {
      const system = lattice('fcc', { element: 'Cu', a: 3.7, repeat: 2 });
      const forces = new ForceEvaluator(createFuncflEam({ kind: 'eam', files: { Cu: 'Cu_u3.eam' } }), { skin: 1 });
      const r = method(new CellFilter(system, forces, { hydrostatic: true }), { fmax: 1e-8, smax: 1e-7, maxSteps: 1000 });
      const a = system.cell.matrix[0] / 2, e = r.energy / system.n;
      console.log(`${name} Cu_u3: ${r.steps} steps, a = ${a} (LAMMPS ${aRef}), E/atom = ${e} (LAMMPS ${eRef})`);
      expect(r.converged).toBe(true);
      expect(Math.abs(a / aRef - 1)).toBeLessThan(1e-6);
      expect(Math.abs(e / eRef - 1)).toBeLessThan(1e-6);
    }
    // Published values for Foiles–Baskes–Daw Cu_u3 (Foiles et al., PRB 33, 7983 (1986)): a = 3.615 Å, E_coh = 3.54 eV.
    expect(Math.abs(aRef - 3.615)).toBeLessThan(0.005);
    expect(Math.abs(eRef + 3.54)).toBeLessThan(0.01);
  });
});

describe('relaxing a rattled, strained triclinic crystal with the full cell', () => {
  for (const [name, method] of [['L-BFGS', lbfgs], ['FIRE', fire]] as const) {
    it(`${name} converges to a true minimum at the target stress`, () => {
      const system = rattledTriclinic(1);
      const forces = argonLj();
      const target = [0.05, 0, 0, 0, 0, 0.02]; // GPa: a little uniaxial tension and xy shear
      const t = new CellFilter(system, forces, { stress: target });
      const start = forces.evaluate(system.clone()).energy;
      const r = method(t, { fmax: 1e-5, smax: 1e-5, maxSteps: 3000 });
      console.log(`${name}: ${r.steps} steps, E ${start} → ${r.energy} eV, fmax ${r.fmax}, smax ${r.smax}`);
      expect(r.converged).toBe(true);
      expect(r.fmax).toBeLessThanOrEqual(1e-5);
      expect(r.energy).toBeLessThan(start);
      // Independent stress from src/thermo.ts at the result equals the target.
      const ev = forces.evaluate(system);
      const s = stress(system, ev.virial, false);
      for (let v = 0; v < 6; v++) expect(Math.abs(s[v] * EV_PER_A3_TO_GPA - target[v])).toBeLessThan(2e-5);

      // True minimum of the position-only energy (fixed relaxed cell): the finite-difference Hessian of
      // E(positions) has 3 zero modes (translations) and is otherwise positive definite.
      const pt = new PositionTarget(system, forces);
      const n3 = 3 * system.n, x0 = new Float64Array(n3), fp = new Float64Array(n3), fm = new Float64Array(n3);
      pt.getX(x0);
      const H = new Float64Array(n3 * n3), h = 1e-4;
      for (let k = 0; k < n3; k++) {
        const x = Float64Array.from(x0);
        x[k] += h; pt.setX(x); pt.evaluate(fp);
        x[k] -= 2 * h; pt.setX(x); pt.evaluate(fm);
        for (let j = 0; j < n3; j++) H[j * n3 + k] = -(fp[j] - fm[j]) / (2 * h);
      }
      pt.setX(x0);
      for (let i = 0; i < n3; i++) for (let j = 0; j < i; j++) { const m = 0.5 * (H[i * n3 + j] + H[j * n3 + i]); H[i * n3 + j] = H[j * n3 + i] = m; }
      const eig = jacobiEigenvalues(H, n3).sort((p, q) => p - q);
      const top = eig[n3 - 1];
      expect(eig[0]).toBeGreaterThan(-1e-6 * top);
      expect(eig[3]).toBeGreaterThan(1e-3 * top); // only the 3 translations are soft
      // And the enthalpy-like objective rises along random joint moves of atoms and cell.
      const xt = new Float64Array(t.size);
      t.getX(xt);
      const e0 = objectiveAt(t, xt), rng = new Rng(9);
      for (let trial = 0; trial < 10; trial++) {
        const d = Float64Array.from(xt, () => rng.normal() * 1e-3);
        const ep = objectiveAt(t, xt.map((v, k) => v + d[k]));
        const em = objectiveAt(t, xt.map((v, k) => v - d[k]));
        expect(ep + em - 2 * e0).toBeGreaterThan(0);
      }
    });
  }
});

describe('relaxing positions at fixed cell', () => {
  it('brings a rattled fcc crystal back to the perfect-lattice energy', () => {
    const perfect = lattice('fcc', { element: 'Ar', a: 5.3, repeat: 2 });
    const e0 = argonLj().evaluate(perfect).energy;
    for (const method of [lbfgs, fire]) {
      const system = lattice('fcc', { element: 'Ar', a: 5.3, repeat: 2 });
      const rng = new Rng(4);
      for (let k = 0; k < system.positions.length; k++) system.positions[k] += 0.2 * (rng.uniform() - 0.5);
      const r = method(new PositionTarget(system, argonLj()), { fmax: 1e-6 });
      expect(r.converged).toBe(true);
      expect(r.path[0].energy).toBeGreaterThan(e0);
      expect(Math.abs(r.energy - e0)).toBeLessThan(1e-10 * Math.abs(e0));
    }
  });

  it('rejects bad criteria and stops at maxSteps without claiming convergence', () => {
    const system = lattice('fcc', { element: 'Ar', a: 5.3, repeat: 2 });
    system.positions[0] += 0.3;
    expect(() => lbfgs(new PositionTarget(system, argonLj()), { fmax: 0 })).toThrow(/L-BFGS: fmax must be a positive/);
    expect(() => fire(new PositionTarget(system, argonLj()), { maxSteps: -1 })).toThrow(/FIRE: maxSteps/);
    const r = fire(new PositionTarget(system, argonLj()), { fmax: 1e-8, maxSteps: 3 });
    expect(r.converged).toBe(false);
    expect(r.steps).toBe(3);
    expect(r.path.length).toBe(4);
  });
});

/** Eigenvalues of a symmetric n×n matrix (cyclic Jacobi rotations). */
function jacobiEigenvalues(M: Float64Array, n: number): number[] {
  const A = Float64Array.from(M);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) {
      const apq = A[p * n + q];
      if (Math.abs(apq) < 1e-300) continue;
      const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
      const tt = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(tt * tt + 1), s = tt * c;
      for (let k = 0; k < n; k++) {
        const akp = A[k * n + p], akq = A[k * n + q];
        A[k * n + p] = c * akp - s * akq; A[k * n + q] = s * akp + c * akq;
      }
      for (let k = 0; k < n; k++) {
        const apk = A[p * n + k], aqk = A[q * n + k];
        A[p * n + k] = c * apk - s * aqk; A[q * n + k] = s * apk + c * aqk;
      }
    }
  }
  return Array.from({ length: n }, (_, i) => A[i * n + i]);
}
