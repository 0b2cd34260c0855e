/**
 * Where a model's force error sits: per-atom force-component MAE binned by each atom's
 * nearest-neighbour distance, beside the mean reference force in the bin. A model whose
 * error grows much faster than the force at close contacts lacks radial resolution
 * there (how LATTE Cu's hot frames were diagnosed; any model file that names its kind).
 *
 *   npx tsx bench/force-error-by-contact.ts MODEL.msgpack FILE.xyz [--emin EV_PER_ATOM]
 *        [--edges 1.8,2.0,2.1,2.2,2.3,2.4,2.5]
 *
 * --emin keeps only frames whose reference energy per atom is above it (e.g. the hot
 * frames). One line per bin, then one JSON object with every figure.
 */
import { ForceEvaluator } from '../src/forces.ts';
import { frameEnergy, frameForces, frameToSystem, readExtxyz } from '../src/io/extxyz.ts';
import { NeighborList } from '../src/neighbors.ts';
import { optionNumber, parseOptions } from '../src/cli/command.ts';
import { modelSpec } from '../src/cli/eval.ts';
import '../potentials/builtin.ts';
import { loadPotential } from '../potentials/registry.ts';
import { report } from './harness.ts';

const { options, positional } = parseOptions(process.argv.slice(2));
const [modelPath, file] = positional;
if (!modelPath || !file) throw new Error('usage: force-error-by-contact.ts MODEL.msgpack FILE.xyz [--emin EV_PER_ATOM] [--edges 1.8,2.0,…]');
const potential = await loadPotential(modelSpec(modelPath));
const emin = options.emin !== undefined ? optionNumber(options, 'emin', -Infinity) : -Infinity;
const edges = (typeof options.edges === 'string' ? options.edges : '1.8,2.0,2.1,2.2,2.3,2.4,2.5').split(',').map(Number);
if (!edges.every((e, k) => Number.isFinite(e) && (k === 0 || e > edges[k - 1]))) throw new Error(`--edges must be increasing distances in Å, got '${String(options.edges)}'`);
const reach = edges[edges.length - 1] + 1;

// Bin b holds atoms with nearest neighbour in (edges[b−1], edges[b]]; the last bin everything beyond.
const nb = edges.length + 1;
const errSum = new Float64Array(nb), forceSum = new Float64Array(nb), atoms = new Float64Array(nb);
let frames = 0;
readExtxyz(file).forEach((frame, index) => {
  const e = frameEnergy(frame), f = frameForces(frame);
  const system = frameToSystem(frame);
  if (!f || (e !== undefined && e / system.n <= emin)) return;
  frames++;
  new ForceEvaluator(potential, { skin: 0 }).evaluate(system);
  const list = new NeighborList({ cutoff: reach, skin: 0, full: true });
  list.update(system);
  const { offsets, neighbors } = list.full!, x = list.positions;
  for (let i = 0; i < system.n; i++) {
    let d2 = Infinity;
    for (let k = offsets[i]; k < offsets[i + 1]; k++) {
      const j = neighbors[k], dx = x[3 * j] - x[3 * i], dy = x[3 * j + 1] - x[3 * i + 1], dz = x[3 * j + 2] - x[3 * i + 2];
      d2 = Math.min(d2, dx * dx + dy * dy + dz * dz);
    }
    const d = Math.sqrt(d2);
    let b = 0;
    while (b < edges.length && d > edges[b]) b++;
    let err = 0, ref = 0;
    for (let c = 0; c < 3; c++) { err += Math.abs(system.forces[3 * i + c] - f[3 * i + c]); ref += Math.abs(f[3 * i + c]); }
    if (!Number.isFinite(err)) throw new Error(`${file}: frame ${index}, atom ${i}: the model's force is not finite`);
    errSum[b] += err / 3; forceSum[b] += ref / 3; atoms[b]++;
  }
});

const figures: Record<string, unknown> = { model: modelPath, file, frames, emin: Number.isFinite(emin) ? emin : null };
for (let b = 0; b < nb; b++) {
  const label = b === 0 ? `≤ ${edges[0]}` : b === edges.length ? `> ${edges[b - 1]}` : `(${edges[b - 1]}, ${edges[b]}]`;
  const mae = errSum[b] / atoms[b], mean = forceSum[b] / atoms[b];
  if (atoms[b] > 0) console.log(`nearest neighbour ${label} Å: ${atoms[b]} atoms, force MAE ${mae.toFixed(4)} eV/Å, mean |F| component ${mean.toFixed(3)} eV/Å`);
  figures[`bin${b}_upper`] = b < edges.length ? edges[b] : null;
  figures[`bin${b}_atoms`] = atoms[b];
  figures[`bin${b}_force_mae`] = atoms[b] > 0 ? mae : null;
  figures[`bin${b}_mean_force`] = atoms[b] > 0 ? mean : null;
}
report(figures);
