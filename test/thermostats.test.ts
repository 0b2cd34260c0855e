/**
 * Thermostats: canonical kinetic-energy statistics (mean (N_f/2)kT and variance
 * (N_f/2)(kT)²) for CSVR, Nosé–Hoover chains and Langevin, the non-canonical
 * (suppressed) variance of Berendsen, conserved-quantity drift, defaults and
 * checkpoint continuity. System: 32 argon atoms (fcc, LJ) at 70 K — a solid with
 * enough anharmonicity for the deterministic thermostat to be ergodic.
 *
 * K is the kinetic energy of the motion relative to the centre of mass, whose
 * canonical distribution has N_f = 3n − 3 degrees of freedom whatever the thermostat
 * does to the total momentum (Langevin randomises it; the others conserve it at 0).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lattice } from '../src/lattice.ts';
import { LennardJones } from '../potentials/lj.ts';
import { ForceEvaluator, type Evaluation } from '../src/forces.ts';
import { Rng } from '../src/rng.ts';
import { kB, MVV_TO_EV, FS_PER_PS } from '../src/units.ts';
import type { System } from '../src/system.ts';
import type { Integrator } from '../integrators/integrator.ts';
import { Csvr, gammaDeviate } from '../integrators/csvr.ts';
import { NoseHoover } from '../integrators/nose-hoover.ts';
import { Berendsen } from '../integrators/berendsen.ts';
import { Langevin } from '../integrators/langevin.ts';
import { NoseHooverChain } from '../integrators/nhc.ts';
import { DEFAULT_DAMPING_STEPS, resolveDamping } from '../integrators/defaults.ts';

const T = 70;
const DT = 4;
const TAU = 20 * DT;
const EQUIL = 500;
const PROD = 16000;
const BLOCKS = 16;

function argon(): { system: System; forces: ForceEvaluator } {
  const system = lattice('fcc', { element: 'Ar', a: 5.3, repeat: 2 });
  system.setTemperature(T, new Rng(1));
  // Argon LJ (ε = 0.0104 eV, σ = 3.40 Å), cut at 2.5σ and shifted.
  const forces = new ForceEvaluator(new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 8.5, shift: true }), { skin: 1 });
  return { system, forces };
}

/** Kinetic energy relative to the centre of mass, eV. */
function internalKinetic(system: System): number {
  const v = system.velocities, m = system.masses;
  let px = 0, py = 0, pz = 0, mt = 0;
  for (let i = 0; i < system.n; i++) {
    px += m[i] * v[3 * i]; py += m[i] * v[3 * i + 1]; pz += m[i] * v[3 * i + 2]; mt += m[i];
  }
  return system.kineticEnergy() - (0.5 * (px * px + py * py + pz * pz) * MVV_TO_EV) / mt;
}

interface RunStats {
  n: number;
  mean: number; meanErr: number;
  variance: number; varianceErr: number;
  /** Conserved quantity sampled every 10 steps, with the time (ps). */
  conserved: number[]; times: number[];
}

/**
 * Runs EQUIL + PROD steps and returns mean and variance of K with standard errors
 * from BLOCKS block averages (blocks of 1000 steps = 4 ps, many times the K
 * correlation time): variance as the mean of (K − K̄)² with K̄ the overall mean.
 */
function sample(integrator: Integrator): RunStats {
  const { system, forces } = argon();
  let ev: Evaluation = forces.evaluate(system);
  const K = new Float64Array(PROD);
  const conserved: number[] = [], times: number[] = [];
  for (let s = 0; s < EQUIL + PROD; s++) {
    ev = integrator.step(system, forces, ev);
    if (s >= EQUIL) {
      K[s - EQUIL] = internalKinetic(system);
      if (s % 10 === 0 && integrator.conservedEnergy) {
        conserved.push(integrator.conservedEnergy(system, ev.energy));
        times.push(((s + 1) * DT) / FS_PER_PS);
      }
    }
  }
  let mean = 0;
  for (const k of K) mean += k;
  mean /= PROD;
  const len = PROD / BLOCKS;
  const bm: number[] = [], bv: number[] = [];
  for (let b = 0; b < BLOCKS; b++) {
    let m = 0, v = 0;
    for (let t = b * len; t < (b + 1) * len; t++) { m += K[t]; v += (K[t] - mean) ** 2; }
    bm.push(m / len); bv.push(v / len);
  }
  const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const sem = (a: number[]) => { const m = avg(a); return Math.sqrt(a.reduce((x, y) => x + (y - m) ** 2, 0) / (a.length - 1) / a.length); };
  return { n: system.n, mean, meanErr: sem(bm), variance: avg(bv), varianceErr: sem(bv), conserved, times };
}

/** Least-squares slope of y against x. */
function slope(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length, my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < x.length; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; }
  return sxy / sxx;
}

const NF = 3 * 32 - 3;
const kT = kB * T;
const MEAN = 0.5 * NF * kT;
const VAR = 0.5 * NF * kT * kT;
/** Allowed deviation in standard errors, and the largest acceptable standard error (so the test can fail). */
const Z = 4;

function expectCanonical(name: string, r: RunStats): void {
  const msg = `${name}: <K>/canonical = ${(r.mean / MEAN).toFixed(4)} ± ${(r.meanErr / MEAN).toFixed(4)}, ` +
    `var(K)/canonical = ${(r.variance / VAR).toFixed(4)} ± ${(r.varianceErr / VAR).toFixed(4)}`;
  console.log(msg);
  expect(r.meanErr / MEAN, msg).toBeLessThan(0.01);
  expect(r.varianceErr / VAR, msg).toBeLessThan(0.1);
  expect(Math.abs(r.mean - MEAN), msg).toBeLessThan(Z * r.meanErr);
  expect(Math.abs(r.variance - VAR), msg).toBeLessThan(Z * r.varianceErr);
}

/** Bound on the linear drift of the conserved quantity: 1e-6 eV per atom per ps (≈ 1.7e-4 kT/ps at 70 K). */
const DRIFT_BOUND = 1e-6;

describe('canonical kinetic-energy distribution (32 Ar, 70 K, 64 ps)', () => {
  it('CSVR samples the canonical mean and variance, and conserves its effective energy', () => {
    const r = sample(new Csvr({ dt: DT, temperature: T, damping: TAU, seed: 7 }));
    expectCanonical('CSVR', r);
    const drift = slope(r.times, r.conserved) / r.n;
    console.log(`CSVR effective-energy drift ${drift.toExponential(2)} eV/atom/ps`);
    expect(Math.abs(drift)).toBeLessThan(DRIFT_BOUND);
  });

  it('Nosé–Hoover chain samples the canonical mean and variance, and conserves its extended energy', () => {
    const r = sample(new NoseHoover({ dt: DT, temperature: T, damping: TAU }));
    expectCanonical('NHC', r);
    const drift = slope(r.times, r.conserved) / r.n;
    console.log(`NHC conserved-energy drift ${drift.toExponential(2)} eV/atom/ps`);
    expect(Math.abs(drift)).toBeLessThan(DRIFT_BOUND);
  });

  it('Langevin (BAOAB) samples the canonical mean and variance', () => {
    expectCanonical('Langevin', sample(new Langevin({ dt: DT, temperature: T, damping: TAU, seed: 3 })));
  });

  it('Berendsen reproduces the mean but NOT the canonical variance (it suppresses fluctuations)', () => {
    const r = sample(new Berendsen({ dt: DT, temperature: T, damping: TAU }));
    console.log(`Berendsen: <K>/canonical = ${(r.mean / MEAN).toFixed(4)}, var(K)/canonical = ${(r.variance / VAR).toFixed(4)} ± ${(r.varianceErr / VAR).toFixed(4)}`);
    expect(Math.abs(r.mean - MEAN) / MEAN).toBeLessThan(0.02);
    // Clearly below canonical: less than half of it, and by many standard errors.
    expect(r.variance).toBeLessThan(0.5 * VAR);
    expect(VAR - r.variance).toBeGreaterThan(10 * r.varianceErr);
  });
});

describe('gamma deviates used for the CSVR noise', () => {
  it('have the mean and variance of Gamma(k, 1) (both = k)', () => {
    const rng = new Rng(11);
    for (const k of [0.5, 1, 46.5]) {
      const N = 40000;
      let s = 0, s2 = 0;
      for (let i = 0; i < N; i++) { const g = gammaDeviate(rng, k); s += g; s2 += g * g; }
      const mean = s / N, variance = s2 / N - mean * mean;
      // Standard errors: √(k/N) for the mean, √((6k + 2k²)/N)·… for the variance (fourth central moment 3k² + 6k).
      expect(Math.abs(mean - k)).toBeLessThan(5 * Math.sqrt(k / N));
      expect(Math.abs(variance - k)).toBeLessThan(5 * Math.sqrt((2 * k * k + 6 * k) / N));
    }
  });
});

describe('Nosé–Hoover chain propagation', () => {
  it('with a kinetic energy held at the target, leaves the chain at rest and velocities unscaled', () => {
    const dof = 30;
    const c = new NoseHooverChain({ temperature: 300, damping: 100, dof });
    const s = c.propagate(dof * kB * 300, 0.5);
    expect(s).toBeCloseTo(1, 15);
    expect(Math.abs(c.energy())).toBeLessThan(1e-15);
  });

  it('heats a too-cold system: scale > 1 and the chain energy balances the kinetic change', () => {
    // Single-chain, one substep: an exactly solvable case. With vξ₂… = 0, G₁ = (2K − N_f kT)/Q₁.
    const dof = 12, T0 = 300, tau = 50, dt = 1;
    const c = new NoseHooverChain({ temperature: T0, damping: tau, dof, length: 1, order: 1 });
    const K2 = 0.5 * dof * kB * T0; // half the target 2K
    const s = c.propagate(K2, dt);
    const Q = dof * kB * T0 * tau * tau;
    const G = (K2 - dof * kB * T0) / Q;
    // Order-1 Trotter: v ← v + (dt/2)G; scale = exp(−dt·v); then v ← v + (dt/2)G'.
    const v1 = 0.5 * dt * G;
    expect(s).toBeCloseTo(Math.exp(-dt * v1), 14);
    const G2 = (K2 * s * s - dof * kB * T0) / Q;
    expect(c.velocities[0]).toBeCloseTo(v1 + 0.5 * dt * G2, 16);
    expect(c.positions[0]).toBeCloseTo(dt * v1, 16);
  });

  it('rejects bad options with a clear message', () => {
    expect(() => new NoseHooverChain({ temperature: 0, damping: 100, dof: 3 })).toThrow(/temperature/);
    expect(() => new NoseHooverChain({ temperature: 300, damping: NaN, dof: 3 })).toThrow(/damping/);
    expect(() => new NoseHooverChain({ temperature: 300, damping: 100, dof: 3, length: 0 })).toThrow(/length/);
    expect(() => new NoseHooverChain({ temperature: 300, damping: 100, dof: 3, order: 2 as 3 })).toThrow(/order/);
  });
});

describe('defaults, warnings and errors', () => {
  afterEach(() => vi.restoreAllMocks());

  it('defaults the damping to 100 time steps', () => {
    expect(DEFAULT_DAMPING_STEPS).toBe(100);
    expect(new Csvr({ dt: 2, temperature: 300 }).damping).toBe(200);
    expect(new NoseHoover({ dt: 0.5, temperature: 300 }).damping).toBe(50);
    expect(new Berendsen({ dt: 1, temperature: 300 }).damping).toBe(100);
  });

  it('warns once when the damping is shorter than 10 time steps', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    new NoseHoover({ dt: 1, temperature: 300, damping: 5 });
    new NoseHoover({ dt: 1, temperature: 300, damping: 5 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/Nosé–Hoover: damping 5 fs is shorter than 10 time steps/);
    new Csvr({ dt: 1, temperature: 300, damping: 10 }); // exactly 10 steps: fine
    expect(warn).toHaveBeenCalledTimes(1);
    resolveDamping('test thermostat', 2, 19.9);
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('rejects non-positive or non-finite damping and temperature, naming them', () => {
    for (const bad of [0, -10, NaN, Infinity]) {
      expect(() => new Csvr({ dt: 1, temperature: 300, damping: bad })).toThrow(/CSVR: damping must be a positive finite number/);
      expect(() => new NoseHoover({ dt: 1, temperature: bad })).toThrow(/Nosé–Hoover: temperature must be a positive finite/);
      expect(() => new Berendsen({ dt: 1, temperature: 300, damping: bad })).toThrow(/Berendsen: damping/);
    }
  });
});

describe('checkpoint continuity', () => {
  const restartCases: [string, () => Integrator][] = [
    ['CSVR', () => new Csvr({ dt: DT, temperature: T, damping: TAU, seed: 5 })],
    ['NHC', () => new NoseHoover({ dt: DT, temperature: T, damping: TAU })],
  ];
  for (const [name, make] of restartCases) {
    it(`${name}: a run restored from getState continues exactly as the uninterrupted one`, () => {
      const a = argon();
      const ia = make();
      let ev = a.forces.evaluate(a.system);
      for (let s = 0; s < 200; s++) ev = ia.step(a.system, a.forces, ev);
      const state = JSON.parse(JSON.stringify(ia.getState!()));
      // Fresh neighbour lists on both sides, so that force summation orders agree bit for bit.
      a.forces = argon().forces;
      ev = a.forces.evaluate(a.system);
      const b = { system: a.system.clone(), forces: argon().forces };
      const ib = make();
      ib.setState!(state);
      let evb = b.forces.evaluate(b.system);
      for (let s = 0; s < 200; s++) { ev = ia.step(a.system, a.forces, ev); evb = ib.step(b.system, b.forces, evb); }
      expect(Array.from(b.system.positions)).toEqual(Array.from(a.system.positions));
      expect(ib.conservedEnergy!(b.system, evb.energy)).toBe(ia.conservedEnergy!(a.system, ev.energy));
    });
  }
});
