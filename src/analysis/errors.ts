/**
 * Errors of a potential against reference data (energies, forces, virials in
 * extended-XYZ frames): energy per atom and force components, MAE and RMSE.
 */
import { ForceEvaluator } from '../forces.ts';
import { frameEnergy, frameForces, frameToSystem, frameVirial, type Frame } from '../io/extxyz.ts';
import type { Potential } from '../../potentials/potential.ts';

export interface ErrorReport {
  frames: number;
  atoms: number;
  /** Energy per atom, meV/atom. */
  energy_mae_mev_per_atom: number;
  energy_rmse_mev_per_atom: number;
  /** Force components, eV/Å. */
  force_mae_ev_per_a: number;
  force_rmse_ev_per_a: number;
  force_components: number;
  /** Virial per atom, meV/atom (only frames that carry a virial or stress). */
  virial_mae_mev_per_atom?: number;
  virial_frames?: number;
}

/** One frame's errors (NaN where the frame has no energy or no forces). */
export interface FrameError {
  atoms: number;
  /** The reference energy per atom, eV/atom (tells hot or strained frames from the rest). */
  reference_energy_ev_per_atom: number;
  /** Predicted − reference energy per atom, meV/atom (signed). */
  energy_error_mev_per_atom: number;
  /** Force-component MAE of the frame, eV/Å. */
  force_mae_ev_per_a: number;
}

/** Predictions versus references for every frame; frames without an energy (or forces) only skip that part. */
export function evaluateErrors(
  potential: Potential,
  frames: Frame[],
  options: { skin?: number; frameName?: (index: number) => string; onFrame?: (index: number, result: FrameError) => void } = {},
): ErrorReport {
  let eAbs = 0, eSq = 0, eCount = 0, fAbs = 0, fSq = 0, fCount = 0, vAbs = 0, vCount = 0, atoms = 0;
  frames.forEach((frame, index) => {
    const system = frameToSystem(frame);
    const evaluator = new ForceEvaluator(potential, { skin: options.skin ?? 0 });
    let ev;
    try {
      ev = evaluator.evaluate(system);
    } catch (err) {
      throw new Error(`${options.frameName?.(index) ?? `frame ${index}`}: ${(err as Error).message}`);
    }
    atoms += system.n;
    const e = frameEnergy(frame);
    let energyError = NaN, frameForceAbs = 0;
    if (e !== undefined) {
      const d = (1000 * (ev.energy - e)) / system.n;
      energyError = d;
      eAbs += Math.abs(d); eSq += d * d; eCount++;
    }
    const f = frameForces(frame);
    if (f) {
      for (let k = 0; k < f.length; k++) {
        const d = system.forces[k] - f[k];
        frameForceAbs += Math.abs(d);
        fAbs += Math.abs(d); fSq += d * d; fCount++;
      }
    }
    options.onFrame?.(index, {
      atoms: system.n, reference_energy_ev_per_atom: e === undefined ? NaN : e / system.n, energy_error_mev_per_atom: energyError,
      force_mae_ev_per_a: f && f.length ? frameForceAbs / f.length : NaN,
    });
    const w = frameVirial(frame);
    if (w) {
      // reference 3×3 row-major; ours Voigt xx yy zz yz xz xy
      const ours = [ev.virial[0], ev.virial[5], ev.virial[4], ev.virial[5], ev.virial[1], ev.virial[3], ev.virial[4], ev.virial[3], ev.virial[2]];
      for (let k = 0; k < 9; k++) { vAbs += (1000 * Math.abs(ours[k] - w[k])) / system.n; vCount++; }
    }
  });
  if (eCount === 0 && fCount === 0) throw new Error('the reference data has neither energies nor forces to compare with');
  const report: ErrorReport = {
    frames: frames.length,
    atoms,
    energy_mae_mev_per_atom: eCount ? eAbs / eCount : NaN,
    energy_rmse_mev_per_atom: eCount ? Math.sqrt(eSq / eCount) : NaN,
    force_mae_ev_per_a: fCount ? fAbs / fCount : NaN,
    force_rmse_ev_per_a: fCount ? Math.sqrt(fSq / fCount) : NaN,
    force_components: fCount,
  };
  if (vCount) { report.virial_mae_mev_per_atom = vAbs / vCount; report.virial_frames = vCount / 9; }
  return report;
}
