import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { createPotential } from '../potentials/registry.ts';
import '../potentials/latte/potential.ts';
import { readExtxyz } from '../src/io/extxyz.ts';
import { evaluateErrors } from '../src/analysis/errors.ts';

/**
 * The shipped LATTE Mo model (models/latte/Mo.msgpack: two Adam stages, Mo.train.log,
 * then its MLP alone by L-BFGS with the descriptor frozen, Mo.cont1.train.log) against
 * DFT data it was not trained on: the zuo2020 Mo test split (23 frames), at the errors
 * the README states. The previous model (4.13 meV/atom, 0.170 eV/Å) fails the force bound.
 */
const DATA = process.env.TENSORMD_DATASETS ?? '/work/shared/datasets';
const TEST = `${DATA}/zuo2020/Mo_test.xyz`;
/** Stated test MAE (README), rounded up in the last digit. */
const STATED = { energyMevPerAtom: 4.16, forceEvPerA: 0.138 };

describe('shipped LATTE Mo model', () => {
  it(`zuo2020 Mo test split: MAE ≤ ${STATED.energyMevPerAtom} meV/atom and ≤ ${STATED.forceEvPerA} eV/Å`, () => {
    expect(existsSync(TEST)).toBe(true);
    const frames = readExtxyz(TEST);
    expect(frames.length).toBe(23);
    const r = evaluateErrors(createPotential({ kind: 'latte', model: 'models/latte/Mo.msgpack' }), frames);
    expect(r.energy_mae_mev_per_atom).toBeLessThanOrEqual(STATED.energyMevPerAtom);
    expect(r.force_mae_ev_per_a).toBeLessThanOrEqual(STATED.forceEvPerA);
  });
});
