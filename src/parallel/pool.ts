/**
 * A pool of worker threads (piscina) that load the TypeScript sources through
 * tsx. Starting a thread costs about a second (module loading), so a pool can be
 * shared: several ParallelForceEvaluators (one after another) or replica runs
 * reuse its warm threads. Whoever creates a pool closes it.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';

const WORKER_ENTRY = new URL('./worker.mjs', import.meta.url);

export class WorkerPool {
  readonly threads: number;
  readonly piscina: Piscina;
  private closed = false;

  constructor(threads: number = availableParallelism()) {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`worker pool: threads must be a positive integer, got ${threads}`);
    this.threads = threads;
    this.piscina = new Piscina({
      filename: WORKER_ENTRY.href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 2 ** 30,
      atomics: 'disabled',
    });
  }

  /** Runs one task in a worker; `name` picks the exported handler of the worker module. */
  run<T>(task: unknown, name: 'force' | 'replica' | 'ping', transferList: unknown[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new Error('worker pool: run() after close()'));
    return this.piscina.run(task, { name, transferList: transferList as never }) as Promise<T>;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina.destroy();
  }
}
