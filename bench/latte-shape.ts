/**
 * Writes a LATTE model file of a chosen shape for the speed A/B (bench/latte-speed-ab.ts),
 * where only the shape matters, not the training:
 *   npx tsx bench/latte-shape.ts OUT.msgpack --descriptor STR [--hidden 48,24] [--element Si]
 *     a fresh model (rc 5 Å, widths 1.5 Å, learned in [0.75, 1.5] as the shipped models),
 *     initialised with seed 1 and standardised on the first 20 training frames;
 *   npx tsx bench/latte-shape.ts OUT.msgpack --from MODEL [--drop-blocks 5.4,5.5] [--add-blocks STR] [--element Si]
 *     MODEL without some blocks or terms (dropDescriptorTerms, as `train --drop-blocks`),
 *     with blocks appended (extendDescriptor: zero weights on the new inputs, whose
 *     cost is paid all the same).
 */
import { saveModel, loadModel } from '../potentials/latte/io.ts';
import { LatteModel } from '../potentials/latte/model.ts';
import { dropDescriptorTerms, extendDescriptor, fitStatistics, prepareStructure, readTrainingFrames } from '../potentials/latte/train.ts';
import { parseOptions } from '../src/cli/command.ts';

const { options, positional } = parseOptions(process.argv.slice(2), []);
const out = positional[0];
if (!out) throw new Error('usage: latte-shape.ts OUT.msgpack (--descriptor STR [--hidden 48,24] | --from MODEL [--drop-blocks LIST] [--add-blocks STR]) [--element Si]');
const element = String(options.element ?? 'Si');
const frames = readTrainingFrames([`/work/shared/datasets/zuo2020/${element}_train.xyz`]).slice(0, 20);
const prepared = (m: LatteModel) => frames.map((f) => prepareStructure(f.frame, f.name, m.config.elements, m.config.cutoff));
let model: LatteModel;
if (typeof options.from === 'string') {
  const add = options['add-blocks'], drop = options['drop-blocks'];
  if (typeof add !== 'string' && typeof drop !== 'string') throw new Error('latte-shape: --from needs --add-blocks STR or --drop-blocks LIST');
  let base = loadModel(options.from).model;
  if (typeof drop === 'string') {
    base = dropDescriptorTerms(base, drop.split(',').map((item) => {
      const [block, term] = item.split('.').map(Number);
      return term === undefined ? { block } : { block, term };
    }));
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
