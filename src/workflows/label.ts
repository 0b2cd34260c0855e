/**
 * Frames labelled by a potential: each frame optionally relaxed, then copied with
 * Gaussian displacements, and every copy given the potential's energy and forces
 * (and stress, for a cell with volume). This is synthetic training data: a model
 * fitted to first-principles data labels structures that data does not cover, and
 * another model trains on them beside the first-principles frames (Gardner, Baker &
 * Deringer, Mach. Learn.: Sci. Technol. 5, 015003 (2024), pre-train neural networks
 * on GAP-labelled structures). LATTE Mo trains with surfaces labelled by ACE this way.
 */
import { ForceEvaluator } from '../forces.ts';
import { frameToSystem, systemToFrame, type Frame } from '../io/extxyz.ts';
import type { InfoValue } from '../io/extxyz-header.ts';
import { Rng } from '../rng.ts';
import { stress } from '../thermo.ts';
import { CellFilter } from '../../integrators/minimize/cell-filter.ts';
import { fire } from '../../integrators/minimize/fire.ts';
import { PositionTarget, type MinimizeTarget } from '../../integrators/minimize/target.ts';
import type { Potential } from '../../potentials/potential.ts';

export interface LabelOptions {
  /** Relax each frame's positions (FIRE) until the largest atomic force is at most this, eV/Å, before labelling; absent: no relaxation. */
  relaxFmax?: number;
  /**
   * With relaxFmax: relax the cell too (CellFilter: shape and volume, all three axes
   * periodic), until the stress is within relaxSmax of -pressure·I as well. Default
   * false: the cell is kept. A slab's vacuum carries no stress, so at pressure 0 its
   * thickness stays; a non-zero pressure would close it, so relax slabs at 0.
   */
  relaxCell?: boolean;
  /** Target pressure of the cell relaxation, GPa (default 0). */
  pressure?: number;
  /** Largest stress deviation from the target the cell relaxation accepts, GPa (default 0.01). */
  relaxSmax?: number;
  /** Most FIRE iterations per frame (default 2000); a frame not relaxed by then is an error naming it. */
  maxSteps?: number;
  /** Gaussian displacement σ per Cartesian component, Å: one labelled copy per value, 0 the (relaxed) frame itself. Default [0]. */
  rattle?: readonly number[];
  /** Seed of the displacements (default 1); the same seed and frames give the same labels. */
  seed?: number;
  /** Also write the stress (frames with a cell volume only; the virial then trains too). Default false. */
  stress?: boolean;
  /** Names frame i in errors (default `frame i`). */
  frameName?: (index: number) => string;
  /** Called once per labelled copy. */
  onFrame?: (index: number, labelled: LabelledFrame) => void;
}

export interface LabelledFrame {
  frame: Frame;
  atoms: number;
  rattle: number;
  /** FIRE iterations the relaxation took (0 without relaxation). */
  relaxSteps: number;
  energyPerAtom: number;
}

/** Labels every frame (see LabelOptions); the copies of frame 0 first, in the order of `rattle`. */
export function labelFrames(potential: Potential, frames: readonly Frame[], options: LabelOptions = {}): Frame[] {
  const rattle = options.rattle ?? [0];
  if (rattle.length === 0 || !rattle.every((s) => s >= 0 && Number.isFinite(s))) {
    throw new Error(`label: rattle amplitudes must be finite numbers ≥ 0 Å, got [${rattle.join(', ')}]`);
  }
  const relaxFmax = options.relaxFmax;
  if (relaxFmax !== undefined && !(relaxFmax > 0)) throw new Error(`label: relaxFmax must be a positive force in eV/Å, got ${relaxFmax}`);
  const relaxCell = options.relaxCell === true;
  // The messages name the CLI flags too (tensormd label passes its options through).
  if (relaxCell && relaxFmax === undefined) throw new Error('label: relaxCell (--relax-cell) relaxes the cell with the positions: give relaxFmax (--relax FMAX) too');
  if (!relaxCell && (options.pressure !== undefined || options.relaxSmax !== undefined)) throw new Error('label: pressure and relaxSmax (--pressure, --relax-smax) apply to the cell relaxation: set relaxCell (--relax-cell)');
  const pressure = options.pressure ?? 0, relaxSmax = options.relaxSmax ?? 0.01;
  if (!Number.isFinite(pressure)) throw new Error(`label: pressure must be a finite number of GPa, got ${pressure}`);
  if (!(relaxSmax > 0)) throw new Error(`label: relaxSmax must be a positive stress in GPa, got ${relaxSmax}`);
  const maxSteps = options.maxSteps ?? 2000;
  const rng = new Rng(options.seed ?? 1);
  const out: Frame[] = [];
  frames.forEach((source, index) => {
    const name = options.frameName?.(index) ?? `frame ${index}`;
    const system = frameToSystem(source);
    const evaluator = new ForceEvaluator(potential, { skin: 0 });
    let relaxSteps = 0;
    try {
      if (relaxFmax !== undefined) {
        const target: MinimizeTarget = relaxCell ? new CellFilter(system, evaluator, { pressure }) : new PositionTarget(system, evaluator);
        const result = fire(target, { fmax: relaxFmax, smax: relaxSmax, maxSteps });
        if (!result.converged) {
          const cell = relaxCell ? ` and the stress within ${relaxSmax} GPa of ${pressure} GPa (largest deviation ${result.smax.toPrecision(3)} GPa)` : '';
          throw new Error(`not relaxed to ${relaxFmax} eV/Å${cell} in ${maxSteps} FIRE steps (largest force ${result.fmax.toPrecision(3)} eV/Å)`);
        }
        relaxSteps = result.steps;
      }
      const relaxed = Float64Array.from(system.positions);
      for (const sigma of rattle) {
        const positions = system.positions;
        for (let k = 0; k < positions.length; k++) positions[k] = relaxed[k] + (sigma > 0 ? sigma * rng.normal() : 0);
        const ev = evaluator.evaluate(system);
        const info: Record<string, InfoValue> = { ...infoWithoutLabels(source.info), label_rattle: sigma };
        if (relaxFmax !== undefined) info.label_relaxed_fmax = relaxFmax;
        if (relaxCell) {
          info.label_relaxed_pressure = pressure;
          info.label_relaxed_smax = relaxSmax;
        }
        const withStress = options.stress === true && system.cell.volume > 0;
        const frame = systemToFrame(system, { energy: ev.energy, forces: true, stress: withStress ? stress(system, ev.virial, false) : undefined, info });
        out.push(frame);
        options.onFrame?.(index, { frame, atoms: system.n, rattle: sigma, relaxSteps, energyPerAtom: ev.energy / system.n });
      }
    } catch (err) {
      throw new Error(`${name}: ${(err as Error).message}`);
    }
  });
  return out;
}

/**
 * The source frame's info without its labels (they would contradict the new ones), and
 * without time and step, which systemToFrame writes from the system.
 */
function infoWithoutLabels(info: Frame['info']): Record<string, InfoValue> {
  const kept: Record<string, InfoValue> = {};
  for (const [key, value] of Object.entries(info)) {
    if (key !== 'energy' && key !== 'stress' && key !== 'virial' && key !== 'free_energy' && key !== 'time' && key !== 'step') kept[key] = value;
  }
  return kept;
}
