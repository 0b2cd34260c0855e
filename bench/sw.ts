/**
 * Stillinger–Weber benchmark: Si.sw on 32,768 atoms of diamond Si (a = 5.431 Å),
 * 100 NVE steps at 1000 K; tensormd against `lmp` (pair_style sw) in the same run.
 * Run: npx tsx bench/sw.ts
 */
import '../potentials/sw.ts';
import { LAMMPS_POTENTIALS_DIR } from '../potentials/files.ts';
import { runBench } from './manybody-md.ts';

runBench({
  name: 'sw',
  spec: { kind: 'sw', file: 'Si.sw' },
  pairCommands: ['pair_style sw', `pair_coeff * * ${LAMMPS_POTENTIALS_DIR}/Si.sw Si`],
  a: 5.431,
});
