/**
 * Tersoff benchmark: Si.tersoff on 32,768 atoms of diamond Si (a = 5.431 Å),
 * 100 NVE steps at 1000 K; tensormd against `lmp` (pair_style tersoff) in the same run.
 * Run: npx tsx bench/tersoff.ts
 */
import '../potentials/tersoff.ts';
import { LAMMPS_POTENTIALS_DIR } from '../potentials/files.ts';
import { runBench } from './manybody-md.ts';

runBench({
  name: 'tersoff',
  spec: { kind: 'tersoff', file: 'Si.tersoff' },
  pairCommands: ['pair_style tersoff', `pair_coeff * * ${LAMMPS_POTENTIALS_DIR}/Si.tersoff Si`],
  a: 5.431,
});
