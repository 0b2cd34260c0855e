/** `tensormd fit`: fits a (tensor-reduced) ACE model to extxyz data and writes a msgpack model. */
import { writeFileSync } from 'node:fs';
import { readExtxyz } from '../io/extxyz.ts';
import { availableParallelism } from 'node:os';
import { DEFAULT_IRLS_ITERATIONS, defaultBasisSpec, elementsOf, energyLossFromText, fitTraceAsync, readFrames } from '../../potentials/trace/fit.ts';
import type { ChannelSpec } from '../../potentials/trace/basis.ts';
import type { RadialKind, RadialSpec } from '../../potentials/trace/radial.ts';
import { saveModel } from '../../potentials/trace/model.ts';
import { optionNumber, optionNumberList, parseOptions, rejectUnknownOptions, type Command } from './command.ts';

type Options = Readonly<Record<string, string | true | undefined>>;

/** Option --name as a finite number, or fallback when absent. */

/**
 * The radial basis of N functions named by --radial (chebexpcos | poly | agnesi, default
 * chebexpcos) with its own options: --radial-lambda (chebexpcos, default 1), --r0
 * (agnesi, required) and --p, --q (agnesi, default 2 and 4). Shared by `tensormd fit`
 * and the ACE benches, so that all read them alike.
 */
export function radialFromOptions(options: Options, n: number, cutoff: number): RadialSpec {
  const num = (name: string, fallback: number): number => optionNumber(options, name, fallback);
  const kind = String(options.radial ?? 'chebexpcos') as RadialKind;
  if (kind === 'chebexpcos') return { kind, n, cutoff, lambda: num('radial-lambda', 1) };
  if (kind !== 'agnesi') return { kind, n, cutoff }; // an unknown kind is named by the basis's validation
  if (options.r0 === undefined) throw new Error('--radial agnesi needs --r0 (the distance of finest resolution, Å)');
  return { kind, n, cutoff, r0: num('r0', 0), p: num('p', 2), q: num('q', 4) };
}

export const fitCommand: Command = {
  name: 'fit',
  summary: 'fit a linear (tensor-reduced) ACE potential to extxyz data',
  usage: `Usage: tensormd fit --train DATA.xyz [--test TEST.xyz] --out MODEL.msgpack [options]

Fits E = Σ_i [E0(z_i) + Σ_b c_{z_i b} B_{i b}] by weighted, regularised linear least
squares (Householder QR) to the energies, forces and virials of the training frames
and writes a model file that 'tensormd run' (potential { kind: trace, model: FILE })
and 'tensormd eval --model FILE' read. Prints train/test errors; the last line is one
JSON object with the figures.

Data:
  --train FILE[,FILE…]   training frames (each needs an energy and forces)
  --test FILE[,FILE…]    optional test frames for the error report
  --elements Si,Ge       model elements (default: those in the training data)
  --e0 Ti=-1586.02,Al=-105.60   fixed reference energies (default: fitted)
Basis:
  --order 3              correlation order ν (1..4)
  --degree 20,16,12      total-degree bound per order (Σ n + wL·l)
  --wl 1.5               weight of l in the degree
  --cutoff 5.5           Å
  --radial chebexpcos    radial basis: chebexpcos | poly | agnesi
  --radial-lambda 1      ChebExpCos λ (1 beat 2 and 5 in cross-validation on zuo2020 Si)
  --r0 2.35 --p 2 --q 4  agnesi: distance of finest resolution (Å, required) and exponents
  --channels full        full | species:K | radial-species:K:Q  (tensor reduction with K channels)
Fit:
  --energy-weight 30     w_E (energy rows weighted w_E/√N)
  --force-weight 1       w_F
  --virial-weight 1      w_V (rows weighted w_V/√N)
  --lambda auto          regularisation λ, or 'auto' (5-fold cross-validation over a grid)
  --energy-scales 0.3,1  multipliers of w_E also tried by cross-validation (default: 1 only)
  --select 2.5,0.06      choose λ and the energy scale by held-out RMSE_E/2.5 meV/atom + RMSE_F/0.06 eV/Å
                         (default: the weighted loss at the given weights)
  --energy-loss l2       loss on the energy rows: l2 | l1 | l1:δ | huber:δ (δ meV/atom; l1 floor 0.5):
                         non-L2 losses refit by iteratively reweighted least squares (every CV fold too)
  --irls-iterations 8    reweighting iterations for l1/huber
  --folds 5              cross-validation folds
  --cv                   also report cross-validated errors (refits per fold)
  --threads N            worker threads assembling the design (default: all cores; same result for any N)
  --report FILE          also write the summary (the last line's figures) to FILE as JSON`,

  async run(args) {
    const { options } = parseOptions(args, ['help', 'cv']);
    rejectUnknownOptions(options, this);
    if (options.help || typeof options.train !== 'string' || typeof options.out !== 'string') {
      console.log(this.usage);
      return options.help ? 0 : 2;
    }
    const list = (v: unknown): string[] => String(v).split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    const num = (name: string, fallback: number): number => optionNumber(options, name, fallback);
    const numbers = (name: string): number[] => {
      const xs = optionNumberList(options, name, []);
      if (xs.some((x) => !(x > 0))) throw new Error(`--${name} must list positive numbers, got '${String(options[name])}'`);
      return xs;
    };
    const train = readFrames(list(options.train), (p) => readExtxyz(p));
    const test = options.test ? readFrames(list(options.test), (p) => readExtxyz(p)) : undefined;
    const elements = options.elements ? list(options.elements) : elementsOf(train);
    const maxDegree = options.degree !== undefined ? numbers('degree') : undefined;
    const order = options.order !== undefined ? num('order', 3) : (maxDegree?.length ?? 3);
    const degrees = maxDegree ?? [20, 16, 12, 10].slice(0, order);
    if (degrees.length !== order) throw new Error(`--degree needs ${order} values (one per order), got ${degrees.length}`);
    const cutoff = num('cutoff', 5.5);
    const basis = defaultBasisSpec(elements, {
      order, maxDegree: degrees, wL: num('wl', 1.5),
      radial: radialFromOptions(options, Math.ceil(degrees[0]), cutoff),
      channels: parseChannels(String(options.channels ?? 'full')),
    });
    let e0: Record<string, number> | undefined;
    if (options.e0) {
      e0 = {};
      for (const item of list(options.e0)) {
        const [el, v] = item.split('=');
        const x = Number(v);
        if (!el || !Number.isFinite(x)) throw new Error(`--e0 expects El=energy pairs, got '${item}'`);
        e0[el] = x;
      }
    }
    const lambda = options.lambda === undefined || options.lambda === 'auto' ? undefined : num('lambda', 0);
    const threads = num('threads', availableParallelism());
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive integer, got ${String(options.threads)}`);
    const result = await fitTraceAsync({
      basis, threads, train, test, e0, lambda,
      weights: { energy: num('energy-weight', 30), force: num('force-weight', 1), virial: num('virial-weight', 1) },
      energyLoss: options['energy-loss'] !== undefined ? energyLossFromText(String(options['energy-loss'])) : undefined,
      irlsIterations: options['irls-iterations'] !== undefined ? num('irls-iterations', DEFAULT_IRLS_ITERATIONS) : undefined,
      folds: num('folds', 5), crossValidate: options.cv === true, source: String(options.train),
      energyScales: options['energy-scales'] !== undefined ? numbers('energy-scales') : undefined,
      select: options.select !== undefined ? selectScales(numbers('select')) : undefined,
      log: (line) => console.log(line),
    });
    saveModel(String(options.out), result.model);
    const show = (name: string, r: { energy_mae_mev_per_atom: number; energy_rmse_mev_per_atom: number; force_mae_ev_per_a: number; force_rmse_ev_per_a: number }): void =>
      console.log(`${name.padEnd(6)} energy MAE ${r.energy_mae_mev_per_atom.toFixed(3)} RMSE ${r.energy_rmse_mev_per_atom.toFixed(3)} meV/atom   force MAE ${r.force_mae_ev_per_a.toFixed(4)} RMSE ${r.force_rmse_ev_per_a.toFixed(4)} eV/Å`);
    show('train', result.train);
    if (result.test) show('test', result.test);
    if (result.crossValidation) show('cv', result.crossValidation);
    console.log(`model written to ${String(options.out)} (${result.nFunctions} functions, λ = ${result.lambda.toExponential(1)}, ${result.timings.total_s.toFixed(1)} s)`);
    const summary = { fit: String(options.out), nFunctions: result.nFunctions, lambda: result.lambda, energyWeight: result.energyWeight, train: result.train, test: result.test, cv: result.crossValidation, timings: result.timings };
    if (typeof options.report === 'string') writeFileSync(options.report, JSON.stringify(summary, null, 2));
    console.log(JSON.stringify(summary));
    return 0;
  },
};

function selectScales(xs: number[]): { energy: number; force: number } {
  if (xs.length !== 2) throw new Error(`--select expects two numbers (energy meV/atom, force eV/Å), got ${xs.length}`);
  return { energy: xs[0], force: xs[1] };
}

function parseChannels(text: string): ChannelSpec {
  const [kind, a, b] = text.split(':');
  if (kind === 'full') return { kind: 'full' };
  if (kind === 'species' && Number.isInteger(Number(a))) return { kind: 'species', K: Number(a) };
  if (kind === 'radial-species' && Number.isInteger(Number(a)) && Number.isInteger(Number(b))) return { kind: 'radial-species', K: Number(a), Q: Number(b) };
  throw new Error(`--channels must be full, species:K or radial-species:K:Q, got '${text}'`);
}
