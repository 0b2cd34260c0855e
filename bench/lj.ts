/**
 * LAMMPS's `bench/in.lj` in metal units, run by tensormd and by `lmp` in the same
 * process run: 32,000 atoms of fcc LJ at reduced density 0.8442, cutoff 2.5σ,
 * skin 0.3σ, initial temperature 1.44 ε/kB, dt = 0.005τ, 100 NVE steps.
 *
 * Argon parameters: σ = 3.405 Å, ε = 0.0103 eV (≈ 119.5 K·kB), m = 39.948 amu, so
 * τ = σ·√(m/ε) ≈ 2.16 ps and dt ≈ 10.8 fs. Both codes get the same numbers: the
 * lattice constant (4/ρ*)^{1/3}σ, T, the cutoff and skin in Å, dt in fs / ps.
 * tensormd starts from LAMMPS's own initial state (positions and the `velocity
 * create … loop geom` velocities, dumped at full precision), so with the shared
 * unit constants both codes follow the same trajectory and rebuild counts under
 * the same policy are comparable one to one.
 *
 * Four timed runs, each best of BENCH_REPEATS (default 3; the machine is shared):
 *  - LAMMPS in.lj as written: `neigh_modify delay 0 every 20 check no`;
 *  - tensormd with the same policy {every: 20, check: false}: the headline `ratio`
 *    (same work for both codes: same trajectory, 5 builds each);
 *  - LAMMPS `neigh_modify delay 0 every 1 check yes` (rebuild past skin/2);
 *  - tensormd's safe default (skin/2 check at every step, 12 builds): `ratio_vs_check`
 *    against LAMMPS check yes (12 builds as well).
 * Timing: LAMMPS's "Loop time" (excludes setup); ours times the 100 steps after the
 * first force evaluation, likewise. The *_cpu figures use CPU time instead of wall
 * time (ours from process.cpuUsage, LAMMPS's loop time × its reported "% CPU use"),
 * which other processes on the machine disturb less. Our pair-loop and list-build
 * times (CPU) sit beside LAMMPS's Pair and Neigh sections. RSS: peak of each process —
 * every tensormd run is a child process of its own (reading the start state from
 * a binary file), as every LAMMPS run is.
 */
import { ForceEvaluator, type Evaluation } from '../src/forces.ts';
import type { RebuildPolicy } from '../src/neighbors.ts';
import { System } from '../src/system.ts';
import { Cell } from '../src/cell.ts';
import { ACCEL, FS_PER_PS, kB } from '../src/units.ts';
import { LennardJones } from '../potentials/lj.ts';
import { VelocityVerlet } from '../integrators/verlet.ts';
import type { Integrator } from '../integrators/integrator.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDump, runLammps as runLammpsOracle } from '../test/oracles/lammps.ts';
import { peakRssMb, report, seconds, timeLammps } from './harness.ts';

const SIGMA = 3.405, EPSILON = 0.0103, MASS = 39.948;
const RHO = 0.8442, T_REDUCED = 1.44, RC = 2.5 * SIGMA, SKIN = 0.3 * SIGMA;
const REPEAT = 20, STEPS = 100;
const TAU = SIGMA * Math.sqrt(MASS / (EPSILON * ACCEL)); // fs
const DT = 0.005 * TAU;
const A = Math.cbrt(4 / RHO) * SIGMA;
const T = (T_REDUCED * EPSILON) / kB;

/** The in.lj set-up lines shared by every LAMMPS run. */
function lammpsSetup(): string[] {
  return [
    'units metal',
    'atom_style atomic',
    'atom_modify map array',
    `lattice fcc ${A.toPrecision(17)}`,
    `region box block 0 ${REPEAT} 0 ${REPEAT} 0 ${REPEAT}`,
    'create_box 1 box',
    'create_atoms 1 box',
    `mass 1 ${MASS}`,
    `velocity all create ${T.toPrecision(17)} 87287 loop geom`,
    `pair_style lj/cut ${RC.toPrecision(17)}`,
    `pair_coeff 1 1 ${EPSILON} ${SIGMA}`,
    `neighbor ${SKIN.toPrecision(17)} bin`,
  ];
}

const N_ATOMS = 4 * REPEAT ** 3;

/** LAMMPS's initial state: positions then velocities (Å/fs), 6n doubles. */
function lammpsInitialState(): Float64Array {
  const input = [...lammpsSetup(), 'dump d all custom 1 start.dump id x y z vx vy vz', 'dump_modify d sort id format float %.17g', 'run 0'].join('\n');
  const { files } = runLammpsOracle(input, { outputs: ['start.dump'] });
  const n = N_ATOMS;
  const state = new Float64Array(6 * n);
  parseDump(files['start.dump'], n, (i, c) => {
    for (let a = 0; a < 3; a++) { state[3 * i + a] = c[a]; state[3 * n + 3 * i + a] = c[3 + a] / FS_PER_PS; }
  });
  return state;
}

function systemFromState(state: Float64Array): System {
  const n = N_ATOMS, L = REPEAT * A;
  return new System({
    symbols: new Array<string>(n).fill('Ar'), positions: state.subarray(0, 3 * n), velocities: state.subarray(3 * n, 6 * n),
    cell: Cell.orthorhombic(L, L, L), masses: { Ar: MASS },
  });
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function runTensormd(system: System, rebuild: RebuildPolicy) {
  const evaluator = new ForceEvaluator(new LennardJones({ epsilon: EPSILON, sigma: SIGMA, cutoff: RC }), { skin: SKIN, rebuild });
  const integrator: Integrator = new VelocityVerlet({ dt: DT });
  let ev: Evaluation = evaluator.evaluate(system);
  // CPU time spent in list updates that rebuilt and in the pair loop (instrumentation only).
  const nl = evaluator.neighbors;
  const update = nl.update.bind(nl);
  let buildTime = 0, pairTime = 0;
  nl.update = (sys) => {
    const t0 = cpuSeconds();
    const rebuilt = update(sys);
    if (rebuilt) buildTime += cpuSeconds() - t0;
    return rebuilt;
  };
  const potential = evaluator.potential;
  const compute = potential.compute.bind(potential);
  potential.compute = (atoms, out) => {
    const t0 = cpuSeconds();
    compute(atoms, out);
    pairTime += cpuSeconds() - t0;
  };
  const e0 = ev.energy + system.kineticEnergy();
  const buildsBefore = nl.builds;
  const cpu0 = cpuSeconds();
  const time = seconds(() => {
    for (let s = 0; s < STEPS; s++) ev = integrator.step(system, evaluator, ev);
  });
  const cpu = cpuSeconds() - cpu0;
  const e1 = ev.energy + system.kineticEnergy();
  return {
    n: system.n,
    time,
    cpu,
    buildTime,
    pairTime,
    rebuilds: nl.builds - buildsBefore,
    dangerous: nl.dangerousBuilds,
    energyChangePerAtom: (e1 - e0) / system.n,
    temperature: system.temperature(),
    pairs: nl.half!.offsets[system.n],
    rssMb: peakRssMb(),
  };
}

/** One tensormd run in a child process (so its peak RSS is its own). */
function runTensormdChild(stateFile: string, rebuild: RebuildPolicy): ReturnType<typeof runTensormd> {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', stateFile, JSON.stringify(rebuild)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tensormd child run failed:\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as ReturnType<typeof runTensormd>;
}

function runLammps(check: boolean) {
  const input = [
    ...lammpsSetup(),
    check ? 'neigh_modify delay 0 every 1 check yes' : 'neigh_modify delay 0 every 20 check no',
    'fix 1 all nve',
    `timestep ${(DT / FS_PER_PS).toPrecision(17)}`,
    'thermo 50',
    `run ${STEPS}`,
  ].join('\n');
  const t = timeLammps(input);
  const builds = Number(/Neighbor list builds = (\d+)/.exec(t.log)?.[1] ?? NaN);
  const dangerous = Number(/Dangerous builds = (\d+)/.exec(t.log)?.[1] ?? NaN);
  const cpuPercent = Number(/([0-9.]+)% CPU use/.exec(t.log)?.[1] ?? NaN);
  const section = (name: string) => Number(new RegExp(`^${name}\\s*\\|\\s*([0-9.]+)`, 'm').exec(t.log)?.[1] ?? NaN);
  return { ...t, cpu: (t.loopSeconds * cpuPercent) / 100, builds, dangerous, pairSeconds: section('Pair'), neighSeconds: section('Neigh') };
}

if (process.argv[2] === '--child') {
  const bytes = readFileSync(process.argv[3]);
  const state = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  console.log(JSON.stringify(runTensormd(systemFromState(state), JSON.parse(process.argv[4]) as RebuildPolicy)));
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'tensormd-bench-lj-'));
const stateFile = join(dir, 'start.f64');
writeFileSync(stateFile, lammpsInitialState());
const IN_LJ: RebuildPolicy = { every: 20, delay: 0, check: false };
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const best = <R extends object>(runs: R[], key: (r: R) => number): R => runs.reduce((a, b) => (key(b) < key(a) ? b : a));
type Ours = ReturnType<typeof runTensormd>;
type Theirs = ReturnType<typeof runLammps>;
const lmpRuns: Theirs[] = [], checkRuns: Theirs[] = [], ourRuns: Ours[] = [], samePolicyRuns: Ours[] = [];
try {
  for (let r = 0; r < REPEATS; r++) {
    lmpRuns.push(runLammps(false));
    samePolicyRuns.push(runTensormdChild(stateFile, IN_LJ));
    checkRuns.push(runLammps(true));
    ourRuns.push(runTensormdChild(stateFile, {}));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const lmp = best(lmpRuns, (r) => r.loopSeconds), lmpCpu = best(lmpRuns, (r) => r.cpu);
const lmpCheck = best(checkRuns, (r) => r.loopSeconds), lmpCheckCpu = best(checkRuns, (r) => r.cpu);
const ours = best(ourRuns, (r) => r.time), oursCpu = best(ourRuns, (r) => r.cpu);
const same = best(samePolicyRuns, (r) => r.time), sameCpu = best(samePolicyRuns, (r) => r.cpu);
const atomSteps = ours.n * STEPS;
const perAtomStep = (s: number) => (s / atomSteps) * 1e6;
const fmt = (v: number) => v.toFixed(2);
for (const [name, runs] of [['tensormd every 20, check no', samePolicyRuns], ['tensormd default (skin/2 check every step)', ourRuns]] as const) {
  const b = best(runs, (r) => r.time);
  console.log(
    `${name}: ${runs.map((r) => fmt(r.time)).join(' / ')} s wall, ${runs.map((r) => fmt(r.cpu)).join(' / ')} s CPU ` +
      `(best: pair loop ${fmt(b.pairTime)} s, list builds ${fmt(b.buildTime)} s CPU), ${b.rebuilds} rebuilds (${b.dangerous} dangerous), ` +
      `${b.pairs} pairs in list, ΔE = ${b.energyChangePerAtom.toExponential(2)} eV/atom, T = ${b.temperature.toFixed(1)} K`,
  );
}
for (const [name, runs] of [['lammps in.lj (every 20, check no)', lmpRuns], ['lammps check yes (every 1, skin/2)', checkRuns]] as const) {
  const b = best(runs, (r) => r.loopSeconds);
  console.log(
    `${name}: ${runs.map((r) => fmt(r.loopSeconds)).join(' / ')} s wall, ${runs.map((r) => fmt(r.cpu)).join(' / ')} s CPU ` +
      `(best: Pair ${b.pairSeconds} s, Neigh ${b.neighSeconds} s), ${b.builds} builds (${b.dangerous} dangerous)`,
  );
}
const rss = Math.max(...ourRuns.map((r) => r.rssMb), ...samePolicyRuns.map((r) => r.rssMb));
report({
  bench: 'lj',
  atoms: same.n,
  steps: STEPS,
  // Headline: the in.lj rebuild policy for both codes (every 20, check no; 5 builds each).
  us_per_atom_step: perAtomStep(same.time),
  lammps_us_per_atom_step: perAtomStep(lmp.loopSeconds),
  ratio: same.time / lmp.loopSeconds,
  ratio_cpu: sameCpu.cpu / lmpCpu.cpu,
  rebuilds: same.rebuilds,
  lammps_rebuilds: lmp.builds,
  pair_ms_per_step: (same.pairTime / STEPS) * 1e3,
  lammps_pair_ms_per_step: (lmp.pairSeconds / STEPS) * 1e3,
  build_ms: (same.buildTime / same.rebuilds) * 1e3,
  lammps_build_ms: (lmp.neighSeconds / lmp.builds) * 1e3,
  rss_mb: rss,
  lammps_rss_mb: lmp.rssMb,
  rss_ratio: rss / lmp.rssMb,
  // Our safe default (skin/2 check at every step) against LAMMPS check yes (12 builds each).
  check_us_per_atom_step: perAtomStep(ours.time),
  lammps_check_us_per_atom_step: perAtomStep(lmpCheck.loopSeconds),
  ratio_vs_check: ours.time / lmpCheck.loopSeconds,
  ratio_vs_check_cpu: oursCpu.cpu / lmpCheckCpu.cpu,
  check_rebuilds: ours.rebuilds,
  lammps_check_rebuilds: lmpCheck.builds,
  // Our safe default against in.lj as written (12 builds against 5).
  ratio_default_vs_in_lj: ours.time / lmp.loopSeconds,
});
