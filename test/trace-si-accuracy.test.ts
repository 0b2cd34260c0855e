import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { createPotential } from '../potentials/registry.ts';
import '../potentials/trace/potential.ts';
import type { TracePotential } from '../potentials/trace/potential.ts';
import { readExtxyz } from '../src/io/extxyz.ts';
import { evaluateErrors } from '../src/analysis/errors.ts';
import { DATASETS } from './oracles/datasets.ts';

/**
 * The shipped ~300-function silicon ACE model (models/trace/Si.msgpack; fit and
 * cross-validation in models/trace/Si.log, Si-tuning.log) on the whole zuo2020 Si test
 * split (25 frames, 1,525 atoms, never used in the fit or its selection): at most the
 * test MAE the README states (2.812 meV/atom, 0.0713 eV/Å), rounded up in the last
 * digit. For reference, the issue-6 target is 1.25× the better of the published GAP and
 * MTP test MAE (datasets README: MTP 2.21 meV/atom, 0.06 eV/Å → 2.7625, 0.075): met on
 * force, missed on energy (1.27×). It stays the model the speed target is stated for:
 * order 3, about 300 functions, l ≤ 4.
 */
const DATA = DATASETS;
const TEST = `${DATA}/zuo2020/Si_test.xyz`;
const STATED = { energyMevPerAtom: 2.82, forceEvPerA: 0.0713 };

describe('shipped ACE Si model accuracy', () => {
  const pot = createPotential({ kind: 'trace', model: 'models/trace/Si.msgpack' }) as TracePotential;

  it('is an order-3 model of about 300 functions with l ≤ 4', () => {
    expect(pot.basis.order).toBe(3);
    expect(pot.basis.nFunctions).toBeGreaterThanOrEqual(250);
    expect(pot.basis.nFunctions).toBeLessThanOrEqual(350);
    expect(pot.basis.lmax).toBeLessThanOrEqual(4);
  });

  it(`zuo2020 Si test split: MAE ≤ ${STATED.energyMevPerAtom} meV/atom and ≤ ${STATED.forceEvPerA} eV/Å`, () => {
    expect(existsSync(TEST)).toBe(true);
    const frames = readExtxyz(TEST);
    expect(frames.length).toBe(25);
    const r = evaluateErrors(pot, frames);
    expect(r.atoms).toBe(1525);
    expect(r.energy_mae_mev_per_atom).toBeLessThanOrEqual(STATED.energyMevPerAtom);
    expect(r.force_mae_ev_per_a).toBeLessThanOrEqual(STATED.forceEvPerA);
  });
});
