/**
 * Pressure and stress from the virial and the velocities.
 * Conventions: virial W = Σ r⊗f (positive when repulsive), Voigt xx yy zz yz xz xy.
 * Pressure P = (tr K + tr W)/(3V) with K = Σ m v⊗v; the stress tensor is reported
 * with ASE's sign (positive under tension): σ = −(K + W)/V.
 */
import type { System } from './system.ts';

/** Pressure in eV/Å³ (0 for a system without volume). */
export function pressure(system: System, virial: Float64Array): number {
  if (!system.cell.hasVolume) return 0;
  const K = system.kineticTensor();
  return (K[0] + K[1] + K[2] + virial[0] + virial[1] + virial[2]) / (3 * system.cell.volume);
}

/** Stress σ = −(K + W)/V in eV/Å³, Voigt xx yy zz yz xz xy (ASE sign). */
export function stress(system: System, virial: Float64Array, includeKinetic = true, out = new Float64Array(6)): Float64Array {
  const V = system.cell.volume;
  if (!(V > 0)) { out.fill(0); return out; }
  const K = includeKinetic ? system.kineticTensor() : new Float64Array(6);
  for (let a = 0; a < 6; a++) out[a] = -(K[a] + virial[a]) / V;
  return out;
}
