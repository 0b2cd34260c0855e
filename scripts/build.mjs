// The compiled build: transpiles the TypeScript of src/, potentials/, integrators/,
// bench/ and test/oracles/ to plain JS under dist/ (same layout, `.ts` import
// specifiers rewritten to `.js`), copies the worker entry shims (*.mjs), and writes a
// stamp with the sources' fingerprint (scripts/dist-check.mjs). Transpiling only:
// type errors are `npm run typecheck`'s business, so the build takes seconds.
//
//   node scripts/build.mjs            (npm run build)    fails loudly on any error
//   node scripts/build.mjs --prepare  (npm's prepare)    never fails an install: on
//                                     error it warns and leaves no stamp (tsx is used)
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DIST, ROOT, STAMP, fingerprint, sourceFiles } from './dist-check.mjs';

const prepare = process.argv.includes('--prepare');

async function build() {
  const t0 = process.hrtime.bigint();
  let ts;
  try {
    ts = (await import('typescript')).default;
  } catch {
    throw new Error('the build needs the dev dependency `typescript` (npm ci installs it)');
  }
  const print = fingerprint(ROOT); // before reading: an edit during the build leaves dist/ stale
  const configFile = join(ROOT, 'tsconfig.build.json');
  const read = ts.readConfigFile(configFile, ts.sys.readFile);
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const config = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT, undefined, configFile);
  if (config.errors.length > 0) throw new Error(config.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'));
  // transpileModule cannot see package.json's "type": "module" that NodeNext keys on: say ESM outright.
  const options = { ...config.options, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler };
  const out = join(ROOT, DIST);
  rmSync(out, { recursive: true, force: true });
  let count = 0;
  for (const rel of sourceFiles(ROOT)) {
    const src = join(ROOT, rel);
    if (rel.endsWith('.d.ts')) continue;
    if (rel.endsWith('.ts')) {
      const r = ts.transpileModule(readFileSync(src, 'utf8'), { compilerOptions: options, fileName: src, reportDiagnostics: true });
      const errors = (r.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
      if (errors.length > 0) {
        const d = errors[0];
        const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
        throw new Error(`${rel}${pos ? `:${pos.line + 1}:${pos.character + 1}` : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
      }
      const target = join(out, rel.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, r.outputText);
    } else {
      // Worker entry shims: plain JS that picks the compiled worker beside it.
      const target = join(out, rel);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(src, target);
    }
    count++;
  }
  // Paths the code resolves relative to its own location (`<root>/models`, the
  // package.json read for --version) resolve inside dist/ as in the source tree.
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ name: `${pkg.name}-dist`, version: pkg.version, private: true, type: 'module' }, null, 2)}\n`);
  symlinkSync(join('..', 'models'), join(out, 'models'), 'dir');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  writeFileSync(join(out, STAMP), `${JSON.stringify({ fingerprint: print, files: count, builtAt: new Date().toISOString(), seconds }, null, 2)}\n`);
  console.log(`tensormd build: ${count} files → ${DIST}/ in ${seconds.toFixed(1)} s`);
}

try {
  await build();
} catch (err) {
  rmSync(join(ROOT, DIST, STAMP), { force: true });
  if (!prepare) {
    console.error(`tensormd build failed: ${err.message}`);
    process.exit(1);
  }
  console.warn(`tensormd build skipped (${err.message}); the CLI runs the TypeScript sources through tsx`);
}
