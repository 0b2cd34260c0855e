/** Velocity Verlet (NVE): the symplectic, time-reversible workhorse. */
import { ACCEL } from '../src/units.ts';
import type { Evaluation, ForceEvaluator } from '../src/forces.ts';
import type { System } from '../src/system.ts';
import { requirePositive, type Integrator } from './integrator.ts';

export class VelocityVerlet implements Integrator {
  readonly name = 'nve';
  readonly dt: number;

  constructor(options: { dt: number }) {
    this.dt = requirePositive('velocity Verlet', 'dt', options.dt);
  }

  step(system: System, forces: ForceEvaluator): Evaluation {
    kickDrift(system, 0.5 * this.dt, this.dt);
    const ev = forces.evaluate(system);
    halfKick(system, 0.5 * this.dt);
    return ev;
  }

  conservedEnergy(system: System, potentialEnergy: number): number {
    return potentialEnergy + system.kineticEnergy();
  }
}

/** v += h·F/m (h in fs). */
export function halfKick(system: System, h: number): void {
  const v = system.velocities, f = system.forces, m = system.masses, n = system.n;
  const hAccel = h * ACCEL;
  for (let i = 0; i < n; i++) {
    const c = hAccel / m[i];
    v[3 * i] += c * f[3 * i];
    v[3 * i + 1] += c * f[3 * i + 1];
    v[3 * i + 2] += c * f[3 * i + 2];
  }
}

/** halfKick(system, h) then drift(system, dt) in one pass (same arithmetic). */
export function kickDrift(system: System, h: number, dt: number): void {
  const x = system.positions, v = system.velocities, f = system.forces, m = system.masses, n = system.n;
  const hAccel = h * ACCEL, step = +dt;
  for (let i = 0; i < n; i++) {
    const c = hAccel / m[i];
    const vx = v[3 * i] + c * f[3 * i], vy = v[3 * i + 1] + c * f[3 * i + 1], vz = v[3 * i + 2] + c * f[3 * i + 2];
    v[3 * i] = vx; v[3 * i + 1] = vy; v[3 * i + 2] = vz;
    x[3 * i] += step * vx; x[3 * i + 1] += step * vy; x[3 * i + 2] += step * vz;
  }
}

/** x += h·v. */
export function drift(system: System, h: number): void {
  const x = system.positions, v = system.velocities, n3 = x.length, step = +h;
  for (let k = 0; k < n3; k++) x[k] += step * v[k];
}
