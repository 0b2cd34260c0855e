import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { createPotential } from '../potentials/registry.ts';
import '../potentials/latte/potential.ts';
import { readExtxyz } from '../src/io/extxyz.ts';
import { evaluateErrors } from '../src/analysis/errors.ts';
import { DATASETS } from './oracles/datasets.ts';

/**
 * The shipped LATTE models against DFT data they were not trained on: the zuo2020 test
 * splits, at the errors the README states (rounded up in the last digit). Each model's
 * training stages are in models/latte/<El>*.train.log (first line: the command). Each
 * previous model fails at least one bound, except the Si before this one (Si.cont7: 2.59 /
 * 0.0730), which is more accurate but 1.14× slower; the shipped Si is that model with its
 * three far-reaching rank-3 terms dropped (Si.cont8). Earlier Si: 2.59 / 0.0778 (32-16 MLP)
 * and 2.66 / 0.0769 (48-24, before the rank-3 block), Cu 2.29 / 0.0535, 1.22 / 0.0420 and
 * 1.15 / 0.0394 (before the rank-3/4 blocks), 0.52 / 0.0243 (Cu.cont5, before its frozen
 * stage was continued in Cu.cont6) and 0.217 / 0.0174 (Cu.cont6, before the narrow radial
 * functions of Cu.cont7), Mo 4.13 / 0.170,
 * 4.15 / 0.138 (before the rank-3/4 blocks) and 3.14 / 0.1104 (Mo.cont2, before the
 * ACE-labelled synthetic slabs of Mo.cont3), 3.05 / 0.1099 (Mo.cont3 alone, before the
 * three-member ensemble) and 2.92 / 0.1098 (that ensemble, before the ACE-labelled perturbed
 * surfaces of Mo.cont4) (meV/atom, eV/Å). The Si, Cu and Mo force bounds
 * are within the targets (≤ 1.25× the better of GAP and MTP: 0.075, 0.0125 and 0.1125 eV/Å),
 * and the Si and Cu energy bounds are below their targets (2.76 and 0.51 meV/atom).
 */
const DATA = DATASETS;

const SHIPPED = [
  { element: 'Si', frames: 25, energyMevPerAtom: 2.62, forceEvPerA: 0.0747 },
  { element: 'Cu', frames: 31, energyMevPerAtom: 0.242, forceEvPerA: 0.0104 },
  { element: 'Mo', frames: 23, energyMevPerAtom: 2.85, forceEvPerA: 0.1095 },
];

describe('shipped LATTE models, zuo2020 test splits', () => {
  for (const m of SHIPPED) {
    it(`${m.element}: MAE ≤ ${m.energyMevPerAtom} meV/atom and ≤ ${m.forceEvPerA} eV/Å`, () => {
      const file = `${DATA}/zuo2020/${m.element}_test.xyz`;
      expect(existsSync(file)).toBe(true);
      const frames = readExtxyz(file);
      expect(frames.length).toBe(m.frames);
      const r = evaluateErrors(createPotential({ kind: 'latte', model: `models/latte/${m.element}.msgpack` }), frames);
      expect(r.energy_mae_mev_per_atom).toBeLessThanOrEqual(m.energyMevPerAtom);
      expect(r.force_mae_ev_per_a).toBeLessThanOrEqual(m.forceEvPerA);
    });
  }
});
