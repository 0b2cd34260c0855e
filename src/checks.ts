/** Sanity checks on a starting structure. */
import { NeighborList } from './neighbors.ts';
import type { System } from './system.ts';

/** Default closest approach allowed at the start of a run, Å. */
export const DEFAULT_MIN_DISTANCE = 0.5;

/**
 * Throws if any two atoms (periodic images included) are closer than
 * `minDistance`, naming the pair and their distance.
 */
export function checkOverlaps(system: System, minDistance = DEFAULT_MIN_DISTANCE): void {
  if (system.n < 1 || !(minDistance > 0)) return;
  const nl = new NeighborList({ cutoff: minDistance, skin: 0, half: true });
  const probe = system.clone();
  nl.update(probe);
  const { offsets, neighbors } = nl.half!;
  const x = nl.positions;
  for (let i = 0; i < system.n; i++) {
    for (let p = offsets[i]; p < offsets[i + 1]; p++) {
      const j = neighbors[p];
      const d = Math.hypot(x[3 * j] - x[3 * i], x[3 * j + 1] - x[3 * i + 1], x[3 * j + 2] - x[3 * i + 2]);
      const o = nl.owner[j];
      const what = o === i ? `atom ${i} (${system.elements[system.species[i]]}) and its own periodic image` :
        `atoms ${i} (${system.elements[system.species[i]]}) and ${o} (${system.elements[system.species[o]]})`;
      throw new Error(
        `${what} are ${d.toFixed(4)} Å apart, closer than ${minDistance} Å: overlapping atoms ` +
          `(check the structure's units and cell; set minDistance to change the threshold)`,
      );
    }
  }
}
