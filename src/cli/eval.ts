/** `tensormd eval`: a potential's errors on reference data in extended-XYZ files. */
import { readFileSync } from 'node:fs';
import { unpack } from 'msgpackr';
import { parse as parseYaml } from 'yaml';
import { evaluateErrors, type FrameError } from '../analysis/errors.ts';
import { readExtxyzFiles } from '../io/extxyz.ts';
import '../../potentials/builtin.ts';
import { loadPotential } from '../../potentials/registry.ts';
import type { PotentialSpec } from '../../potentials/potential.ts';
import { resolveModelPath } from '../model-path.ts';
import { parseOptions, rejectUnknownOptions, type Command } from './command.ts';

export const evalCommand: Command = {
  name: 'eval',
  summary: "report a potential's energy and force errors on extxyz data",
  usage: `Usage: tensormd eval (--model FILE | --potential SPEC) DATA.xyz [DATA2.xyz …]

Evaluates a potential on every frame of the data files and reports the energy
error per atom (meV/atom) and the force-component error (eV/Å), as MAE and RMSE,
and the virial error where the data has virials. The last line printed is one
JSON object with the figures.

  --model FILE       a fitted model file (msgpack) of an ML potential (ACE, LATTE);
                     its kind is read from the file
  --potential SPEC   a potential spec as JSON/YAML text or a .yaml/.json file,
                     e.g. '{"kind":"eam/alloy","file":"Cu_mishin1.eam.alloy"}'
  --per-frame        also print one line per frame: its atoms, reference energy
                     (eV/atom), signed energy error (meV/atom) and force MAE
                     (eV/Å), to see which frames carry the totals`,

  async run(args) {
    const { options, positional } = parseOptions(args, ['help', 'per-frame']);
    rejectUnknownOptions(options, this);
    if (options.help || positional.length === 0 || (!options.model && !options.potential)) {
      console.log(this.usage);
      return options.help ? 0 : 2;
    }
    const spec = typeof options.model === 'string' ? modelSpec(options.model) : potentialSpec(String(options.potential));
    const potential = await loadPotential(spec);
    const { frames, names } = readExtxyzFiles(positional);
    const onFrame = options['per-frame'] === true
      ? (i: number, r: FrameError) => console.log(`${names[i]}  ${r.atoms} atoms  E ${r.reference_energy_ev_per_atom.toFixed(4)} eV/atom  ΔE ${r.energy_error_mev_per_atom.toFixed(2)} meV/atom  F MAE ${r.force_mae_ev_per_a.toFixed(4)} eV/Å`)
      : undefined;
    const report = evaluateErrors(potential, frames, { frameName: (i) => names[i], onFrame });
    console.log(`${report.frames} frames, ${report.atoms} atoms`);
    console.log(`energy  MAE ${report.energy_mae_mev_per_atom.toFixed(3)} meV/atom   RMSE ${report.energy_rmse_mev_per_atom.toFixed(3)} meV/atom`);
    console.log(`forces  MAE ${report.force_mae_ev_per_a.toFixed(4)} eV/Å       RMSE ${report.force_rmse_ev_per_a.toFixed(4)} eV/Å`);
    if (report.virial_mae_mev_per_atom !== undefined) console.log(`virial  MAE ${report.virial_mae_mev_per_atom.toFixed(3)} meV/atom`);
    console.log(JSON.stringify({ eval: spec.kind, files: positional, ...report }));
    return 0;
  },
};

/** A model file names its own kind (`kind` field of the msgpack object); found as src/model-path.ts finds it. */
export function modelSpec(path: string): PotentialSpec {
  const absolute = resolveModelPath(path);
  let data: unknown;
  try {
    data = unpack(readFileSync(absolute));
  } catch (err) {
    throw new Error(`cannot read model file '${absolute}': ${(err as Error).message}`);
  }
  const kind = (data as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string') throw new Error(`model file '${absolute}' does not name its kind (expected a 'kind' field such as 'trace' or 'latte')`);
  return { kind, model: absolute };
}

export function potentialSpec(text: string): PotentialSpec {
  const source = /\.(ya?ml|json)$/i.test(text) ? readFileSync(text, 'utf8') : text;
  const spec = parseYaml(source) as PotentialSpec;
  if (!spec || typeof spec.kind !== 'string') throw new Error(`--potential must be a spec with a 'kind', got ${text}`);
  return spec;
}
