// Worker entry of the worker pool. In the compiled build (dist/, where worker.js sits
// beside this file) piscina loads the plain JS; in the source tree it registers tsx so
// that the TypeScript sources load. Either way a plugin potential written in
// TypeScript loads too (potentials/registry.ts registers tsx for it when needed).
import { existsSync } from 'node:fs';

const compiled = new URL('./worker.js', import.meta.url);
let mod;
if (existsSync(compiled)) {
  mod = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import('./worker.ts');
}
export const { force, replica, ping } = mod;
