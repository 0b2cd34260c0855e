// Loads a worker module for the worker entry shims (*.mjs): the compiled `<name>.js`
// when it sits beside the shim (dist/, the main program runs compiled), else the
// TypeScript source `<name>.ts` through tsx (registered here). Worker threads so
// follow the main program. Plain JS: it runs before any TypeScript can load.
import { existsSync } from 'node:fs';

/** `shimUrl`: the shim's import.meta.url; `name`: the module's base name. */
export async function importWorkerModule(shimUrl, name) {
  const compiled = new URL(`./${name}.js`, shimUrl);
  if (existsSync(compiled)) return import(compiled.href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL(`./${name}.ts`, shimUrl).href);
}
