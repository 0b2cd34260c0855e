/**
 * Stability of a shipped LATTE model: Langevin NVT at 1,000 K on 512+ atoms for
 * 10 ps (diamond Si 4×4×4: 512, fcc Cu 6×6×4: 576, bcc Mo 8×8×4: 512). Fails loudly (non-zero exit) on
 * a non-finite force, an atom pair closer than 1.5 Å, or a temperature outside
 * 500–1,500 K once equilibrated. Usage:
 *   npx tsx bench/latte-nvt.ts [Si|Cu|Mo|Si-fast] [ps] [dt_fs]
 */
import { Langevin } from '../integrators/langevin.ts';
import { loadModel } from '../potentials/latte/io.ts';
import { LattePotential } from '../potentials/latte/potential.ts';
import { resolveModelPath } from '../src/model-path.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import { FS_PER_PS } from '../src/units.ts';
import { report, seconds } from './harness.ts';

const name = process.argv[2] ?? 'Si';
const ps = Number(process.argv[3] ?? 10);
const dt = Number(process.argv[4] ?? 1);
const el = name.split('-')[0];
const system =
  el === 'Si' ? lattice('diamond', { element: 'Si', a: 5.43, repeat: 4 })
  : el === 'Cu' ? lattice('fcc', { element: 'Cu', a: 3.62, repeat: [6, 6, 4] })
  : lattice('bcc', { element: 'Mo', a: 3.16, repeat: [8, 8, 4] });
const path = resolveModelPath(`models/latte/${name}.msgpack`);
const { model } = loadModel(path);
const forces = new ForceEvaluator(new LattePotential(model, path), { skin: 1 });
const T = 1000;
system.setTemperature(T, new Rng(7));
forces.evaluate(system);
const integrator = new Langevin({ dt, temperature: T, damping: 100, seed: 8 });
const steps = Math.round((ps * FS_PER_PS) / dt);
const perPs = Math.round(FS_PER_PS / dt);
let minDistance = Infinity, tMin = Infinity, tMax = 0, tSum = 0, tCount = 0;
let energy = 0;
const wall = seconds(() => {
  for (let s = 1; s <= steps; s++) {
    energy = integrator.step(system, forces).energy;
    if (s % perPs === 0) {
      const temp = system.temperature();
      const d = nearest();
      minDistance = Math.min(minDistance, d);
      if (s * dt >= 2 * FS_PER_PS) { tMin = Math.min(tMin, temp); tMax = Math.max(tMax, temp); tSum += temp; tCount++; }
      console.log(`${((s * dt) / FS_PER_PS).toFixed(1)} ps  T ${temp.toFixed(0)} K  E_pot/atom ${(energy / system.n).toFixed(4)} eV  nearest pair ${d.toFixed(3)} Å`);
      if (d < 1.5) throw new Error(`blew up at ${(s * dt) / FS_PER_PS} ps: atoms ${d.toFixed(3)} Å apart`);
    }
  }
});
/** Nearest pair distance from the current neighbour list. */
function nearest(): number {
  const nl = forces.neighbors, x = nl.positions, full = nl.full!;
  let best = Infinity;
  for (let i = 0; i < nl.nLocal; i++)
    for (let p = full.offsets[i]; p < full.offsets[i + 1]; p++) {
      const j = full.neighbors[p];
      const d = Math.hypot(x[3 * j] - x[3 * i], x[3 * j + 1] - x[3 * i + 1], x[3 * j + 2] - x[3 * i + 2]);
      if (d < best) best = d;
    }
  return best;
}
const stable = Number.isFinite(energy) && minDistance > 1.5 && (tCount === 0 || (tMin > 500 && tMax < 1500));
report({ model: name, atoms: system.n, ps, dt_fs: dt, mean_T_K: tCount ? tSum / tCount : NaN, min_T_K: tMin, max_T_K: tMax, nearest_pair_A: minDistance, wall_s: wall, us_per_atom_step: (wall / (steps * system.n)) * 1e6, stable });
if (!stable) process.exitCode = 1;
