// Worker entry of the parallel LATTE training loss (train-parallel.ts): runs the
// compiled train-worker.js when it sits beside this file (dist/), else registers tsx
// so that the TypeScript sources load, then runs train-worker.ts. A failure to load
// is recorded in the shared error buffer (as recordError in src/parallel/shared.ts
// does), so that the training thread reports it.
import { existsSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

const ERROR = 6, ERROR_LENGTH = 10;
try {
  const compiled = new URL('./train-worker.js', import.meta.url);
  let mod;
  if (existsSync(compiled)) {
    mod = await import(compiled.href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    mod = await import('./train-worker.ts');
  }
  mod.runWorker(workerData);
} catch (err) {
  const { ctrl, errorText, index, threads } = workerData;
  if (Atomics.compareExchange(ctrl, ERROR, 0, 1) === 0) {
    const bytes = new TextEncoder().encode(`LATTE training worker ${index + 1} of ${threads} (start-up): ${err?.stack ?? String(err)}`).subarray(0, errorText.length);
    errorText.set(bytes);
    Atomics.store(ctrl, ERROR_LENGTH, bytes.length);
  }
}
