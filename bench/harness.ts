/**
 * Shared pieces of benchmarks: timing LAMMPS in the same run (its own "Loop time"
 * and the peak RSS of the lmp process), and tensormd's own peak RSS. Every
 * benchmark prints, as its last line, one JSON object of its figures.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LatticeKind, LatticeOptions } from '../src/lattice.ts';

export interface LammpsTiming {
  /** LAMMPS's own "Loop time" of the last run command, s. */
  loopSeconds: number;
  /** Peak resident memory of the lmp process, MB. */
  rssMb: number;
  log: string;
}

/**
 * Runs `lmp` serially on an input (with data.lmp and other files beside it) and
 * reports its loop time and peak RSS (measured by python's getrusage on the child,
 * available wherever Debian's python3 is).
 */
export function timeLammps(input: string, files: Record<string, string> = {}): LammpsTiming {
  const dir = mkdtempSync(join(tmpdir(), 'tensormd-bench-'));
  try {
    writeFileSync(join(dir, 'in.lmp'), input);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const lmp = process.env.TENSORMD_LMP ?? 'lmp';
    const py = [
      'import resource, subprocess, sys',
      `r = subprocess.run([${JSON.stringify(lmp)}, '-in', 'in.lmp', '-log', 'log.lammps', '-screen', 'none', '-nocite'])`,
      'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)',
      'sys.exit(r.returncode)',
    ].join('\n');
    const r = spawnSync('/usr/bin/python3', ['-c', py], { cwd: dir, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    const log = readFileSync(join(dir, 'log.lammps'), 'utf8');
    if (r.status !== 0) throw new Error(`lmp failed:\n${log.slice(-2000)}`);
    const loops = [...log.matchAll(/Loop time of ([0-9.eE+-]+) on/g)];
    if (loops.length === 0) throw new Error('no "Loop time" in the LAMMPS log');
    return { loopSeconds: Number(loops[loops.length - 1][1]), rssMb: Number(r.stdout.trim()) / 1024, log };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Peak resident memory of this process so far, MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Wall-clock seconds taken by fn. */
export function seconds(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** CPU time (user + system) of this process while fn runs, µs: less disturbed than wall time by other work on shared cores. */
export function cpuMicros(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

/** Median of a non-empty list (the upper one of an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1];
}

/**
 * The MD speed benches' crystal per element, ≥ 2,000 atoms: diamond Si 7×7×7 = 2,744,
 * fcc Cu 8×8×8 = 2,048, bcc Mo 10×10×10 = 2,000. The arguments of `lattice()`, so that
 * a bench loading another build's modules (build-md.ts) builds it with that build's.
 */
export function speedLattice(element: string): [LatticeKind, LatticeOptions] {
  if (element === 'Si') return ['diamond', { element: 'Si', a: 5.43, repeat: 7 }];
  if (element === 'Cu') return ['fcc', { element: 'Cu', a: 3.62, repeat: 8 }];
  if (element === 'Mo') return ['bcc', { element: 'Mo', a: 3.16, repeat: 10 }];
  throw new Error(`no speed-bench system for element '${element}' (Si, Cu or Mo)`);
}

/** Prints the benchmark's figures as the last line. */
export function report(figures: Record<string, unknown>): void {
  const rounded = Object.fromEntries(
    Object.entries(figures).map(([k, v]) => [k, typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v]),
  );
  console.log(JSON.stringify(rounded));
}
