/**
 * The unit constants against LAMMPS `units metal` itself: for one state (LJ argon
 * with velocities) LAMMPS's kinetic energy, temperature and pressure (bar) must be
 * ours to rounding — which holds only with LAMMPS's boltz, mvv2e and nktv2p
 * (CODATA 2018 values differ by 6e-8 to 1e-6 relative, far above 1e-13).
 */
import { describe, expect, it } from 'vitest';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { pressure } from '../src/thermo.ts';
import { EV_PER_A3_TO_BAR, EV_PER_A3_TO_GPA, BAR_PER_GPA } from '../src/units.ts';
import { LennardJones } from '../potentials/lj.ts';
import { hasLammps } from './oracles/available.ts';
import { lammpsData, lammpsPreamble, runLammps, thermoRows } from './oracles/lammps.ts';

describe.skipIf(!hasLammps())('unit constants against LAMMPS units metal', () => {
  it('kinetic energy, temperature and pressure of one state agree to 1e-13 relative', () => {
    const s = lattice('fcc', { element: 'Ar', a: 5.26, repeat: 2, masses: { Ar: 39.948 } });
    const rng = new Rng(3);
    for (let k = 0; k < s.positions.length; k++) s.positions[k] += 0.1 * (rng.uniform() - 0.5);
    s.setTemperature(300, rng);
    const lj = { epsilon: 0.0104, sigma: 3.405, cutoff: 7 };
    const input = [
      lammpsPreamble(),
      `pair_style lj/cut ${lj.cutoff}`,
      `pair_coeff * * ${lj.epsilon} ${lj.sigma}`,
      'thermo_style custom step ke temp press',
      'thermo_modify format float %.17g',
      'run 0',
    ].join('\n');
    const data = lammpsData({ cell: s.cell.matrix, positions: s.positions, velocities: s.velocities, species: s.species, elements: ['Ar'], masses: [39.948] });
    const [, ke, temp, press] = thermoRows(runLammps(input, { data }).log)[0];
    const ev = new ForceEvaluator(new LennardJones(lj), { skin: 1 }).evaluate(s);
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    expect(rel(s.kineticEnergy(), ke)).toBeLessThan(1e-13);
    expect(rel(s.temperature(), temp)).toBeLessThan(1e-13);
    expect(rel(pressure(s, ev.virial) * EV_PER_A3_TO_BAR, press)).toBeLessThan(1e-12);
    expect(EV_PER_A3_TO_GPA * BAR_PER_GPA).toBe(EV_PER_A3_TO_BAR);
  });
});
