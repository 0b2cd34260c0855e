/** `tensormd info`: what a model file holds: its potential, its shape, and how it was made. */
import { stringify as toYaml } from 'yaml';
import { radialFunctionTable, formatRadialFunctionTable } from '../../potentials/latte/functions.ts';
import { loadModel as loadLatte } from '../../potentials/latte/io.ts';
import { DEFAULT_CHANNELS, DEFAULT_WL, type ChannelSpec } from '../../potentials/trace/basis.ts';
import type { RadialSpec } from '../../potentials/trace/radial.ts';
import { loadModel as loadTrace, modelCutoff } from '../../potentials/trace/model.ts';
import { modelSpec } from './eval.ts';
import { parseOptions, rejectUnknownOptions, type Command } from './command.ts';

/** A LATTE model's descriptor and network. */
export interface LatteShape {
  descriptor: string;
  /** Inputs D of each MLP, and the radial functions F behind them. */
  descriptors: number;
  radialFunctions: number;
  widths: { trained: true; min: number; max: number } | { trained: false; initial: number };
  hidden: number[];
  activation: string;
  speciesMode: string;
  embeddingDim?: number;
  /** Members whose mean the model is (tensormd ensemble). */
  ensembleMembers?: number;
}

/** An ACE model's basis (a stored channel-mixing matrix appears as storedMixing: true). */
export interface TraceShape {
  order: number;
  functions: number;
  maxDegree: number[];
  wL: number;
  radial: RadialSpec;
  channels: Record<string, unknown>;
  pair?: { radial: RadialSpec };
}

/** What `info` reports of one model file (the JSON line holds one per file). */
export type ModelInfo = ModelInfoCommon & ({ kind: 'latte'; shape: LatteShape } | { kind: 'trace'; shape: TraceShape });

interface ModelInfoCommon {
  file: string;
  elements: string[];
  /** Å: the largest range of any term, as MD uses it. */
  cutoff: number;
  /** Numbers stored (an ensemble's include the zero blocks of its merged layers). */
  parameters: number;
  /** Reference energy per element, eV (LATTE: the MLP's output offset). */
  e0: Record<string, number>;
  /** What the trainer, fitter or `tensormd ensemble` recorded in the file. */
  meta: Record<string, unknown>;
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'describe a model file: its potential, shape, and how it was trained',
  usage: `Usage: tensormd info MODEL.msgpack [MORE.msgpack …] [--functions]

Prints what MD loads from each model file (LATTE or ACE): its elements, cutoff,
descriptor and network or basis, parameter count and reference energies; then
what was recorded when it was made: 'tensormd train' records the training files,
epochs, kept epoch, time and validation errors; 'tensormd fit' the weights, λ and
the training, test and cross-validation errors; 'tensormd ensemble' each member's
record. The last line printed is one JSON object, { info: [one per file] }.

  --functions   LATTE: also list the radial functions, one line each: block,
                term and body (numbered from 1; BLOCK.TERM is how train drops
                a term), tensor rank, centre per central element, width, and
                the end of the support, which sets a term's cost (the
                neighbours inside it)`,

  async run(args) {
    const { options, positional } = parseOptions(args, ['help', 'functions']);
    rejectUnknownOptions(options, this);
    if (options.help || positional.length === 0) {
      console.log(this.usage);
      return options.help ? 0 : 2;
    }
    const infos: ModelInfo[] = [];
    for (const file of positional) {
      const { info, functions } = modelInfo(file);
      infos.push(info);
      for (const line of describe(info)) console.log(line);
      if (options.functions === true) {
        if (functions === null) console.log('  (--functions lists LATTE radial functions; an ACE model has none)');
        else for (const line of functions) console.log(`  ${line}`);
      }
    }
    console.log(JSON.stringify({ info: infos }));
    return 0;
  },
};

/** A model file's report, and for LATTE its radial-function table as text. */
export function modelInfo(file: string): { info: ModelInfo; functions: string[] | null } {
  const { kind, model: path } = modelSpec(file);
  if (kind === 'latte') {
    const { model, meta } = loadLatte(path as string);
    const c = model.config, elements = [...c.elements];
    const members = Array.isArray(meta.ensemble) ? meta.ensemble.length : 0;
    return {
      info: {
        file, kind, elements, cutoff: c.cutoff, parameters: model.nParameters,
        e0: Object.fromEntries(elements.map((el, t) => [el, model.e0[t]])),
        shape: {
          descriptor: c.descriptor, descriptors: model.nDescriptors, radialFunctions: model.nFunctions,
          widths: c.trainWidths ? { trained: true, min: c.widthMin, max: c.widthMax } : { trained: false, initial: c.width },
          hidden: [...c.hidden], activation: c.activation, speciesMode: c.speciesMode,
          ...(model.embeddingDim > 0 ? { embeddingDim: model.embeddingDim } : {}),
          ...(members > 0 ? { ensembleMembers: members } : {}),
        },
        meta,
      },
      functions: [
        `${model.mergedFunctionCount()} of the functions are computed as multiples of others in the MD path (same centre and width)`,
        ...formatRadialFunctionTable(radialFunctionTable(model)),
      ],
    };
  }
  if (kind === 'trace') {
    const model = loadTrace(path as string), b = model.basis, elements = [...b.elements];
    return {
      info: {
        file, kind, elements, cutoff: modelCutoff(model),
        parameters: model.coefficients.length + (model.pair?.coefficients.length ?? 0),
        e0: Object.fromEntries(elements.map((el, t) => [el, model.e0[t]])),
        shape: {
          order: b.order, functions: model.nFunctions, maxDegree: [...b.maxDegree], wL: b.wL ?? DEFAULT_WL,
          radial: { ...b.radial }, channels: channelSummary(b.channels ?? DEFAULT_CHANNELS),
          ...(model.pair ? { pair: { radial: { ...model.pair.radial } } } : {}),
        },
        meta: model.meta ?? {},
      },
      functions: null,
    };
  }
  throw new Error(`model file '${file}' is of kind '${kind}': info reads LATTE ('latte') and ACE ('trace') model files`);
}

/** The channel construction without a stored mixing matrix W (its presence is kept as a flag). */
function channelSummary(ch: ChannelSpec): Record<string, unknown> {
  const { W, ...rest } = ch as ChannelSpec & { W?: unknown };
  return W === undefined ? { ...rest } : { ...rest, storedMixing: true };
}

/** The human-readable lines of one report. */
function describe(info: ModelInfo): string[] {
  const e0 = Object.entries(info.e0).map(([el, e]) => `${el} ${e.toFixed(6)}`).join(', ');
  const lines = [info.file];
  if (info.kind === 'latte') {
    const s = info.shape, w = s.widths, ensemble = s.ensembleMembers !== undefined;
    lines.push(
      `  LATTE model of ${info.elements.join(', ')}, cutoff ${info.cutoff} Å, ${info.parameters} parameters` +
        (ensemble ? ' stored (the zero blocks of the merged layers included)' : ''),
      `  descriptor ${s.descriptor}: D=${s.descriptors} inputs from ${s.radialFunctions} radial functions, ` +
        (w.trained ? `widths trained in [${w.min}, ${w.max}] Å` : `width ${w.initial} Å`) +
        `, species weights ${s.speciesMode}${s.embeddingDim !== undefined ? ` (K=${s.embeddingDim})` : ''}`,
      `  network per element: ${s.descriptors} → ${s.hidden.join(' → ')} → 1, ${s.activation}` +
        (ensemble ? `: the mean of ${s.ensembleMembers} members' networks, merged (tensormd ensemble)` : ''),
    );
  } else {
    const s = info.shape, { kind: radialKind, cutoff: _, ...radial } = s.radial;
    const listed = (o: Record<string, unknown>) => Object.entries(o).map(([k, v]) => `${k} ${String(v)}`).join(', ');
    const { kind: channelKind, ...channel } = s.channels;
    const channels = [String(channelKind), listed(channel)].filter((t) => t !== '').join(', ');
    lines.push(
      `  ACE model of ${info.elements.join(', ')}, cutoff ${info.cutoff} Å, ${info.parameters} parameters`,
      `  basis: order ${s.order}, ${s.functions} functions, degree bounds ${s.maxDegree.join('/')}, w_L ${s.wL}, ` +
        `channels ${channels}; radial ${radialKind} (${listed(radial)})${s.pair ? '; with a pair term' : ''}`,
    );
  }
  lines.push(`  reference energies (eV): ${e0}`);
  if (Object.keys(info.meta).length === 0) lines.push('  no record of how it was made');
  else lines.push('  recorded when it was made:', ...toYaml(info.meta, { indent: 2, lineWidth: 0 }).trimEnd().split('\n').map((l) => `    ${l}`));
  return lines;
}
