import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { createPotential } from '../potentials/registry.ts';
import '../potentials/latte/potential.ts';
import { readExtxyz } from '../src/io/extxyz.ts';
import { evaluateErrors } from '../src/analysis/errors.ts';

/**
 * The shipped LATTE Cu model (models/latte/Cu.msgpack: the first Adam model,
 * Cu.train.log, widened to rc 5 Å with learned widths in [0.75, 1.5] Å and continued
 * by full-batch L-BFGS, Cu.cont1.train.log, then its MLP alone by L-BFGS with the
 * descriptor frozen, Cu.cont2.train.log, 40 unfrozen L-BFGS iterations, Cu.cont3, and a
 * frozen stage again, Cu.cont4) against DFT data it was not trained on: the zuo2020 Cu
 * test split (31 frames), at the errors the README states. The models before
 * (2.29 meV/atom, 0.0535 eV/Å; after Cu.cont2 1.22, 0.0420) fail both bounds.
 */
const DATA = process.env.TENSORMD_DATASETS ?? '/work/shared/datasets';
const TEST = `${DATA}/zuo2020/Cu_test.xyz`;
/** Stated test MAE (README), rounded up in the last digit. */
const STATED = { energyMevPerAtom: 1.16, forceEvPerA: 0.0394 };

describe('shipped LATTE Cu model', () => {
  it(`zuo2020 Cu test split: MAE ≤ ${STATED.energyMevPerAtom} meV/atom and ≤ ${STATED.forceEvPerA} eV/Å`, () => {
    expect(existsSync(TEST)).toBe(true);
    const frames = readExtxyz(TEST);
    expect(frames.length).toBe(31);
    const r = evaluateErrors(createPotential({ kind: 'latte', model: 'models/latte/Cu.msgpack' }), frames);
    expect(r.energy_mae_mev_per_atom).toBeLessThanOrEqual(STATED.energyMevPerAtom);
    expect(r.force_mae_ev_per_a).toBeLessThanOrEqual(STATED.forceEvPerA);
  });
});
