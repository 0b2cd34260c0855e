/**
 * Frozen-descriptor training's set-up (train-frozen.ts freezeStructure: every
 * structure's descriptors and Jacobians) over worker threads. It is one pass with no
 * shared state, so the structures are claimed one at a time (largest first) from an
 * atomic counter by the calling thread and `threads − 1` short-lived workers (the
 * training worker entry, train-worker.mjs, with task 'freeze'). Each result is built
 * in shared memory (shareFrozen) and posted back over the worker's own MessagePort:
 * posting shares the arrays, it copies nothing. The calling thread waits
 * synchronously (Atomics.wait on the count of structures done, then
 * receiveMessageOnPort), so training stays synchronous. Every structure is frozen by
 * the same code from the same parameters (the model travels as its file bytes), so
 * the result has the same bits for any number of threads.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { CTRL, ERROR_BYTES, awaitError, recordError, sharedI32 } from '../../src/parallel/shared.ts';
import { encodeModel } from './io.ts';
import type { LatteModel } from './model.ts';
import type { TrainingStructure } from './train.ts';
import { freezeStructure, preparedCost, shareFrozen, type FrozenStructure } from './train-frozen.ts';

const WORKER_ENTRY = new URL('./train-worker.mjs', import.meta.url);

/** What a freezing worker receives (workerData). */
export interface FreezeWorkerInit {
  task: 'freeze';
  ctrl: Int32Array;
  errorText: Uint8Array;
  model: Uint8Array;
  structures: TrainingStructure[];
  /** Claim order: claim number → structure index. */
  order: Int32Array;
  port: MessagePort;
  index: number;
  threads: number;
  /** Testing: the worker throws on the structure of this name. */
  failOn: string | null;
}

export interface FreezeOptions {
  /**
   * Fail when no structure finishes for this long, ms (default 300000). A worker that
   * dies without recording an error (e.g. out of memory) is found this way: its exit
   * event cannot arrive while the calling thread waits.
   */
  stallTimeoutMs?: number;
  /** Testing: a worker throws on the structure of this name. */
  failInWorker?: string;
  /** Testing: the calling thread only waits, the `threads − 1` workers freeze (default true: it freezes too). */
  callerComputes?: boolean;
}

/**
 * freezeStructure of every structure, with its arrays in shared memory (shareFrozen),
 * over `threads` threads (the calling one included); `byWorkers`: how many the
 * worker threads froze.
 */
export function freezeStructures(model: LatteModel, list: readonly TrainingStructure[], threads: number, options: FreezeOptions = {}): { frozen: FrozenStructure[]; byWorkers: number } {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`LATTE training: threads must be a positive integer, got ${String(threads)}`);
  const n = list.length, nWorkers = Math.min(threads, n) - 1;
  if (nWorkers <= 0) return { frozen: list.map((s) => shareFrozen(freezeStructure(model, s))), byWorkers: 0 };
  const ctrl = sharedI32(CTRL.LENGTH), errorText = new Uint8Array(new SharedArrayBuffer(ERROR_BYTES));
  const order = sharedI32(n);
  order.set(Array.from({ length: n }, (_, k) => k).sort((a, b) => preparedCost(list[b]) - preparedCost(list[a]) || a - b));
  const bytes = encodeModel(model), structures = list.slice();
  const ports: MessagePort[] = [], workers: Worker[] = [];
  const frozen: (FrozenStructure | undefined)[] = new Array(n);
  try {
    for (let index = 0; index < nWorkers; index++) {
      const { port1, port2 } = new MessageChannel();
      const init: FreezeWorkerInit = { task: 'freeze', ctrl, errorText, model: bytes, structures, order, port: port2, index, threads: nWorkers, failOn: options.failInWorker ?? null };
      const worker = new Worker(WORKER_ENTRY, { workerData: init, transferList: [port2] });
      worker.on('error', () => {}); // reported through the shared error word (train-worker.mjs, runFreezeWorker)
      worker.unref();
      workers.push(worker);
      ports.push(port1);
    }
    if (options.callerComputes ?? true) claimStructures(ctrl, n, order, (k) => {
      try {
        frozen[k] = shareFrozen(freezeStructure(model, list[k]));
      } catch (err) {
        recordError(ctrl, errorText, err, `main thread, structure ${list[k].name}`);
      }
    });
    const stallMs = options.stallTimeoutMs ?? 300_000;
    let last = -1, lastProgress = performance.now();
    for (;;) {
      if (Atomics.load(ctrl, CTRL.ERROR) !== 0) throw new Error(`LATTE training: freezing the descriptors failed in ${awaitError(ctrl, errorText)}`);
      const done = Atomics.load(ctrl, CTRL.DONE);
      if (done >= n) break;
      if (done !== last) { last = done; lastProgress = performance.now(); }
      else if (performance.now() - lastProgress > stallMs) {
        throw new Error(`LATTE training: no progress from the freezing workers for ${(stallMs / 1000).toFixed(0)} s (a worker may have died)`);
      }
      Atomics.wait(ctrl, CTRL.DONE, done, 100);
    }
    let byWorkers = 0;
    for (const port of ports) {
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
        const { k, fs } = m.message as { k: number; fs: FrozenStructure };
        frozen[k] = fs;
        byWorkers++;
      }
    }
    const missing = frozen.findIndex((f) => f === undefined);
    if (missing >= 0) throw new Error(`LATTE training: structure ${list[missing].name} came back from no freezing worker`);
    return { frozen: frozen as FrozenStructure[], byWorkers };
  } finally {
    Atomics.store(ctrl, CTRL.STOP, 1);
    for (const port of ports) port.close();
    for (const w of workers) w.terminate().catch(() => {});
  }
}

/** Claims structures (in `order`) from the shared counter until none is left or a thread failed; counts each done. */
function claimStructures(ctrl: Int32Array, n: number, order: Int32Array, work: (k: number) => void): void {
  for (;;) {
    if (Atomics.load(ctrl, CTRL.ERROR) !== 0 || Atomics.load(ctrl, CTRL.STOP) !== 0) return;
    const c = Atomics.add(ctrl, CTRL.NEXT, 1);
    if (c >= n) return;
    work(order[c]);
    Atomics.add(ctrl, CTRL.DONE, 1);
    Atomics.notify(ctrl, CTRL.DONE);
  }
}

/** A freezing worker (train-worker.mjs runs it in its thread): freezes the structures it claims and posts each back. */
export function runFreezeWorker(init: FreezeWorkerInit, decode: (bytes: Uint8Array) => LatteModel): void {
  const where = `LATTE freezing worker ${init.index + 1} of ${init.threads}`;
  const model = decode(init.model), list = init.structures;
  claimStructures(init.ctrl, list.length, init.order, (k) => {
    try {
      if (list[k].name === init.failOn) throw new Error(`injected failure (testing) on ${list[k].name}`);
      init.port.postMessage({ k, fs: shareFrozen(freezeStructure(model, list[k])) });
    } catch (err) {
      recordError(init.ctrl, init.errorText, err, `${where}, structure ${list[k].name}`);
    }
  });
  init.port.close();
}
