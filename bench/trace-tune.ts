/**
 * Hyper-parameter scan for the zuo2020 ACE models by 5-fold cross-validation on the
 * training file only (the test file is never read). One design is assembled for a
 * large basis (--big degrees, --big-wl); every candidate truncation (order-wise degree
 * bounds and l weight w_L, order 3) of about --size functions is then fitted from the
 * factors of its columns (fit.ts restrictAssembled), so a candidate costs seconds.
 * Cutoff and radial basis need a design each (one run per setting).
 *
 *   npx tsx bench/trace-tune.ts Si [--cutoff 5.5] [--radial chebexpcos|poly|agnesi] [--radial-lambda 1] [--r0 R --p 2 --q 4 (agnesi; --r0 required)]
 *        [--big 24,20,13] [--big-wl 1] [--size 300] [--tolerance 0.15] [--wl 1,1.25,1.5,2]
 *        [--energy-scales 0.1,0.2,0.3,0.5,1] [--threads N] [--design FILE] [--candidates 12/12/11@0.75,…]
 *        [--lambdas 1e-17,…] [--metric rmse|mae] [--combine sum|max] [--prior-wl 2] [--prior-wn 6] [--energy-per-atom]
 *        [--energy-loss l2|l1|l1:δ|huber:δ] [--irls-iterations 8]   (IRLS on the energy rows, per training fold)
 *
 * --design FILE keeps the large design's factors (node:v8 serialised): loaded when the
 * file exists, written after assembling otherwise.
 *
 * Criterion (as bench/trace-accuracy.ts): held-out RMSE_E / best published E MAE +
 * RMSE_F / best published F MAE; --metric mae uses held-out MAE (each fold refitted and
 * its frames evaluated), --combine max the worse of the two ratios instead of their sum. Prints one line per candidate, the ranking, and a last
 * JSON line with the best candidate.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { deserialize, serialize } from 'node:v8';
import { join } from 'node:path';
import { readExtxyz } from '../src/io/extxyz.ts';
import { AceBasis, type BasisSpec } from '../potentials/trace/basis.ts';
import { DEFAULT_IRLS_ITERATIONS, assembleParallel, defaultBasisSpec, energyLossFromText, type Assembled, type EnergyRows, priorWeights, qrFromState, qrState, type QrState, restrictAssembled, selectByCrossValidation } from '../potentials/trace/fit.ts';
import type { RadialSpec } from '../potentials/trace/radial.ts';
import { optionNumber, parseOptions } from '../src/cli/command.ts';
import { radialFromOptions } from '../src/cli/fit.ts';
import { report } from './harness.ts';
import { DATASETS } from '../test/oracles/datasets.ts';

const DATA = DATASETS;
const BEST: Record<string, { E: number; F: number }> = {
  Ni: { E: 0.42, F: 0.01 }, Cu: { E: 0.41, F: 0.01 }, Li: { E: 0.49, F: 0.01 },
  Mo: { E: 2.24, F: 0.09 }, Si: { E: 2.21, F: 0.06 }, Ge: { E: 1.79, F: 0.05 },
};

const { options, positional } = parseOptions(process.argv.slice(2), ['verbose', 'energy-per-atom']);
const el = positional[0] ?? 'Si';
if (!BEST[el]) throw new Error(`no zuo2020 data for ${el}`);
const num = (name: string, fallback: number): number => optionNumber(options, name, fallback);
const nums = (name: string, fallback: number[]): number[] => (typeof options[name] === 'string' ? options[name].split(',').map(Number) : fallback);
const cutoff = num('cutoff', 5.5);
/** The radial options (--radial, --radial-lambda, --r0, --p, --q), read once; n is set per basis. */
const radialBase = radialFromOptions(options, 1, cutoff);
const bigDeg = nums('big', [16, 16, 12]), bigWl = num('big-wl', 0.75);
const size = num('size', 300), tolerance = num('tolerance', 0.1);
const wls = nums('wl', [0.75, 1, 1.25, 1.5]);
const energyScales = nums('energy-scales', [0.1, 0.2, 0.3, 0.5, 1]);
const lambdas = nums('lambdas', [1e-17, 1e-15, 1e-13, 1e-11, 1e-9]);
// A candidate's score is the best of the CV scan over λ × energy scale, and a grid of one
// point is not scanned (selectByCrossValidation has nothing to choose): ask for two.
if (lambdas.length * energyScales.length < 2) throw new Error('trace-tune: give at least two values in --lambdas or --energy-scales (each candidate is scored by the cross-validation scan over their grid)');
const metric = options.metric === 'mae' ? 'mae' : 'rmse', combine = options.combine === 'max' ? 'max' : 'sum';
const prior = { wl: num('prior-wl', 2), wn: num('prior-wn', 6) };
const threads = num('threads', availableParallelism());
const energyLoss = typeof options['energy-loss'] === 'string' ? energyLossFromText(options['energy-loss']) : 'l2';
const irlsIterations = num('irls-iterations', DEFAULT_IRLS_ITERATIONS);
const radialKind = radialBase.kind, radialLambda = radialBase.lambda;
const agnesi = { r0: radialBase.r0, p: radialBase.p, q: radialBase.q };
const radial = (n: number): RadialSpec => ({ ...radialBase, n });
const spec = (deg: number[], wL: number): BasisSpec => defaultBasisSpec([el], { maxDegree: deg, wL, radial: radial(deg[0]) });

const train = readExtxyz(join(DATA, 'zuo2020', `${el}_train.xyz`));
const lossText = energyLoss === 'l2' ? '' : ` energy loss ${JSON.stringify(energyLoss)} (${irlsIterations} IRLS iterations)`;
const setting = `${el} cutoff ${cutoff} radial ${radialKind}${radialKind === 'chebexpcos' ? ` λ_r ${radialLambda}` : ''}${radialKind === 'agnesi' ? ` r0 ${agnesi.r0} p ${agnesi.p} q ${agnesi.q}` : ''}${options['energy-per-atom'] ? ' energy rows per atom' : ''}`;
const t0 = performance.now(), c0 = process.cpuUsage();
const bigBasis = new AceBasis(spec(bigDeg, bigWl));
const designFile = typeof options.design === 'string' ? options.design : undefined;
let big: Assembled;
if (designFile && existsSync(designFile)) {
  const d = deserialize(readFileSync(designFile)) as { deg: number[]; wl: number; setting: string; folds: { energy: QrState; rest: QrState; energyRows?: EnergyRows; atoms: number; restRows: number }[]; foldOf: Int32Array; weights: Assembled['weights']; nCols: number };
  if (d.setting !== setting || d.deg.join('/') !== bigDeg.join('/') || d.wl !== bigWl) throw new Error(`${designFile}: design of ${d.setting} ${d.deg.join('/')} wL ${d.wl}, not of this run`);
  big = { basis: bigBasis, folds: d.folds.map((f) => ({ energy: qrFromState(f.energy), rest: qrFromState(f.rest), energyRows: f.energyRows, atoms: f.atoms, restRows: f.restRows })), foldOf: d.foldOf, weights: d.weights, nCols: d.nCols, e0Fixed: null };
  console.log(`# ${setting}: design of ${bigBasis.nFunctions} functions (${bigDeg.join('/')}, wL ${bigWl}) read from ${designFile}`);
} else {
  big = await assembleParallel({ basis: spec(bigDeg, bigWl), train, weights: { energy: 30, energyPerAtom: !!options['energy-per-atom'] }, source: `${el}_train.xyz` }, threads, bigBasis);
  console.log(`# ${setting}: design of ${bigBasis.nFunctions} functions (${bigDeg.join('/')}, wL ${bigWl}) in ${((performance.now() - t0) / 1000).toFixed(1)} s wall, ${(process.cpuUsage(c0).user / 1e6).toFixed(1)} s CPU (all threads)`);
  if (designFile) {
    writeFileSync(designFile, serialize({ deg: bigDeg, wl: bigWl, setting, folds: big.folds.map((f) => ({ energy: qrState(f.energy), rest: qrState(f.rest), energyRows: f.energyRows, atoms: f.atoms, restRows: f.restRows })), foldOf: big.foldOf, weights: big.weights, nCols: big.nCols }));
  }
}

interface Row { degree: string; wL: number; functions: number; byOrder: string; criterion: number; rmse_E: number; rmse_F: number; mae_E?: number; mae_F?: number; lambda: number; energyWeight: number }
const rows: Row[] = [];
const candidates: { deg: number[]; wL: number }[] = [];
if (typeof options.candidates === 'string') {
  for (const item of options.candidates.split(',')) {
    const [d, w] = item.split('@');
    candidates.push({ deg: d.split('/').map(Number), wL: Number(w) });
  }
} else {
  for (const wL of wls) for (let d1 = 8; d1 <= bigDeg[0]; d1 += 4) for (let d2 = 8; d2 <= bigDeg[1]; d2++) for (let d3 = 8; d3 <= bigDeg[2]; d3++) candidates.push({ deg: [d1, d2, d3], wL });
}
const seen = new Set<string>();
for (const { deg, wL } of candidates) {
  if (wL < bigWl) continue;
  let basis: AceBasis;
  try { basis = new AceBasis(spec(deg, wL)); } catch { continue; }
  const F = basis.nFunctions;
  if (!options.candidates && Math.abs(F - size) > tolerance * size) continue;
  const counts = basis.countsByOrder();
  const key = basis.fKey.join(';');
  if (seen.has(key)) continue; // the same set of functions as an earlier candidate
  seen.add(key);
  let asm;
  try { asm = restrictAssembled(big, basis); } catch { console.log(`${deg.join('/')} wL ${wL}: not inside the large basis`); continue; }
  const cv = selectByCrossValidation(asm, priorWeights(basis, prior), { frames: train, lambda: lambdas, energyScales, energyLoss, irlsIterations, select: { energy: BEST[el].E, force: BEST[el].F, metric, combine }, log: options.verbose ? (l) => console.log(l) : undefined });
  const best = cv.scan.find((r) => r.lambda === cv.lambda && r.energyScale === cv.energyScale)!;
  const row: Row = {
    degree: deg.join('/'), wL, functions: F, byOrder: counts.join('/'), criterion: best.loss, rmse_E: best.rmse_E, rmse_F: best.rmse_F,
    lambda: cv.lambda, energyWeight: 30 * cv.energyScale,
  };
  if (best.mae_E !== undefined) { row.mae_E = best.mae_E; row.mae_F = best.mae_F; }
  rows.push(row);
  console.log(`${setting}${lossText} degree ${row.degree} wL ${wL}: ${F} functions (${row.byOrder}); CV criterion ${row.criterion.toFixed(4)}, held-out RMSE ${row.rmse_E.toFixed(3)} meV/atom, ${row.rmse_F.toFixed(4)} eV/Å${row.mae_E !== undefined ? `, MAE ${row.mae_E.toFixed(3)} / ${row.mae_F!.toFixed(4)}` : ''} (λ ${row.lambda.toExponential(0)}, w_E ${row.energyWeight})`);
}
rows.sort((a, b) => a.criterion - b.criterion);
console.log(`# ranking (${rows.length} candidates, ${((performance.now() - t0) / 1000).toFixed(0)} s wall):`);
for (const r of rows.slice(0, 8)) console.log(`#   ${r.criterion.toFixed(4)}  degree ${r.degree} wL ${r.wL} (${r.byOrder}) RMSE ${r.rmse_E.toFixed(3)} / ${r.rmse_F.toFixed(4)}${r.mae_E !== undefined ? ` MAE ${r.mae_E.toFixed(3)} / ${r.mae_F!.toFixed(4)}` : ''}`);
const b = rows[0];
report({ element: el, metric, combine, energy_loss: energyLoss, irls_iterations: energyLoss === 'l2' ? null : irlsIterations, prior_wl: prior.wl, prior_wn: prior.wn, cutoff, radial: radialKind, radial_lambda: radialKind === 'chebexpcos' ? radialLambda : null, ...(radialKind === 'agnesi' ? { agnesi } : {}), candidates: rows.length, ...b });
