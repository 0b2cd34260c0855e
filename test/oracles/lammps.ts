/**
 * Runs the real LAMMPS (`lmp`, Debian package) on generated inputs and reads back
 * its numbers at full precision. Used by cross-check tests and benchmarks.
 *
 * Geometry must be in LAMMPS's restricted triclinic form (a along x, b in the xy
 * plane: matrix rows (lx,0,0), (xy,ly,0), (xz,yz,lz)), which is also a valid
 * row-vector cell here, so coordinates pass through unchanged.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LMP } from './available.ts';

/** LAMMPS metal units: pressure in bar per eV/Å³ (its own constant, force.cpp). */
export const LAMMPS_NKTV2P = 1.6021765e6;

export interface LammpsStructure {
  /** Row-major 3×3, lower-triangular (LAMMPS form). */
  cell: ArrayLike<number>;
  pbc?: readonly [boolean, boolean, boolean];
  positions: ArrayLike<number>;
  /** Element index (0-based into `elements`) per atom; LAMMPS type = index + 1. */
  species: ArrayLike<number>;
  elements: readonly string[];
  /** Mass per element, amu. */
  masses: readonly number[];
  /** Optional velocities, Å/fs (converted to LAMMPS's Å/ps). */
  velocities?: ArrayLike<number>;
}

/** Writes a LAMMPS data file (atom_style atomic) with 17 significant digits. */
export function lammpsData(s: LammpsStructure): string {
  const h = s.cell;
  if (h[1] !== 0 || h[2] !== 0 || h[5] !== 0) {
    throw new Error('lammpsData: cell must be lower-triangular (a along x, b in the xy plane)');
  }
  const n = s.species.length;
  const f = (v: number) => v.toPrecision(17);
  const lines = [
    'tensormd oracle input',
    '',
    `${n} atoms`,
    `${s.elements.length} atom types`,
    '',
    `0 ${f(h[0])} xlo xhi`,
    `0 ${f(h[4])} ylo yhi`,
    `0 ${f(h[8])} zlo zhi`,
    `${f(h[3])} ${f(h[6])} ${f(h[7])} xy xz yz`,
    '',
    'Masses',
    '',
    ...s.masses.map((m, t) => `${t + 1} ${f(m)}`),
    '',
    'Atoms # atomic',
    '',
  ];
  for (let i = 0; i < n; i++) {
    lines.push(`${i + 1} ${s.species[i] + 1} ${f(s.positions[3 * i])} ${f(s.positions[3 * i + 1])} ${f(s.positions[3 * i + 2])}`);
  }
  if (s.velocities) {
    lines.push('', 'Velocities', '');
    const v = s.velocities;
    for (let i = 0; i < n; i++) {
      // Å/fs → Å/ps
      lines.push(`${i + 1} ${f(v[3 * i] * 1000)} ${f(v[3 * i + 1] * 1000)} ${f(v[3 * i + 2] * 1000)}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** The header lines every oracle input shares: units, box, data. */
export function lammpsPreamble(pbc: readonly [boolean, boolean, boolean] = [true, true, true]): string {
  return [
    'units metal',
    'atom_style atomic',
    'atom_modify map array',
    `boundary ${pbc.map((p) => (p ? 'p' : 's')).join(' ')}`,
    'box tilt large',
    'read_data data.lmp',
  ].join('\n');
}

export interface LammpsRunResult {
  /** Directory the run happened in (deleted unless keep was set). */
  dir: string;
  /** Contents of the files asked for, by name. */
  files: Record<string, string>;
  log: string;
}

/**
 * Runs `lmp` on an input script in a fresh temporary directory holding data.lmp and
 * any extra files; returns the named output files. Throws with LAMMPS's own error
 * message when it fails.
 */
export function runLammps(
  input: string,
  options: { data?: string; extraFiles?: Record<string, string>; outputs?: string[]; keep?: boolean; timeoutMs?: number } = {},
): LammpsRunResult {
  const dir = mkdtempSync(join(tmpdir(), 'tensormd-lmp-'));
  try {
    if (options.data !== undefined) writeFileSync(join(dir, 'data.lmp'), options.data);
    for (const [name, text] of Object.entries(options.extraFiles ?? {})) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'in.lmp'), input);
    const r = spawnSync(LMP, ['-in', 'in.lmp', '-log', 'log.lammps', '-screen', 'none', '-nocite'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 600_000,
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    let log = '';
    try { log = readFileSync(join(dir, 'log.lammps'), 'utf8'); } catch { /* no log */ }
    if (r.status !== 0) {
      const err = log.split('\n').filter((l) => /ERROR|WARNING/.test(l)).join('\n');
      throw new Error(`lmp failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${err || log.slice(-2000) || r.stderr}`);
    }
    const files: Record<string, string> = {};
    for (const name of options.outputs ?? []) files[name] = readFileSync(join(dir, name), 'utf8');
    return { dir, files, log };
  } finally {
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

export interface LammpsSinglePoint {
  energy: number;
  /** Forces in input atom order, eV/Å. */
  forces: Float64Array;
  /** W = Σ r⊗f in eV, Voigt order xx yy zz yz xz xy (from LAMMPS's virial pressure). */
  virial: Float64Array;
  /** Per-atom energies in input order, eV. */
  atomEnergies: Float64Array;
  /** Virial pressure in bar as LAMMPS prints it. */
  pressureBar: number;
}

/**
 * Energy, forces, per-atom energies and virial of a structure under the given
 * pair_style/pair_coeff commands, from `run 0`.
 */
export function lammpsSinglePoint(structure: LammpsStructure, pairCommands: string[], extraFiles: Record<string, string> = {}): LammpsSinglePoint {
  const input = [
    lammpsPreamble(structure.pbc),
    ...pairCommands,
    'neighbor 1.0 bin',
    'compute pv all pressure NULL virial',
    'compute pe_atom all pe/atom',
    'variable vol equal vol',
    'thermo_style custom step pe c_pv c_pv[1] c_pv[2] c_pv[3] c_pv[4] c_pv[5] c_pv[6] v_vol',
    'thermo_modify format float %.17g',
    'dump d all custom 1 atoms.dump id fx fy fz c_pe_atom',
    'dump_modify d sort id format float %.17g',
    'run 0',
  ].join('\n');
  const { files, log } = runLammps(input, { data: lammpsData(structure), extraFiles, outputs: ['atoms.dump'] });
  const row = thermoRows(log)[0];
  const [, pe, p, pxx, pyy, pzz, pxy, pxz, pyz, vol] = row;
  const toVirial = (pab: number) => (pab * vol) / LAMMPS_NKTV2P;
  const n = structure.species.length;
  const forces = new Float64Array(3 * n);
  const atomEnergies = new Float64Array(n);
  parseDump(files['atoms.dump'], n, (i, cols) => {
    forces[3 * i] = cols[0]; forces[3 * i + 1] = cols[1]; forces[3 * i + 2] = cols[2];
    atomEnergies[i] = cols[3];
  });
  return {
    energy: pe,
    forces,
    atomEnergies,
    virial: Float64Array.from([pxx, pyy, pzz, pyz, pxz, pxy].map(toVirial)),
    pressureBar: p,
  };
}

/** Numeric rows of every thermo block in a LAMMPS log. */
export function thermoRows(log: string): number[][] {
  const rows: number[][] = [];
  let inBlock = false;
  for (const line of log.split('\n')) {
    const t = line.trim();
    if (/^Step\s/.test(t)) { inBlock = true; continue; }
    if (inBlock) {
      if (/^Loop time/.test(t) || t === '') { inBlock = false; continue; }
      const cols = t.split(/\s+/).map(Number);
      if (cols.every(Number.isFinite)) rows.push(cols);
      else inBlock = false;
    }
  }
  if (rows.length === 0) throw new Error('no thermo output found in the LAMMPS log');
  return rows;
}

/**
 * Reads a `dump custom` file sorted by id (last frame only when several): calls
 * visit(atomIndex, columnsAfterId) for each atom.
 */
export function parseDump(text: string, n: number, visit: (i: number, cols: number[]) => void): void {
  const lines = text.split('\n');
  const start = lines.lastIndexOf(lines.filter((l) => l.startsWith('ITEM: ATOMS')).pop()!);
  for (let k = 0; k < n; k++) {
    const cols = lines[start + 1 + k].trim().split(/\s+/).map(Number);
    visit(cols[0] - 1, cols.slice(1));
  }
}
