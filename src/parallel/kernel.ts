/**
 * The work of one chunk, identical on the main thread and in workers: run the
 * potential on the chunk's rows into a private scratch buffer, then move the
 * touched entries into the chunk's slots of the shared results (zeroing the
 * scratch behind them) and compute the chunk's virial Σ x_k ⊗ f_k over them.
 */
import type { ComputeOutput, Neighborhood, NeighborCsr, Potential } from '../../potentials/potential.ts';
import { clampOffsets } from './chunks.ts';
import {
  SCALARS, SCALAR_COMBINE_ENERGY, SCALAR_FORCE_SUM, STAGE_ACCUMULATE, STAGE_COMBINE, STAGE_FINISH, STAGE_GHOSTS, STAGE_REDUCE, timingSlot, type SharedLayout,
} from './shared.ts';

/** Milliseconds since the epoch, comparable between threads (each has its own performance.timeOrigin). */
export function clock(): number {
  return performance.timeOrigin + performance.now();
}

export class ChunkKernel {
  readonly potential: Potential;
  private forces = new Float64Array(0);
  private atomEnergies = new Float64Array(0);
  private values = new Float64Array(0);
  private readonly out: ComputeOutput = { energy: 0, forces: this.forces, atomEnergies: null, virial: new Float64Array(6) };
  /** Clamped offsets per chunk (mode 'clamped'), computed once per layout generation. */
  private clamped: { generation: number; half: Int32Array; full: Int32Array }[] = [];

  /** Thread index written into the chunk timings (0: the calling thread, w: worker w). */
  readonly thread: number;

  constructor(potential: Potential, thread = 0) {
    this.potential = potential;
    this.thread = thread;
  }

  /** Runs chunk c (see compute) and records which thread ran it, when (ms since the epoch) and for how long. */
  run(layout: SharedLayout, c: number, stage: number, wantAtomEnergies: boolean, check: boolean): void {
    const t0 = clock();
    if (stage === STAGE_GHOSTS) {
      ghostPositions(layout.rows[c], layout.rows[c + 1], layout.nLocal, layout.positions, layout.images, layout.cell, layout.ghostOffsets, layout.ghosts);
    } else if (stage === STAGE_REDUCE) reduceOwners(layout, c, wantAtomEnergies);
    else if (stage === STAGE_COMBINE) this.combine(layout, c, wantAtomEnergies);
    else this.compute(layout, c, stage, wantAtomEnergies, check);
    const times = layout.chunkTimes, o = 3 * (timingSlot(stage) * layout.nChunks + c);
    times[o] = this.thread; times[o + 1] = t0; times[o + 2] = clock();
  }

  /** Computes chunk c of the layout for a stage; `check` verifies nothing landed outside the touched set. */
  private compute(layout: SharedLayout, c: number, stage: number, wantAtomEnergies: boolean, check: boolean): void {
    const nTotal = layout.nTotal;
    if (this.forces.length < 3 * nTotal) {
      this.forces = new Float64Array(Math.ceil(3 * nTotal * 1.25));
      this.atomEnergies = new Float64Array(Math.ceil(nTotal * 1.25));
    }
    const start = layout.rows[c], end = layout.rows[c + 1];
    const atoms = this.neighborhood(layout, c, start, end);
    const t0 = layout.touchedOffsets[c], t1 = layout.touchedOffsets[c + 1], touched = layout.touched;
    const potential = this.potential;

    if (stage === STAGE_ACCUMULATE) {
      const w = layout.width;
      if (this.values.length < w * nTotal) this.values = new Float64Array(Math.ceil(w * nTotal * 1.25));
      const v = this.values, dst = layout.values;
      potential.stages!.accumulate(atoms, v);
      if (w === 1) moveValues1(t0, t1, touched, v, dst);
      else moveValues(t0, t1, touched, w, v, dst);
      if (check) this.checkClean(v, w * nTotal, w, 'stage values');
      return;
    }

    const out = this.out, f = this.forces, e = this.atomEnergies;
    out.energy = 0;
    out.forces = f;
    out.atomEnergies = wantAtomEnergies ? e : null;
    out.virial.fill(0);
    if (stage === STAGE_FINISH) potential.stages!.finish(atoms, layout.fields, out);
    else potential.compute(atoms, out);

    const s = layout.scalars, o = SCALARS * c;
    moveForces(t0, t1, touched, layout.positions, f, layout.forces, s, o + 1);
    if (wantAtomEnergies) moveValues1(t0, t1, touched, e, layout.atomEnergies);
    if (check) {
      this.checkClean(f, 3 * nTotal, 3, 'forces');
      if (wantAtomEnergies) this.checkClean(e, nTotal, 1, 'per-atom energies');
    }
    s[o] = out.energy;
    if (potential.computesVirial) for (let a = 0; a < 6; a++) s[o + 1 + a] = out.virial[a];
  }

  /**
   * STAGE_COMBINE for the owners of chunk c (its rows): their stage values summed
   * over the chunks (chunk order) and their ghosts (ghost order), combine() on those
   * rows, and their fields copied to their ghosts.
   */
  private combine(layout: SharedLayout, c: number, wantAtomEnergies: boolean): void {
    const start = layout.rows[c], end = layout.rows[c + 1], w = layout.width;
    sumOwnerValues(start, end, w, layout.values, layout.slotOffsets, layout.slots, layout.ghostOffsets, layout.ghosts, layout.reduced);
    const eatom = layout.combineEnergies;
    if (wantAtomEnergies) eatom.fill(0, start, end);
    const out = this.out;
    out.energy = 0;
    out.atomEnergies = wantAtomEnergies ? eatom : null;
    this.potential.stages!.combine(this.neighborhood(layout, c, start, end), layout.reduced, layout.fields, out);
    layout.scalars[SCALARS * c + SCALAR_COMBINE_ENERGY] = out.energy;
    copyFieldsToGhosts(start, end, w, layout.fields, layout.ghostOffsets, layout.ghosts);
  }

  /** After the touched entries were moved out, anything left is a write the decomposition cannot see. */
  private checkClean(a: Float64Array, length: number, width: number, what: string): void {
    for (let k = 0; k < length; k++) {
      if (a[k] !== 0) {
        a.fill(0, 0, length);
        throw new Error(
          `potential '${this.potential.kind}' wrote ${what} on atom ${Math.floor(k / width)}, outside the rows it was given and their ` +
            `neighbour lists; it cannot be split by rows — give it parallel: 'serial' (or 'staged'), see potentials/potential.ts`,
        );
      }
    }
  }

  private neighborhood(layout: SharedLayout, c: number, start: number, end: number): Neighborhood {
    let half: NeighborCsr | null = layout.half, full: NeighborCsr | null = layout.full;
    if (layout.mode === 'clamped') {
      while (this.clamped.length <= c) this.clamped.push({ generation: -1, half: new Int32Array(0), full: new Int32Array(0) });
      const cache = this.clamped[c], n1 = layout.nLocal + 1;
      if (cache.generation !== layout.generation) {
        cache.generation = layout.generation;
        if (half) cache.half = clampOffsets(half, layout.nLocal, start, end, cache.half.length >= n1 ? cache.half : new Int32Array(n1));
        if (full) cache.full = clampOffsets(full, layout.nLocal, start, end, cache.full.length >= n1 ? cache.full : new Int32Array(n1));
      }
      if (half) half = { offsets: cache.half, neighbors: half.neighbors };
      if (full) full = { offsets: cache.full, neighbors: full.neighbors };
    }
    return {
      nLocal: layout.nLocal,
      nTotal: layout.nTotal,
      positions: layout.positions,
      species: layout.species,
      owner: layout.owner,
      half,
      full,
      listCutoff: layout.listCutoff,
      rowStart: start,
      rowEnd: end,
    };
  }
}

/** reduced[w·i + a] for owners start ≤ i < end: Σ over i's slots, then + Σ over each ghost's slots (ghost order). */
function sumOwnerValues(
  start: number, end: number, w: number, values: Float64Array, slotOffsets: Int32Array, slots: Int32Array,
  ghostOffsets: Int32Array, ghosts: Int32Array, reduced: Float64Array,
): void {
  for (let i = start; i < end; i++) {
    for (let a = 0; a < w; a++) {
      let v = 0;
      for (let s = slotOffsets[i], s1 = slotOffsets[i + 1]; s < s1; s++) v += values[w * slots[s] + a];
      for (let q = ghostOffsets[i], q1 = ghostOffsets[i + 1]; q < q1; q++) {
        const g = ghosts[q];
        let vg = 0;
        for (let s = slotOffsets[g], s1 = slotOffsets[g + 1]; s < s1; s++) vg += values[w * slots[s] + a];
        v += vg;
      }
      reduced[w * i + a] = v;
    }
  }
}

function copyFieldsToGhosts(start: number, end: number, w: number, fields: Float64Array, ghostOffsets: Int32Array, ghosts: Int32Array): void {
  for (let i = start; i < end; i++) {
    for (let q = ghostOffsets[i], q1 = ghostOffsets[i + 1]; q < q1; q++) {
      const g = w * ghosts[q];
      for (let a = 0; a < w; a++) fields[g + a] = fields[w * i + a];
    }
  }
}

/**
 * STAGE_REDUCE for the owners of chunk c: force (and per-atom energy) of each owner =
 * its entries in the chunks' results summed in chunk order, plus each ghost's sum
 * (ghost order); the sum of the force components goes to the chunk's scalars.
 */
function reduceOwners(layout: SharedLayout, c: number, wantAtomEnergies: boolean): void {
  const start = layout.rows[c], end = layout.rows[c + 1];
  layout.scalars[SCALARS * c + SCALAR_FORCE_SUM] = reduceForces(
    start, end, layout.forces, layout.slotOffsets, layout.slots, layout.ghostOffsets, layout.ghosts, layout.localForces,
  );
  if (wantAtomEnergies) {
    reduceEnergies(start, end, layout.mode === 'staged' ? layout.combineEnergies : null, layout.atomEnergies, layout.slotOffsets, layout.slots,
      layout.ghostOffsets, layout.ghosts, layout.localEnergies);
  }
}

function reduceForces(
  start: number, end: number, df: Float64Array, slotOffsets: Int32Array, slots: Int32Array,
  ghostOffsets: Int32Array, ghosts: Int32Array, out: Float64Array,
): number {
  let sum = 0;
  for (let i = start; i < end; i++) {
    let fx = 0, fy = 0, fz = 0;
    for (let s = slotOffsets[i], s1 = slotOffsets[i + 1]; s < s1; s++) {
      const d = 3 * slots[s];
      fx += df[d]; fy += df[d + 1]; fz += df[d + 2];
    }
    for (let q = ghostOffsets[i], q1 = ghostOffsets[i + 1]; q < q1; q++) {
      const g = ghosts[q];
      let gx = 0, gy = 0, gz = 0;
      for (let s = slotOffsets[g], s1 = slotOffsets[g + 1]; s < s1; s++) {
        const d = 3 * slots[s];
        gx += df[d]; gy += df[d + 1]; gz += df[d + 2];
      }
      fx += gx; fy += gy; fz += gz;
    }
    out[3 * i] = fx; out[3 * i + 1] = fy; out[3 * i + 2] = fz;
    sum += fx + fy + fz;
  }
  return sum;
}

function reduceEnergies(
  start: number, end: number, base: Float64Array | null, de: Float64Array, slotOffsets: Int32Array, slots: Int32Array,
  ghostOffsets: Int32Array, ghosts: Int32Array, out: Float64Array,
): void {
  for (let i = start; i < end; i++) {
    let e = base === null ? 0 : base[i];
    for (let s = slotOffsets[i], s1 = slotOffsets[i + 1]; s < s1; s++) e += de[slots[s]];
    for (let q = ghostOffsets[i], q1 = ghostOffsets[i + 1]; q < q1; q++) {
      const g = ghosts[q];
      let eg = 0;
      for (let s = slotOffsets[g], s1 = slotOffsets[g + 1]; s < s1; s++) eg += de[slots[s]];
      e += eg;
    }
    out[i] = e;
  }
}

/** Moves the touched entries t0..t1-1 (one value per atom) of a thread's scratch into the chunk's slots, zeroing the scratch. */
function moveValues1(t0: number, t1: number, touched: Int32Array, v: Float64Array, dst: Float64Array): void {
  for (let t = t0; t < t1; t++) {
    const k = touched[t];
    dst[t] = v[k];
    v[k] = 0;
  }
}

function moveValues(t0: number, t1: number, touched: Int32Array, w: number, v: Float64Array, dst: Float64Array): void {
  for (let t = t0; t < t1; t++) {
    const k = w * touched[t], d = w * t;
    for (let a = 0; a < w; a++) { dst[d + a] = v[k + a]; v[k + a] = 0; }
  }
}

/**
 * Moves the touched forces t0..t1-1 of a thread's scratch into the chunk's slots
 * (zeroing the scratch) and writes their virial Σ x_k ⊗ f_k (Voigt) to s[o..o+5].
 */
function moveForces(t0: number, t1: number, touched: Int32Array, x: Float64Array, f: Float64Array, df: Float64Array, s: Float64Array, o: number): void {
  let wxx = 0, wyy = 0, wzz = 0, wyz = 0, wxz = 0, wxy = 0;
  for (let t = t0; t < t1; t++) {
    const q = 3 * touched[t], d = 3 * t;
    const fx = f[q], fy = f[q + 1], fz = f[q + 2];
    const rx = x[q], ry = x[q + 1], rz = x[q + 2];
    wxx += rx * fx; wyy += ry * fy; wzz += rz * fz;
    wyz += ry * fz; wxz += rx * fz; wxy += rx * fy;
    df[d] = fx; df[d + 1] = fy; df[d + 2] = fz;
    f[q] = 0; f[q + 1] = 0; f[q + 2] = 0;
  }
  s[o] = wxx; s[o + 1] = wyy; s[o + 2] = wzz; s[o + 3] = wyz; s[o + 4] = wxz; s[o + 5] = wxy;
}

/** Ghost coordinates of owners start..end-1: owner + image · cell rows (NeighborList's arithmetic, same bits). */
function ghostPositions(
  start: number, end: number, nLocal: number, x: Float64Array, images: Int32Array, h: Float64Array, ghostOffsets: Int32Array, ghosts: Int32Array,
): void {
  const h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7], h8 = h[8];
  for (let i = start; i < end; i++) {
    const o = 3 * i, xo = x[o], yo = x[o + 1], zo = x[o + 2];
    for (let q = ghostOffsets[i], q1 = ghostOffsets[i + 1]; q < q1; q++) {
      const g = ghosts[q], m = 3 * (g - nLocal);
      const a = images[m], b = images[m + 1], c = images[m + 2];
      x[3 * g] = xo + a * h0 + b * h3 + c * h6;
      x[3 * g + 1] = yo + a * h1 + b * h4 + c * h7;
      x[3 * g + 2] = zo + a * h2 + b * h5 + c * h8;
    }
  }
}
