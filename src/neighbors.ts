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
 * the skin, counting the displacement of ghosts from a changing cell as well.
 */
import type { Cell } from './cell.ts';
import type { NeighborCsr, Neighborhood } from '../potentials/potential.ts';
import type { System } from './system.ts';

/** Bins per list cutoff along each axis; the stencil reaches this many bins each way. */
const STENCIL = 2;
/** More images per atom than this means the cutoff is absurd for the cell. */
const MAX_IMAGES_PER_AXIS = 10;

export interface NeighborListOptions {
  /** Interaction cutoff, Å. */
  cutoff: number;
  /** Verlet skin, Å (default 1). */
  skin?: number;
  half?: boolean;
  full?: boolean;
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
    if (this.dirty || system.n !== this.nLocal || this.movedTooFar(system)) {
      this.build(system);
      return true;
    }
    this.refreshCoordinates(system);
    return false;
  }

  private movedTooFar(system: System): boolean {
    const x = system.positions, x0 = this.referencePositions;
    let maxDisp2 = 0;
    for (let k = 0; k < x.length; k += 3) {
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
    const img = this.image, own = this.owner;
    for (let g = this.nLocal; g < this.nTotal; g++) {
      const o = 3 * own[g], q = 3 * (g - this.nLocal);
      const a = img[q], b = img[q + 1], c = img[q + 2];
      ext[3 * g] = x[o] + a * h[0] + b * h[3] + c * h[6];
      ext[3 * g + 1] = x[o + 1] + a * h[1] + b * h[4] + c * h[7];
      ext[3 * g + 2] = x[o + 2] + a * h[2] + b * h[5] + c * h[8];
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
    const nTotal = this.nTotal;

    // Linked cells over the extended atoms (counting sort by bin).
    const nb = [1, 1, 1], binWidth = [1, 1, 1];
    for (let a = 0; a < 3; a++) {
      const extent = (hi[a] - lo[a]) * frame.heights[a];
      nb[a] = Math.max(1, Math.min(Math.floor((extent * STENCIL) / rl), 1 << 10));
      binWidth[a] = (hi[a] - lo[a]) / nb[a] || 1;
    }
    const nBins = nb[0] * nb[1] * nb[2];
    this.binOf = ensureI32(this.binOf, nTotal);
    this.binStart = ensureI32(this.binStart, nBins + 1);
    this.binAtoms = ensureI32(this.binAtoms, nTotal);
    const binOf = this.binOf, binStart = this.binStart, binAtoms = this.binAtoms;
    binStart.fill(0, 0, nBins + 1);
    const g = frame.inverse, ext = this.positions;
    for (let k = 0; k < nTotal; k++) {
      const x = ext[3 * k], y = ext[3 * k + 1], z = ext[3 * k + 2];
      let bin = 0;
      for (let a = 0; a < 3; a++) {
        const f = x * g[a] + y * g[3 + a] + z * g[6 + a] - frame.origin[a];
        let ib = Math.floor((f - lo[a]) / binWidth[a]);
        if (ib < 0) ib = 0;
        else if (ib >= nb[a]) ib = nb[a] - 1;
        bin = bin * nb[a] + ib;
      }
      binOf[k] = bin;
      binStart[bin + 1]++;
    }
    for (let b = 0; b < nBins; b++) binStart[b + 1] += binStart[b];
    const fill = new Int32Array(nBins);
    for (let k = 0; k < nTotal; k++) {
      const b = binOf[k];
      binAtoms[binStart[b] + fill[b]++] = k;
    }

    this.fillLists(nb);
    this.referencePositions = ensureF64(this.referencePositions, 3 * n);
    this.referencePositions.set(system.positions);
    this.referenceCell.set(cell.matrix);
    this.dirty = false;
    this.builds++;
  }

  /** Creates ghost atoms: images (n ≠ 0) whose fractional coordinates fall within the padded region. */
  private makeGhosts(system: System, periodic: readonly boolean[], width: number[]): void {
    const n = system.n, s = this.fractional, h = system.cell.matrix, x = system.positions;
    const ranges = [0, 0, 0].map((_, a) => (periodic[a] ? Math.ceil(width[a]) + 1 : 0));
    // Count first so arrays are allocated once.
    let count = 0;
    this.maxImage = [0, 0, 0];
    const visit = (emit: boolean): void => {
      let g = n;
      for (let i = 0; i < n; i++) {
        const sa = s[3 * i], sb = s[3 * i + 1], sc = s[3 * i + 2];
        for (let a = -ranges[0]; a <= ranges[0]; a++) {
          const fa = sa + a;
          if (periodic[0] && (fa < -width[0] || fa >= 1 + width[0])) continue;
          for (let b = -ranges[1]; b <= ranges[1]; b++) {
            const fb = sb + b;
            if (periodic[1] && (fb < -width[1] || fb >= 1 + width[1])) continue;
            for (let c = -ranges[2]; c <= ranges[2]; c++) {
              if (a === 0 && b === 0 && c === 0) continue;
              const fc = sc + c;
              if (periodic[2] && (fc < -width[2] || fc >= 1 + width[2])) continue;
              if (!emit) { count++; continue; }
              const q = 3 * (g - n);
              this.image[q] = a; this.image[q + 1] = b; this.image[q + 2] = c;
              this.owner[g] = i;
              this.species[g] = system.species[i];
              this.positions[3 * g] = x[3 * i] + a * h[0] + b * h[3] + c * h[6];
              this.positions[3 * g + 1] = x[3 * i + 1] + a * h[1] + b * h[4] + c * h[7];
              this.positions[3 * g + 2] = x[3 * i + 2] + a * h[2] + b * h[5] + c * h[8];
              const m = this.maxImage;
              if (Math.abs(a) > m[0]) m[0] = Math.abs(a);
              if (Math.abs(b) > m[1]) m[1] = Math.abs(b);
              if (Math.abs(c) > m[2]) m[2] = Math.abs(c);
              g++;
            }
          }
        }
      }
    };
    visit(false);
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
    this.positions.set(x);
    visit(true);
  }

  private fillLists(nb: number[]): void {
    const n = this.nLocal, ext = this.positions, rl2 = this.listCutoff * this.listCutoff;
    const binOf = this.binOf, binStart = this.binStart, binAtoms = this.binAtoms;
    const owner = this.owner, image = this.image;
    const half = this.half, full = this.full;
    let halfList = half ? half.neighbors : new Int32Array(0);
    let fullList = full ? full.neighbors : new Int32Array(0);
    if (half && half.offsets.length < n + 1) half.offsets = new Int32Array(n + 1);
    if (full && full.offsets.length < n + 1) full.offsets = new Int32Array(n + 1);
    let nh = 0, nf = 0;
    const n1 = nb[1], n2 = nb[2];
    for (let i = 0; i < n; i++) {
      const bin = binOf[i];
      const b0 = Math.floor(bin / (n1 * n2)), b1 = Math.floor(bin / n2) % n1, b2 = bin % n2;
      const a0 = Math.max(0, b0 - STENCIL), a1 = Math.min(nb[0] - 1, b0 + STENCIL);
      const c0 = Math.max(0, b1 - STENCIL), c1 = Math.min(n1 - 1, b1 + STENCIL);
      const d0 = Math.max(0, b2 - STENCIL), d1 = Math.min(n2 - 1, b2 + STENCIL);
      // Grow storage for the worst case of this atom (every candidate a neighbour).
      let candidates = 0;
      for (let p = a0; p <= a1; p++) for (let q = c0; q <= c1; q++) {
        const row = (p * n1 + q) * n2;
        candidates += binStart[row + d1 + 1] - binStart[row + d0];
      }
      if (half && nh + candidates > halfList.length) halfList = grow(halfList, nh + candidates);
      if (full && nf + candidates > fullList.length) fullList = grow(fullList, nf + candidates);
      const xi = ext[3 * i], yi = ext[3 * i + 1], zi = ext[3 * i + 2];
      for (let p = a0; p <= a1; p++) {
        for (let q = c0; q <= c1; q++) {
          const row = (p * n1 + q) * n2;
          const end = binStart[row + d1 + 1];
          for (let t = binStart[row + d0]; t < end; t++) {
            const j = binAtoms[t];
            if (j === i) continue;
            const dx = ext[3 * j] - xi, dy = ext[3 * j + 1] - yi, dz = ext[3 * j + 2] - zi;
            if (dx * dx + dy * dy + dz * dz >= rl2) continue;
            if (full) fullList[nf++] = j;
            if (half) {
              const o = owner[j];
              let keep: boolean;
              if (j < n) keep = j > i;
              else if (o !== i) keep = o > i;
              else {
                // Self-image: keep the image whose first non-zero index is positive.
                const q3 = 3 * (j - n);
                const a = image[q3], b = image[q3 + 1], c = image[q3 + 2];
                keep = a > 0 || (a === 0 && (b > 0 || (b === 0 && c > 0)));
              }
              if (keep) halfList[nh++] = j;
            }
          }
        }
      }
      if (half) half.offsets[i + 1] = nh;
      if (full) full.offsets[i + 1] = nf;
    }
    if (half) { half.offsets[0] = 0; half.neighbors = halfList; }
    if (full) { full.offsets[0] = 0; full.neighbors = fullList; }
  }
}

interface BinningFrame {
  inverse: Float64Array;
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
      heights: cell.heights(),
      periodic: cell.pbc,
      origin: [0, 0, 0],
      toFractional: (r, out) => cell.toFractional(r, out),
    };
  }
  const identity = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  return {
    inverse: identity,
    heights: [1, 1, 1],
    periodic: [false, false, false],
    origin: [0, 0, 0],
    toFractional: (r, out) => { out.set(r); return out; },
  };
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
