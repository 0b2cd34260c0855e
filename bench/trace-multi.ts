/**
 * Tensor reduction on multi-element data: full ACE versus TRACE (species-mixed and
 * radial+species-mixed channels, element-wise coupling) at about equal descriptor
 * length, on Ti–Al (tial/, 2 elements, with virials) and ethanol (ethanol/, C H O,
 * molecule). Also prints how the descriptor length of each variant grows when the
 * element count grows (TRACE: constant; full ACE: ~S^ν).
 *
 *   npx tsx bench/trace-multi.ts [--ethanol-frames 300]
 *
 * One JSON line per fit; the last line holds all figures.
 */
import { join } from 'node:path';
import { readExtxyz, frameEnergy, type Frame } from '../src/io/extxyz.ts';
import { fitTrace } from '../potentials/trace/fit.ts';
import { AceBasis, type BasisSpec, type ChannelSpec } from '../potentials/trace/basis.ts';
import { parseOptions } from '../src/cli/command.ts';
import { report } from './harness.ts';
import { DATASETS } from '../test/oracles/datasets.ts';

const DATA = DATASETS;
const { options } = parseOptions(process.argv.slice(2));
const all: Record<string, unknown> = {};

function spec(elements: string[], channels: ChannelSpec, maxDegree: number[], cutoff: number): BasisSpec {
  return { elements, radial: { kind: 'chebexpcos', n: maxDegree[0], cutoff, lambda: 5 }, order: maxDegree.length, maxDegree, channels };
}

// Descriptor length versus number of elements.
const grow = ['Ti', 'Al', 'Ni', 'Cu'];
for (const [name, ch] of [['full', { kind: 'full' }], ['species-K4', { kind: 'species', K: 4 }], ['radial-species-K4Q6', { kind: 'radial-species', K: 4, Q: 6 }]] as [string, ChannelSpec][]) {
  const lengths = [1, 2, 3, 4].map((S) => new AceBasis(spec(grow.slice(0, S), ch, [10, 8, 6], 5)).nFunctions);
  console.log(`descriptor length of ${name} for 1..4 elements: ${lengths.join(', ')}`);
  all[`length_${name}`] = lengths.join('/');
}

function run(label: string, train: Frame[], test: Frame[], s: BasisSpec, e0?: Record<string, number>): void {
  const fit = fitTrace({ basis: s, train, test, e0, source: label, folds: 4, log: (l) => console.log(`[${label}] ${l}`) });
  const row = {
    fit: label, functions: fit.nFunctions, parameters: fit.nParameters, lambda: fit.lambda, fit_s: fit.timings.total_s,
    test_E_mae: fit.test!.energy_mae_mev_per_atom, test_F_mae: fit.test!.force_mae_ev_per_a,
    train_E_mae: fit.train.energy_mae_mev_per_atom, train_F_mae: fit.train.force_mae_ev_per_a,
    ...(fit.test!.virial_mae_mev_per_atom !== undefined ? { test_V_mae: fit.test!.virial_mae_mev_per_atom } : {}),
  };
  report(row);
  for (const [k, v] of Object.entries(row)) if (k !== 'fit') all[`${label}_${k}`] = v;
}

// Ti–Al: every 5th frame is test.
{
  const frames = readExtxyz(join(DATA, 'tial', 'TiAl_tutorial.xyz'));
  const train = frames.filter((_, i) => i % 5 !== 0), test = frames.filter((_, i) => i % 5 === 0);
  const e0 = { Ti: -1586.0195, Al: -105.5954 };
  const el = ['Ti', 'Al'];
  run('TiAl_full', train, test, spec(el, { kind: 'full' }, [10, 8, 6], 5.5), e0);
  run('TiAl_species_K4', train, test, spec(el, { kind: 'species', K: 4 }, [10, 8, 6], 5.5), e0);
  run('TiAl_radial_species_K4Q6', train, test, spec(el, { kind: 'radial-species', K: 4, Q: 6 }, [10, 8, 6], 5.5), e0);
}

// Ethanol: reference energies from isolated_atoms.xyz.
{
  const n = Number(options['ethanol-frames'] ?? 300);
  const train = readExtxyz(join(DATA, 'ethanol', 'train.xyz')).slice(0, n);
  const test = readExtxyz(join(DATA, 'ethanol', 'test_MD.xyz')).slice(0, Math.max(100, Math.floor(n / 3)));
  const e0: Record<string, number> = {};
  for (const f of readExtxyz(join(DATA, 'ethanol', 'isolated_atoms.xyz'))) e0[f.symbols[0]] = frameEnergy(f)!;
  const el = ['C', 'H', 'O'];
  run('ethanol_full', train, test, spec(el, { kind: 'full' }, [8, 7, 5], 4.5), e0);
  run('ethanol_species_K8', train, test, spec(el, { kind: 'species', K: 8 }, [8, 7, 5], 4.5), e0);
}
report(all);
