/**
 * LATTE accuracy on the Zuo et al. (2020) test splits beside the published GAP and
 * MTP errors (the datasets' README; test/oracles/datasets.ts). Usage:
 *   npx tsx bench/latte-accuracy.ts [Si Cu Mo]
 * Prints one line per element and, last, one JSON object with every figure.
 */
import { existsSync } from 'node:fs';
import { evaluateErrors } from '../src/analysis/errors.ts';
import { readExtxyz } from '../src/io/extxyz.ts';
import { loadModel } from '../potentials/latte/io.ts';
import { LattePotential } from '../potentials/latte/potential.ts';
import { resolveModelPath } from '../src/model-path.ts';
import { report } from './harness.ts';
import { dataset } from '../test/oracles/datasets.ts';

const DATA = dataset('zuo2020');
/** Published test MAEs: energy meV/atom, force eV/Å (Zuo et al. 2020, via the datasets README). */
const BASELINES: Record<string, { gapE: number; mtpE: number; gapF: number; mtpF: number }> = {
  Si: { gapE: 2.91, mtpE: 2.21, gapF: 0.07, mtpF: 0.06 },
  Cu: { gapE: 0.46, mtpE: 0.41, gapF: 0.01, mtpF: 0.01 },
  Mo: { gapE: 2.24, mtpE: 2.83, gapF: 0.09, mtpF: 0.09 },
};

const elements = process.argv.slice(2).length ? process.argv.slice(2) : ['Si', 'Cu', 'Mo'];
const figures: Record<string, unknown> = {};
for (const el of elements) {
  const path = resolveModelPath(`models/latte/${el}.msgpack`);
  if (!existsSync(path)) { console.log(`${el}: no model at ${path}`); continue; }
  const { model, meta } = loadModel(path);
  const frames = readExtxyz(`${DATA}/${el}_test.xyz`);
  const r = evaluateErrors(new LattePotential(model, path), frames);
  const b = BASELINES[el];
  const bestE = Math.min(b.gapE, b.mtpE), bestF = Math.min(b.gapF, b.mtpF);
  const ratioE = r.energy_mae_mev_per_atom / bestE, ratioF = r.force_mae_ev_per_a / bestF;
  console.log(
    `${el}: E MAE ${r.energy_mae_mev_per_atom.toFixed(2)} meV/atom (GAP ${b.gapE}, MTP ${b.mtpE}; ×${ratioE.toFixed(2)} the better), ` +
      `F MAE ${r.force_mae_ev_per_a.toFixed(4)} eV/Å (GAP ${b.gapF}, MTP ${b.mtpF}; ×${ratioF.toFixed(2)}) — ${model.describe()}, ` +
      (Array.isArray(meta.ensemble) ? `the mean of ${meta.ensemble.length} models` : `trained ${String(meta.epochs ?? meta.checkpointEpoch ?? '?')} epochs`),
  );
  figures[`${el}_energy_mae_mev_per_atom`] = r.energy_mae_mev_per_atom;
  figures[`${el}_force_mae_ev_per_a`] = r.force_mae_ev_per_a;
  figures[`${el}_energy_ratio_vs_best`] = ratioE;
  figures[`${el}_force_ratio_vs_best`] = ratioF;
  figures[`${el}_gap_energy`] = b.gapE; figures[`${el}_mtp_energy`] = b.mtpE;
  figures[`${el}_gap_force`] = b.gapF; figures[`${el}_mtp_force`] = b.mtpF;
  figures[`${el}_meets_target`] = ratioE <= 1.25 && ratioF <= 1.25;
  figures[`${el}_descriptor`] = model.config.descriptor;
}
report(figures);
