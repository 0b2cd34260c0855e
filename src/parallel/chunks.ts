/**
 * The fixed decomposition of a force evaluation into chunks of rows (local atoms),
 * chosen from the neighbour list alone — never from the number of workers — so
 * that results, reduced in chunk order, have the same bits for any worker count.
 *
 * Chunks are contiguous row ranges balanced by cost (neighbour count plus a fixed
 * cost per row). Each chunk also gets its touched set: its rows and every atom in
 * their neighbour lists, i.e. every extended entry whose force or per-atom energy
 * the chunk's terms can change. Per-chunk results are stored compactly over that
 * set and summed into the global arrays in chunk order.
 */
import type { NeighborCsr } from '../../potentials/potential.ts';

/** Cost of a row beyond its neighbours, in neighbour units (per-atom work: gathers, embedding, MLP). */
const ROW_COST = 8;
/** Automatic chunk count: at least this many atoms per chunk, at most MAX_AUTO_CHUNKS chunks. */
const MIN_AUTO_CHUNK_ATOMS = 16;
const MAX_AUTO_CHUNKS = 64;

/** Number of chunks for nLocal atoms (a function of the system only). */
export function autoChunkCount(nLocal: number): number {
  return Math.max(1, Math.min(MAX_AUTO_CHUNKS, Math.floor(nLocal / MIN_AUTO_CHUNK_ATOMS)));
}

/**
 * Row boundaries (length nChunks+1) splitting rows 0..nLocal-1 so that each chunk
 * holds about the same Σ (row length + ROW_COST) over the given lists.
 */
export function balancedRows(nLocal: number, nChunks: number, lists: readonly NeighborCsr[], out: Int32Array): void {
  let total = 0;
  for (const l of lists) total += l.offsets[nLocal] - l.offsets[0];
  total += ROW_COST * nLocal;
  out[0] = 0;
  let c = 1, cumulative = 0;
  for (let i = 0; i < nLocal && c < nChunks; i++) {
    let cost = ROW_COST;
    for (const l of lists) cost += l.offsets[i + 1] - l.offsets[i];
    cumulative += cost;
    // Close chunk c after row i once the running cost reaches c/nChunks of the total.
    while (c < nChunks && cumulative * nChunks >= c * total) out[c++] = i + 1;
  }
  while (c <= nChunks) out[c++] = nLocal;
}

/**
 * Touched sets of the chunks: for chunk c, the distinct extended indices of
 * its rows and their neighbours (rows first, then list order: a function of the
 * lists only), stored in touched[offsets[c] .. offsets[c+1]).
 * `stamp` is scratch of length ≥ nTotal. Returns the arrays (grown if needed).
 */
export function touchedSets(
  rows: Int32Array,
  nChunks: number,
  lists: readonly NeighborCsr[],
  nTotal: number,
  scratch: { stamp: Int32Array; offsets: Int32Array; touched: Int32Array },
): { offsets: Int32Array; touched: Int32Array; stamp: Int32Array } {
  let stamp = scratch.stamp.length >= nTotal ? scratch.stamp : new Int32Array(nTotal);
  stamp.fill(-1, 0, nTotal);
  const offsets = scratch.offsets.length >= nChunks + 1 ? scratch.offsets : new Int32Array(nChunks + 1);
  let touched = scratch.touched;
  let count = 0;
  offsets[0] = 0;
  for (let c = 0; c < nChunks; c++) {
    const start = rows[c], end = rows[c + 1];
    // Upper bound of this chunk's entries: its rows plus their list lengths.
    let bound = end - start;
    for (const l of lists) bound += l.offsets[end] - l.offsets[start];
    if (count + bound > touched.length) {
      const grown = new Int32Array(Math.max(count + bound, Math.ceil(touched.length * 1.5)));
      grown.set(touched.subarray(0, count));
      touched = grown;
    }
    for (let i = start; i < end; i++) { stamp[i] = c; touched[count++] = i; }
    for (const l of lists) count = stampNeighbors(l.offsets[start], l.offsets[end], l.neighbors, stamp, c, touched, count);
    offsets[c + 1] = count;
  }
  stamp = stamp as Int32Array;
  return { offsets, touched, stamp };
}

/** Appends to touched (from `count`) the atoms of neighbors[q0..q1) not yet stamped with c, stamping them; returns the new count. */
function stampNeighbors(q0: number, q1: number, neighbors: Int32Array, stamp: Int32Array, c: number, touched: Int32Array, count: number): number {
  for (let q = q0; q < q1; q++) {
    const j = neighbors[q];
    if (stamp[j] !== c) { stamp[j] = c; touched[count++] = j; }
  }
  return count;
}

/** CSR offsets of `list` with every row outside [start, end) emptied (length nLocal+1). */
export function clampOffsets(list: NeighborCsr, nLocal: number, start: number, end: number, out: Int32Array): Int32Array {
  const lo = list.offsets[start], hi = list.offsets[end], src = list.offsets;
  for (let i = 0; i <= nLocal; i++) {
    const v = src[i];
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}

/**
 * Inverse of the touched sets: for each extended atom k < nTotal, the slots t with
 * touched[t] = k, ascending (so in chunk order), in slots[slotOffsets[k] ..
 * slotOffsets[k+1]). `slotOffsets` has ≥ nTotal+1 entries, `slots` ≥ nTouched.
 */
export function invertTouched(touched: Int32Array, nTouched: number, nTotal: number, slotOffsets: Int32Array, slots: Int32Array): void {
  slotOffsets.fill(0, 0, nTotal + 1);
  for (let t = 0; t < nTouched; t++) slotOffsets[touched[t] + 1]++;
  for (let k = 0; k < nTotal; k++) slotOffsets[k + 1] += slotOffsets[k];
  // Fill using slotOffsets[k] as the cursor of atom k, then shift the offsets back.
  for (let t = 0; t < nTouched; t++) slots[slotOffsets[touched[t]]++] = t;
  for (let k = nTotal; k > 0; k--) slotOffsets[k] = slotOffsets[k - 1];
  slotOffsets[0] = 0;
}

/** Ghosts of each local atom, ascending: ghosts[ghostOffsets[i] .. ghostOffsets[i+1]) for i < nLocal. */
export function ghostsByOwner(owner: Int32Array, nLocal: number, nTotal: number, ghostOffsets: Int32Array, ghosts: Int32Array): void {
  ghostOffsets.fill(0, 0, nLocal + 1);
  for (let k = nLocal; k < nTotal; k++) ghostOffsets[owner[k] + 1]++;
  for (let i = 0; i < nLocal; i++) ghostOffsets[i + 1] += ghostOffsets[i];
  for (let k = nLocal; k < nTotal; k++) ghosts[ghostOffsets[owner[k]]++] = k;
  for (let i = nLocal; i > 0; i--) ghostOffsets[i] = ghostOffsets[i - 1];
  ghostOffsets[0] = 0;
}
