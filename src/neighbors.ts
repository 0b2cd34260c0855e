/**
 * Verlet neighbour lists built with linked cells, LAMMPS-style: periodic images
 * within the list cutoff of the cell faces are materialised as ghost atoms, so a
 * pair's displacement is a plain coordinate difference and cells thinner than
 * twice the cutoff (where an atom meets several images of another, or of itself)
 * are handled like any other.
 *
 * Binning happens in fractional coordinates of the cell: planes of constant
 * fractional coordinate k are heights[k] apart per unit, so a bin whose
 * perpendicular width is ≥ rc/STENCIL contains every point within rc after
 * STENCIL bins in each direction, however skewed the cell.
 *
 * The list (cutoff + skin) is rebuilt once an atom may have moved more than half
 * the skin, counting the displacement of ghosts from a changing cell as well. That
 * check runs at every update by default; a LAMMPS-like `rebuild` policy (every,
 * delay, check — as `neigh_modify`) can space it out or replace it by a fixed
 * schedule.
 */
import type { Cell } from './cell.ts';
import type { NeighborCsr, Neighborhood } from '../potentials/potential.ts';
import type { System } from './system.ts';

/** Bins per list cutoff along each axis; the stencil reaches this many bins each way. */
const STENCIL = 2;
/**
 * In an orthogonal frame, bins along the third axis (contiguous in bin order, where
 * each row's run is trimmed to the atom's exact reach) are this many times finer:
 * fewer candidates per row at the same number of rows (LAMMPS in.lj: 199 → 173
 * candidates and 100 → 86 distance checks per atom for the half list).
 */
const FINE_AXIS_FACTOR = 2;
/** More images per atom than this means the cutoff is absurd for the cell. */
const MAX_IMAGES_PER_AXIS = 10;

/**
 * When to consider a rebuild, as LAMMPS's `neigh_modify every N delay M check yes/no`:
 * counting updates since the last build (`ago`), a rebuild is considered when
 * ago ≥ delay and ago is a multiple of every; it then happens unconditionally with
 * check false, or (check true) only if an atom may have moved more than skin/2.
 * The default {every: 1, delay: 0, check: true} is the safe one. With check false
 * or every > 1 a pair can enter the cutoff unseen between builds, exactly as in
 * LAMMPS. `dangerousBuilds` counts, with check true, rebuilds at the first update
 * allowed (ago = max(every, delay) > 1: LAMMPS's "Dangerous builds"), and with check
 * false the scheduled builds at which the skin/2 test had already failed.
 */
export interface RebuildPolicy {
  every?: number;
  delay?: number;
  check?: boolean;
}

export interface NeighborListOptions {
  /** Interaction cutoff, Å. */
  cutoff: number;
  /** Verlet skin, Å (default 1). */
  skin?: number;
  half?: boolean;
  full?: boolean;
  /** Rebuild schedule (default: check skin/2 at every update). */
  rebuild?: RebuildPolicy;
}

export class NeighborList implements Neighborhood {
  readonly cutoff: number;
  readonly skin: number;
  readonly listCutoff: number;
  nLocal = 0;
  nTotal = 0;
  positions: Float64Array = new Float64Array(0);
  species: Int32Array = new Int32Array(0);
  owner: Int32Array = new Int32Array(0);
  half: NeighborCsr | null;
  full: NeighborCsr | null;
  /** Number of builds so far. */
  builds = 0;
  /** Builds (scheduled by the rebuild policy) at which an atom had already moved more than skin/2. */
  dangerousBuilds = 0;
  readonly every: number;
  readonly delay: number;
  readonly check: boolean;
  /** Updates since the last build. */
  private ago = 0;

  /** Integer image of each ghost (3 per ghost, ghost index minus nLocal). */
  private image: Int32Array = new Int32Array(0);
  private referencePositions: Float64Array = new Float64Array(0);
  private referenceCell: Float64Array = new Float64Array(9);
  /** Largest |n_k| of any ghost image, per axis: bounds ghost motion under a cell change. */
  private maxImage = [0, 0, 0];
  private dirty = true;
  private binOf: Int32Array = new Int32Array(0);
  private binStart: Int32Array = new Int32Array(0);
  private binAtoms: Int32Array = new Int32Array(0);
  private binFill: Int32Array = new Int32Array(0);
  /** Extended coordinates and half-list keys in bin order. */
  private sortedPositions: Float64Array = new Float64Array(0);
  private sortedKeys: Int32Array = new Int32Array(0);
  /** Continuous bin coordinates of the local atoms. */
  private binCoords: Float64Array = new Float64Array(0);
  private fractional: Float64Array = new Float64Array(0);

  constructor(options: NeighborListOptions) {
    const skin = options.skin ?? 1;
    if (!(options.cutoff > 0) || !Number.isFinite(options.cutoff)) throw new Error(`neighbour list: cutoff must be positive, got ${options.cutoff}`);
    if (!(skin >= 0) || !Number.isFinite(skin)) throw new Error(`neighbour list: skin must be ≥ 0, got ${skin}`);
    this.cutoff = options.cutoff;
    this.skin = skin;
    this.listCutoff = options.cutoff + skin;
    this.half = options.half ? { offsets: new Int32Array(1), neighbors: new Int32Array(0) } : null;
    this.full = options.full ? { offsets: new Int32Array(1), neighbors: new Int32Array(0) } : null;
    if (!this.half && !this.full) throw new Error('neighbour list: ask for a half list, a full list or both');
    const policy = options.rebuild ?? {};
    this.every = policy.every ?? 1;
    this.delay = policy.delay ?? 0;
    this.check = policy.check ?? true;
    if (!Number.isInteger(this.every) || this.every < 1) throw new Error(`neighbour list: rebuild.every must be an integer ≥ 1, got ${policy.every}`);
    if (!Number.isInteger(this.delay) || this.delay < 0) throw new Error(`neighbour list: rebuild.delay must be an integer ≥ 0, got ${policy.delay}`);
  }

  /** Forces a rebuild at the next update (after species or atom count changed). */
  invalidate(): void {
    this.dirty = true;
  }

  /**
   * Brings the list up to date with the system: rebuilds it (wrapping atoms into
   * the cell) if needed, otherwise refreshes the extended coordinates. Returns true
   * if it rebuilt.
   */
  update(system: System): boolean {
    if (this.dirty || system.n !== this.nLocal) {
      this.build(system);
      return true;
    }
    const ago = ++this.ago;
    if (ago >= this.delay && ago % this.every === 0) {
      if (this.check) {
        if (this.movedTooFar(system)) {
          // LAMMPS's rule: a rebuild at the first update allowed may have come too late.
          if (ago === Math.max(this.every, this.delay) && ago > 1) this.dangerousBuilds++;
          this.build(system);
          return true;
        }
      } else {
        // Not LAMMPS's count (it checks nothing with check no): here the skin/2 test had failed.
        if (this.movedTooFar(system)) this.dangerousBuilds++;
        this.build(system);
        return true;
      }
    }
    this.refreshCoordinates(system);
    return false;
  }

  private movedTooFar(system: System): boolean {
    const x = system.positions, x0 = this.referencePositions, n3 = x.length;
    let maxDisp2 = 0;
    for (let k = 0; k < n3; k += 3) {
      const dx = x[k] - x0[k], dy = x[k + 1] - x0[k + 1], dz = x[k + 2] - x0[k + 2];
      const d2 = dx * dx + dy * dy + dz * dz;
      if (d2 > maxDisp2) maxDisp2 = d2;
    }
    // A ghost moves with its owner plus n·Δh when the cell changes.
    const h = system.cell.matrix, h0 = this.referenceCell;
    let cellShift = 0;
    for (let a = 0; a < 3; a++) {
      if (this.maxImage[a] === 0) continue;
      const d = Math.hypot(h[3 * a] - h0[3 * a], h[3 * a + 1] - h0[3 * a + 1], h[3 * a + 2] - h0[3 * a + 2]);
      cellShift += this.maxImage[a] * d;
    }
    return Math.sqrt(maxDisp2) + cellShift > 0.5 * this.skin;
  }

  private refreshCoordinates(system: System): void {
    const x = system.positions, ext = this.positions, h = system.cell.matrix;
    ext.set(x);
    const img = this.image, own = this.owner, n = this.nLocal, nTotal = this.nTotal;
    // Cell rows in locals: the stores into ext could alias h as far as the compiler knows.
    const h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7], h8 = h[8];
    for (let g = n; g < nTotal; g++) {
      const o = 3 * own[g], q = 3 * (g - n);
      const a = img[q], b = img[q + 1], c = img[q + 2];
      ext[3 * g] = x[o] + a * h0 + b * h3 + c * h6;
      ext[3 * g + 1] = x[o + 1] + a * h1 + b * h4 + c * h7;
      ext[3 * g + 2] = x[o + 2] + a * h2 + b * h5 + c * h8;
    }
  }

  private build(system: System): void {
    const n = system.n;
    const cell = system.cell;
    cell.wrap(system.positions);
    this.nLocal = n;
    const rl = this.listCutoff;

    // Binning frame: the cell, or for a cell without volume (isolated molecule) the Cartesian axes.
    const frame = binningFrame(cell);
    const s = ensureF64(this.fractional, 3 * n);
    this.fractional = s;
    frame.toFractional(system.positions, s);

    // Extent of the binned region in fractional units, per axis.
    const lo = [0, 0, 0], hi = [0, 0, 0], width = [0, 0, 0];
    for (let a = 0; a < 3; a++) {
      if (frame.periodic[a]) {
        width[a] = rl / frame.heights[a];
        if (width[a] > MAX_IMAGES_PER_AXIS) {
          throw new Error(
            `neighbour list: cutoff ${rl.toFixed(3)} Å (with skin) spans more than ${MAX_IMAGES_PER_AXIS} periodic images ` +
              `along cell axis ${'abc'[a]} (cell height ${frame.heights[a].toFixed(3)} Å); use a larger cell`,
          );
        }
        lo[a] = -width[a];
        hi[a] = 1 + width[a];
      } else {
        let mn = Infinity, mx = -Infinity;
        for (let i = 0; i < n; i++) {
          const v = s[3 * i + a];
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
        if (n === 0) { mn = 0; mx = 0; }
        lo[a] = mn;
        hi[a] = mx;
      }
    }

    this.makeGhosts(system, frame.periodic, width);

    // Linked cells over the extended atoms (counting sort by bin).
    const nb = [1, 1, 1], binWidth = [1, 1, 1];
    for (let a = 0; a < 3; a++) {
      const extent = (hi[a] - lo[a]) * frame.heights[a];
      const perCutoff = a === 2 && frame.orthogonal ? STENCIL * FINE_AXIS_FACTOR : STENCIL;
      nb[a] = Math.max(1, Math.min(Math.floor((extent * perCutoff) / rl), 1 << 10));
      binWidth[a] = (hi[a] - lo[a]) / nb[a] || 1;
    }
    this.binExtendedAtoms(frame.inverse, lo, binWidth, nb);
    // Perpendicular bin widths (Å) of an orthogonal frame, where bins are boxes and the
    // search can be trimmed to the atom's exact distance from each bin row.
    const widths = frame.orthogonal ? [binWidth[0] * frame.heights[0], binWidth[1] * frame.heights[1], binWidth[2] * frame.heights[2]] : null;
    if (this.half) this.fillList(this.half, true, nb, widths);
    if (this.full) this.fillList(this.full, false, nb, widths);
    this.referencePositions = ensureF64(this.referencePositions, 3 * n);
    this.referencePositions.set(system.positions);
    this.referenceCell.set(cell.matrix);
    this.dirty = false;
    this.builds++;
    this.ago = 0;
  }

  /** Creates ghost atoms: images (n ≠ 0) whose fractional coordinates fall within the padded region. */
  private makeGhosts(system: System, periodic: readonly boolean[], width: number[]): void {
    const n = system.n;
    // Count first so arrays are allocated once, then emit.
    const count = this.ghostPass(false, system, periodic, width);
    const nTotal = n + count;
    this.nTotal = nTotal;
    this.positions = ensureF64(this.positions, 3 * nTotal);
    this.species = ensureI32(this.species, nTotal);
    this.owner = ensureI32(this.owner, nTotal);
    this.image = ensureI32(this.image, 3 * count);
    for (let i = 0; i < n; i++) {
      this.owner[i] = i;
      this.species[i] = system.species[i];
    }
    this.positions.set(system.positions);
    this.maxImage = [0, 0, 0];
    this.ghostPass(true, system, periodic, width);
  }

  /**
   * One pass over the images of every atom: counts them, or (emit) writes them
   * after the local atoms. Along a periodic axis the image n is kept when
   * −width ≤ s + n < 1 + width; only the few n near that window are tried.
   */
  private ghostPass(emit: boolean, system: System, periodic: readonly boolean[], width: number[]): number {
    const n = system.n, s = this.fractional, h = system.cell.matrix, x = system.positions, species = system.species;
    const h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7], h8 = h[8];
    const p0 = periodic[0], p1 = periodic[1], p2 = periodic[2];
    const w0 = width[0], w1 = width[1], w2 = width[2];
    const image = this.image, owner = this.owner, spc = this.species, ext = this.positions;
    let m0 = 0, m1 = 0, m2 = 0;
    let g = n;
    for (let i = 0; i < n; i++) {
      const sa = s[3 * i], sb = s[3 * i + 1], sc = s[3 * i + 2];
      const aLo = p0 ? Math.ceil(-w0 - sa) - 1 : 0, aHi = p0 ? Math.ceil(1 + w0 - sa) : 0;
      const bLo = p1 ? Math.ceil(-w1 - sb) - 1 : 0, bHi = p1 ? Math.ceil(1 + w1 - sb) : 0;
      const cLo = p2 ? Math.ceil(-w2 - sc) - 1 : 0, cHi = p2 ? Math.ceil(1 + w2 - sc) : 0;
      for (let a = aLo; a <= aHi; a++) {
        const fa = sa + a;
        if (p0 && (fa < -w0 || fa >= 1 + w0)) continue;
        for (let b = bLo; b <= bHi; b++) {
          const fb = sb + b;
          if (p1 && (fb < -w1 || fb >= 1 + w1)) continue;
          for (let c = cLo; c <= cHi; c++) {
            if (a === 0 && b === 0 && c === 0) continue;
            const fc = sc + c;
            if (p2 && (fc < -w2 || fc >= 1 + w2)) continue;
            if (emit) {
              const q = 3 * (g - n);
              image[q] = a; image[q + 1] = b; image[q + 2] = c;
              owner[g] = i;
              spc[g] = species[i];
              ext[3 * g] = x[3 * i] + a * h0 + b * h3 + c * h6;
              ext[3 * g + 1] = x[3 * i + 1] + a * h1 + b * h4 + c * h7;
              ext[3 * g + 2] = x[3 * i + 2] + a * h2 + b * h5 + c * h8;
              if (a > m0) m0 = a; else if (-a > m0) m0 = -a;
              if (b > m1) m1 = b; else if (-b > m1) m1 = -b;
              if (c > m2) m2 = c; else if (-c > m2) m2 = -c;
            }
            g++;
          }
        }
      }
    }
    if (emit) this.maxImage = [m0, m1, m2];
    return g - n;
  }

  /**
   * Counting sort of the extended atoms by bin; also copies their coordinates and
   * half-list keys into bin order so the candidate loops read contiguous memory.
   */
  private binExtendedAtoms(g: Float64Array, lo: number[], binWidth: number[], nb: number[]): void {
    const nTotal = this.nTotal, n = this.nLocal;
    const nBins = nb[0] * nb[1] * nb[2];
    this.binOf = ensureI32(this.binOf, nTotal);
    this.binStart = ensureI32(this.binStart, nBins + 1);
    this.binFill = ensureI32(this.binFill, nBins);
    this.binAtoms = ensureI32(this.binAtoms, nTotal);
    this.sortedPositions = ensureF64(this.sortedPositions, 3 * nTotal);
    this.sortedKeys = ensureI32(this.sortedKeys, nTotal);
    const binOf = this.binOf, binStart = this.binStart, binAtoms = this.binAtoms, fill = this.binFill;
    binStart.fill(0, 0, nBins + 1);
    fill.fill(0, 0, nBins);
    const ext = this.positions;
    const lo0 = lo[0], lo1 = lo[1], lo2 = lo[2];
    const iw0 = 1 / binWidth[0], iw1 = 1 / binWidth[1], iw2 = 1 / binWidth[2];
    const n0 = nb[0], n1 = nb[1], n2 = nb[2];
    this.binCoords = ensureF64(this.binCoords, 3 * n);
    const u = this.binCoords;
    for (let k = 0; k < nTotal; k++) {
      const x = ext[3 * k], y = ext[3 * k + 1], z = ext[3 * k + 2];
      const u0 = (x * g[0] + y * g[3] + z * g[6] - lo0) * iw0;
      const u1 = (x * g[1] + y * g[4] + z * g[7] - lo1) * iw1;
      const u2 = (x * g[2] + y * g[5] + z * g[8] - lo2) * iw2;
      if (k < n) { u[3 * k] = u0; u[3 * k + 1] = u1; u[3 * k + 2] = u2; }
      let i0 = Math.floor(u0), i1 = Math.floor(u1), i2 = Math.floor(u2);
      if (i0 < 0) i0 = 0; else if (i0 >= n0) i0 = n0 - 1;
      if (i1 < 0) i1 = 0; else if (i1 >= n1) i1 = n1 - 1;
      if (i2 < 0) i2 = 0; else if (i2 >= n2) i2 = n2 - 1;
      const bin = (i0 * n1 + i1) * n2 + i2;
      binOf[k] = bin;
      binStart[bin + 1]++;
    }
    for (let b = 0; b < nBins; b++) binStart[b + 1] += binStart[b];
    // Half-list key: keep j for i iff key(j) > 2i, where key = 2·owner(j), plus 1 for a
    // ghost image of its owner whose first non-zero image index is positive (so of
    // the two images ±n of an atom's own periodic copy exactly one is kept).
    const owner = this.owner, image = this.image, sx = this.sortedPositions, keys = this.sortedKeys;
    for (let k = 0; k < nTotal; k++) {
      const b = binOf[k];
      const t = binStart[b] + fill[b]++;
      binAtoms[t] = k;
      sx[3 * t] = ext[3 * k]; sx[3 * t + 1] = ext[3 * k + 1]; sx[3 * t + 2] = ext[3 * k + 2];
      let key = 2 * owner[k];
      if (k >= n) {
        const q = 3 * (k - n);
        const a = image[q], bb = image[q + 1], c = image[q + 2];
        if (a > 0 || (a === 0 && (bb > 0 || (bb === 0 && c > 0)))) key++;
      }
      keys[t] = key;
    }
  }

  /**
   * Fills a CSR list (half: keep j only if key(j) > 2i) by scanning, for each local
   * atom, the rows of bins (fixed offsets d0, d1 within ±STENCIL) and along each row
   * the contiguous run of bins that can hold a point within the list cutoff. With
   * `widths` (orthogonal frame: bins are boxes of these perpendicular widths) rows
   * farther than the cutoff are skipped and each run is trimmed to the atom's exact
   * reach; otherwise the run is ±STENCIL bins, enough for any skew.
   */
  private fillList(csr: NeighborCsr, half: boolean, nb: number[], widths: number[] | null): void {
    const n = this.nLocal, rl2 = this.listCutoff * this.listCutoff;
    const binStart = this.binStart, binAtoms = this.binAtoms, u = this.binCoords;
    const sx = this.sortedPositions, keys = this.sortedKeys, ext = this.positions;
    if (csr.offsets.length < n + 1) csr.offsets = new Int32Array(n + 1);
    const offsets = csr.offsets;
    let list = csr.neighbors;
    let count = 0;
    const n0 = nb[0], n1 = nb[1], n2 = nb[2];
    const trim = widths !== null;
    const w0 = trim ? widths[0] : 0, w1 = trim ? widths[1] : 0, w2 = trim ? widths[2] : 1;
    offsets[0] = 0;
    for (let i = 0; i < n; i++) {
      const u0 = u[3 * i], u1 = u[3 * i + 1], u2 = u[3 * i + 2];
      const b0 = clampBin(u0, n0), b1 = clampBin(u1, n1), b2 = clampBin(u2, n2);
      const xi = ext[3 * i], yi = ext[3 * i + 1], zi = ext[3 * i + 2];
      const key = half ? 2 * i : -1;
      const p0 = b0 - STENCIL < 0 ? 0 : b0 - STENCIL, p1 = b0 + STENCIL >= n0 ? n0 - 1 : b0 + STENCIL;
      const q0 = b1 - STENCIL < 0 ? 0 : b1 - STENCIL, q1 = b1 + STENCIL >= n1 ? n1 - 1 : b1 + STENCIL;
      for (let p = p0; p <= p1; p++) {
        let rest0 = rl2;
        if (trim) {
          const gap = p > b0 ? (p - u0) * w0 : p < b0 ? (u0 - p - 1) * w0 : 0;
          if (gap > 0) rest0 -= gap * gap;
          if (rest0 <= 0) continue;
        }
        for (let q = q0; q <= q1; q++) {
          let lo2: number, hi2: number;
          if (trim) {
            const gap = q > b1 ? (q - u1) * w1 : q < b1 ? (u1 - q - 1) * w1 : 0;
            const rest = gap > 0 ? rest0 - gap * gap : rest0;
            if (rest <= 0) continue;
            const reach = Math.sqrt(rest) / w2;
            lo2 = Math.floor(u2 - reach);
            hi2 = Math.floor(u2 + reach);
          } else {
            lo2 = b2 - STENCIL;
            hi2 = b2 + STENCIL;
          }
          if (lo2 < 0) lo2 = 0;
          if (hi2 >= n2) hi2 = n2 - 1;
          if (lo2 > hi2) continue;
          const row = (p * n1 + q) * n2;
          const start = binStart[row + lo2], end = binStart[row + hi2 + 1];
          if (count + end - start > list.length) list = grow(list, count + end - start);
          for (let t = start; t < end; t++) {
            if (keys[t] <= key) continue;
            const dx = sx[3 * t] - xi, dy = sx[3 * t + 1] - yi, dz = sx[3 * t + 2] - zi;
            const r2 = dx * dx + dy * dy + dz * dz;
            // For a full list key is −1 and r2 > 0 excludes i itself (entries never coincide).
            if (r2 < rl2 && binAtoms[t] !== i) list[count++] = binAtoms[t];
          }
        }
      }
      offsets[i + 1] = count;
    }
    csr.neighbors = list;
  }
}

function clampBin(u: number, nBins: number): number {
  const b = Math.floor(u);
  return b < 0 ? 0 : b >= nBins ? nBins - 1 : b;
}

interface BinningFrame {
  inverse: Float64Array;
  /** True when the frame's axes are mutually perpendicular (bins are boxes). */
  orthogonal: boolean;
  heights: readonly number[];
  periodic: readonly boolean[];
  origin: readonly number[];
  toFractional(r: Float64Array, out: Float64Array): Float64Array;
}

/** The cell itself, or unit Cartesian axes when the cell has no volume (then nothing is periodic). */
function binningFrame(cell: Cell): BinningFrame {
  if (cell.hasVolume) {
    return {
      inverse: cell.inverse,
      orthogonal: isOrthogonal(cell.matrix),
      heights: cell.heights(),
      periodic: cell.pbc,
      origin: [0, 0, 0],
      toFractional: (r, out) => cell.toFractional(r, out),
    };
  }
  const identity = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  return {
    inverse: identity,
    orthogonal: true,
    heights: [1, 1, 1],
    periodic: [false, false, false],
    origin: [0, 0, 0],
    toFractional: (r, out) => { out.set(r); return out; },
  };
}

function isOrthogonal(h: Float64Array): boolean {
  const dot = (i: number, j: number) => h[3 * i] * h[3 * j] + h[3 * i + 1] * h[3 * j + 1] + h[3 * i + 2] * h[3 * j + 2];
  return dot(0, 1) === 0 && dot(0, 2) === 0 && dot(1, 2) === 0;
}

function grow(a: Int32Array, needed: number): Int32Array {
  const b = new Int32Array(Math.max(needed, Math.ceil(a.length * 1.5) + 1024));
  b.set(a);
  return b;
}

function ensureF64(a: Float64Array, length: number): Float64Array {
  return a.length >= length ? a : new Float64Array(length);
}

function ensureI32(a: Int32Array, length: number): Int32Array {
  return a.length >= length ? a : new Int32Array(length);
}
