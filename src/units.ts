/**
 * Every physical constant tensormd uses. Internal units are LAMMPS/ASE "metal"
 * with femtoseconds: length Å, energy eV, mass amu, time fs, temperature K.
 * Values are CODATA 2018 (exact SI definitions where they exist).
 */

/** Boltzmann constant, eV/K. */
export const kB = 8.617333262e-5;

/** Atomic mass unit in kg; elementary charge in C (both CODATA 2018). */
const AMU_KG = 1.6605390666e-27;
const EV_J = 1.602176634e-19;

/**
 * Converts force/mass (eV/Å/amu) to acceleration (Å/fs²):
 * eV/(Å·amu) = EV_J / (1e-10 m · AMU_KG) m/s², and 1 m/s² = 1e-20 Å/fs².
 */
export const ACCEL = (EV_J / (1e-10 * AMU_KG)) * 1e-20;

/** Kinetic energy ½mv² with m in amu and v in Å/fs, in eV. */
export const MVV_TO_EV = 1 / ACCEL;

/** Pressure: eV/Å³ in GPa and in bar. */
export const EV_PER_A3_TO_GPA = EV_J * 1e30 * 1e-9;
export const EV_PER_A3_TO_BAR = EV_J * 1e30 * 1e-5;
export const GPA_TO_EV_PER_A3 = 1 / EV_PER_A3_TO_GPA;

/** Time: 1 ps = 1000 fs. */
export const FS_PER_PS = 1000;

/**
 * ASE's internal time unit Å·√(amu/eV), in fs (≈ 10.18 fs): ASE stores momenta in
 * amu·Å per this unit, so v[Å/fs] = p / (m · ASE_TIME_FS). Equals √MVV_TO_EV.
 */
export const ASE_TIME_FS = Math.sqrt(MVV_TO_EV);
