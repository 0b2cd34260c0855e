/**
 * Writes a LATTE model file of a chosen shape for the speed A/B (bench/latte-speed-ab.ts),
 * where only the shape matters, not the training:
 *   npx tsx bench/latte-shape.ts OUT.msgpack --descriptor STR [--hidden 48,24] [--element Si]
 *     a fresh model (rc 5 Å, widths 1.5 Å, learned in [0.75, 1.5] as the shipped models),
 *     initialised with seed 1 and standardised on the first 20 training frames;
 *   npx tsx bench/latte-shape.ts OUT.msgpack --from MODEL [--drop-blocks 5.4,5.5] [--add-blocks STR] [--element Si]
 *     MODEL without some blocks or terms (dropDescriptorTerms, as `train --drop-blocks`),
 *     with blocks appended (extendDescriptor: zero weights on the new inputs, whose
 *     cost is paid all the same);
 *   npx tsx bench/latte-shape.ts OUT.msgpack --from MODEL --unmerge
 *     MODEL with the centres of its duplicate functions (same rank and centre) moved by
 *     ~1e-9 Å, so that the MD path merges none of them (LatteModel.mergedFunctionCount):
 *     the A/B of MODEL against OUT times the merging;
 *   npx tsx bench/latte-shape.ts --list MODEL
 *     prints MODEL's radial functions (block, term, body, rank, centre per species, width,
 *     support end c + s), e.g. to see which terms reach which neighbour shells.
 */
import { saveModel, loadModel } from '../potentials/latte/io.ts';
import { formatRadialFunctionTable, radialFunctionTable } from '../potentials/latte/functions.ts';
import { LatteModel } from '../potentials/latte/model.ts';
import { dropDescriptorTerms, extendDescriptor, parseDescriptorTerms, fitStatistics, prepareStructure, readTrainingFrames } from '../potentials/latte/train.ts';
import { parseOptions } from '../src/cli/command.ts';
import { dataset } from '../test/oracles/datasets.ts';

const { options, positional } = parseOptions(process.argv.slice(2), ['unmerge']);
if (typeof options.list === 'string') {
  listFunctions(loadModel(options.list).model);
  process.exit(0);
}
const out = positional[0];
if (!out) throw new Error('usage: latte-shape.ts OUT.msgpack (--descriptor STR [--hidden 48,24] | --from MODEL [--drop-blocks LIST] [--add-blocks STR] [--unmerge]) [--element Si]');
const element = String(options.element ?? 'Si');
/** The first 20 training frames, for standardising new inputs (read only when a shape adds some). */
const prepared = (m: LatteModel) => readTrainingFrames([dataset('zuo2020', `${element}_train.xyz`)]).slice(0, 20)
  .map((f) => prepareStructure(f.frame, f.name, m.config.elements, m.config.cutoff));
let model: LatteModel;
if (typeof options.from === 'string') {
  const add = options['add-blocks'], drop = options['drop-blocks'], unmerge = options.unmerge === true;
  if (typeof add !== 'string' && typeof drop !== 'string' && !unmerge) throw new Error('latte-shape: --from needs --add-blocks STR, --drop-blocks LIST or --unmerge');
  let base = loadModel(options.from).model;
  if (unmerge) {
    const F = base.nFunctions, th = base.theta, before = base.mergedFunctionCount(), seen = new Set<string>();
    let moved = 0;
    for (let t = 0; t < base.nSpecies; t++) {
      for (let f = 0; f < F; f++) {
        const k = base.offCentres + t * F + f, key = `${t}:${base.functionRank(f)}:${th[k]}`;
        // Towards the middle of the allowed range, so the support stays inside [0, rc].
        if (seen.has(key)) th[k] += (th[k] > base.config.cutoff / 2 ? -1e-9 : 1e-9) * ++moved;
        seen.add(key);
      }
    }
    base.validate();
    console.log(`unmerge: ${before} merged functions before, ${base.mergedFunctionCount()} after`);
  }
  if (typeof drop === 'string') {
    base = dropDescriptorTerms(base, parseDescriptorTerms(drop, 'latte-shape: --drop-blocks'));
  }
  model = typeof add === 'string' ? extendDescriptor(base, add, prepared(base), 1) : base;
} else {
  if (typeof options.descriptor !== 'string') throw new Error('latte-shape: give --descriptor STR or --from MODEL --add-blocks STR');
  const hidden = String(options.hidden ?? '48,24').split(',').map(Number);
  model = new LatteModel({ elements: [element], cutoff: 5, width: 1.5, trainWidths: true, widthMin: 0.75, widthMax: 1.5, hidden, descriptor: options.descriptor });
  model.initialise(1);
  fitStatistics(model, prepared(model));
}
saveModel(out, model, {});
console.log(`wrote ${out}: ${model.describe()}`);

function listFunctions(m: LatteModel): void {
  console.log(`${m.describe()}; ${m.mergedFunctionCount()} functions merged in the MD path`);
  for (const line of formatRadialFunctionTable(radialFunctionTable(m))) console.log(line);
}
