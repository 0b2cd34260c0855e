// Worker entry of the parallel fit assembly (fit.ts assembleParallel): runs the
// compiled fit-worker.js when it sits beside this file (dist/), else registers tsx so
// that the TypeScript sources load, then runs fit-worker.ts.
import { existsSync } from 'node:fs';

const compiled = new URL('./fit-worker.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./fit-worker.ts');
}
