/**
 * The LATTE training loss over worker threads: the structures of a batch are
 * split over the calling thread and `workers − 1` worker threads. The structures are
 * prepared ones (the general loss, LossEvaluator) or frozen ones (frozen-descriptor
 * training, FrozenLossEvaluator; their arrays in shared memory, see shareFrozen).
 *
 * - Each worker receives the prepared structures (training and validation) and the
 *   model (file bytes: configuration, standardisation) once, at start.
 * - Per batch the calling thread writes θ, the batch's structure indices and its
 *   size into SharedArrayBuffers and starts a phase by bumping a control word
 *   (Atomics.notify); every thread claims structures with an atomic counter (tagged
 *   with the phase, src/parallel/shared.ts claimChunks), largest first. Each
 *   structure's loss terms and whole gradient go to that structure's own slot
 *   (LossEvaluator.structure); the calling thread waits (Atomics.wait) until all are
 *   done and adds the slots in batch order (addStructure) — the same arithmetic as
 *   the serial LossEvaluator.batch, so training gives identical bits for any number
 *   of threads. Nothing is posted per batch.
 * - Everything is synchronous (trainModel stays synchronous): workers that are
 *   still loading simply take no structures yet.
 * - An error in a worker (or its start) is recorded in shared memory with its stack
 *   and the structure's name; the calling thread throws it at the end of the
 *   phase and stops the workers. A worker that makes no progress for
 *   `stallTimeoutMs` fails the batch. Always close() (trainModel does).
 */
import { Worker } from 'node:worker_threads';
import { CTRL, ERROR_BYTES, TAG_MASK, awaitError, claimChunks, recordError, sharedF64, sharedI32, spinWhileEqual } from '../../src/parallel/shared.ts';
import { encodeModel } from './io.ts';
import type { LatteModel } from './model.ts';
import { LossEvaluator, TERMS, addStructure, type BatchResult, type ForceGradientScheme, type LossWeights, type TrainingStructure } from './train.ts';
import { FrozenLossEvaluator, frozenCost, preparedCost, type FrozenStructure } from './train-frozen.ts';

const WORKER_ENTRY = new URL('./train-worker.mjs', import.meta.url);

/** Phase words (Int32, shared): structures in the phase, batch size B, force components Nf, 1 if gradients are wanted. */
const PHASE = { COUNT: 0, B: 1, NF: 2, GRAD: 3, LENGTH: 4 } as const;

export interface ParallelLossOptions {
  /** Threads computing, the calling thread included (≥ 2; 1 is the serial LossEvaluator). */
  workers: number;
  /** Most structures of a batch with gradients (the batch size). */
  maxBatch: number;
  /** Fail when no structure finishes for this long, ms (default 300000). */
  stallTimeoutMs?: number;
  /** How long an idle worker polls for the next batch before it sleeps, µs (default 1000). */
  spinMicroseconds?: number;
  /** Testing: the calling thread only waits, `workers` worker threads compute (default true: it computes too). */
  callerComputes?: boolean;
  /** Testing: a worker throws when it computes the structure of this name. */
  failInWorker?: string;
}

/** What a training worker receives once (workerData). */
export interface TrainWorkerInit {
  ctrl: Int32Array;
  errorText: Uint8Array;
  phase: Int32Array;
  stats: Int32Array;
  /** Structure index of each batch position, and the claim order (claim number → batch position). */
  items: Int32Array;
  order: Int32Array;
  theta: Float64Array;
  /** Gradient slots (maxBatch × P) and loss-term slots (maxItems × TERMS). */
  slots: Float64Array;
  terms: Float64Array;
  model: Uint8Array;
  weights: LossWeights;
  scheme: ForceGradientScheme;
  structures: TrainingStructure[] | FrozenStructure[];
  index: number;
  threads: number;
  spinMicroseconds: number;
  failInWorker: string | null;
}

/** Frozen structures (train-frozen.ts) rather than prepared ones. */
function isFrozenList(list: readonly TrainingStructure[] | readonly FrozenStructure[]): list is readonly FrozenStructure[] {
  return list.length > 0 && 'jac' in list[0];
}

/** One thread's loss of structure k of the list (general or frozen), and its name for messages. */
interface StructureLoss {
  structure(k: number, B: number, Nf: number, slot: Float64Array | null, terms: Float64Array, at: number): void;
  name(k: number): string;
}

function structureLoss(model: LatteModel, weights: LossWeights, scheme: ForceGradientScheme, list: readonly TrainingStructure[] | readonly FrozenStructure[]): StructureLoss {
  if (isFrozenList(list)) {
    const ev = new FrozenLossEvaluator(model, weights);
    return { structure: (k, B, Nf, slot, terms, at) => ev.structure(list[k], B, Nf, slot, terms, at), name: (k) => list[k].source.name };
  }
  const ev = new LossEvaluator(model, weights, scheme), general = list as readonly TrainingStructure[];
  return { structure: (k, B, Nf, slot, terms, at) => ev.structure(general[k], B, Nf, slot, terms, at), name: (k) => general[k].name };
}

export class ParallelLoss {
  readonly workers: number;
  readonly threads: number;
  private readonly model: LatteModel;
  private readonly loss: StructureLoss;
  private readonly structures: readonly TrainingStructure[] | readonly FrozenStructure[];
  private readonly cost: Float64Array;
  private readonly maxBatch: number;
  private readonly maxItems: number;
  private readonly callerComputes: boolean;
  private readonly stallTimeoutMs: number;
  private readonly spinMicroseconds: number;
  private readonly ctrl = sharedI32(CTRL.LENGTH);
  private readonly errorText = new Uint8Array(new SharedArrayBuffer(ERROR_BYTES));
  private readonly phase = sharedI32(PHASE.LENGTH);
  /** Structures computed by worker threads so far (shared counter). */
  private readonly stats = sharedI32(1);
  private computedTotal = 0;
  private readonly items: Int32Array;
  private readonly order: Int32Array;
  private readonly theta: Float64Array;
  private readonly slots: Float64Array;
  private readonly slotViews: Float64Array[];
  private readonly terms: Float64Array;
  private readonly byCost: number[] = [];
  private workerList: Worker[] = [];
  private failure: Error | null = null;
  private closed = false;

  /**
   * `structures`: every structure a batch may name (batches pass indices into it),
   * `maxItems` of which may make up one phase without gradients (e.g. the validation set).
   * Frozen structures should have their arrays in shared memory (shareFrozen): each
   * worker receives the list once, and shared arrays are not copied.
   */
  constructor(model: LatteModel, weights: LossWeights, scheme: ForceGradientScheme, structures: readonly TrainingStructure[] | readonly FrozenStructure[], maxItems: number, options: ParallelLossOptions) {
    const workers = options.workers;
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`LATTE training: workers must be a positive integer, got ${workers}`);
    this.callerComputes = options.callerComputes ?? true;
    this.workers = workers;
    this.threads = this.callerComputes ? workers - 1 : workers;
    this.model = model;
    this.loss = structureLoss(model, weights, scheme, structures);
    this.structures = structures;
    this.cost = isFrozenList(structures) ? Float64Array.from(structures, frozenCost) : Float64Array.from(structures as readonly TrainingStructure[], preparedCost);
    this.maxBatch = Math.max(1, options.maxBatch);
    this.maxItems = Math.max(this.maxBatch, maxItems, 1);
    if (this.maxItems > 0xffff) throw new Error(`LATTE training: at most ${0xffff} structures per phase, got ${this.maxItems}`);
    this.stallTimeoutMs = options.stallTimeoutMs ?? 300_000;
    this.spinMicroseconds = options.spinMicroseconds ?? 1000;
    const P = model.nParameters;
    this.items = sharedI32(this.maxItems);
    this.order = sharedI32(this.maxItems);
    this.theta = sharedF64(P);
    this.slots = sharedF64(this.maxBatch * P);
    this.slotViews = Array.from({ length: this.maxBatch }, (_, p) => this.slots.subarray(p * P, (p + 1) * P));
    this.terms = sharedF64(this.maxItems * TERMS);
    const bytes = encodeModel(model);
    for (let index = 0; index < this.threads; index++) {
      const init: TrainWorkerInit = {
        ctrl: this.ctrl, errorText: this.errorText, phase: this.phase, stats: this.stats, items: this.items, order: this.order, theta: this.theta,
        slots: this.slots, terms: this.terms, model: bytes, weights: { ...weights }, scheme, structures: structures.slice() as TrainingStructure[] | FrozenStructure[],
        index, threads: this.threads, spinMicroseconds: this.spinMicroseconds, failInWorker: options.failInWorker ?? null,
      };
      const worker = new Worker(WORKER_ENTRY, { workerData: init });
      worker.on('error', (err) => { this.failure ??= err; });
      worker.unref();
      this.workerList.push(worker);
    }
  }

  /** Worker threads that have loaded and wait for batches. */
  get ready(): number {
    return Atomics.load(this.ctrl, CTRL.READY);
  }

  /** Fraction of the structures computed so far that worker threads computed. */
  get workerShare(): number {
    return this.computedTotal > 0 ? Atomics.load(this.stats, 0) / this.computedTotal : 0;
  }

  /** Blocks until every worker has started (or fails with a worker's error, or after timeoutMs). */
  waitReady(timeoutMs = 60_000): void {
    const t0 = performance.now();
    for (;;) {
      if (Atomics.load(this.ctrl, CTRL.ERROR) !== 0) this.fail(this.errorMessage());
      const r = Atomics.load(this.ctrl, CTRL.READY);
      if (r >= this.threads) return;
      const left = timeoutMs - (performance.now() - t0);
      if (left <= 0) this.fail(`start-up: ${r} of ${this.threads} workers ready after ${(timeoutMs / 1000).toFixed(0)} s`);
      Atomics.wait(this.ctrl, CTRL.READY, r, Math.min(left, 100));
    }
  }

  /**
   * Loss of the structures `indices` (into the constructor's list) as one batch,
   * and if grad is given its gradient added to grad — the same bits as
   * LossEvaluator.batch on those structures.
   */
  batch(indices: ArrayLike<number>, grad: Float64Array | null): BatchResult {
    if (this.closed) throw new Error('LATTE training: parallel loss used after close()');
    const count = indices.length, ctrl = this.ctrl;
    if (count > (grad ? this.maxBatch : this.maxItems)) throw new Error(`LATTE training: a phase of ${count} structures exceeds the ${grad ? this.maxBatch : this.maxItems} prepared`);
    let Nf = 0;
    for (let p = 0; p < count; p++) Nf += 3 * this.structures[indices[p]].nLocal;
    const res: BatchResult = { loss: 0, eAbs: 0, eSq: 0, fAbs: 0, fSq: 0, structures: count, components: Nf };
    if (count === 0) return res;
    // Parameters, batch, claim order (most expensive first), then the tagged counter, then the phase number.
    this.theta.set(this.model.theta);
    const byCost = this.byCost;
    byCost.length = count;
    for (let p = 0; p < count; p++) { this.items[p] = indices[p]; byCost[p] = p; }
    byCost.sort((a, b) => this.cost[this.items[b]] - this.cost[this.items[a]] || a - b);
    for (let c = 0; c < count; c++) this.order[c] = byCost[c];
    Atomics.store(this.phase, PHASE.COUNT, count);
    Atomics.store(this.phase, PHASE.B, count);
    Atomics.store(this.phase, PHASE.NF, Nf);
    Atomics.store(this.phase, PHASE.GRAD, grad ? 1 : 0);
    const seq = (Atomics.load(ctrl, CTRL.SEQ) + 1) | 0, tag = seq & TAG_MASK;
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.store(ctrl, CTRL.NEXT, tag << 16);
    Atomics.store(ctrl, CTRL.SEQ, seq);
    Atomics.notify(ctrl, CTRL.SEQ);
    if (this.callerComputes) {
      claimChunks(ctrl, tag, count, (c) => {
        if (Atomics.load(ctrl, CTRL.ERROR) !== 0) return;
        const p = this.order[c], k = this.items[p];
        try {
          this.loss.structure(k, count, Nf, grad ? this.slotViews[p] : null, this.terms, p * TERMS);
        } catch (err) {
          recordError(ctrl, this.errorText, err, `main thread, structure ${this.loss.name(k)}`);
        }
      });
    }
    let lastDone = -1, lastProgress = performance.now();
    const spinUntil = lastProgress + this.spinMicroseconds / 1000;
    for (;;) {
      const done = Atomics.load(ctrl, CTRL.DONE);
      if (done >= count) break;
      if (performance.now() < spinUntil) continue;
      Atomics.wait(ctrl, CTRL.DONE, done, 1000);
      const now = performance.now();
      if (done !== lastDone) { lastDone = done; lastProgress = now; }
      else if (now - lastProgress > this.stallTimeoutMs) {
        this.fail(`no progress from the training workers for ${(this.stallTimeoutMs / 1000).toFixed(0)} s (a worker may have died${this.failure ? `: ${this.failure.message}` : ''})`);
      }
    }
    if (Atomics.load(ctrl, CTRL.ERROR) !== 0) this.fail(this.errorMessage());
    this.computedTotal += count;
    for (let p = 0; p < count; p++) addStructure(res, this.terms, p * TERMS, grad, grad ? this.slotViews[p] : null);
    return res;
  }

  /** Stops the workers (idempotent; they are unref'd, so the process can exit meanwhile). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, CTRL.STOP, 1);
    Atomics.add(this.ctrl, CTRL.SEQ, 1);
    Atomics.notify(this.ctrl, CTRL.SEQ);
    for (const w of this.workerList) w.terminate().catch(() => {});
    this.workerList = [];
  }

  /** The recorded error (also when seen outside a phase's end, e.g. a worker failing at start-up). */
  private errorMessage(): string {
    return awaitError(this.ctrl, this.errorText);
  }

  private fail(message: string): never {
    this.close();
    throw new Error(`LATTE training failed in ${message}`);
  }
}

/** The loop of one training worker (train-worker.mjs runs it in its thread). */
export function runTrainWorker(init: TrainWorkerInit, decode: (bytes: Uint8Array) => LatteModel): void {
  const { ctrl, errorText, phase, items, order, terms } = init;
  const where = `LATTE training worker ${init.index + 1} of ${init.threads}`;
  const model = decode(init.model);
  const loss = structureLoss(model, init.weights, init.scheme, init.structures);
  const P = model.nParameters;
  const slotViews = Array.from({ length: Math.floor(init.slots.length / Math.max(1, P)) }, (_, p) => init.slots.subarray(p * P, (p + 1) * P));
  let seen = Atomics.load(ctrl, CTRL.SEQ);
  Atomics.add(ctrl, CTRL.READY, 1);
  Atomics.notify(ctrl, CTRL.READY);
  for (;;) {
    if (Atomics.load(ctrl, CTRL.STOP) !== 0) return;
    if (spinWhileEqual(ctrl, CTRL.SEQ, seen, init.spinMicroseconds) === seen) Atomics.wait(ctrl, CTRL.SEQ, seen);
    seen = Atomics.load(ctrl, CTRL.SEQ);
    if (Atomics.load(ctrl, CTRL.STOP) !== 0) return;
    const tag = seen & TAG_MASK, count = Atomics.load(phase, PHASE.COUNT);
    const cur = Atomics.load(ctrl, CTRL.NEXT);
    if (cur >>> 16 !== tag || (cur & 0xffff) >= count) continue; // nothing left (or a later phase began)
    // Claiming succeeds only while this phase runs, and θ does not change during a phase.
    model.theta.set(init.theta);
    const B = Atomics.load(phase, PHASE.B), Nf = Atomics.load(phase, PHASE.NF), withGrad = Atomics.load(phase, PHASE.GRAD) === 1;
    claimChunks(ctrl, tag, count, (c) => {
      if (Atomics.load(ctrl, CTRL.ERROR) !== 0) return;
      const p = order[c], k = items[p];
      try {
        if (loss.name(k) === init.failInWorker) throw new Error(`injected failure (testing) on ${loss.name(k)}`);
        loss.structure(k, B, Nf, withGrad ? slotViews[p] : null, terms, p * TERMS);
        Atomics.add(init.stats, 0, 1);
      } catch (err) {
        recordError(ctrl, errorText, err, `${where}, structure ${loss.name(k)}`);
      }
    });
  }
}
