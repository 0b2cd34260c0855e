"""Perturbed Mo surfaces, to be labelled by ACE (`tensormd label`): a pool for checking where
LATTE and ACE disagree, and training-only frames for LATTE. Every perturbation kind is applied
to every one of the 13 ACE-relaxed slabs (the rattle-0 frames of Mo-ace-slabs.xyz), so nothing
is picked by hand:
  shift1      the outermost layer on each side shifted rigidly by a random in-plane lattice
              fraction (each side its own), as in surface stacking faults and reconstructions
  shift2      the two outermost layers on each side shifted the same way, together
  strain      in-plane strain, each of exx, eyy, exy uniform in [-4, 4] %, then a 0.05 A rattle
  surfrattle  the two outermost layers on each side rattled with sigma 0.15 A
Layers are atoms within 0.3 A in z. A frame with any pair closer than 2.3 A is drawn again.
Run with Debian's ASE (numpy's default_rng, so a seed gives the same frames):
    /usr/bin/python3 models/latte/synthetic/Mo-surface-pool.py SEED PER_KIND OUT.xyz
and, to see where a model disagrees with the labels, per family and kind, from the lines of
`tensormd eval --per-frame` on the labelled pool:
    /usr/bin/python3 models/latte/synthetic/Mo-surface-pool.py breakdown POOL.xyz EVAL.txt
"""
import os
import re
import sys

import numpy as np
from ase.io import read, write

KINDS = ('shift1', 'shift2', 'strain', 'surfrattle')
MIN_PAIR = 2.3


def layers(atoms):
    """Indices grouped into layers, bottom first."""
    z = atoms.positions[:, 2]
    order = np.argsort(z)
    groups, current = [], [order[0]]
    for i in order[1:]:
        if z[i] - z[current[-1]] < 0.3:
            current.append(i)
        else:
            groups.append(current)
            current = [i]
    groups.append(current)
    return groups


def nearest_pair(atoms):
    d = atoms.get_all_distances(mic=True)
    return d[np.triu_indices(len(atoms), 1)].min()


def perturbed(slab, kind, rng):
    s = slab.copy()
    g = layers(s)
    p = s.positions
    if kind in ('shift1', 'shift2'):
        k = 1 if kind == 'shift1' else 2
        for side in (g[:k], g[-k:]):
            idx = [i for layer in side for i in layer]
            u, v = rng.random(2)
            p[idx] += u * s.cell[0] + v * s.cell[1]
    elif kind == 'strain':
        e = rng.uniform(-0.04, 0.04, 3)
        s.set_cell(s.cell @ np.array([[1 + e[0], e[2] / 2, 0], [e[2] / 2, 1 + e[1], 0], [0, 0, 1]]).T, scale_atoms=True)
        p = s.positions + rng.normal(0, 0.05, (len(s), 3))
    else:
        idx = [i for layer in g[:2] + g[-2:] for i in layer]
        p[idx] += rng.normal(0, 0.15, (len(idx), 3))
    s.positions = p
    s.wrap()
    return s


def breakdown(pool_file, eval_file):
    """Mean signed energy error [largest |error|] per family and kind, meV/atom."""
    pool = read(pool_file, ':')
    errors = [float(re.search(r'ΔE (\S+) meV', line).group(1)) for line in open(eval_file, encoding='utf-8') if 'ΔE' in line]
    if len(errors) != len(pool):
        sys.exit(f'{eval_file}: {len(errors)} per-frame lines for {len(pool)} frames of {pool_file}')
    families = list(dict.fromkeys(a.info['miller'] for a in pool))
    print('family ' + ''.join(f'{k:>18}' for k in KINDS))
    for family in families:
        cells = []
        for kind in KINDS:
            e = np.array([err for err, a in zip(errors, pool) if a.info['miller'] == family and a.info['pool_kind'] == kind])
            cells.append(f'{e.mean():7.1f} [{np.abs(e).max():5.1f}]')
        print(f'{family:>6} ' + ''.join(f'{c:>18}' for c in cells))
    for kind in KINDS:
        e = np.array([err for err, a in zip(errors, pool) if a.info['pool_kind'] == kind])
        print(f'{kind}: MAE {np.abs(e).mean():.2f}, mean {e.mean():.2f} meV/atom')


def main():
    if sys.argv[1] == 'breakdown':
        breakdown(sys.argv[2], sys.argv[3])
        return
    seed, per_kind, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = np.random.default_rng(seed)
    here = os.path.dirname(os.path.abspath(__file__))
    slabs = [a for a in read(os.path.join(here, 'Mo-ace-slabs.xyz'), ':') if a.info['label_rattle'] == 0]
    frames = []
    for slab in slabs:
        for kind in KINDS:
            made = 0
            while made < per_kind:
                s = perturbed(slab, kind, rng)
                if nearest_pair(s) < MIN_PAIR:
                    continue
                s.info = {'miller': slab.info['miller'], 'pool_kind': kind}
                frames.append(s)
                made += 1
    write(out, frames, format='extxyz')
    print(f'{len(frames)} frames ({len(slabs)} slabs x {len(KINDS)} kinds x {per_kind}) -> {out}')


if __name__ == '__main__':
    main()
