/** `tensormd train`: fits a LATTE model on extxyz files and writes a msgpack model file. */
import { loadModel, saveModel } from '../../potentials/latte/io.ts';
import { ACTIVATIONS, DEFAULT_EMBEDDING_DIM, SPECIES_MODES, type Activation, type SpeciesMode } from '../../potentials/latte/model.ts';
import { OPTIMIZERS, augmentFileWeights, parseDescriptorTerms, trainLatte, widenHidden, type AddedRadial, type DescriptorTerm, type Optimizer } from '../../potentials/latte/train.ts';
import { optionNumber, optionNumberList, parseOptions, rejectUnknownOptions, type Command } from './command.ts';


function schedule(v: string | true | undefined): 'exponential' | 'cosine' {
  if (v === undefined) return 'exponential';
  if (v === 'exponential' || v === 'cosine') return v;
  throw new Error(`train: --schedule must be exponential or cosine, got '${String(v)}'`);
}

function workersOption(v: string | true): number {
  const n = Number(v);
  if (v === true || !Number.isInteger(n) || n < 1) throw new Error(`train: --workers needs a positive integer, got '${String(v)}'`);
  return n;
}

function badSelect(v: string | true): never {
  throw new Error(`train: --select must be loss or mae, got '${String(v)}'`);
}

function initialModel(options: Record<string, string | true>) {
  const widen = optionNumberList(options, 'widen-hidden');
  if (typeof options.init !== 'string') {
    if (widen !== undefined) throw new Error('train: --widen-hidden needs --init MODEL');
    if (options['add-blocks'] !== undefined) throw new Error('train: --add-blocks needs --init MODEL');
    if (options['drop-blocks'] !== undefined) throw new Error('train: --drop-blocks needs --init MODEL');
    return undefined;
  }
  const model = loadModel(options.init).model;
  if (widen === undefined) return model;
  return widenHidden(model, widen, optionNumber(options, 'seed', 1));
}

function addBlocks(v: string | true | undefined): string | undefined {
  if (v === true) throw new Error('train: --add-blocks needs descriptor blocks, e.g. 8,abc,abc');
  return v;
}

/** --add-width S and --add-centres LO,HI place the appended blocks' radial functions. */
function addRadial(options: Record<string, string | true>): AddedRadial | undefined {
  const width = options['add-width'], centres = options['add-centres'];
  if (width === undefined && centres === undefined) return undefined;
  if (options['add-blocks'] === undefined) throw new Error('train: --add-width and --add-centres place the functions of --add-blocks: give --add-blocks too');
  if (typeof width !== 'string' || typeof centres !== 'string') throw new Error('train: --add-width S and --add-centres LO,HI go together, e.g. --add-width 0.75 --add-centres 1.7,3.2');
  const s = Number(width), range = optionNumberList(options, 'add-centres', [], 'LO,HI in Å');
  if (!(s > 0)) throw new Error(`train: --add-width needs a width in Å, got '${width}'`);
  if (range.length !== 2) throw new Error(`train: --add-centres needs LO,HI in Å, got '${centres}'`);
  return { width: s, centres: [range[0], range[1]] };
}

function dropTerms(v: string | true | undefined): DescriptorTerm[] | undefined {
  if (v === undefined) return undefined;
  return parseDescriptorTerms(v === true ? '' : v, 'train: --drop-blocks');
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'fit a LATTE machine-learned potential to energies and forces in extxyz files',
  usage: `Usage: tensormd train TRAIN.xyz [MORE.xyz …] --out MODEL.msgpack [options]

Fits a LATTE model (descriptor of Cartesian tensor contractions + one MLP per
element) to the energies, forces and (when present) virials of the frames, and
writes a model file that MD loads with { kind: 'latte', model: 'MODEL.msgpack' }.

  --out FILE            model file to write (required)
  --validation FILES    comma-separated validation extxyz files (default: hold out
                        --val-fraction of the training frames, chosen with the seed)
  --val-fraction X      default 0.1
  --augment FILES       comma-separated training-only extxyz files: their frames
                        train but are never held out for validation, so the
                        split of the positional files is unchanged (e.g. frames
                        labelled by another model with tensormd label)
  --augment-weights W   loss weight of the --augment files' frames, one per file
                        (comma-separated) or one for all; default 1, a measured
                        frame's weight (less lets model-labelled frames count less)
  --descriptor STR      blocks, default '8,-:8,a,a:8,ab,ab:4,a,b,ab'
  --cutoff RC           Å, default 5
  --width S             radial width, Å, default 1.5
  --train-widths        also learn one width per radial function in [--width-min, --width-max]
  --width-min, --width-max
  --hidden 32,16        hidden layer sizes
  --activation NAME     gaussian (default), tanh or silu
  --species-mode MODE   specific (default: one weight per central/neighbour element
                        pair and radial function) or embedding (weights factorised
                        through learned element vectors: w_f(A,B) = Σ_a C_fa zc_Aa zn_Ba,
                        parameters linear in the number of elements; for many elements)
  --embedding-dim K     embedding size in embedding mode, default ${DEFAULT_EMBEDDING_DIM}
  --optimizer NAME      adam (default: mini-batches, learning-rate schedule) or
                        lbfgs (full batch, deterministic, line search; an epoch is
                        one iteration, --lr bounds the first step per parameter)
  --lbfgs-memory M      curvature pairs L-BFGS keeps, default 20
  --epochs N            default 200     --batch N       default 8
  --lr X                default 0.005   --decay X       per epoch, default 0.99
  --schedule NAME       exponential (default: lr·decay^(epoch−1)) or cosine (from
                        --lr down to --lr-min at the last epoch)
  --lr-min X            final learning rate of the cosine schedule, default lr/100
  --patience N          early stopping, default 50
  --select loss|mae     keep the epoch with the lowest validation loss (default) or
                        the lowest √wE·MAE(E/atom) + √wF·MAE(F)
  --w-energy X          default 100     --w-forces X    default 1     --w-virial X default 1
  --weight-decay X      L2 penalty X·Σw² on the MLP weights (not biases) added to the
                        training loss (not to validation), default 0
  --seed N              default 1
  --init MODEL          continue training from a model file (its shape and
                        standardisation are kept; shape options are ignored)
  --curves FILE         learning curves (CSV), default OUT with .csv
  --max-seconds S       stop after this long
  --force-gradient X    central (default) or forward (one pass fewer per structure)
  --freeze-descriptor   train the MLPs only: radial centres, widths and species
                        weights fixed; descriptors and their position Jacobians are
                        stored once (memory ~ atoms × neighbours × D × 24 bytes,
                        shared by the --workers threads) and each gradient is
                        exact and several times cheaper (--force-gradient does
                        not apply)
  --widen-hidden 64,32  with --init: widen the hidden layers first (new neurons
                        enter with zero output weights: same energies at the start)
  --add-blocks STR      with --init: append descriptor blocks first, e.g.
                        '8,abc,abc:6,abcd,abcd' (rank 3 and 4 resolve angular
                        order l = 3, 4, which rank ≤ 2 blocks cannot see: the
                        first non-zero order of a cubic crystal's neighbour shell
                        is l = 4, of a tetrahedral one l = 3). New inputs enter
                        with zero weights: same energies at the start
  --add-width S, --add-centres LO,HI
                        with --add-blocks: the new functions' width, and their
                        centres spread from LO towards HI as the defaults are over
                        [width, rc − width] (the default), e.g. --add-width 0.75
                        --add-centres 1.6,3.2: narrow functions that resolve close
                        contacts (LO ≥ S, HI ≤ rc − S, S in the trained width range)
  --drop-blocks 4,5     with --init: drop these descriptor blocks (numbered from 1)
                        first, e.g. to trade an expensive block for a rank-3 one
                        with --add-blocks; BLOCK.TERM drops one term of a block
                        (5.4,5.5: terms 4 and 5 of block 5, e.g. those whose
                        radial functions reach the far shells, which cost most);
                        dropped inputs are replaced by their training mean, so
                        the energies change: retrain
  --workers N           threads computing each batch, this one included (default:
                        available cores; 1: no worker threads). The model has
                        identical bits for any N.
  The best model so far is saved to OUT after every improving epoch.`,

  async run(args) {
    const { options, positional } = parseOptions(args, ['help', 'train-widths', 'freeze-descriptor']);
    rejectUnknownOptions(options, this);
    if (options.help || positional.length === 0 || typeof options.out !== 'string') {
      console.log(this.usage);
      return options.help ? 0 : 2;
    }
    const activation = (options.activation ?? 'gaussian') as Activation;
    if (!ACTIVATIONS.includes(activation)) throw new Error(`train: --activation must be one of ${ACTIVATIONS.join(', ')}`);
    const speciesMode = (options['species-mode'] ?? 'specific') as SpeciesMode;
    if (!SPECIES_MODES.includes(speciesMode)) throw new Error(`train: --species-mode must be one of ${SPECIES_MODES.join(', ')}, got '${String(speciesMode)}'`);
    const optimizer = (options.optimizer ?? 'adam') as Optimizer;
    if (!OPTIMIZERS.includes(optimizer)) throw new Error(`train: --optimizer must be one of ${OPTIMIZERS.join(', ')}, got '${String(optimizer)}'`);
    const width = optionNumber(options, 'width', 1.5);
    const hidden = optionNumberList(options, 'hidden', [32, 16]);
    const out = options.out;
    if (options.augment === true) throw new Error('train: --augment needs comma-separated extxyz files');
    const augment = typeof options.augment === 'string' ? options.augment.split(',') : undefined;
    const augmentWeights = optionNumberList(options, 'augment-weights');
    // Provenance: an augment file's weight is recorded beside it when it is not 1.
    const fileWeights = augmentFileWeights(augment ?? [], augmentWeights);
    const trainedOn = [...positional, ...(augment ?? []).map((f, k) => (fileWeights[k] === 1 ? f : `${f} (loss weight ${fileWeights[k]})`))];
    const curves = typeof options.curves === 'string' ? options.curves : out.replace(/\.msgpack$/, '') + '.csv';
    const result = trainLatte({
      model: {
        cutoff: optionNumber(options, 'cutoff', 5),
        descriptor: String(options.descriptor ?? '8,-:8,a,a:8,ab,ab:4,a,b,ab'),
        width,
        trainWidths: options['train-widths'] === true,
        widthMin: optionNumber(options, 'width-min', width),
        widthMax: optionNumber(options, 'width-max', width),
        hidden,
        activation,
        speciesMode,
        embeddingDim: optionNumber(options, 'embedding-dim', DEFAULT_EMBEDDING_DIM),
      },
      initial: initialModel(options),
      addBlocks: addBlocks(options['add-blocks']),
      addRadial: addRadial(options),
      dropTerms: dropTerms(options['drop-blocks']),
      train: positional,
      augment,
      augmentWeights,
      validation: typeof options.validation === 'string' ? options.validation.split(',') : undefined,
      validationFraction: optionNumber(options, 'val-fraction', 0.1),
      seed: optionNumber(options, 'seed', 1),
      epochs: optionNumber(options, 'epochs', 200),
      batchSize: optionNumber(options, 'batch', 8),
      learningRate: optionNumber(options, 'lr', 0.005),
      decay: optionNumber(options, 'decay', 0.99),
      schedule: schedule(options.schedule),
      learningRateMin: options['lr-min'] !== undefined ? optionNumber(options, 'lr-min', 0) : undefined,
      patience: optionNumber(options, 'patience', 50),
      select: options.select === 'mae' ? 'mae' : options.select === undefined || options.select === 'loss' ? 'loss' : badSelect(options.select),
      weights: { energy: optionNumber(options, 'w-energy', 100), forces: optionNumber(options, 'w-forces', 1), virial: optionNumber(options, 'w-virial', 1) },
      curves,
      maxSeconds: options['max-seconds'] !== undefined ? optionNumber(options, 'max-seconds', Infinity) : undefined,
      forceGradient: options['force-gradient'] === 'forward' ? 'forward' : 'central',
      optimizer,
      lbfgsMemory: optionNumber(options, 'lbfgs-memory', 20),
      weightDecay: optionNumber(options, 'weight-decay', 0),
      freezeDescriptor: options['freeze-descriptor'] === true,
      workers: options.workers !== undefined ? workersOption(options.workers) : undefined,
      log: (line) => console.log(line),
      onImproved: (model, rec) => saveModel(out, model, { trainedOn, checkpointEpoch: rec.epoch, validation: { energyMaeMevPerAtom: rec.valEnergyMae, forceMaeEvPerA: rec.valForceMae } }),
    });
    const best = result.history[result.bestEpoch - 1];
    saveModel(out, result.model, {
      trainedOn,
      epochs: result.history.length,
      bestEpoch: result.bestEpoch,
      seconds: result.seconds,
      validation: best ? { energyMaeMevPerAtom: best.valEnergyMae, forceMaeEvPerA: best.valForceMae } : null,
    });
    console.log(
      `wrote ${out} (${result.model.describe()}), best epoch ${result.bestEpoch}, ${result.seconds.toFixed(0)} s on ${result.workers} thread(s)` +
        `${result.workers > 1 ? ` (${(100 * result.workerShare).toFixed(0)}% of structures on worker threads)` : ''}; curves in ${curves}`,
    );
    console.log(JSON.stringify({ model: out, epochs: result.history.length, bestEpoch: result.bestEpoch, seconds: result.seconds, workers: result.workers, workerShare: result.workerShare, valEnergyMaeMevPerAtom: best?.valEnergyMae, valForceMaeEvPerA: best?.valForceMae }));
    return 0;
  },
};
