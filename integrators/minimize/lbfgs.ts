/**
 * Limited-memory BFGS (Nocedal, Math. Comp. 35, 773 (1980); two-loop recursion of
 * Nocedal & Wright, Numerical Optimization, Alg. 7.4) with a trust-radius step as
 * in ASE's LBFGS: the quasi-Newton step is scaled so that no atom (or cell row)
 * moves further than maxStep. The initial inverse Hessian is 1/α (α = 70 eV/Å²,
 * ASE's default) until curvature information exists, then the Nocedal–Wright
 * scaling sᵀy/yᵀy. Pairs with non-positive curvature are skipped; an uphill
 * direction, or a step that raises the objective by more than a noise tolerance,
 * clears the memory (the step is kept: like ASE, no backtracking).
 */
import { limitStep, record, resolveCriteria, type MinimizeOptions, type MinimizeResult, type MinimizeTarget } from './target.ts';

export interface LbfgsOptions extends MinimizeOptions {
  /** Number of (s, y) pairs kept (default 100). */
  memory?: number;
  /** Initial Hessian guess, eV/Å² (default 70). */
  alpha?: number;
}

export function lbfgs(target: MinimizeTarget, options: LbfgsOptions = {}): MinimizeResult {
  const { fmax, smax, maxSteps, maxStep } = resolveCriteria('L-BFGS', options);
  const memory = options.memory ?? 100;
  const alpha0 = options.alpha ?? 70;
  if (!Number.isInteger(memory) || memory < 1) throw new Error(`L-BFGS: memory must be an integer ≥ 1, got ${memory}`);
  if (!(alpha0 > 0) || !Number.isFinite(alpha0)) throw new Error(`L-BFGS: alpha must be positive, got ${alpha0}`);
  const size = target.size;
  const x = new Float64Array(size), f = new Float64Array(size), xPrev = new Float64Array(size), fPrev = new Float64Array(size);
  const q = new Float64Array(size), p = new Float64Array(size);
  const S: Float64Array[] = [], Y: Float64Array[] = [], rho: number[] = [];
  const a = new Float64Array(memory);
  target.getX(x);
  let objective = target.evaluate(f);
  const path = [record(target, objective)];
  let steps = 0;
  const done = () => target.fmax <= fmax && target.smax <= smax;
  while (!done() && steps < maxSteps) {
    // Two-loop recursion: p = H·f (a descent direction for the objective).
    q.set(f);
    const m = S.length;
    for (let i = m - 1; i >= 0; i--) {
      a[i] = rho[i] * dot(S[i], q);
      axpy(-a[i], Y[i], q);
    }
    const gamma = m > 0 ? dot(S[m - 1], Y[m - 1]) / dot(Y[m - 1], Y[m - 1]) : 1 / alpha0;
    for (let k = 0; k < size; k++) p[k] = gamma * q[k];
    for (let i = 0; i < m; i++) {
      const b = rho[i] * dot(Y[i], p);
      axpy(a[i] - b, S[i], p);
    }
    if (!(dot(p, f) > 0)) {
      // Not downhill: forget the history and follow the force.
      S.length = 0; Y.length = 0; rho.length = 0;
      for (let k = 0; k < size; k++) p[k] = f[k] / alpha0;
    }
    limitStep(p, maxStep);
    xPrev.set(x); fPrev.set(f);
    const previous = objective;
    for (let k = 0; k < size; k++) x[k] += p[k];
    target.setX(x);
    objective = target.evaluate(f);
    path.push(record(target, objective));
    steps++;
    // New curvature pair s = Δx, y = −Δf (= Δ gradient).
    const s = new Float64Array(size), y = new Float64Array(size);
    for (let k = 0; k < size; k++) { s[k] = x[k] - xPrev[k]; y[k] = fPrev[k] - f[k]; }
    const sy = dot(s, y);
    if (objective > previous + 1e-12 * Math.max(1, Math.abs(previous)) && sy <= 0) {
      S.length = 0; Y.length = 0; rho.length = 0;
    } else if (sy > 0) {
      S.push(s); Y.push(y); rho.push(1 / sy);
      if (S.length > memory) { S.shift(); Y.shift(); rho.shift(); }
    }
  }
  return { converged: done(), steps, energy: target.energy, objective, fmax: target.fmax, smax: target.smax, path };
}

function dot(u: Float64Array, v: Float64Array): number {
  let s = 0;
  for (let k = 0; k < u.length; k++) s += u[k] * v[k];
  return s;
}

function axpy(c: number, x: Float64Array, y: Float64Array): void {
  for (let k = 0; k < x.length; k++) y[k] += c * x[k];
}
