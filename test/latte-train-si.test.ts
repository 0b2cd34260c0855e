import { describe, expect, it } from 'vitest';
import { createPotential } from '../potentials/registry.ts';
import '../potentials/latte/potential.ts';
import { ForceEvaluator } from '../src/forces.ts';
import { lattice } from '../src/lattice.ts';

/**
 * The shipped LATTE Si model (models/latte/Si.msgpack; training stages in
 * models/latte/Si*.train.log) puts the diamond energy minimum at the PBE lattice
 * constant (5.47 Å, Materials Project / Zuo et al. 2020). Its test-set errors are
 * checked in latte-shipped-accuracy.test.ts.
 */
describe('shipped LATTE Si model', () => {
  const pot = createPotential({ kind: 'latte', model: 'models/latte/Si.msgpack' });

  it('puts the diamond energy minimum within 1 % of the PBE lattice constant 5.47 Å', () => {
    const energy = (a: number): number => {
      const s = lattice('diamond', { element: 'Si', a, repeat: 2 });
      return new ForceEvaluator(pot, { skin: 0 }).evaluate(s).energy / s.n;
    };
    const scale = [-4, -2, 0, 2, 4].map((k) => 1 + 0.01 * k);
    const es = scale.map((x) => energy(5.47 * x));
    const k = Math.min(Math.max(es.indexOf(Math.min(...es)), 1), 3);
    const [e0, e1, e2] = [es[k - 1], es[k], es[k + 1]], h = 0.02;
    expect(e0 - 2 * e1 + e2).toBeGreaterThan(0);
    const xMin = scale[k] + (h * (e0 - e2)) / (2 * (e0 - 2 * e1 + e2));
    expect(Math.abs(xMin - 1)).toBeLessThan(0.01);
  });
});
