// Worker entry of the parallel fit assembly (fit.ts assembleParallel): registers tsx so
// that the TypeScript sources load, then runs fit-worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./fit-worker.ts');
