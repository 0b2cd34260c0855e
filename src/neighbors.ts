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
 * The build's passes run over atoms in chunks of this many: a list is built rarely,
 * and a function called once with one long loop is compiled on stack replacement
 * first and again as a whole at the next build (which then runs unoptimised code
 * meanwhile); called in chunks, it is compiled once, during the first build.
 */
const CHUNK = 2048;
/** At most this many bins per period (or per open axis). */
const MAX_BINS_PER_PERIOD = 1000;

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
  /** Bin indices (3 per atom) of the local atoms. */
  private localBins: Int32Array = new Int32Array(0);
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
   * if it rebuilt. With refresh false, an update that does not rebuild leaves
   * `positions` untouched: the caller computes them (local atoms = system
   * positions, a ghost = its owner + ghostImages · cell rows), as the parallel
   * evaluator does in its workers.
   */
  update(system: System, refresh = true): boolean {
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
    if (refresh) this.refreshCoordinates(system);
    return false;
  }

  /** Integer image (3 per ghost, index g − nLocal) of each ghost since the last build: x_g = x_owner + n_a·a + n_b·b + n_c·c. */
  get ghostImages(): Int32Array {
    return this.image;
  }

  private movedTooFar(system: System): boolean {
    const maxDisp2 = maxDisplacement2(system.positions, this.referencePositions);
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

    // Bins per axis (fractional origin lo, width binWidth, count nb). Along a periodic
    // axis: m whole bins per period, padded by k bins on each side that hold the ghosts
    // within the list cutoff of the faces, so that an image n periods away lies exactly
    // n·m bins away. The half-list stencil relies on that translation invariance: of the
    // two copies (i, j + n) and (j, i − n) of a pair across a boundary, exactly one has
    // its partner in the upper half of the stencil. Along an open axis: bins over the
    // atoms' extent. Bins are at least rl/perCutoff wide (perpendicular) wherever the
    // cell allows; `reach` counts the bins the stencil must span either way.
    const lo = [0, 0, 0], binWidth = [1, 1, 1], width = [0, 0, 0];
    const nb = [1, 1, 1], perPeriod = [0, 0, 0], binMin = [0, 0, 0], binMax = [0, 0, 0], reach = [0, 0, 0];
    for (let a = 0; a < 3; a++) {
      const h = frame.heights[a];
      const perCutoff = a === 2 && frame.orthogonal ? STENCIL * FINE_AXIS_FACTOR : STENCIL;
      if (frame.periodic[a]) {
        width[a] = rl / h;
        if (width[a] > MAX_IMAGES_PER_AXIS) {
          throw new Error(
            `neighbour list: cutoff ${rl.toFixed(3)} Å (with skin) spans more than ${MAX_IMAGES_PER_AXIS} periodic images ` +
              `along cell axis ${'abc'[a]} (cell height ${h.toFixed(3)} Å); use a larger cell`,
          );
        }
        const m = Math.max(1, Math.min(Math.floor((h * perCutoff) / rl), MAX_BINS_PER_PERIOD));
        const k = Math.ceil(width[a] * m);
        perPeriod[a] = m;
        nb[a] = m + 2 * k;
        lo[a] = -k / m;
        binWidth[a] = 1 / m;
        binMin[a] = k;
        binMax[a] = k + m - 1;
      } else {
        let mn = Infinity, mx = -Infinity;
        for (let i = 0; i < n; i++) {
          const v = s[3 * i + a];
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
        if (n === 0) { mn = 0; mx = 0; }
        nb[a] = Math.max(1, Math.min(Math.floor(((mx - mn) * h * perCutoff) / rl), MAX_BINS_PER_PERIOD));
        lo[a] = mn;
        binWidth[a] = (mx - mn) / nb[a] || 1;
        binMin[a] = 0;
        binMax[a] = nb[a] - 1;
      }
      reach[a] = Math.max(1, Math.ceil(rl / (binWidth[a] * h)));
    }

    // Ghosts: count, size the arrays (kept across builds), bin the local atoms, then
    // emit the ghosts with their owner's bin shifted by whole periods.
    let count = 0;
    for (let i0 = 0; i0 < n; i0 += CHUNK) {
      count += countGhosts(i0, Math.min(n, i0 + CHUNK), s, frame.periodic[0], frame.periodic[1], frame.periodic[2], width[0], width[1], width[2]);
    }
    const nTotal = n + count;
    this.nTotal = nTotal;
    this.positions = ensureF64(this.positions, 3 * nTotal);
    this.species = ensureI32(this.species, nTotal);
    this.owner = ensureI32(this.owner, nTotal);
    this.image = ensureI32(this.image, 3 * count);
    this.binOf = ensureI32(this.binOf, nTotal);
    this.binCoords = ensureF64(this.binCoords, 3 * n);
    this.localBins = ensureI32(this.localBins, 3 * n);
    this.positions.set(system.positions);
    for (let i0 = 0; i0 < n; i0 += CHUNK) {
      binLocalAtoms(i0, Math.min(n, i0 + CHUNK), s, lo, binWidth, binMin, binMax, nb, this.binCoords, this.localBins, this.binOf, this.owner, this.species, system.species);
    }
    const h = cell.matrix;
    for (let i0 = 0, g = n; i0 < n; i0 += CHUNK) {
      g = emitGhosts(
        i0, Math.min(n, i0 + CHUNK), g, n, s, system.positions, h, frame.periodic[0], frame.periodic[1], frame.periodic[2], width[0], width[1], width[2],
        perPeriod, nb, this.localBins, this.image, this.owner, this.species, this.positions, this.binOf,
      );
    }
    for (let a = 0; a < 3; a++) this.maxImage[a] = maxAbsImage(this.image, count, a);

    // Linked cells over the extended atoms (counting sort by bin).
    const nBins = nb[0] * nb[1] * nb[2];
    this.binStart = ensureI32(this.binStart, nBins + 1);
    this.binFill = ensureI32(this.binFill, nBins);
    this.binAtoms = ensureI32(this.binAtoms, nTotal);
    this.sortedPositions = ensureF64(this.sortedPositions, 3 * nTotal);
    this.sortedKeys = ensureI32(this.sortedKeys, nTotal);
    countBins(nTotal, nBins, this.binOf, this.binStart, this.binFill);
    for (let k0 = 0; k0 < nTotal; k0 += CHUNK) sortByBin(k0, Math.min(nTotal, k0 + CHUNK), n, this.binOf, this.binStart, this.binFill, this.binAtoms, this.positions, this.sortedPositions, this.sortedKeys, this.owner, this.image);

    // Perpendicular bin widths (Å) of an orthogonal frame, where bins are boxes and the
    // search can be trimmed to the atom's exact distance from each bin row.
    const g: FillGeometry = {
      n0: nb[0], n1: nb[1], n2: nb[2], r0: reach[0], r1: reach[1], r2: reach[2],
      trim: frame.orthogonal,
      w0: binWidth[0] * frame.heights[0], w1: binWidth[1] * frame.heights[1], w2: binWidth[2] * frame.heights[2],
    };
    for (const csr of [this.half, this.full]) {
      if (!csr) continue;
      if (csr.offsets.length < n + 1) csr.offsets = new Int32Array(n + 1);
      csr.offsets[0] = 0;
      for (let i0 = 0; i0 < n; i0 += CHUNK) {
        csr.neighbors = fillList(
          csr, csr === this.half, i0, Math.min(n, i0 + CHUNK), rl * rl, g,
          this.binStart, this.binAtoms, this.binCoords, this.localBins, this.sortedPositions, this.sortedKeys, this.positions,
        );
      }
    }
    this.referencePositions = ensureF64(this.referencePositions, 3 * n);
    this.referencePositions.set(system.positions);
    this.referenceCell.set(cell.matrix);
    this.dirty = false;
    this.builds++;
    this.ago = 0;
  }
}

/*
 * The build's passes, as module functions with typed-array arguments: each hot loop
 * is compiled on its own (a list is built rarely, so a large function is compiled on
 * stack replacement in its first loop and deoptimised at the next one).
 */

/** Number of ghost images: along a periodic axis the image n is kept when −width ≤ s + n < 1 + width. */
function countGhosts(i0: number, i1: number, s: Float64Array, p0: boolean, p1: boolean, p2: boolean, w0: number, w1: number, w2: number): number {
  let count = 0;
  for (let i = i0; i < i1; i++) {
    const sa = s[3 * i], sb = s[3 * i + 1], sc = s[3 * i + 2];
    const na = p0 ? imageCount(sa, w0) : 1, nb = p1 ? imageCount(sb, w1) : 1, nc = p2 ? imageCount(sc, w2) : 1;
    count += na * nb * nc - 1;
  }
  return count;
}

/** Number of integers n with −w ≤ s + n < 1 + w. */
function imageCount(s: number, w: number): number {
  let c = 0;
  for (let k = Math.ceil(-w - s) - 1, hi = Math.ceil(1 + w - s); k <= hi; k++) {
    const f = s + k;
    if (f >= -w && f < 1 + w) c++;
  }
  return c;
}

/** Continuous bin coordinates, bins (clamped into the cell's own bins) and identity entries of the local atoms. */
function binLocalAtoms(
  i0: number, i1: number, s: Float64Array, lo: number[], binWidth: number[], binMin: number[], binMax: number[], nb: number[],
  u: Float64Array, localBins: Int32Array, binOf: Int32Array, owner: Int32Array, spc: Int32Array, species: Int32Array,
): void {
  const lo0 = lo[0], lo1 = lo[1], lo2 = lo[2];
  const iw0 = 1 / binWidth[0], iw1 = 1 / binWidth[1], iw2 = 1 / binWidth[2];
  const min0 = binMin[0], min1 = binMin[1], min2 = binMin[2], max0 = binMax[0], max1 = binMax[1], max2 = binMax[2];
  const n1 = nb[1], n2 = nb[2];
  for (let i = i0; i < i1; i++) {
    const u0 = (s[3 * i] - lo0) * iw0, u1 = (s[3 * i + 1] - lo1) * iw1, u2 = (s[3 * i + 2] - lo2) * iw2;
    u[3 * i] = u0; u[3 * i + 1] = u1; u[3 * i + 2] = u2;
    let b0 = Math.floor(u0), b1 = Math.floor(u1), b2 = Math.floor(u2);
    if (b0 < min0) b0 = min0; else if (b0 > max0) b0 = max0;
    if (b1 < min1) b1 = min1; else if (b1 > max1) b1 = max1;
    if (b2 < min2) b2 = min2; else if (b2 > max2) b2 = max2;
    localBins[3 * i] = b0; localBins[3 * i + 1] = b1; localBins[3 * i + 2] = b2;
    binOf[i] = (b0 * n1 + b1) * n2 + b2;
    owner[i] = i;
    spc[i] = species[i];
  }
}

/**
 * Writes the ghosts after the local atoms: image, owner, species, coordinates and bin
 * (the owner's bin moved n·m bins along each axis; clamped into the grid for the
 * rare image at the edge of the padded region whose rounding disagrees — such a ghost
 * lies a list cutoff from every local atom). Records the largest |n| per axis.
 */
function emitGhosts(
  i0: number, i1: number, gStart: number, n: number, s: Float64Array, x: Float64Array, h: Float64Array, p0: boolean, p1: boolean, p2: boolean, w0: number, w1: number, w2: number,
  perPeriod: number[], nb: number[], localBins: Int32Array, image: Int32Array, owner: Int32Array, spc: Int32Array, ext: Float64Array,
  binOf: Int32Array,
): number {
  const h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7], h8 = h[8];
  const m0 = perPeriod[0], m1 = perPeriod[1], m2 = perPeriod[2];
  const n0 = nb[0], n1 = nb[1], n2 = nb[2];
  let g = gStart;
  for (let i = i0; i < i1; i++) {
    const sa = s[3 * i], sb = s[3 * i + 1], sc = s[3 * i + 2];
    const aLo = p0 ? Math.ceil(-w0 - sa) - 1 : 0, aHi = p0 ? Math.ceil(1 + w0 - sa) : 0;
    const bLo = p1 ? Math.ceil(-w1 - sb) - 1 : 0, bHi = p1 ? Math.ceil(1 + w1 - sb) : 0;
    const cLo = p2 ? Math.ceil(-w2 - sc) - 1 : 0, cHi = p2 ? Math.ceil(1 + w2 - sc) : 0;
    const xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2], sp = spc[i];
    const ib0 = localBins[3 * i], ib1 = localBins[3 * i + 1], ib2 = localBins[3 * i + 2];
    for (let a = aLo; a <= aHi; a++) {
      const fa = sa + a;
      if (p0 && (fa < -w0 || fa >= 1 + w0)) continue;
      let c0 = ib0 + a * m0;
      if (c0 < 0) c0 = 0; else if (c0 >= n0) c0 = n0 - 1;
      for (let b = bLo; b <= bHi; b++) {
        const fb = sb + b;
        if (p1 && (fb < -w1 || fb >= 1 + w1)) continue;
        let c1 = ib1 + b * m1;
        if (c1 < 0) c1 = 0; else if (c1 >= n1) c1 = n1 - 1;
        for (let c = cLo; c <= cHi; c++) {
          if (a === 0 && b === 0 && c === 0) continue;
          const fc = sc + c;
          if (p2 && (fc < -w2 || fc >= 1 + w2)) continue;
          let c2 = ib2 + c * m2;
          if (c2 < 0) c2 = 0; else if (c2 >= n2) c2 = n2 - 1;
          const q = 3 * (g - n);
          image[q] = a; image[q + 1] = b; image[q + 2] = c;
          owner[g] = i;
          spc[g] = sp;
          ext[3 * g] = xi + a * h0 + b * h3 + c * h6;
          ext[3 * g + 1] = yi + a * h1 + b * h4 + c * h7;
          ext[3 * g + 2] = zi + a * h2 + b * h5 + c * h8;
          binOf[g] = (c0 * n1 + c1) * n2 + c2;
          g++;
        }
      }
    }
  }
  return g;
}

/** Largest |n| along one axis over the ghosts' image vectors. */
function maxAbsImage(image: Int32Array, count: number, axis: number): number {
  let m = 0;
  for (let q = axis; q < 3 * count; q += 3) {
    const v = image[q];
    if (v > m) m = v; else if (-v > m) m = -v;
  }
  return m;
}

/** Largest squared displacement between two coordinate arrays (3n). */
function maxDisplacement2(x: Float64Array, x0: Float64Array): number {
  const n3 = x.length;
  let max = 0;
  for (let k = 0; k < n3; k += 3) {
    const dx = x[k] - x0[k], dy = x[k + 1] - x0[k + 1], dz = x[k + 2] - x0[k + 2];
    const d2 = dx * dx + dy * dy + dz * dz;
    if (d2 > max) max = d2;
  }
  return max;
}

/** Bin populations as CSR starts (binStart[b]..binStart[b+1]); resets the fill counters. */
function countBins(nTotal: number, nBins: number, binOf: Int32Array, binStart: Int32Array, fill: Int32Array): void {
  binStart.fill(0, 0, nBins + 1);
  fill.fill(0, 0, nBins);
  for (let k0 = 0; k0 < nTotal; k0 += CHUNK) histogram(k0, Math.min(nTotal, k0 + CHUNK), binOf, binStart);
  prefixSum(nBins, binStart);
}

function histogram(k0: number, k1: number, binOf: Int32Array, binStart: Int32Array): void {
  for (let k = k0; k < k1; k++) binStart[binOf[k] + 1]++;
}

function prefixSum(nBins: number, binStart: Int32Array): void {
  for (let b = 0; b < nBins; b++) binStart[b + 1] += binStart[b];
}

/**
 * Counting sort of the extended atoms by bin; also copies their coordinates and
 * half-list keys into bin order so the candidate loops read contiguous memory.
 * Half-list key: within one bin keep j for i iff key(j) > 2i, where key = 2·owner(j),
 * plus 1 for a ghost image whose first non-zero image index is positive (so of the
 * two copies (i, j + n) and (j, i − n) of a pair exactly one is kept, i = j included).
 */
function sortByBin(
  k0: number, k1: number, n: number, binOf: Int32Array, binStart: Int32Array, fill: Int32Array, binAtoms: Int32Array,
  ext: Float64Array, sx: Float64Array, keys: Int32Array, owner: Int32Array, image: Int32Array,
): void {
  for (let k = k0; k < k1; k++) {
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

/** Bin grid and stencil of one build, as fillList reads it. */
interface FillGeometry {
  n0: number; n1: number; n2: number;
  /** Bins the stencil spans either way along each axis. */
  r0: number; r1: number; r2: number;
  /** Orthogonal frame: skip bin rows beyond the cutoff and trim each row to the atom's reach. */
  trim: boolean;
  /** Perpendicular bin widths, Å. */
  w0: number; w1: number; w2: number;
}

/**
 * Fills a CSR list by scanning, for each local atom, the rows of bins (offsets along
 * the first two axes within the stencil) and along each row the contiguous run of
 * bins that can hold a point within the list cutoff. In an orthogonal frame (trim)
 * rows farther than the cutoff are skipped and each run is trimmed to the atom's
 * exact reach; otherwise the run spans the stencil, enough for any skew.
 * Half list (LAMMPS's half/bin/newton): only the upper half of the stencil — rows
 * after the atom's own row, and in its own row the bins after its own — plus, in its
 * own bin, the entries whose key exceeds 2i. Fills rows i0 ≤ i < i1 (offsets[i0] set);
 * returns the (possibly grown) neighbour array.
 */
function fillList(
  csr: NeighborCsr, half: boolean, i0: number, i1: number, listCutoff2: number, g: FillGeometry,
  binStart: Int32Array, binAtoms: Int32Array, u: Float64Array, localBins: Int32Array, sx: Float64Array, keys: Int32Array, ext: Float64Array,
): Int32Array {
  const offsets = csr.offsets;
  let list = csr.neighbors;
  let count = offsets[i0];
  const rl2 = +listCutoff2; // unboxed once, outside the loops
  const n0 = g.n0, n1 = g.n1, n2 = g.n2, r0 = g.r0, r1 = g.r1, r2 = g.r2;
  const trim = g.trim, w0 = g.w0, w1 = g.w1, w2 = g.w2;
  for (let i = i0; i < i1; i++) {
    const u0 = u[3 * i], u1 = u[3 * i + 1], u2 = u[3 * i + 2];
    const b0 = localBins[3 * i], b1 = localBins[3 * i + 1], b2 = localBins[3 * i + 2];
    const xi = ext[3 * i], yi = ext[3 * i + 1], zi = ext[3 * i + 2];
    const key = 2 * i;
    const pFirst = half ? b0 : b0 - r0 < 0 ? 0 : b0 - r0, pLast = b0 + r0 >= n0 ? n0 - 1 : b0 + r0;
    for (let p = pFirst; p <= pLast; p++) {
      let rest0 = rl2;
      if (trim) {
        const gap = p > b0 ? (p - u0) * w0 : p < b0 ? (u0 - p - 1) * w0 : 0;
        if (gap > 0) rest0 -= gap * gap;
        if (rest0 <= 0) continue;
      }
      const qFirst = half && p === b0 ? b1 : b1 - r1 < 0 ? 0 : b1 - r1, qLast = b1 + r1 >= n1 ? n1 - 1 : b1 + r1;
      for (let q = qFirst; q <= qLast; q++) {
        let lo2: number, hi2: number;
        if (trim) {
          const gap = q > b1 ? (q - u1) * w1 : q < b1 ? (u1 - q - 1) * w1 : 0;
          const rest = gap > 0 ? rest0 - gap * gap : rest0;
          if (rest <= 0) continue;
          const along = Math.sqrt(rest) / w2;
          lo2 = Math.floor(u2 - along);
          hi2 = Math.floor(u2 + along);
        } else {
          lo2 = b2 - r2;
          hi2 = b2 + r2;
        }
        if (lo2 < 0) lo2 = 0;
        if (hi2 >= n2) hi2 = n2 - 1;
        const row = (p * n1 + q) * n2;
        let start = binStart[row + lo2];
        const end = binStart[row + hi2 + 1];
        if (half && p === b0 && q === b1) {
          // Own row: the own bin by key, then the bins after it.
          start = binStart[row + b2];
          const ownEnd = binStart[row + b2 + 1];
          if (count + (end > ownEnd ? end : ownEnd) - start > list.length) list = grow(list, count + (end > ownEnd ? end : ownEnd) - start);
          for (let t = start; t < ownEnd; t++) {
            if (keys[t] <= key) continue;
            const dx = sx[3 * t] - xi, dy = sx[3 * t + 1] - yi, dz = sx[3 * t + 2] - zi;
            if (dx * dx + dy * dy + dz * dz < rl2) list[count++] = binAtoms[t];
          }
          start = ownEnd;
        } else if (count + end - start > list.length) {
          list = grow(list, count + end - start);
        }
        if (half) {
          // Branch-free append (the test is unpredictable): write, then advance by 0 or 1.
          for (let t = start; t < end; t++) {
            const dx = sx[3 * t] - xi, dy = sx[3 * t + 1] - yi, dz = sx[3 * t + 2] - zi;
            list[count] = binAtoms[t];
            count += +(dx * dx + dy * dy + dz * dz < rl2);
          }
        } else {
          // r2 > 0 excludes i itself (entries never coincide).
          for (let t = start; t < end; t++) {
            const dx = sx[3 * t] - xi, dy = sx[3 * t + 1] - yi, dz = sx[3 * t + 2] - zi;
            const r2 = dx * dx + dy * dy + dz * dz;
            if (r2 < rl2 && binAtoms[t] !== i) list[count++] = binAtoms[t];
          }
        }
      }
    }
    offsets[i + 1] = count;
  }
  return list;
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
