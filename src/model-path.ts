/**
 * Where a model file named in a potential spec or on the command line lives: the path as
 * given (absolute, or relative to the working directory) when a file is there, else
 * relative to the tensormd package, so that `models/latte/Si.msgpack` names a shipped
 * model from any directory. One rule for every ML potential and command.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, one level above src/ (in the compiled build dist/, where models/ is a link to the root's). */
const PACKAGE_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

/** The absolute path of model file `path`; `what` (e.g. 'LATTE model') names it in the error when there is no such file. */
export function resolveModelPath(path: string, what = 'model'): string {
  const given = resolve(path);
  if (existsSync(given)) return given;
  if (isAbsolute(path)) throw new Error(`${what} file '${path}' not found`);
  const shipped = resolve(PACKAGE_ROOT, path);
  if (existsSync(shipped)) return shipped;
  throw new Error(`${what} file '${path}' not found (looked in ${process.cwd()} and ${PACKAGE_ROOT})`);
}
