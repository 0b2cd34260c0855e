/** `tensormd label`: frames labelled by a potential, as synthetic training data. */
import { readExtxyzFiles, writeExtxyz } from '../io/extxyz.ts';
import { labelFrames } from '../workflows/label.ts';
import '../../potentials/builtin.ts';
import { loadPotential } from '../../potentials/registry.ts';
import { modelSpec, potentialSpec } from './eval.ts';
import { optionNumber, optionNumberList, parseOptions, rejectUnknownOptions, type Command } from './command.ts';

export const labelCommand: Command = {
  name: 'label',
  summary: 'label extxyz frames with a potential (energies, forces): synthetic training data',
  usage: `Usage: tensormd label (--model FILE | --potential SPEC) IN.xyz [MORE.xyz …] --out OUT.xyz [options]

Writes every frame of the input files again with the potential's energy and
forces (and stress with --stress), after an optional relaxation and as copies
with random displacements: training data where the first-principles data has
none, labelled by a model fitted to it (e.g. ACE-labelled surfaces for a LATTE
model, passed to tensormd train with --augment). The source frames' own
energies, forces and stresses are dropped; their other header keys are kept,
and label_rattle (σ, Å), label_relaxed_fmax and label_relaxed_pressure (GPa,
with --relax-cell) are added.

  --model FILE       a fitted model file (msgpack) of an ML potential (ACE, LATTE)
  --potential SPEC   a potential spec as JSON/YAML text or a .yaml/.json file
  --out FILE         extxyz file to write (required)
  --relax FMAX       first relax each frame's positions (FIRE; the cell fixed
                     unless --relax-cell) until the largest atomic force is at
                     most FMAX eV/Å
  --relax-cell       with --relax: relax the cell too (shape and volume; the
                     frame must be periodic along all three axes), until the
                     stress is also within --relax-smax of the target pressure
                     (relax slabs at 0: their vacuum carries no stress)
  --pressure P       target pressure of --relax-cell, GPa, default 0
  --relax-smax S     stress tolerance of --relax-cell, GPa, default 0.01
  --max-steps N      FIRE iterations allowed per frame, default 2000 (a frame not
                     relaxed by then is an error naming it)
  --rattle S1,S2,…   one labelled copy per σ (Å): Gaussian displacements of σ per
                     Cartesian component from the (relaxed) frame; 0 is the frame
                     itself. Default 0
  --seed N           seed of the displacements, default 1
  --stress           also write the stress (frames with a cell volume)
  The last line printed is one JSON object: frames read and written, atoms, out.`,

  async run(args) {
    const { options, positional } = parseOptions(args, ['help', 'stress', 'relax-cell']);
    rejectUnknownOptions(options, this);
    if (options.help || positional.length === 0 || (!options.model && !options.potential) || typeof options.out !== 'string') {
      console.log(this.usage);
      return options.help ? 0 : 2;
    }
    const spec = typeof options.model === 'string' ? modelSpec(options.model) : potentialSpec(String(options.potential));
    const potential = await loadPotential(spec);
    const { frames, names } = readExtxyzFiles(positional);
    const rattle = optionNumberList(options, 'rattle', [0], 'comma-separated numbers (Å)');
    const labelled = labelFrames(potential, frames, {
      relaxFmax: options.relax !== undefined ? optionNumber(options, 'relax', 0) : undefined,
      relaxCell: options['relax-cell'] === true,
      pressure: options.pressure !== undefined ? optionNumber(options, 'pressure', 0) : undefined,
      relaxSmax: options['relax-smax'] !== undefined ? optionNumber(options, 'relax-smax', 0) : undefined,
      maxSteps: optionNumber(options, 'max-steps', 2000),
      rattle,
      seed: optionNumber(options, 'seed', 1),
      stress: options.stress === true,
      frameName: (i) => names[i],
      onFrame: (i, l) => console.log(`${names[i]}  ${l.atoms} atoms  rattle ${l.rattle} Å  ${l.relaxSteps} relaxation steps  E ${l.energyPerAtom.toFixed(4)} eV/atom`),
    });
    writeExtxyz(options.out, labelled);
    const atoms = labelled.reduce((s, f) => s + f.symbols.length, 0);
    console.log(JSON.stringify({ label: spec.kind, files: positional, framesRead: names.length, framesWritten: labelled.length, atoms, out: options.out }));
    return 0;
  },
};
