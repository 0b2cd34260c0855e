/**
 * Ensembles of LATTE models that share one descriptor, merged into a single model.
 *
 * Networks trained from the same starting model on the same frozen descriptor differ
 * only in their MLPs, and their mean prediction has a smaller variance than any one of
 * them. The mean of K MLPs on one input is itself an MLP: the members' first layers
 * stacked, their hidden-to-hidden layers block-diagonal, their output layers side by
 * side and scaled by 1/K. So the merged model is an ordinary LATTE model, with hidden
 * layers K times wider, which MD, eval and the model file format take as they are; it
 * computes the descriptor once, and only the MLP's cost grows.
 */
import { LatteModel, firstBitDifference } from './model.ts';

/**
 * One model whose energies (and so forces and virials) are the mean of the members'.
 * The members must have the same configuration, descriptor parameters and input
 * standardisation, bit for bit (a frozen-descriptor run from one starting model keeps
 * them); their output scales and energy offsets may differ. `names` label the members
 * in errors (default "model 1", "model 2", …).
 */
export function averageModels(members: readonly LatteModel[], names?: readonly string[]): LatteModel {
  if (members.length < 2) throw new Error(`averageModels: an ensemble needs at least 2 models, got ${members.length}`);
  const label = (k: number) => names?.[k] ?? `model ${k + 1}`;
  const first = members[0];
  members.forEach((m, k) => { if (k > 0) checkSameDescriptor(first, m, label(0), label(k)); });

  const K = members.length;
  const cfg = first.config;
  const merged = new LatteModel({ ...cfg, hidden: cfg.hidden.map((h) => K * h) });
  merged.theta.set(first.theta.subarray(0, first.offMlp[0]));
  merged.trainable.set(first.trainable.subarray(0, first.offMlp[0]));
  merged.mean.set(first.mean);
  merged.invStd.set(first.invStd);
  merged.outScale.set(first.outScale);

  const sizes = first.layerSizes, L = sizes.length - 1, ns = first.nSpecies;
  for (let t = 0; t < ns; t++) {
    merged.e0[t] = members.reduce((s, m) => s + m.e0[t], 0) / K;
    members.forEach((m, k) => {
      for (let l = 0; l < L; l++) {
        const nin = sizes[l], nout = sizes[l + 1];
        const src = m.layerOffset[t * L + l], dst = merged.layerOffset[t * L + l];
        const last = l === L - 1;
        // Member k's block: its rows [k·nout, (k+1)·nout) (one shared output row in the
        // last layer), its columns [k·nin, (k+1)·nin) (all inputs in the first layer).
        const Nin = merged.layerSizes[l], Nout = merged.layerSizes[l + 1];
        const row0 = last ? 0 : k * nout, col0 = l === 0 ? 0 : k * nin;
        const scale = last ? m.outScale[t] / (K * first.outScale[t]) : 1;
        for (let r = 0; r < nout; r++) {
          for (let c = 0; c < nin; c++) merged.theta[dst + (row0 + r) * Nin + col0 + c] = scale * m.theta[src + r * nin + c];
          merged.theta[dst + Nout * Nin + row0 + r] += scale * m.theta[src + nout * nin + r];
        }
      }
    });
  }
  return merged;
}

function checkSameDescriptor(a: LatteModel, b: LatteModel, nameA: string, nameB: string): void {
  const ca = a.config, cb = b.config;
  for (const key of Object.keys(ca) as (keyof typeof ca)[]) {
    if (JSON.stringify(ca[key]) !== JSON.stringify(cb[key])) {
      throw new Error(`averageModels: ${nameB} has config ${key} ${JSON.stringify(cb[key])}, ${nameA} has ${JSON.stringify(ca[key])} (members must share their configuration)`);
    }
  }
  const p = firstBitDifference(a.theta, 0, b.theta, 0, a.offMlp[0]);
  if (p >= 0) {
    throw new Error(`averageModels: ${nameB}'s descriptor parameters differ from ${nameA}'s (entry ${p}: ${b.theta[p]} vs ${a.theta[p]}); members must share one descriptor (train them from one model with --freeze-descriptor)`);
  }
  for (const [field, x, y] of [['mean', a.mean, b.mean], ['invStd', a.invStd, b.invStd]] as const) {
    const q = firstBitDifference(x, 0, y, 0, x.length);
    if (q >= 0) throw new Error(`averageModels: ${nameB}'s input standardisation (${field}, entry ${q}) differs from ${nameA}'s; members must share one descriptor and its standardisation`);
  }
}
