// Worker entry of the parallel fit assembly (fit.ts assembleParallel): runs
// fit-worker, compiled or through tsx as the main program (src/parallel/import-worker.mjs).
import { importWorkerModule } from '../../src/parallel/import-worker.mjs';

await importWorkerModule(import.meta.url, 'fit-worker');
