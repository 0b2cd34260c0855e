/**
 * Extended-XYZ throughput: reads every file in the shared datasets folder (≈ 23 MB; test/oracles/datasets.ts),
 * first pass in a fresh process (JIT cold) and best of three warm passes, then
 * formats all frames. ASE's ase.io.read of the same files is timed in the same
 * run as the comparison (there is no LAMMPS equivalent).
 *
 *   npx tsx bench/extxyz.ts
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatExtxyz, readExtxyz, type Frame } from '../src/io/extxyz.ts';
import { PYTHON_ASE } from '../test/oracles/available.ts';
import { peakRssMb, report, seconds } from './harness.ts';
import { DATASETS } from '../test/oracles/datasets.ts';

const ROOT = DATASETS;
const files: string[] = [];
for (const d of readdirSync(ROOT, { withFileTypes: true })) {
  if (!d.isDirectory()) continue;
  for (const f of readdirSync(join(ROOT, d.name))) if (f.endsWith('.xyz')) files.push(join(ROOT, d.name, f));
}
files.sort();
const megabytes = files.reduce((s, f) => s + statSync(f).size, 0) / 1e6;

let frames: Frame[] = [];
const cpu0 = process.cpuUsage();
const cold = seconds(() => {
  frames = [];
  for (const f of files) for (const fr of readExtxyz(f)) frames.push(fr);
});
const coldCpu = (process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6;
let warm = Infinity;
for (let rep = 0; rep < 3; rep++) {
  warm = Math.min(warm, seconds(() => { for (const f of files) readExtxyz(f); }));
}
let bytesOut = 0;
const write = seconds(() => { bytesOut = formatExtxyz(frames).length; });
const atoms = frames.reduce((s, f) => s + f.symbols.length, 0);
console.log(`${files.length} files, ${megabytes.toFixed(1)} MB, ${frames.length} frames, ${atoms} atoms`);
console.log(`read: cold ${cold.toFixed(3)} s (cpu ${coldCpu.toFixed(3)} s), warm ${warm.toFixed(3)} s; format: ${write.toFixed(3)} s (${(bytesOut / 1e6).toFixed(1)} MB)`);

let ase: number | null = null;
const py = spawnSync(
  PYTHON_ASE,
  ['-c', 'import sys, time, ase.io\nt = time.perf_counter()\nfor p in sys.argv[1:]: ase.io.read(p, ":", format="extxyz")\nprint(time.perf_counter() - t)', ...files],
  { encoding: 'utf8' },
);
if (py.status === 0) ase = Number(py.stdout.trim());
console.log(ase === null ? 'ASE not available' : `ASE ase.io.read: ${ase.toFixed(3)} s`);
console.log('(timings share 2 cores with other work; treat as indicative)');

report({
  files: files.length,
  megabytes,
  frames: frames.length,
  atoms,
  read_cold_s: cold,
  read_cold_cpu_s: coldCpu,
  read_warm_s: warm,
  format_s: write,
  ase_read_s: ase,
  ratio: ase === null ? null : cold / ase,
  peak_rss_mb: peakRssMb(),
});
