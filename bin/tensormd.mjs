#!/usr/bin/env node
// Entry point of the `tensormd` command. Runs the compiled build (dist/, made by
// `npm run build`, which `npm ci` runs as its prepare step) with plain node when it is
// current; when there is no build or any source changed since it was made (see
// scripts/dist-check.mjs), loads the TypeScript sources through tsx instead — never
// stale JS. TENSORMD_TSX=1 forces the tsx path; TENSORMD_DEBUG_BUILD=1 says which
// path was taken (on stderr).
import { distStaleReason } from '../scripts/dist-check.mjs';

const stale = process.env.TENSORMD_TSX === '1' ? 'TENSORMD_TSX=1' : distStaleReason();
let main;
if (stale === null) {
  if (process.env.TENSORMD_DEBUG_BUILD === '1') console.error('tensormd: compiled build (dist/)');
  ({ main } = await import('../dist/src/cli/main.js'));
} else {
  if (process.env.TENSORMD_DEBUG_BUILD === '1') console.error(`tensormd: TypeScript sources through tsx (${stale})`);
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
