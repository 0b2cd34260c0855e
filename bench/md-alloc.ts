/**
 * Bytes allocated per atom-step in steady MD (Langevin, 300 K, one thread), by V8's
 * sampling heap profiler counting every sampled allocation, those already collected
 * included, over steps after a warm-up; with the functions that allocate most. The MD
 * step should allocate nothing per atom (no allocation in per-atom loops), so the figure is a check that a
 * per-atom loop does not box numbers or create objects.
 *
 *   npm run build && node dist/bench/md-alloc.js models/latte/Si.msgpack [steps = 10] [--dist DIR]
 *
 * `--dist DIR` measures another compiled build (as bench/build-ab.ts; inside the
 * repository). The model is a LATTE or ACE file; the system is the speed benches'
 * for its element (diamond Si 7×7×7, fcc Cu 8×8×8, bcc Mo 10×10×10). Sampling (one
 * sample per 512 bytes on average) makes the figure an estimate: ~10 % between runs.
 */
import { Session } from 'node:inspector/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions } from '../src/cli/command.ts';
import { buildMd } from './build-md.ts';
import { report } from './harness.ts';

const { options, positional } = parseOptions(process.argv.slice(2));
const modelArg = positional[0];
if (!modelArg) throw new Error('usage: md-alloc.js MODEL.msgpack [steps] [--dist DIR]');
const model = resolve(modelArg), steps = Number(positional[1] ?? 10), WARMUP = 15;
// Runs compiled (dist/bench/md-alloc.js): the build measured is this one, or --dist.
const dist = typeof options.dist === 'string' ? resolve(options.dist) : resolve(dirname(fileURLToPath(import.meta.url)), '..');
const md = await buildMd(dist, model, WARMUP);

interface HeapNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: HeapNode[] }

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
for (let s = 0; s < steps; s++) md.step();
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: HeapNode } };
session.disconnect();

// Bytes per allocating function (its own allocations, summed over its call sites).
const byFunction = new Map<string, number>();
let total = 0;
const walk = (node: HeapNode): void => {
  if (node.selfSize > 0) {
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
  }
  for (const child of node.children) walk(child);
};
walk(profile.head);
const perAtomStep = total / (steps * md.n);
console.log(`${model}, ${md.n} atoms, ${steps} steps after ${WARMUP} of warm-up: ${perAtomStep.toFixed(0)} bytes allocated per atom-step (${(total / 1e6).toFixed(2)} MB sampled)`);
for (const [where, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 5)) {
  console.log(`  ${(bytes / (steps * md.n)).toFixed(1)} B/atom-step  ${where}`);
}
report({ atoms: md.n, steps, bytes_per_atom_step: perAtomStep, sampled_mb: total / 1e6 });
