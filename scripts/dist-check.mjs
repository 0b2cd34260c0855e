// Which sources the compiled build (dist/) is made from, and whether dist/ is still
// current: the build records a fingerprint (path, size, mtime of every source file
// and build setting); dist/ is used only while that fingerprint is unchanged, so an
// edited, added or deleted source file makes the CLI and workers fall back to tsx
// instead of running stale JS. Plain JS on purpose: bin/tensormd.mjs imports it
// before anything else is loaded.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Folders compiled into dist/ (the sources of the CLI, workers and benchmarks). */
export const SOURCE_DIRS = ['src', 'potentials', 'integrators', 'bench', 'test/oracles'];
/** Single files whose change also invalidates dist/. */
export const BUILD_FILES = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', 'package.json'];
export const DIST = 'dist';
export const STAMP = '.build-stamp.json';

function walk(root, rel, out) {
  let entries;
  try {
    entries = readdirSync(join(root, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) walk(root, path, out);
    else if (e.isFile() && /\.(ts|mts|mjs|js)$/.test(e.name)) out.push(path);
  }
}

/** Relative paths of every source file that the build reads, sorted. */
export function sourceFiles(root = ROOT) {
  const files = [];
  for (const dir of SOURCE_DIRS) walk(root, dir, files);
  return files.sort();
}

/** A hash of (path, size, mtime) of the sources and build settings. */
export function fingerprint(root = ROOT) {
  const h = createHash('sha256');
  for (const rel of [...sourceFiles(root), ...BUILD_FILES]) {
    let s;
    try {
      s = statSync(join(root, rel));
    } catch {
      h.update(`${rel}\0missing\n`);
      continue;
    }
    h.update(`${rel}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return h.digest('hex');
}

/** The stamp the last build wrote, or null. */
export function readStamp(root = ROOT) {
  try {
    return JSON.parse(readFileSync(join(root, DIST, STAMP), 'utf8'));
  } catch {
    return null;
  }
}

/** Why dist/ cannot be used ('no build', 'sources changed since the build'), or null when it is current. */
export function distStaleReason(root = ROOT) {
  const stamp = readStamp(root);
  if (stamp === null) return 'no build (run `npm run build`)';
  if (stamp.fingerprint !== fingerprint(root)) return 'sources changed since the last `npm run build`';
  return null;
}
