/**
 * Integrators by name, built from plain options (as in a CLI input file):
 * { integrator: 'nve', dt } or { integrator: 'langevin', dt, temperature, damping, seed }.
 */
import type { Integrator } from './integrator.ts';
import { Berendsen, type BerendsenOptions } from './berendsen.ts';
import { Csvr, type CsvrOptions } from './csvr.ts';
import { Langevin } from './langevin.ts';
import { NoseHoover, type NoseHooverOptions } from './nose-hoover.ts';
import { MtkBarostat, type MtkOptions } from './npt.ts';
import { StochasticCellRescale, type CellRescaleOptions } from './cell-rescale.ts';
import { VelocityVerlet } from './verlet.ts';

export type IntegratorOptions = Record<string, unknown> & { dt: number };
export type IntegratorFactory = (options: IntegratorOptions) => Integrator;

const factories = new Map<string, { factory: IntegratorFactory; summary: string }>();

export function registerIntegrator(name: string, summary: string, factory: IntegratorFactory): void {
  factories.set(name, { factory, summary });
}

export function integratorNames(): { name: string; summary: string }[] {
  return [...factories.entries()].map(([name, v]) => ({ name, summary: v.summary }));
}

export function createIntegrator(name: string, options: IntegratorOptions): Integrator {
  const entry = factories.get(name);
  if (!entry) throw new Error(`unknown integrator '${name}' (known: ${[...factories.keys()].join(', ')})`);
  return entry.factory(options);
}

registerIntegrator('nve', 'velocity Verlet, constant energy', (o) => new VelocityVerlet({ dt: o.dt }));
registerIntegrator('langevin', 'Langevin BAOAB, canonical (temperature, damping fs, seed)', (o) =>
  new Langevin({ dt: o.dt, temperature: o.temperature as number, damping: o.damping as number | undefined, seed: o.seed as number | undefined }),
);
registerIntegrator('csvr', 'stochastic velocity rescaling (Bussi), canonical (temperature, damping fs, seed)', (o) =>
  new Csvr(o as unknown as CsvrOptions),
);
registerIntegrator('nose-hoover', 'Nosé–Hoover chain NVT (temperature, damping fs, chainLength)', (o) =>
  new NoseHoover(o as unknown as NoseHooverOptions),
);
registerIntegrator('berendsen', 'Berendsen, NOT canonical: equilibration only (temperature, damping fs)', (o) =>
  new Berendsen(o as unknown as BerendsenOptions),
);
registerIntegrator('npt', 'MTK NPT with Nosé–Hoover chains (temperature, pressure GPa, coupling iso|aniso|xy|triclinic, damping, barostatDamping)', (o) =>
  new MtkBarostat(o as unknown as MtkOptions),
);
registerIntegrator('nph', 'MTK NPH: barostat without particle thermostat (temperature as barostat-mass reference, pressure GPa, coupling)', (o) =>
  new MtkBarostat({ ...(o as unknown as MtkOptions), thermostat: false }),
);
registerIntegrator('npt-rescale', 'stochastic cell rescaling (Bernetti–Bussi) with CSVR, reports its effective energy (temperature, pressure GPa scalar or diagonal xx yy zz, coupling iso|aniso, compressibility 1/GPa, barostatDamping fs)', (o) =>
  new StochasticCellRescale(o as unknown as CellRescaleOptions),
);
