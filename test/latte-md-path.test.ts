/**
 * The MD path of LATTE (LatteModel.evaluateMd, what LattePotential computes with)
 * against the general path (LatteModel.evaluate, which training uses and which is
 * kept as the oracle) and against finite differences of its own energy.
 */
import { describe, expect, it } from 'vitest';
import { WIDE_TRICLINIC, geSi, randomTriclinic } from './latte-fixtures.ts';
import { loadModel } from '../potentials/latte/io.ts';
import { LatteModel, type LatteConfig } from '../potentials/latte/model.ts';
import { LattePotential } from '../potentials/latte/potential.ts';
import { lit } from '../potentials/latte/mdgen.ts';
import { Cell } from '../src/cell.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { NeighborList } from '../src/neighbors.ts';
import { Rng } from '../src/rng.ts';
import { System } from '../src/system.ts';
import { evaluate, finiteDifferenceForceError, maxAbs, maxAbsDiff } from './manybody-oracle.ts';

/** Every rank up to 4, bodies up to 5-body, two species. */
const PATTERN = '3,-:3,a,a:2,ab,ab:2,a,b,ab:2,ab,bc,ca:1,a,b,c,abc:1,abcd,abcd';

/** Ranks ≤ 2 only (the MD path's backward then takes two neighbours per pass), odd function counts per rank group. */
const PATTERN_RANK2 = '3,-:3,a,a:3,ab,ab:2,a,b,ab';

/**
 * Rank-3 and rank-4 blocks (the MD path's rank group 3: rank 3 then rank 4, the rank-3
 * forward pass two functions at a time) with odd and even function counts per rank.
 */
const HIGH_PATTERNS = [
  '2,-:3,abc,abc:1,a,bc,abc:3,abcd,abcd', // rank 3: 7 functions, rank 4: 6
  '2,a,a:2,abc,abc:1,ab,cd,abcd', // rank 3: 4, rank 4: 1
  '2,-:3,abcd,abcd', // rank 4 only
  '1,ab,ab:3,abc,abc', // rank 3 only
] as const;

/** Two-species model with a width per function (so runs include functions narrower than their group's widest). */
function mixedWidthModel(extra: Partial<LatteConfig> = {}, seed = 5, descriptor = PATTERN): LatteModel {
  const model = new LatteModel({
    elements: ['Si', 'Ge'], cutoff: 4.5, descriptor, width: 1.2, trainWidths: true, widthMin: 0.5, widthMax: 1.6,
    hidden: [8, 4], activation: 'gaussian', ...extra,
  });
  model.initialise(seed);
  const rng = new Rng(seed + 50);
  const F = model.nFunctions, th = model.theta;
  for (let f = 0; f < F; f++) th[model.offWidths + f] = 0.5 + 1.1 * rng.uniform();
  for (let k = 0; k < model.nSpecies * F; k++) th[model.offCentres + k] = 0.6 + 3.3 * rng.uniform();
  model.clip();
  model.validate();
  for (let k = 0; k < model.mean.length; k++) { model.mean[k] = 0.1 * rng.normal(); model.invStd[k] = 0.5 + rng.uniform(); }
  model.e0[0] = -1.5;
  if (model.nSpecies > 1) model.e0[1] = -2.5;
  return model;
}

/** 12-atom triclinic Si/Ge cell with random positions. */
function randomStructure(seed = 7): System {
  return randomTriclinic(seed, 12, geSi, WIDE_TRICLINIC);
}

/** Energy, forces on the extended atoms and per-atom energies from both paths. */
function bothPaths(model: LatteModel, system: System, skin = 0.7) {
  const nl = new NeighborList({ cutoff: model.config.cutoff, skin, full: true });
  nl.update(system);
  const typeMap = Int32Array.from(system.elements, (e) => model.config.elements.indexOf(e));
  const fRef = new Float64Array(3 * nl.nTotal), eRef = new Float64Array(nl.nTotal);
  const fMd = new Float64Array(3 * nl.nTotal), eMd = new Float64Array(nl.nTotal);
  const energyRef = model.evaluate(nl, typeMap, { forces: fRef, atomEnergies: eRef });
  const energyMd = model.evaluateMd(nl, typeMap, fMd, eMd);
  return { nl, typeMap, energyRef, energyMd, fRef, fMd, eRef, eMd };
}

function expectSamePaths(model: LatteModel, system: System): void {
  const r = bothPaths(model, system);
  expect(maxAbs(r.fRef)).toBeGreaterThan(1e-2);
  expect(Math.abs(r.energyMd - r.energyRef)).toBeLessThanOrEqual(1e-12 * Math.abs(r.energyRef));
  expect(maxAbsDiff(r.eMd, r.eRef)).toBeLessThanOrEqual(1e-12 * maxAbs(r.eRef));
  expect(maxAbsDiff(r.fMd, r.fRef)).toBeLessThanOrEqual(1e-12 * maxAbs(r.fRef));
}

/**
 * The MD path's backward pass takes the neighbours of one species two at a time (a
 * left-over one alone): check that the structure gives atoms with odd and with even
 * neighbour counts (inside the cutoff) in some species, counted here from the positions.
 */
function expectOddAndEvenSegments(system: System, cutoff: number): void {
  const nl = new NeighborList({ cutoff, skin: 0, full: true });
  nl.update(system);
  const parities = new Set<number>();
  const x = nl.positions, off = nl.full!.offsets, nb = nl.full!.neighbors;
  for (let i = 0; i < system.n; i++) {
    const count = new Map<number, number>();
    for (let p = off[i]; p < off[i + 1]; p++) {
      const j = nb[p];
      const d = Math.hypot(x[3 * j] - x[3 * i], x[3 * j + 1] - x[3 * i + 1], x[3 * j + 2] - x[3 * i + 2]);
      if (d < cutoff && d > 0) count.set(nl.species[j], (count.get(nl.species[j]) ?? 0) + 1);
    }
    for (const c of count.values()) parities.add(c % 2);
  }
  expect([...parities].sort()).toEqual([0, 1]);
}

describe('LATTE MD path equals the general path (to 1e-12 relative)', () => {
  it('two species, ranks 0–4, a width per function', () => {
    expectSamePaths(mixedWidthModel(), randomStructure());
    expectSamePaths(mixedWidthModel({ activation: 'silu' }, 9), randomStructure(11));
  });

  it('two species, ranks ≤ 2 (neighbour pairs in the backward pass), a width per function', () => {
    expectSamePaths(mixedWidthModel({}, 31, PATTERN_RANK2), randomStructure(37));
    expectSamePaths(mixedWidthModel({ activation: 'tanh' }, 41, PATTERN_RANK2), randomStructure(43));
  });

  // mdloops.ts generates the loops for each maximum rank; ranks ≤ 0 and ≤ 1 have no rank-2 terms in b.
  // (Rank 0 alone: the hand-written backward pass before 3c18a5b gave zero MD forces.)
  it.each(['3,-:2,-', '3,-:3,a,a:2,a,a'])('maximum rank below 2: %s', (pattern) => {
    expectSamePaths(mixedWidthModel({}, 61, pattern), randomStructure(63));
    expectSamePaths(mixedWidthModel({ elements: ['Si'], activation: 'tanh' }, 65, pattern), randomTriclinic(67, 13, () => 'Si', WIDE_TRICLINIC));
  });

  it.each(HIGH_PATTERNS)('rank-3/4 blocks %s: two species (specific and embedding), one species', (pattern) => {
    const seed = 100 + 10 * HIGH_PATTERNS.indexOf(pattern);
    const two = randomStructure(seed);
    expectOddAndEvenSegments(two, 4.5);
    expectSamePaths(mixedWidthModel({}, seed + 1, pattern), two);
    expectSamePaths(mixedWidthModel({ speciesMode: 'embedding', embeddingDim: 3, activation: 'silu' }, seed + 2, pattern), two);
    const one = randomTriclinic(seed + 3, 13, () => 'Si', WIDE_TRICLINIC);
    expectOddAndEvenSegments(one, 4.5);
    expectSamePaths(mixedWidthModel({ elements: ['Si'], activation: 'tanh' }, seed + 4, pattern), one);
  });

  it('hidden layers not a multiple of the generated kernel\'s neuron groups (4), each activation', () => {
    // 7 and 5 neurons: groups of 4 with a partial group last; 3 and 1: a partial group alone.
    expectSamePaths(mixedWidthModel({ hidden: [7, 5] }, 71), randomStructure(72));
    expectSamePaths(mixedWidthModel({ hidden: [3, 1], activation: 'tanh' }, 73), randomStructure(74));
    expectSamePaths(mixedWidthModel({ hidden: [5], activation: 'silu' }, 75, PATTERN_RANK2), randomStructure(76));
  });

  it('weights that are exactly zero (left out of the generated code): scattered, a whole input column, a neuron\'s row, all of a neuron\'s outputs', () => {
    const model = mixedWidthModel({ hidden: [6, 5] }, 77);
    const D = model.nDescriptors, th = model.theta, rng = new Rng(78);
    for (let t = 0; t < model.nSpecies; t++) {
      const w0 = model.layerOffset[3 * t], w1 = model.layerOffset[3 * t + 1], w2 = model.layerOffset[3 * t + 2];
      for (let k = w0; k < w2 + 5; k++) if (rng.uniform() < 0.3) th[k] = 0;
      for (let k = 0; k < 6; k++) th[w0 + k * D + 2] = 0; // input 2 feeds nothing: its ∂E/∂G sum is empty
      for (let q = 0; q < D; q++) th[w0 + 4 * D + q] = 0; // neuron 4 of layer 1 sees only its bias
      for (let k = 0; k < 5; k++) th[w1 + k * 6 + 1] = 0; // neuron 1 of layer 1 feeds nothing
      th[w2 + 3] = -0;
    }
    expectSamePaths(model, randomStructure(79));
  });

  it('functions merged in the MD path (same rank, centre and width, proportional species weights) and those that must not be', () => {
    // PATTERN_RANK2 functions: rank 0: 0–2; rank 1: 3–8 (a,a), 15–18 (a,b,ab); rank 2: 9–14, 19–20.
    const model = mixedWidthModel({}, 53, PATTERN_RANK2);
    const F = model.nFunctions, ns = model.nSpecies, th = model.theta;
    const w = (p: number, f: number) => model.offWeights + p * F + f;
    const copyShape = (from: number, to: number) => {
      th[model.offWidths + to] = th[model.offWidths + from];
      for (let t = 0; t < ns; t++) th[model.offCentres + t * F + to] = th[model.offCentres + t * F + from];
    };
    // Merged: 6 into 3 (rank 1, ratio 2.5 for every species pair), 19 into 9 (rank 2, ratio −0.8).
    copyShape(3, 6);
    copyShape(9, 19);
    for (let p = 0; p < ns * ns; p++) { th[w(p, 6)] = 2.5 * th[w(p, 3)]; th[w(p, 19)] = -0.8 * th[w(p, 9)]; }
    // Not merged: 15 has 3's shape but its weights are not in one ratio across neighbour species.
    copyShape(3, 15);
    for (let t = 0; t < ns; t++) { th[w(t * ns, 15)] = 1.5 * th[w(t * ns, 3)]; th[w(t * ns + 1, 15)] = 0.7 * th[w(t * ns + 1, 3)]; }
    // Rank 0: 0 has all-zero weights, so 1 (same shape) is not merged into it; 2 is merged into 1.
    copyShape(0, 1);
    copyShape(0, 2);
    for (let p = 0; p < ns * ns; p++) { th[w(p, 0)] = 0; th[w(p, 2)] = 3 * th[w(p, 1)]; }
    // Not merged: 10 has 9's centre but another width.
    for (let t = 0; t < ns; t++) th[model.offCentres + t * F + 10] = th[model.offCentres + t * F + 9];
    th[model.offWidths + 10] = th[model.offWidths + 9] * 0.9;
    model.clip();
    model.validate();
    expect(model.mergedFunctionCount()).toBe(3 * ns);
    expectSamePaths(model, randomStructure(54));
    expectSamePaths(model, randomStructure(55));
  });

  it('embedding species mode', () => {
    expectSamePaths(mixedWidthModel({ speciesMode: 'embedding', embeddingDim: 3, activation: 'tanh' }, 13), randomStructure(12));
  });

  it.each([
    ['Si', () => lattice('diamond', { element: 'Si', a: 5.43, repeat: 2 })],
    ['Si-fast', () => lattice('diamond', { element: 'Si', a: 5.43, repeat: 2 })],
    ['Cu', () => lattice('fcc', { element: 'Cu', a: 3.62, repeat: 3 })],
    ['Mo', () => lattice('bcc', { element: 'Mo', a: 3.16, repeat: 3 })],
  ] as const)('shipped %s model on a displaced crystal', (name, build) => {
    const { model } = loadModel(new URL(`../models/latte/${name}.msgpack`, import.meta.url).pathname);
    const system = build();
    const rng = new Rng(4);
    for (let k = 0; k < system.positions.length; k++) system.positions[k] += 0.12 * rng.normal();
    expectSamePaths(model, system);
  });

  it('a perfect crystal (many neighbours at equal distances) and row ranges that add up', () => {
    const { model } = loadModel(new URL('../models/latte/Si.msgpack', import.meta.url).pathname);
    const system = lattice('diamond', { element: 'Si', a: 5.43, repeat: 2 });
    const r = bothPaths(model, system);
    expect(Math.abs(r.energyMd - r.energyRef)).toBeLessThanOrEqual(1e-12 * Math.abs(r.energyRef));
    // Per extended entry (ghost images not yet folded into their owners).
    expect(maxAbsDiff(r.fMd, r.fRef)).toBeLessThanOrEqual(1e-12 * maxAbs(r.fRef));
    const n = system.n, half = n >> 1;
    const fA = new Float64Array(3 * r.nl.nTotal);
    const eA = model.evaluateMd({ ...fields(r.nl), rowStart: 0, rowEnd: half }, r.typeMap, fA, null);
    const eB = model.evaluateMd({ ...fields(r.nl), rowStart: half, rowEnd: n }, r.typeMap, fA, null);
    expect(Math.abs(eA + eB - r.energyMd)).toBeLessThanOrEqual(1e-12 * Math.abs(r.energyMd));
    expect(maxAbsDiff(fA, r.fMd)).toBeLessThan(1e-12);
  });
});

describe('LATTE MD path generated kernels (contraction and MLP as straight-line code)', () => {
  it('are regenerated when parameters, standardisation or output scale change between calls', () => {
    const model = mixedWidthModel({ hidden: [40, 24] }, 61);
    const system = randomStructure(67);
    expectSamePaths(model, system);
    // Change an MLP weight, a bias, a standardisation entry, the output scale and a centre.
    const rng = new Rng(71);
    const o = model.offMlp[1];
    model.theta[o + 3] += 0.3 * rng.normal();
    model.theta[o + model.nDescriptors * 40 + 5] += 0.2;
    model.mean[model.nDescriptors + 2] += 0.05;
    model.invStd[4] *= 1.1;
    model.outScale[0] = 1.7;
    model.theta[model.offCentres + 3] += 0.01;
    expectSamePaths(model, system);
  });

  it('reject a non-finite parameter instead of emitting it', () => {
    const model = mixedWidthModel({}, 73);
    model.theta[model.offMlp[0]] = Number.NaN;
    const system = randomStructure(79);
    const nl = new NeighborList({ cutoff: model.config.cutoff, skin: 0.5, full: true });
    nl.update(system);
    expect(() => model.evaluateMd(nl, new Int32Array([0, 1]), null, null)).toThrow(/non-finite parameter/);
  });

  it('writes every parameter as a literal with the same bits, −0 included', () => {
    for (const c of [-0, 0, -1.5, 2.5e-300, -Number.MIN_VALUE, Number.MAX_VALUE, 0.1 + 0.2]) {
      expect(Object.is(Function(`return ${lit(c)};`)(), c)).toBe(true);
    }
  });
});

describe('LATTE MD path neighbour-order cache', () => {
  it('leaves the bits unchanged: repeated calls, another list in between, a fresh model', () => {
    const { model } = loadModel(new URL('../models/latte/Si-fast.msgpack', import.meta.url).pathname);
    // A perfect crystal has many neighbours at exactly equal distances (ties in the sort).
    const system = lattice('diamond', { element: 'Si', a: 5.43, repeat: 2 });
    const typeMap = new Int32Array([0]);
    const run = (m: LatteModel, nl: NeighborList) => {
      const f = new Float64Array(3 * nl.nTotal);
      return { e: m.evaluateMd(nl, typeMap, f, null), f };
    };
    const nlA = new NeighborList({ cutoff: model.config.cutoff, skin: 0.5, full: true });
    nlA.update(system);
    const first = run(model, nlA);
    const again = run(model, nlA);
    // Another configuration (rows of other lengths and orders) in between.
    const other = lattice('diamond', { element: 'Si', a: 5.5, repeat: 2 });
    const rng = new Rng(2);
    for (let k = 0; k < other.positions.length; k++) other.positions[k] += 0.2 * rng.normal();
    const nlB = new NeighborList({ cutoff: model.config.cutoff, skin: 0.5, full: true });
    nlB.update(other);
    run(model, nlB);
    const after = run(model, nlA);
    const fresh = run(model.clone(), nlA);
    for (const r of [again, after, fresh]) {
      expect(Object.is(r.e, first.e)).toBe(true);
      expect(maxAbsDiff(r.f, first.f)).toBe(0);
    }
  });
});

function fields(nl: NeighborList) {
  return { nLocal: nl.nLocal, positions: nl.positions, species: nl.species, full: nl.full };
}

describe('LATTE MD path derivatives', () => {
  const cases = [
    { name: 'two species, mixed widths, ranks 0–4', model: () => mixedWidthModel({ activation: 'tanh' }, 17), seed: 19 },
    { name: 'ranks ≤ 2, neighbour pairs in the backward pass', model: () => mixedWidthModel({ activation: 'silu' }, 47, PATTERN_RANK2), seed: 53 },
    { name: `rank 3 and 4, ${HIGH_PATTERNS[0]}`, model: () => mixedWidthModel({ activation: 'silu' }, 83, HIGH_PATTERNS[0]), seed: 89 },
    { name: `rank 4 only, embedding mode, ${HIGH_PATTERNS[2]}`, model: () => mixedWidthModel({ speciesMode: 'embedding', embeddingDim: 2 }, 97, HIGH_PATTERNS[2]), seed: 101 },
  ];
  for (const c of cases) {
    it(`forces equal central finite differences of the energy (${c.name})`, () => {
      const potential = new LattePotential(c.model());
      const system = randomStructure(c.seed);
      const largest = maxAbs(evaluate(system, potential, false).forces);
      expect(largest).toBeGreaterThan(1e-2);
      // The helper's error is relative to the largest force; the bound is 1e-7·max(1, |F|max) absolute.
      expect(finiteDifferenceForceError(system, potential) * largest).toBeLessThan(1e-7 * Math.max(1, largest));
    });
  }

  it('energy is invariant and forces rotate under a rotation with inversion', () => {
    const model = mixedWidthModel({}, 23);
    const base = randomStructure(29);
    const ev = new ForceEvaluator(new LattePotential(model), { skin: 0.5 });
    const e0 = ev.evaluate(base).energy;
    const f0 = base.forces.slice();
    // Q = −(rotation by 0.7 rad about (1, 2, 2)/3).
    const [ax, ay, az] = [1 / 3, 2 / 3, 2 / 3], c = Math.cos(0.7), s = Math.sin(0.7), C = 1 - c;
    const Q = [
      c + ax * ax * C, ax * ay * C - az * s, ax * az * C + ay * s,
      ay * ax * C + az * s, c + ay * ay * C, ay * az * C - ax * s,
      az * ax * C - ay * s, az * ay * C + ax * s, c + az * az * C,
    ].map((v) => -v);
    const rot = (v: ArrayLike<number>): number[] => {
      const out: number[] = [];
      for (let k = 0; k < v.length; k += 3) for (let a = 0; a < 3; a++) out.push(Q[3 * a] * v[k] + Q[3 * a + 1] * v[k + 1] + Q[3 * a + 2] * v[k + 2]);
      return out;
    };
    const turned = new System({ symbols: base.symbols, positions: rot(base.positions), cell: new Cell(rot(base.cell.matrix)) });
    const e1 = ev.evaluate(turned).energy;
    expect(Math.abs(e1 - e0)).toBeLessThan(1e-12 * Math.max(1, Math.abs(e0)));
    expect(maxAbsDiff(turned.forces, rot(f0))).toBeLessThan(1e-12 * Math.max(1, maxAbs(f0)));
  });
});
