"""Ideal bcc Mo slabs, one per surface family with Miller indices up to 3 (13 families),
about 10 A thick with 6 A of vacuum on each side (a = 3.169 A, the lowest-energy bulk
frame of Mo_train.xyz: 15.89 A^3/atom). Input of `tensormd label` (ACE relaxes and labels
them); the families are enumerated, not picked. Run with Debian's ASE:
    /usr/bin/python3 models/latte/synthetic/Mo-slabs.py   (writes Mo-slabs-ideal.xyz beside it)
"""
import itertools, os
import numpy as np
from ase.build import bulk, surface
from ase.io import write

A = 3.169
families = set()
for h, k, l in itertools.product(range(4), repeat=3):
    if (h, k, l) != (0, 0, 0):
        g = np.gcd.reduce([h, k, l])
        families.add(tuple(sorted((h // g, k // g, l // g), reverse=True)))
slabs = []
for hkl in sorted(families):
    cubic = bulk('Mo', 'bcc', a=A, cubic=True)
    for layers in range(1, 80):  # the fewest layers giving at least 9.5 A between outer planes
        slab = surface(cubic, hkl, layers, vacuum=6.0, periodic=True)
        if np.ptp(slab.positions[:, 2]) >= 9.5:
            break
    slab.info['miller'] = ''.join(map(str, hkl))
    slabs.append(slab)
write(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'Mo-slabs-ideal.xyz'), slabs, format='extxyz')
