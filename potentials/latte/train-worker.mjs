// Worker entry of the parallel LATTE training loss (train-parallel.ts) and of the
// parallel descriptor freezing (freeze-parallel.ts, workerData.task 'freeze'): runs
// train-worker, compiled or through tsx as the main program (src/parallel/import-worker.mjs). A failure to load
// is recorded in the shared error buffer (as recordError in src/parallel/shared.ts
// does), so that the training thread reports it.
import { workerData } from 'node:worker_threads';
import { importWorkerModule } from '../../src/parallel/import-worker.mjs';

const ERROR = 6, ERROR_LENGTH = 10;
try {
  const mod = await importWorkerModule(import.meta.url, 'train-worker');
  mod.runWorker(workerData);
} catch (err) {
  const { ctrl, errorText, index, threads, task } = workerData;
  if (Atomics.compareExchange(ctrl, ERROR, 0, 1) === 0) {
    const bytes = new TextEncoder().encode(`LATTE ${task === 'freeze' ? 'freezing' : 'training'} worker ${index + 1} of ${threads} (start-up): ${err?.stack ?? String(err)}`).subarray(0, errorText.length);
    errorText.set(bytes);
    Atomics.store(ctrl, ERROR_LENGTH, bytes.length);
  }
}
