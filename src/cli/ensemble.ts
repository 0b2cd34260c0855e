/** `tensormd ensemble`: LATTE models that share a descriptor, merged into one that predicts their mean. */
import { basename } from 'node:path';
import { averageModels } from '../../potentials/latte/ensemble.ts';
import { loadModel, saveModel } from '../../potentials/latte/io.ts';
import { parseOptions, rejectUnknownOptions, type Command } from './command.ts';

export const ensembleCommand: Command = {
  name: 'ensemble',
  summary: 'merge LATTE models with one shared descriptor into one model of their mean',
  usage: `Usage: tensormd ensemble MODEL1.msgpack MODEL2.msgpack [MORE …] --out MERGED.msgpack

Writes one LATTE model whose energy, forces and virial are the mean of the
members'. The members must share the descriptor and its standardisation, as
models trained from one starting model with 'tensormd train --init M
--freeze-descriptor' do (e.g. with different --augment data or seeds); their
MLPs are merged into one network K times wider (first layers stacked, hidden
layers block-diagonal, outputs averaged), so the descriptor is computed once
and only the MLP's cost grows. MD, eval and train load the merged file as any
other LATTE model.

  --out FILE   model file to write (required)
  The last line printed is one JSON object: members, hidden layers, out.`,

  async run(args) {
    const { options, positional } = parseOptions(args, ['help']);
    rejectUnknownOptions(options, this);
    if (options.help || positional.length === 0 || typeof options.out !== 'string') {
      console.log(this.usage);
      return options.help ? 0 : 2;
    }
    const loaded = positional.map((path) => ({ path, ...loadModel(path) }));
    const merged = averageModels(loaded.map((l) => l.model), positional.map((p) => `'${p}'`));
    saveModel(options.out, merged, {
      ensemble: loaded.map((l) => ({ file: basename(l.path), meta: l.meta })),
    });
    console.log(JSON.stringify({ ensemble: positional, hidden: merged.config.hidden, parameters: merged.nParameters, out: options.out }));
    return 0;
  },
};
