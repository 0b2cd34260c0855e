/**
 * ASE as an oracle: runs Debian's /usr/bin/python3 (which has ASE) on small
 * scripts, passing JSON on stdin and reading JSON from stdout. Used to check the
 * extxyz reader and writer against ase.io.read / ase.io.write.
 */
import { spawnSync } from 'node:child_process';
import { PYTHON_ASE } from './available.ts';

/** Runs a Python script with `input` as JSON on stdin; the script prints one JSON value. */
export function runAsePython<T>(script: string, input: unknown = null): T {
  const r = spawnSync(PYTHON_ASE, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 1 << 29,
    timeout: 120_000,
  });
  if (r.error) throw new Error(`ASE oracle: ${PYTHON_ASE} failed to run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`ASE oracle: python exited with ${r.status}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * Checksum of a flat array, Σ x_k·((k mod 7) + 1) summed in order. Python and
 * JavaScript compute it with the same IEEE operations in the same order, so equal
 * inputs give bit-identical sums; the weights catch permutations.
 */
export function checksum(values: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < values.length; k++) s += values[k] * ((k % 7) + 1);
  return s;
}

const PY_COMMON = String.raw`
import sys, json
import numpy as np
import ase.io

def plain(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v

def checksum(flat):
    # sequential sum (ufunc.accumulate runs strictly in order, unlike np.sum)
    x = np.asarray(flat, dtype=float).ravel()
    if x.size == 0:
        return 0.0
    return float(np.cumsum(x * (np.arange(x.size) % 7 + 1))[-1])
`;

/** What ASE reads from one frame, in compact form. */
export interface AseFrameSummary {
  natoms: number;
  symbols: string[];
  /** Cell vectors as rows, flattened (9). */
  cell: number[];
  pbc: boolean[];
  energy: number | null;
  /** Name of the forces array ('forces' or 'force') or null. */
  forcesName: string | null;
  forces: { checksum: number; first: number[]; last: number[] } | null;
  positions: { checksum: number; first: number[]; last: number[] };
  /** info['virial'] as ASE holds it (3×3), flattened row-major; null if absent. */
  virial: number[] | null;
  /** Names of info keys and per-atom arrays as ASE sees them. */
  infoKeys: string[];
  arrayNames: string[];
  /** Full positions and forces (flattened) for the first `full` frames of a file. */
  full?: { positions: number[]; forces: number[] | null };
}

const PY_SUMMARY = PY_COMMON + String.raw`
req = json.load(sys.stdin)
out = {}
for path in req['paths']:
    frames = []
    for i, a in enumerate(ase.io.read(path, ':', format='extxyz')):
        P = a.get_positions().ravel()
        pos = P.tolist() if i < req['full'] else P[:3].tolist() + P[-3:].tolist()
        fname = 'forces' if 'forces' in a.arrays else ('force' if 'force' in a.arrays else None)
        s = {
            'natoms': len(a),
            'symbols': a.get_chemical_symbols(),
            'cell': a.cell[:].ravel().tolist(),
            'pbc': [bool(p) for p in a.pbc],
            'energy': plain(a.info['energy']) if 'energy' in a.info else None,
            'forcesName': fname,
            'positions': {'checksum': checksum(P), 'first': pos[:3], 'last': pos[-3:]},
            'forces': None,
            'virial': np.asarray(a.info['virial']).ravel().tolist() if 'virial' in a.info else None,
            'infoKeys': sorted(a.info.keys()),
            'arrayNames': sorted(a.arrays.keys()),
        }
        f = None
        if fname is not None:
            F = a.arrays[fname].ravel()
            f = F.tolist() if i < req['full'] else F[:3].tolist() + F[-3:].tolist()
            s['forces'] = {'checksum': checksum(F), 'first': f[:3], 'last': f[-3:]}
        if i < req['full']:
            s['full'] = {'positions': pos, 'forces': f}
        frames.append(s)
    out[path] = frames
print(json.dumps(out))
`;

/** ase.io.read(path, ':') summarised per frame, for several files in one Python run. */
export function aseSummaries(paths: string[], options: { full?: number } = {}): Record<string, AseFrameSummary[]> {
  return runAsePython(PY_SUMMARY, { paths, full: options.full ?? 1 });
}

/** One frame to write with ASE or as read back by ASE, fully. */
export interface AseFrame {
  symbols: string[];
  positions: number[];
  cell: number[];
  pbc: boolean[];
  info: Record<string, unknown>;
  /** Per-atom arrays: ASE dtype kind ('f', 'i', 'U', 'b'), shape, flat data. */
  arrays: Record<string, { kind: string; shape: number[]; data: (number | string | boolean)[] }>;
  /** Calculator results (SinglePointCalculator). Stress in Voigt order, eV/Å³. */
  energy: number | null;
  forces: number[] | null;
  stress: number[] | null;
}

const PY_READ_FULL = PY_COMMON + String.raw`
req = json.load(sys.stdin)
frames = []
for a in ase.io.read(req['path'], ':', format='extxyz'):
    arrays = {}
    for name, v in a.arrays.items():
        arrays[name] = {'kind': v.dtype.kind, 'shape': list(v.shape), 'data': v.ravel().tolist()}
    calc = a.calc
    res = calc.results if calc is not None else {}
    frames.append({
        'symbols': a.get_chemical_symbols(),
        'positions': a.get_positions().ravel().tolist(),
        'cell': a.cell[:].ravel().tolist(),
        'pbc': [bool(p) for p in a.pbc],
        'info': {k: plain(v) for k, v in a.info.items()},
        'arrays': arrays,
        'energy': plain(res['energy']) if 'energy' in res else None,
        'forces': np.asarray(res['forces']).ravel().tolist() if 'forces' in res else None,
        'stress': np.asarray(res['stress']).ravel().tolist() if 'stress' in res else None,
    })
print(json.dumps(frames))
`;

/** Every frame of an extxyz file as ASE reads it, with calculator results. */
export function aseReadFull(path: string): AseFrame[] {
  return runAsePython(PY_READ_FULL, { path });
}

const PY_WRITE = PY_COMMON + String.raw`
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
req = json.load(sys.stdin)
images = []
for f in req['frames']:
    n = len(f['symbols'])
    a = Atoms(symbols=f['symbols'], positions=np.array(f['positions']).reshape(n, 3),
              cell=np.array(f['cell']).reshape(3, 3), pbc=f['pbc'])
    for k, v in f['info'].items():
        a.info[k] = np.array(v) if isinstance(v, list) and all(isinstance(x, (int, float)) for x in v) else v
    dt = {'f': float, 'i': int, 'U': str, 'b': bool}
    for name, spec in f['arrays'].items():
        a.new_array(name, np.array(spec['data'], dtype=dt[spec['kind']]).reshape(spec['shape']))
    res = {}
    if f.get('energy') is not None:
        res['energy'] = f['energy']
    if f.get('forces') is not None:
        res['forces'] = np.array(f['forces']).reshape(n, 3)
    if f.get('stress') is not None:
        res['stress'] = np.array(f['stress'])
    if res:
        a.calc = SinglePointCalculator(a, **res)
    images.append(a)
ase.io.write(req['path'], images, format='extxyz')
print('null')
`;

/** Writes frames with ase.io.write(path, images, format='extxyz'). */
export function aseWriteFrames(path: string, frames: Partial<AseFrame>[]): void {
  runAsePython(PY_WRITE, { path, frames });
}
