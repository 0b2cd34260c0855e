/**
 * Parallel replicas: several independent runs (different temperatures, seeds or
 * structures), each described by a run input, executed concurrently on a worker
 * pool — one replica per thread at a time, more replicas queue — each writing its
 * own outputs and returning its own summary. The basis of sampling workflows.
 *
 *   const results = await runReplicas([
 *     { input: { ...base, velocities: { temperature: 300, seed: 1 } }, outputDirectory: 'out/T300' },
 *     { input: { ...base, velocities: { temperature: 600, seed: 2 } }, outputDirectory: 'out/T600' },
 *   ], { workers: 2 });
 *
 * A replica runs exactly the code of a serial run, so its results do not depend on
 * where or beside what it ran. If a replica fails, the others still finish; then
 * runReplicas rejects naming the failed replicas and their errors.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { RunInput } from '../config.ts';
import { WorkerPool } from './pool.ts';
import type { ReplicaSummary, ReplicaTask } from './replica-run.ts';

export type { ReplicaSummary } from './replica-run.ts';

export interface Replica {
  input: RunInput;
  /** Where relative input paths resolve (default: the working directory). */
  baseDir?: string;
  /** Output directory of this replica (default: replica-<index>). */
  outputDirectory?: string;
  /** Name in summaries and errors (default: replica <index>). */
  label?: string;
}

export interface ReplicaOptions {
  /** Replicas running at once (default: available cores, at most the number of replicas). */
  workers?: number;
  /** A pool to run on (left open); default: a pool of `workers` threads, closed at the end. */
  pool?: WorkerPool;
}

export async function runReplicas(replicas: readonly Replica[], options: ReplicaOptions = {}): Promise<ReplicaSummary[]> {
  if (replicas.length === 0) return [];
  const workers = options.workers ?? Math.min(availableParallelism(), replicas.length);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`replicas: workers must be a positive integer, got ${workers}`);
  const pool = options.pool ?? new WorkerPool(Math.min(workers, replicas.length));
  try {
    const tasks: ReplicaTask[] = replicas.map((r, index) => {
      const baseDir = resolve(r.baseDir ?? process.cwd());
      const outputDirectory = r.outputDirectory ?? `replica-${index}`;
      return {
        input: r.input,
        baseDir,
        outputDirectory: isAbsolute(outputDirectory) ? outputDirectory : resolve(process.cwd(), outputDirectory),
        label: r.label ?? `replica ${index}`,
      };
    });
    const settled = await Promise.allSettled(tasks.map((t) => pool.run<ReplicaSummary>(t, 'replica')));
    const failed = settled.flatMap((s, k) => (s.status === 'rejected' ? [`${tasks[k].label}: ${(s.reason as Error)?.message ?? String(s.reason)}`] : []));
    if (failed.length > 0) {
      const first = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult;
      throw new Error(`${failed.length} of ${tasks.length} replicas failed:\n  ${failed.join('\n  ')}`, { cause: first.reason });
    }
    return settled.map((s) => (s as PromiseFulfilledResult<ReplicaSummary>).value);
  } finally {
    if (!options.pool) await pool.close();
  }
}
