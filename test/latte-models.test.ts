import { describe, expect, it } from 'vitest';
import { createPotential } from '../potentials/registry.ts';
import '../potentials/latte/potential.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';
import { Rng } from '../src/rng.ts';
import type { System } from '../src/system.ts';

const SHIPPED: { name: string; build: () => System }[] = [
  { name: 'Si', build: () => lattice('diamond', { element: 'Si', a: 5.43, repeat: 1 }) },
  { name: 'Si-fast', build: () => lattice('diamond', { element: 'Si', a: 5.43, repeat: 1 }) },
  { name: 'Cu', build: () => lattice('fcc', { element: 'Cu', a: 3.62, repeat: 2 }) },
  { name: 'Mo', build: () => lattice('bcc', { element: 'Mo', a: 3.16, repeat: 2 }) },
];

describe('shipped LATTE models', () => {
  it.each(SHIPPED)('$name loads through the registry spec and its forces match finite differences', ({ name, build }) => {
    const potential = createPotential({ kind: 'latte', model: `models/latte/${name}.msgpack` });
    expect(potential.spec()).toEqual({ kind: 'latte', model: expect.stringContaining(`models/latte/${name}.msgpack`) });
    const system = build();
    const rng = new Rng(3);
    for (let k = 0; k < system.positions.length; k++) system.positions[k] += 0.08 * rng.normal();
    const ev = new ForceEvaluator(potential, { skin: 0.5 });
    const e0 = ev.evaluate(system).energy;
    expect(Number.isFinite(e0)).toBe(true);
    const F = system.forces.slice();
    const h = 1e-5;
    let err = 0, scale = 0;
    for (let k = 0; k < 12; k++) {
      const x0 = system.positions[k];
      system.positions[k] = x0 + h;
      const ep = ev.evaluate(system).energy;
      system.positions[k] = x0 - h;
      const em = ev.evaluate(system).energy;
      system.positions[k] = x0;
      err = Math.max(err, Math.abs(-(ep - em) / (2 * h) - F[k]));
      scale = Math.max(scale, Math.abs(F[k]));
    }
    expect(scale).toBeGreaterThan(1e-3);
    expect(err).toBeLessThan(1e-7 * Math.max(1, scale));
  });

  it('a model asked for an element it does not cover names it', () => {
    const potential = createPotential({ kind: 'latte', model: 'models/latte/Cu.msgpack' });
    expect(() => potential.bind(['Cu', 'Zr'])).toThrow(/does not cover element Zr/);
  });
});
