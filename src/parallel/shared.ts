/**
 * Shared memory of a parallel force evaluation: the control words threads
 * synchronise on, and the layout of one neighbour-list generation (extended atoms,
 * lists, chunks, per-chunk results), all typed arrays over SharedArrayBuffers.
 * A layout is posted to the workers once per neighbour-list rebuild (posting
 * shares the buffers, it copies nothing); per step only control words change.
 */

/** Indices into the control Int32Array. */
export const CTRL = {
  /** Phase sequence number: bumped by the main thread to start a phase. */
  SEQ: 0,
  /**
   * Next chunk to claim with claimChunks, tagged with its phase: (SEQ & TAG_MASK) << 16 | chunk.
   * Claimed by compareExchange, so a thread that wakes late (after its phase
   * ended) can never take a chunk of a later phase with stale parameters.
   * (The force evaluator claims from per-thread ranges instead: RANGES, claimRanges.)
   */
  NEXT: 1,
  /** Chunks finished in the current phase. */
  DONE: 2,
  /** What the phase computes: STAGE_ROWS, STAGE_ACCUMULATE or STAGE_FINISH. */
  STAGE: 3,
  /** 1 when per-atom energies are wanted. */
  ATOM_ENERGIES: 4,
  /** Layout generation the phase uses (workers fetch a newer layout from their port). */
  GENERATION: 5,
  /** Set (to 1) by a thread that failed; its message is in the error buffer. */
  ERROR: 6,
  /** Set to 1 to make the workers return. */
  STOP: 7,
  /** Workers that have loaded the potential and wait for phases. */
  READY: 8,
  /** 1 when this phase checks that no force lands outside a chunk's touched set. */
  CHECK: 9,
  /** Bytes of the error message. */
  ERROR_LENGTH: 10,
  LENGTH: 16,
  /**
   * From here (controlLength), one claim counter per thread for claimRanges, RANGE_STRIDE words apart (own cache
   * lines): the next chunk of thread t's range, tagged with its phase:
   * (SEQ & TAG_MASK) << 16 | chunk. Claimed by compareExchange, so a thread that
   * wakes late (after its phase ended) can never take a chunk of a later phase
   * with stale parameters.
   */
  RANGES: 16,
} as const;

export const RANGE_STRIDE = 16;

/** Length of the control array for `threads` threads (the calling one included). */
export function controlLength(threads: number): number {
  return CTRL.RANGES + RANGE_STRIDE * threads;
}

/** First chunk of thread t's range: the chunks are split into `threads` contiguous ranges. */
export function rangeStart(t: number, threads: number, nChunks: number): number {
  return Math.floor((t * nChunks) / threads);
}

/** Starts the claim counters of a phase (before SEQ is bumped). */
export function publishRanges(ctrl: Int32Array, tag: number, threads: number, nChunks: number): void {
  for (let t = 0; t < threads; t++) Atomics.store(ctrl, CTRL.RANGES + RANGE_STRIDE * t, (tag << 16) | rangeStart(t, threads, nChunks));
}

export const TAG_MASK = 0x7fff;
/** Most chunks a phase can have (the low 16 bits of NEXT). */
export const MAX_CHUNKS = 0xffff;

/**
 * Claims chunks of the phase tagged `tag` until none are left, running each;
 * every claimed chunk counts as done (even if it failed), and the thread that
 * completes the phase wakes the main thread.
 */
export function claimChunks(ctrl: Int32Array, tag: number, nChunks: number, work: (chunk: number) => void): void {
  for (;;) {
    const cur = Atomics.load(ctrl, CTRL.NEXT);
    if (cur >>> 16 !== tag) return;
    const c = cur & 0xffff;
    if (c >= nChunks) return;
    if (Atomics.compareExchange(ctrl, CTRL.NEXT, cur, cur + 1) !== cur) continue;
    try {
      work(c);
    } finally {
      if (Atomics.add(ctrl, CTRL.DONE, 1) + 1 === nChunks) Atomics.notify(ctrl, CTRL.DONE);
    }
  }
}

/**
 * As claimChunks, from per-thread ranges (publishRanges): thread t first works through its own contiguous range of chunks in order (so
 * consecutive chunks, which share atoms, run on the same core and find them in
 * its cache), then helps with the ranges of threads t+1, t+2, … from their
 * fronts. Every claimed chunk counts as done (even if it failed), and the thread
 * that completes the phase wakes the main thread.
 */
export function claimRanges(ctrl: Int32Array, tag: number, nChunks: number, thread: number, threads: number, work: (chunk: number) => void): void {
  for (let k = 0; k < threads; k++) {
    const r = (thread + k) % threads, index = CTRL.RANGES + RANGE_STRIDE * r, end = rangeStart(r + 1, threads, nChunks);
    for (;;) {
      const cur = Atomics.load(ctrl, index);
      if (cur >>> 16 !== tag) return;
      const c = cur & 0xffff;
      if (c >= end) break;
      if (Atomics.compareExchange(ctrl, index, cur, cur + 1) !== cur) continue;
      try {
        work(c);
      } finally {
        if (Atomics.add(ctrl, CTRL.DONE, 1) + 1 === nChunks) Atomics.notify(ctrl, CTRL.DONE);
      }
    }
  }
}

/**
 * Polls ctrl[index] for up to `microseconds` while it still equals `value`;
 * returns the value seen last. Waking a thread blocked in Atomics.wait costs a
 * futex wake-up and a reschedule (tens to hundreds of µs on a VM), while the next
 * phase of a step usually starts within microseconds to a millisecond: a short
 * poll first lets a thread that is about to be needed skip the sleep.
 */
export function spinWhileEqual(ctrl: Int32Array, index: number, value: number, microseconds: number): number {
  let v = Atomics.load(ctrl, index);
  if (v !== value || microseconds <= 0) return v;
  const deadline = performance.now() + microseconds / 1000;
  for (let k = 1; ; k++) {
    v = Atomics.load(ctrl, index);
    if (v !== value) return v;
    if ((k & 63) === 0 && performance.now() > deadline) return v;
  }
}

export const STAGE_ROWS = 0;
export const STAGE_ACCUMULATE = 1;
export const STAGE_FINISH = 2;
/**
 * Per chunk of owners (the chunk's rows as local atoms): sum the stage values of
 * each owner and its ghosts over the chunks in chunk order, run the potential's
 * combine() on those rows and copy the owners' fields to their ghosts.
 */
export const STAGE_COMBINE = 3;
/**
 * Per chunk of owners: forces (and per-atom energies) of each owner = its entries
 * in the chunks' results, summed in chunk order, plus its ghosts' (in ghost order).
 */
export const STAGE_REDUCE = 4;
/** Per chunk of owners: positions of their ghosts = owner's + image · cell rows (steps without a rebuild). */
export const STAGE_GHOSTS = 5;

/** Blocks of nChunks in SharedLayout.chunkTimes, and which one a stage's chunk timings go to. */
export const TIMING_SLOTS = 5;
export function timingSlot(stage: number): number {
  return stage === STAGE_FINISH ? 1 : stage === STAGE_COMBINE ? 2 : stage === STAGE_REDUCE ? 3 : stage === STAGE_GHOSTS ? 4 : 0;
}

/**
 * Per-chunk scalars: energy of the force phase (STAGE_ROWS / STAGE_FINISH), its
 * virial (Voigt, 6), the energy of STAGE_COMBINE, the sum of the force components
 * reduced in STAGE_REDUCE (finite iff every one is). 16 per chunk (128 bytes):
 * chunks run by different threads never write the same cache line.
 */
export const SCALARS = 16;
export const SCALAR_COMBINE_ENERGY = 7;
export const SCALAR_FORCE_SUM = 8;

/** How the rows are split: potentials honouring rowStart/rowEnd, ones that ignore them (lists clamped), staged ones. */
export type SplitMode = 'rows' | 'clamped' | 'staged';

export interface SharedCsr {
  offsets: Int32Array;
  neighbors: Int32Array;
}

/** One neighbour-list generation as every thread sees it. */
export interface SharedLayout {
  generation: number;
  elements: string[];
  mode: SplitMode;
  width: number;
  nLocal: number;
  nTotal: number;
  listCutoff: number;
  nChunks: number;
  positions: Float64Array;
  species: Int32Array;
  owner: Int32Array;
  half: SharedCsr | null;
  full: SharedCsr | null;
  /** Row boundaries of the chunks (nChunks+1). */
  rows: Int32Array;
  /** Touched sets in CSR form (chunk → its rows, then the other atoms of their lists in list order). */
  touchedOffsets: Int32Array;
  touched: Int32Array;
  /** Inverse of the touched sets: for extended atom k, its slots t (ascending, i.e. in chunk order) in slots[slotOffsets[k] .. slotOffsets[k+1]). */
  slotOffsets: Int32Array;
  slots: Int32Array;
  /** Image of each ghost (3 per ghost, index g − nLocal; NeighborList.ghostImages). */
  images: Int32Array;
  /** Cell matrix (row vectors) of the current step, written by the main thread before STAGE_GHOSTS. */
  cell: Float64Array;
  /** Ghosts of each local atom (ascending), CSR: ghosts[ghostOffsets[i] .. ghostOffsets[i+1]). */
  ghostOffsets: Int32Array;
  ghosts: Int32Array;
  /** Per-chunk results over the touched sets: 3 force components, 1 atom energy, `width` stage values per entry. */
  forces: Float64Array;
  atomEnergies: Float64Array;
  values: Float64Array;
  /** Stage fields of every extended atom (width per atom), written in STAGE_COMBINE. */
  fields: Float64Array;
  /** Stage values of the local atoms summed over chunks and ghosts (width per atom), written in STAGE_COMBINE. */
  reduced: Float64Array;
  /** Per-atom energies of the local atoms from combine() (STAGE_COMBINE, when asked for). */
  combineEnergies: Float64Array;
  /** Results of STAGE_REDUCE: forces (3 per local atom) and per-atom energies (when asked for). */
  localForces: Float64Array;
  localEnergies: Float64Array;
  /** SCALARS per chunk. */
  scalars: Float64Array;
  /**
   * Timing of the last run of each chunk, 3 per chunk (thread, start, end; ms since
   * the epoch), in TIMING_SLOTS blocks of nChunks by timingSlot(stage). Read by the profile
   * (ParallelForceEvaluator.profile).
   */
  chunkTimes: Float64Array;
}

export function sharedF64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, length) * 8));
}

export function sharedI32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(1, length) * 4));
}

/** A shared array of at least `length` entries: `current` if it is large enough, else a new one with headroom. */
export function ensureSharedF64(current: Float64Array | null, length: number): Float64Array {
  return current && current.length >= length ? current : sharedF64(Math.ceil(length * 1.25) + 16);
}

export function ensureSharedI32(current: Int32Array | null, length: number): Int32Array {
  return current && current.length >= length ? current : sharedI32(Math.ceil(length * 1.25) + 16);
}

/** Bytes reserved for an error message. */
export const ERROR_BYTES = 1 << 16;

/** Records the first error of a phase (message and stack) in shared memory. */
export function recordError(ctrl: Int32Array, text: Uint8Array, err: unknown, where: string): void {
  if (Atomics.compareExchange(ctrl, CTRL.ERROR, 0, 1) !== 0) return;
  const e = err as Error;
  const message = `${where}: ${e?.stack ?? String(err)}`;
  const bytes = new TextEncoder().encode(message).subarray(0, ERROR_BYTES);
  text.set(bytes);
  Atomics.store(ctrl, CTRL.ERROR_LENGTH, bytes.length);
}

/**
 * The recorded error, for a thread that saw the ERROR flag: recordError sets the flag
 * before it writes the text, so wait briefly for the text.
 */
export function awaitError(ctrl: Int32Array, text: Uint8Array): string {
  for (let k = 0; k < 200 && Atomics.load(ctrl, CTRL.ERROR_LENGTH) === 0; k++) Atomics.wait(ctrl, CTRL.ERROR_LENGTH, 0, 10);
  return readError(ctrl, text);
}

export function readError(ctrl: Int32Array, text: Uint8Array): string {
  const n = Atomics.load(ctrl, CTRL.ERROR_LENGTH);
  return new TextDecoder().decode(text.slice(0, n));
}
