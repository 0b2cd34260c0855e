/**
 * Every physical constant tensormd uses. Internal units are LAMMPS/ASE "metal"
 * with femtoseconds: length Å, energy eV, mass amu, time fs, temperature K.
 *
 * The values are the ones LAMMPS itself uses for `units metal` (Update::set_units
 * in LAMMPS's src/update.cpp, unchanged from 2011 through the 2021–2023 releases):
 * boltz = 8.617343e-5 eV/K, mvv2e = 1.0364269e-4 eV per amu·(Å/ps)²,
 * ftm2v = 1/1.0364269e-4 (Å/ps² per eV/Å/amu), nktv2p = 1.6021765e6 bar per eV/Å³.
 * They are not CODATA 2018 (kB differs by 1.1e-6 relative, mvv2e by 6.3e-8), but
 * with them a trajectory matches LAMMPS's to rounding. LAMMPS metal time is ps;
 * ours is fs, converted exactly with FS_PER_PS.
 *
 * Only ASE_TIME_FS follows ASE rather than LAMMPS: it converts ASE's stored
 * momenta, so it must be ASE's own unit (see below).
 */

/** Time: 1 ps = 1000 fs. */
export const FS_PER_PS = 1000;

/** Boltzmann constant, eV/K (LAMMPS metal `boltz`). */
export const kB = 8.617343e-5;

/** LAMMPS metal mvv2e: amu·(Å/ps)² in eV. */
const LAMMPS_MVV2E = 1.0364269e-4;

/** Kinetic energy ½mv² with m in amu and v in Å/fs, in eV: mvv2e·(fs/ps)². */
export const MVV_TO_EV = LAMMPS_MVV2E * FS_PER_PS * FS_PER_PS;

/**
 * Converts force/mass (eV/Å/amu) to acceleration (Å/fs²): LAMMPS's
 * ftm2v = 1/mvv2e in Å/ps², divided by (fs/ps)².
 */
export const ACCEL = 1 / LAMMPS_MVV2E / (FS_PER_PS * FS_PER_PS);

/** Pressure: eV/Å³ in bar (LAMMPS metal `nktv2p`) and in GPa (1 GPa = 1e4 bar). */
export const EV_PER_A3_TO_BAR = 1.6021765e6;
export const BAR_PER_GPA = 1e4;
export const EV_PER_A3_TO_GPA = EV_PER_A3_TO_BAR / BAR_PER_GPA;
export const GPA_TO_EV_PER_A3 = 1 / EV_PER_A3_TO_GPA;

/**
 * ASE's internal time unit Å·√(amu/eV), in fs (≈ 10.18 fs): ASE stores momenta in
 * amu·Å per this unit, so v[Å/fs] = p / (m · ASE_TIME_FS). It is computed as ASE
 * does (ase/units.py: second = 1e10·√(e/amu), fs = 1e-15·second) from the
 * constants of ASE 3.22's default table, CODATA 2014: e = 1.6021766208e-19 C,
 * amu = 1.660539040e-27 kg. It is deliberately not √MVV_TO_EV (LAMMPS's value):
 * a velocity written as momenta reads back in ASE as the same velocity in Å/fs.
 */
const ASE_E_C = 1.6021766208e-19;
const ASE_AMU_KG = 1.66053904e-27;
export const ASE_TIME_FS = 1 / (1e-15 * (1e10 * Math.sqrt(ASE_E_C / ASE_AMU_KG)));
