/**
 * Relaxes a rattled, sheared copper crystal (EAM Cu_u3.eam) together with its cell
 * to zero pressure with L-BFGS (or FIRE), printing the path.
 *
 *   npx tsx examples/relax.ts          # L-BFGS
 *   npx tsx examples/relax.ts fire     # FIRE
 */
import { lattice } from '../src/lattice.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { Rng } from '../src/rng.ts';
import { createFuncflEam } from '../potentials/eam/eam.ts';
import { CellFilter } from '../integrators/minimize/cell-filter.ts';
import { lbfgs } from '../integrators/minimize/lbfgs.ts';
import { fire } from '../integrators/minimize/fire.ts';

const system = lattice('fcc', { element: 'Cu', a: 3.7, repeat: 3 }); // 108 atoms, 2% too large
const rng = new Rng(5);
for (let k = 0; k < system.positions.length; k++) system.positions[k] += 0.1 * (rng.uniform() - 0.5);
const h = Float64Array.from(system.cell.matrix);
h[3] += 0.2; // shear the cell: b gets an x component
system.cell.setMatrix(h);

const forces = new ForceEvaluator(createFuncflEam({ kind: 'eam', files: { Cu: 'Cu_u3.eam' } }));
const method = process.argv[2] === 'fire' ? fire : lbfgs;
const result = method(new CellFilter(system, forces, { pressure: 0 }), { fmax: 1e-4, smax: 1e-4, maxSteps: 2000 });

console.log('iter   E/atom (eV)     fmax (eV/Å)   smax (GPa)');
result.path.forEach((p, i) => {
  if (i % 5 === 0 || i === result.path.length - 1) {
    console.log(`${String(i).padStart(4)} ${(p.energy / system.n).toFixed(8).padStart(14)} ${p.fmax.toExponential(3).padStart(12)} ${p.smax.toExponential(3).padStart(12)}`);
  }
});
const [a, b, c] = system.cell.lengths();
console.log(`${method.name}: converged ${result.converged} in ${result.steps} steps; ` +
  `E/atom = ${(result.energy / system.n).toFixed(6)} eV (Cu_u3 cohesive energy 3.54 eV); ` +
  `cell lengths ${a.toFixed(5)} ${b.toFixed(5)} ${c.toFixed(5)} Å (3 × 3.615 = 10.845 Å)`);
