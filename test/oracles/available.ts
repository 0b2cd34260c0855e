/**
 * Whether an external oracle (lmp, /usr/bin/python3 with ASE) can run here.
 * Cross-check tests may skip locally when it is missing, never in CI: with CI set,
 * a missing oracle is an error so that a broken install cannot pass silently.
 */
import { spawnSync } from 'node:child_process';

const cache = new Map<string, boolean>();

function probe(key: string, cmd: string, args: string[]): boolean {
  let ok = cache.get(key);
  if (ok === undefined) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
    ok = r.status === 0;
    cache.set(key, ok);
  }
  if (!ok && process.env.CI) {
    throw new Error(`${key} is required in CI but '${cmd} ${args.join(' ')}' failed; .ci/run must install it`);
  }
  return ok;
}

/** LAMMPS binary on PATH. */
export const LMP = process.env.TENSORMD_LMP ?? 'lmp';
/** Debian's python with ASE (the python3 first on PATH may lack it). */
export const PYTHON_ASE = process.env.TENSORMD_PYTHON_ASE ?? '/usr/bin/python3';

export function hasLammps(): boolean {
  return probe('lammps', LMP, ['-h']);
}

export function hasAse(): boolean {
  return probe('ase', PYTHON_ASE, ['-c', 'import ase.io']);
}
