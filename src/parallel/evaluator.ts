/**
 * ParallelForceEvaluator: a ForceEvaluator that splits each force evaluation over
 * threads — the calling thread plus a piscina pool of workers, each of which
 * rebuilt the potential from its spec (so plugin potentials run in parallel with
 * no extra code).
 *
 * - The main thread keeps the neighbour list. At each rebuild it splits the rows
 *   into a fixed set of chunks balanced by neighbour counts (chunks.ts), writes
 *   atoms, lists, ghost images and chunks into SharedArrayBuffers and posts that
 *   layout to the workers once. Each step it copies the local positions and the
 *   cell into shared memory and runs phases: ghosts (ghost positions), rows (or,
 *   staged: accumulate, combine, finish), reduce (forces per owner). A phase
 *   starts by bumping a control word (Atomics.notify); every thread claims chunks
 *   (its own contiguous range first, then helping the others) until none are
 *   left; the main thread waits until all claimed chunks are done. Nothing is
 *   posted per step.
 * - Each chunk's forces, per-atom energies, energy and virial go to its own slots;
 *   each owner's sum over the chunks (in chunk order) and over its ghosts is
 *   formed per chunk of owners in the reduce phase. The chunks depend on the system
 *   only, so energies, forces and virials have identical bits for any number of
 *   workers (including 1, which runs the chunks on the calling thread with no
 *   pool). Against the plain ForceEvaluator they differ by summation order only
 *   (the same terms, grouped by chunk): ~1e-15 relative.
 * - Potentials: 'rows' (honour rowStart/rowEnd), undeclared (rows outside a chunk
 *   are emptied; checked once that empty rows carry no energy and, after each
 *   rebuild, that no force lands outside the chunk's neighbourhood), 'staged'
 *   (EAM: two phases around a per-atom reduction), 'serial' (not split).
 * - A failure in any thread fails the step with that thread's message and stack;
 *   the pool is then shut down. Always `await close()` when done.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { checkFinite, ForceEvaluator, type Evaluation, type ForceEvaluatorOptions } from '../forces.ts';
import type { System } from '../system.ts';
import type { ComputeOutput, NeighborCsr, Potential } from '../../potentials/potential.ts';
import { autoChunkCount, balancedRows, ghostsByOwner, invertTouched, touchedSets } from './chunks.ts';
import { ChunkKernel, clock } from './kernel.ts';
import type { EvaluateProfile } from './profile.ts';
import { WorkerPool } from './pool.ts';
import {
  CTRL, controlLength, publishRanges, ERROR_BYTES, MAX_CHUNKS, SCALARS, SCALAR_COMBINE_ENERGY, SCALAR_FORCE_SUM, TAG_MASK, claimRanges, STAGE_ACCUMULATE, STAGE_COMBINE,
  STAGE_FINISH, STAGE_GHOSTS, STAGE_REDUCE, STAGE_ROWS, TIMING_SLOTS, timingSlot,
  ensureSharedF64, ensureSharedI32, sharedF64, readError, recordError, type SharedCsr, type SharedLayout, type SplitMode,
} from './shared.ts';

export interface ParallelOptions extends ForceEvaluatorOptions {
  /** Threads computing forces, the calling thread included (default: available cores; 1: no pool). */
  workers?: number;
  /** Chunks per evaluation (default: from the atom count, at most 64). Results depend on it, not on `workers`. */
  chunks?: number;
  /** Run the workers on this shared pool (≥ workers − 1 threads; left open by close()). Default: a pool of its own. */
  pool?: WorkerPool;
  /** Fail instead of waiting longer than this for a worker that makes no progress, ms (default 300000). */
  stallTimeoutMs?: number;
  /**
   * How long a thread that ran out of chunks polls for the next phase (workers) or
   * for the last chunk (calling thread) before it sleeps in Atomics.wait, µs
   * (default 2000: covers the calling thread's integrator and list check between two
   * steps of 32,000 EAM atoms, ~1.5 ms). Sleeping and being woken costs tens to
   * hundreds of µs per phase; polling keeps a core busy meanwhile. 0: always sleep.
   */
  spinMicroseconds?: number;
}

/** What a worker task receives once. */
export interface WorkerInit {
  /** msgpackr-encoded potential spec. */
  spec: Uint8Array;
  /** Directory against which relative plugin paths resolve. */
  cwd: string;
  ctrl: Int32Array;
  errorText: Uint8Array;
  port: MessagePort;
  index: number;
  threads: number;
  spinMicroseconds: number;
}

export class ParallelForceEvaluator extends ForceEvaluator {
  /** Threads computing forces, the calling one included. */
  readonly workers: number;
  readonly mode: SplitMode | 'serial';
  private readonly chunkOption: number | undefined;
  private readonly stallTimeoutMs: number;
  private readonly spinMicroseconds: number;
  private readonly kernel: ChunkKernel;
  private readonly ctrl: Int32Array;
  private readonly errorText = new Uint8Array(new SharedArrayBuffer(ERROR_BYTES));
  private pool: WorkerPool | null = null;
  private readonly ownsPool: boolean;
  private ports: MessagePort[] = [];
  private tasks: Promise<unknown>[] = [];
  private started = false;
  private closed = false;
  private failure: Error | null = null;
  private layout: SharedLayout | null = null;
  private generation = 0;
  private checkedEmptyRows = false;
  private checkedDeclared = false;
  private scratch: { stamp: Int32Array; offsets: Int32Array; touched: Int32Array } = { stamp: new Int32Array(0), offsets: new Int32Array(0), touched: new Int32Array(0) };
  /**
   * Set to an object (e.g. emptyProfile()) to have each evaluate() overwrite it with
   * where its time went (profile.ts); null (default): nothing is recorded.
   */
  profile: EvaluateProfile | null = null;
  private lastMark = 0;

  constructor(potential: Potential, options: ParallelOptions = {}) {
    super(potential, options);
    const workers = options.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`parallel evaluator: workers must be a positive integer, got ${workers}`);
    if (options.chunks !== undefined && (!Number.isInteger(options.chunks) || options.chunks < 1)) {
      throw new Error(`parallel evaluator: chunks must be a positive integer, got ${options.chunks}`);
    }
    this.chunkOption = options.chunks;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 300_000;
    this.spinMicroseconds = options.spinMicroseconds ?? 2000;
    if (!(this.spinMicroseconds >= 0)) throw new Error(`parallel evaluator: spinMicroseconds must be ≥ 0, got ${options.spinMicroseconds}`);
    const p = potential.parallel;
    if (p === 'staged' && !potential.stages) throw new Error(`potential '${potential.kind}' declares parallel: 'staged' but has no 'stages'`);
    this.mode = p === 'serial' ? 'serial' : p === 'staged' ? 'staged' : p === 'rows' ? 'rows' : 'clamped';
    this.workers = this.mode === 'serial' ? 1 : workers;
    this.ctrl = new Int32Array(new SharedArrayBuffer(controlLength(this.workers) * 4));
    this.kernel = new ChunkKernel(potential);
    if (options.pool && options.pool.threads < this.workers - 1) {
      throw new Error(`parallel evaluator: ${this.workers} workers need a pool of ≥ ${this.workers - 1} threads, the pool given has ${options.pool.threads}`);
    }
    this.pool = options.pool ?? null;
    this.ownsPool = !options.pool;
  }

  /** Builds the evaluator and starts its worker pool. */
  static async create(potential: Potential, options: ParallelOptions = {}): Promise<ParallelForceEvaluator> {
    const ev = new ParallelForceEvaluator(potential, options);
    await ev.start();
    return ev;
  }

  /** Starts the pool (workers − 1 threads); each worker rebuilds the potential from its spec. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const threads = this.workers - 1;
    if (threads === 0) return;
    const spec = new Packr({ structuredClone: false }).pack(this.potential.spec());
    this.pool ??= new WorkerPool(threads);
    for (let index = 0; index < threads; index++) {
      const channel = new MessageChannel();
      this.ports.push(channel.port1);
      const init: WorkerInit = { spec, cwd: process.cwd(), ctrl: this.ctrl, errorText: this.errorText, port: channel.port2, index, threads, spinMicroseconds: this.spinMicroseconds };
      const task = this.pool.run(init, 'force', [channel.port2]);
      task.catch((err: unknown) => { this.failure ??= err as Error; });
      this.tasks.push(task);
    }
    const ready = (async () => {
      for (;;) {
        const v = Atomics.load(this.ctrl, CTRL.READY);
        if (v >= threads) return;
        if (this.failure) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const early = this.tasks.map((t) => t.then(() => { throw new Error('a force worker returned before it was asked to stop'); }));
    try {
      await Promise.race([ready, ...early]);
      if (this.failure) throw this.failure;
    } catch (err) {
      await this.shutdown();
      const e = err as Error;
      throw new Error(`parallel evaluator: a worker could not start: ${e.message}`, { cause: err });
    }
    for (const t of early) t.catch(() => {});
  }

  /** Stops the workers and the pool (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    Atomics.store(this.ctrl, CTRL.STOP, 1);
    Atomics.add(this.ctrl, CTRL.SEQ, 1);
    Atomics.notify(this.ctrl, CTRL.SEQ);
    const pool = this.pool;
    this.pool = null;
    await Promise.allSettled(this.tasks);
    for (const p of this.ports) p.close();
    this.ports = [];
    if (pool && this.ownsPool) await pool.close();
  }

  override bind(system: System): void {
    const before = this.boundTable;
    super.bind(system);
    if (before !== system.elements) this.checkedEmptyRows = false;
    this.boundTable = system.elements;
  }
  private boundTable: readonly string[] | null = null;

  override evaluate(system: System, options: { atomEnergies?: boolean } = {}): Evaluation {
    if (this.mode === 'serial') return super.evaluate(system, options);
    if (this.closed) throw new Error('parallel evaluator: evaluate() after close()');
    if (this.workers > 1 && !this.started) throw new Error('parallel evaluator: call `await evaluator.start()` (or build it with ParallelForceEvaluator.create) before evaluate()');
    if (this.failure) throw new Error(`parallel evaluator: the worker pool failed earlier: ${this.failure.message}`);
    const P = this.profile;
    if (P) {
      P.start = this.lastMark = clock();
      P.segments = {};
      P.phases = [];
    }
    this.bind(system);
    const nl = this.neighbors;
    // Without a rebuild the list's extended positions are not refreshed: the ghost
    // phase below computes them in shared memory.
    const rebuilt = nl.update(system, false);
    if (P) { P.rebuilt = rebuilt; this.mark(rebuilt ? 'neighbour build' : 'neighbour check'); }
    let check = false;
    if (rebuilt || this.layout === null || this.layout.nLocal !== system.n) {
      this.newLayout(system);
      // A potential that ignores row ranges is checked after every rebuild; one that
      // declares 'rows' or 'staged' on its first layout only (the check reads every
      // chunk's whole scratch: ~10 ms for 32,000 EAM atoms).
      check = this.mode === 'clamped' || !this.checkedDeclared;
      this.checkedDeclared = true;
      if (P) this.mark('new layout');
    }
    const layout = this.layout!;
    const n = system.n, nTotal = layout.nTotal, C = layout.nChunks;
    if (rebuilt) {
      layout.positions.set(nl.positions.subarray(0, 3 * nTotal));
      if (P) this.mark('positions to shared');
    } else {
      // Local atoms copied; ghosts = owner + image · cell rows, per chunk of owners.
      layout.positions.set(system.positions.subarray(0, 3 * n));
      layout.cell.set(system.cell.matrix);
      if (P) this.mark('positions to shared');
      this.phase(layout, STAGE_GHOSTS, false, false);
    }
    if (layout.mode === 'clamped' && !this.checkedEmptyRows) this.checkEmptyRows(layout);
    const wantE = options.atomEnergies === true;

    // Staged: densities per chunk, then per chunk of owners their reduction, combine()
    // and the copy to ghosts, then forces per chunk. Then, for every mode, each
    // owner's forces summed over the chunks and its ghosts, per chunk of owners.
    if (layout.mode === 'staged') {
      this.phase(layout, STAGE_ACCUMULATE, false, check);
      this.phase(layout, STAGE_COMBINE, wantE, false);
      this.phase(layout, STAGE_FINISH, wantE, check);
    } else {
      this.phase(layout, STAGE_ROWS, wantE, check);
    }
    this.phase(layout, STAGE_REDUCE, wantE, false);
    this.evaluations++;

    // Scalars in chunk order: combine energies first, then the force phase's.
    const s = layout.scalars;
    let energy = 0, forceSum = 0;
    if (layout.mode === 'staged') for (let c = 0; c < C; c++) energy += s[SCALARS * c + SCALAR_COMBINE_ENERGY];
    const virial = new Float64Array(6);
    for (let c = 0; c < C; c++) {
      const o = SCALARS * c;
      energy += s[o];
      for (let a = 0; a < 6; a++) virial[a] += s[o + 1 + a];
      forceSum += s[o + SCALAR_FORCE_SUM];
    }
    system.forces.set(layout.localForces.subarray(0, 3 * n));
    const atomEnergies = wantE ? layout.localEnergies.slice(0, n) : null;
    if (P) this.mark('results: chunk scalars, forces copied');
    if (!Number.isFinite(forceSum + energy)) checkFinite(system, energy);
    if (P) { this.mark('finite check'); P.end = this.lastMark; }
    return { energy, virial, atomEnergies };
  }

  /** Adds the time since the last mark to the profile's segment `name`. */
  private mark(name: string): void {
    const now = clock(), P = this.profile!;
    P.segments[name] = (P.segments[name] ?? 0) + (now - this.lastMark);
    this.lastMark = now;
  }

  /** Runs one phase over all chunks (phaseOnce), recording it in the profile if one is set. */
  private phase(layout: SharedLayout, stage: number, wantE: boolean, check: boolean): void {
    const P = this.profile;
    if (!P) return this.phaseOnce(layout, stage, wantE, check);
    const start = clock();
    this.mainDone = start;
    this.phaseOnce(layout, stage, wantE, check);
    const end = clock(), C = layout.nChunks, o = 3 * C * timingSlot(stage);
    P.phases.push({ stage, start, mainDone: this.workers === 1 ? end : this.mainDone, end, chunks: layout.chunkTimes.slice(o, o + 3 * C) });
    this.lastMark = end;
  }
  private mainDone = 0;

  /** Runs one phase over all chunks: on this thread alone, or with the workers. */
  private phaseOnce(layout: SharedLayout, stage: number, wantE: boolean, check: boolean): void {
    const ctrl = this.ctrl, C = layout.nChunks, threads = this.workers - 1;
    if (threads === 0) {
      for (let c = 0; c < C; c++) this.kernel.run(layout, c, stage, wantE, check);
      return;
    }
    // Parameters first, then the tagged chunk counter, then the phase number.
    const seq = (Atomics.load(ctrl, CTRL.SEQ) + 1) | 0, tag = seq & TAG_MASK;
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.store(ctrl, CTRL.STAGE, stage);
    Atomics.store(ctrl, CTRL.ATOM_ENERGIES, wantE ? 1 : 0);
    Atomics.store(ctrl, CTRL.CHECK, check ? 1 : 0);
    Atomics.store(ctrl, CTRL.GENERATION, layout.generation);
    publishRanges(ctrl, tag, this.workers, C);
    Atomics.store(ctrl, CTRL.SEQ, seq);
    Atomics.notify(ctrl, CTRL.SEQ);
    claimRanges(ctrl, tag, C, 0, this.workers, (c) => {
      if (Atomics.load(ctrl, CTRL.ERROR) !== 0) return;
      try {
        this.kernel.run(layout, c, stage, wantE, check);
      } catch (err) {
        recordError(ctrl, this.errorText, err, 'main thread');
      }
    });
    if (this.profile) this.mainDone = clock();
    // Wait only for chunks that workers have claimed: a worker that wakes late finds nothing to do.
    let lastDone = -1, lastProgress = performance.now();
    const spinUntil = lastProgress + this.spinMicroseconds / 1000;
    for (;;) {
      const done = Atomics.load(ctrl, CTRL.DONE);
      if (done >= C) break;
      if (performance.now() < spinUntil) continue; // poll briefly before sleeping (see spinMicroseconds)
      Atomics.wait(ctrl, CTRL.DONE, done, 1000);
      const now = performance.now();
      if (done !== lastDone) { lastDone = done; lastProgress = now; }
      else if (now - lastProgress > this.stallTimeoutMs) {
        this.fail(`no progress from the force workers for ${(this.stallTimeoutMs / 1000).toFixed(0)} s (a worker may have died)`);
      }
    }
    if (Atomics.load(ctrl, CTRL.ERROR) !== 0) this.fail(readError(ctrl, this.errorText));
  }

  /** Shuts the pool down (without waiting) and throws. */
  private fail(message: string): never {
    this.closed = true;
    const err = new Error(`parallel force evaluation failed in ${message}`);
    this.failure = err;
    void this.shutdown().catch(() => {});
    throw err;
  }

  /** The whole system as a Neighborhood (all rows), over the shared arrays. */
  private wholeSystem(layout: SharedLayout) {
    return {
      nLocal: layout.nLocal, nTotal: layout.nTotal, positions: layout.positions, species: layout.species, owner: layout.owner,
      half: layout.half, full: layout.full, listCutoff: layout.listCutoff,
    };
  }

  /**
   * A potential that ignores rowStart/rowEnd still visits rows outside its chunk
   * (with empty lists): that is only right if an atom without neighbours has no
   * energy. Checked once per element table on the whole system.
   */
  private checkEmptyRows(layout: SharedLayout): void {
    const empty: NeighborCsr = { offsets: new Int32Array(layout.nLocal + 1), neighbors: new Int32Array(0) };
    const out: ComputeOutput = {
      energy: 0, forces: new Float64Array(3 * layout.nTotal), atomEnergies: new Float64Array(layout.nTotal), virial: new Float64Array(6),
    };
    this.potential.compute({
      ...this.wholeSystem(layout), half: layout.half ? empty : null, full: layout.full ? empty : null, rowStart: 0, rowEnd: 0,
    }, out);
    const atom = out.atomEnergies!.findIndex((e) => e !== 0);
    if (out.energy !== 0 || atom >= 0) {
      throw new Error(
        `potential '${this.potential.kind}' gives energy to atoms without neighbours (${out.energy} eV over ${layout.nLocal} atoms), ` +
          `so it cannot be split by emptying rows: let compute() honour Neighborhood.rowStart/rowEnd and declare parallel: 'rows', ` +
          `or declare parallel: 'serial' (see potentials/potential.ts)`,
      );
    }
    this.checkedEmptyRows = true;
  }

  /** After a rebuild: chunks, touched sets and shared copies of the atoms and lists; posted to the workers. */
  private newLayout(system: System): void {
    const nl = this.neighbors, nLocal = nl.nLocal, nTotal = nl.nTotal;
    const lists = [nl.half, nl.full].filter((l): l is NeighborCsr => l !== null);
    const C = Math.min(MAX_CHUNKS, this.chunkOption ?? autoChunkCount(nLocal));
    const prev = this.layout;
    const rows = ensureSharedI32(prev?.rows ?? null, C + 1);
    balancedRows(nLocal, C, lists, rows);
    const sets = touchedSets(rows, C, lists, nTotal, this.scratch);
    this.scratch = sets;
    const nTouched = sets.offsets[C];
    const touchedOffsets = ensureSharedI32(prev?.touchedOffsets ?? null, C + 1);
    touchedOffsets.set(sets.offsets.subarray(0, C + 1));
    const touched = ensureSharedI32(prev?.touched ?? null, nTouched);
    touched.set(sets.touched.subarray(0, nTouched));
    const slotOffsets = ensureSharedI32(prev?.slotOffsets ?? null, nTotal + 1);
    const slots = ensureSharedI32(prev?.slots ?? null, nTouched);
    invertTouched(touched, nTouched, nTotal, slotOffsets, slots);
    const ghostOffsets = ensureSharedI32(prev?.ghostOffsets ?? null, nLocal + 1);
    const ghosts = ensureSharedI32(prev?.ghosts ?? null, nTotal - nLocal);
    ghostsByOwner(nl.owner, nLocal, nTotal, ghostOffsets, ghosts);
    const images = ensureSharedI32(prev?.images ?? null, 3 * (nTotal - nLocal));
    images.set(nl.ghostImages.subarray(0, 3 * (nTotal - nLocal)));
    const species = ensureSharedI32(prev?.species ?? null, nTotal);
    species.set(nl.species.subarray(0, nTotal));
    const owner = ensureSharedI32(prev?.owner ?? null, nTotal);
    owner.set(nl.owner.subarray(0, nTotal));
    const copyList = (src: NeighborCsr | null, old: SharedCsr | null): SharedCsr | null => {
      if (!src) return null;
      const count = src.offsets[nLocal];
      const offsets = ensureSharedI32(old?.offsets ?? null, nLocal + 1);
      offsets.set(src.offsets.subarray(0, nLocal + 1));
      const neighbors = ensureSharedI32(old?.neighbors ?? null, count);
      neighbors.set(src.neighbors.subarray(0, count));
      return { offsets, neighbors };
    };
    const mode = this.mode as SplitMode;
    const width = mode === 'staged' ? this.potential.stages!.width : 0;
    this.generation++;
    const layout: SharedLayout = {
      generation: this.generation,
      elements: [...system.elements],
      mode,
      width,
      nLocal,
      nTotal,
      listCutoff: nl.listCutoff,
      nChunks: C,
      positions: ensureSharedF64(prev?.positions ?? null, 3 * nTotal),
      species,
      owner,
      half: copyList(nl.half, prev?.half ?? null),
      full: copyList(nl.full, prev?.full ?? null),
      rows,
      touchedOffsets,
      touched,
      forces: ensureSharedF64(prev?.forces ?? null, 3 * nTouched),
      atomEnergies: ensureSharedF64(prev?.atomEnergies ?? null, nTouched),
      values: ensureSharedF64(prev?.values ?? null, width * nTouched),
      fields: ensureSharedF64(prev?.fields ?? null, width * nTotal),
      scalars: ensureSharedF64(prev?.scalars ?? null, SCALARS * C),
      chunkTimes: ensureSharedF64(prev?.chunkTimes ?? null, 3 * TIMING_SLOTS * C),
      images,
      cell: prev?.cell ?? sharedF64(9),
      slotOffsets,
      slots,
      ghostOffsets,
      ghosts,
      reduced: ensureSharedF64(prev?.reduced ?? null, width * nLocal),
      combineEnergies: ensureSharedF64(prev?.combineEnergies ?? null, nLocal),
      localForces: ensureSharedF64(prev?.localForces ?? null, 3 * nLocal),
      localEnergies: ensureSharedF64(prev?.localEnergies ?? null, nLocal),
    };
    this.layout = layout;
    for (const port of this.ports) port.postMessage(layout);
  }
}
