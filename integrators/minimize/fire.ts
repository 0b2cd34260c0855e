/**
 * FIRE, the fast inertial relaxation engine (Bitzek, Koskinen, Gähler, Moseler &
 * Gumbsch, Phys. Rev. Lett. 97, 170201 (2006)): damped unit-mass dynamics whose
 * velocity is mixed towards the force direction while the power F·v stays positive,
 * with a growing time step; on an uphill move the velocity is zeroed and the step
 * cut. Parameters are the paper's (N_min 5, f_inc 1.1, f_dec 0.5, α_start 0.1,
 * f_α 0.99); time step, its maximum and the per-atom step limit follow ASE's
 * defaults (0.1, 1.0, 0.2 Å) in units where mass is 1 and forces are eV/Å.
 * Uses only forces, so it also relaxes non-conservative generalised forces.
 */
import { limitStep, record, resolveCriteria, type MinimizeOptions, type MinimizeResult, type MinimizeTarget } from './target.ts';

export interface FireOptions extends MinimizeOptions {
  /** Initial time step (default 0.1). */
  dt?: number;
  /** Largest time step (default 1.0). */
  dtMax?: number;
}

const N_MIN = 5;
const F_INC = 1.1;
const F_DEC = 0.5;
const ALPHA_START = 0.1;
const F_ALPHA = 0.99;

export function fire(target: MinimizeTarget, options: FireOptions = {}): MinimizeResult {
  const { fmax, smax, maxSteps, maxStep } = resolveCriteria('FIRE', options);
  let dt = options.dt ?? 0.1;
  const dtMax = options.dtMax ?? 1.0;
  if (!(dt > 0) || !(dtMax >= dt)) throw new Error(`FIRE: need 0 < dt ≤ dtMax, got dt ${dt}, dtMax ${dtMax}`);
  const size = target.size;
  const x = new Float64Array(size), f = new Float64Array(size), v = new Float64Array(size), dr = new Float64Array(size);
  target.getX(x);
  let objective = target.evaluate(f);
  const path = [record(target, objective)];
  let alpha = ALPHA_START, nPositive = 0, steps = 0, first = true;
  const done = () => target.fmax <= fmax && target.smax <= smax;
  while (!done() && steps < maxSteps) {
    if (!first) {
      let vf = 0, vv = 0, ff = 0;
      for (let k = 0; k < size; k++) { vf += v[k] * f[k]; vv += v[k] * v[k]; ff += f[k] * f[k]; }
      if (vf > 0) {
        const c = ff > 0 ? (alpha * Math.sqrt(vv)) / Math.sqrt(ff) : 0;
        for (let k = 0; k < size; k++) v[k] = (1 - alpha) * v[k] + c * f[k];
        if (nPositive > N_MIN) { dt = Math.min(dt * F_INC, dtMax); alpha *= F_ALPHA; }
        nPositive++;
      } else {
        v.fill(0);
        alpha = ALPHA_START;
        dt *= F_DEC;
        nPositive = 0;
      }
    }
    first = false;
    for (let k = 0; k < size; k++) { v[k] += dt * f[k]; dr[k] = dt * v[k]; }
    limitStep(dr, maxStep);
    for (let k = 0; k < size; k++) x[k] += dr[k];
    target.setX(x);
    objective = target.evaluate(f);
    path.push(record(target, objective));
    steps++;
  }
  return { converged: done(), steps, energy: target.energy, objective, fmax: target.fmax, smax: target.smax, path };
}
