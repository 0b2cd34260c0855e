import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Cell, LennardJones, Rng, Simulation, System, ThermoLog, TrajectoryWriter, VelocityVerlet, lattice,
  type ComputeOutput, type Neighborhood, type Potential,
} from '../src/index.ts';
import { readExtxyz } from '../src/io/extxyz.ts';
import { main } from '../src/cli/main.ts';
import { hasLammps } from './oracles/available.ts';

const argonLJ = () => new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 8.5, shift: true });

/** LJ that starts returning NaN forces on atom 3 after a number of evaluations. */
class FailingPotential implements Potential {
  readonly kind = 'failing';
  readonly neighborList = 'half';
  readonly elements = null;
  readonly cutoff = 8.5;
  private calls = 0;
  private readonly inner = argonLJ();
  constructor(private readonly failAfter: number) {}
  bind(): void {}
  compute(atoms: Neighborhood, out: ComputeOutput): void {
    this.inner.compute(atoms, out);
    if (++this.calls > this.failAfter) out.forces[3 * 3 + 1] = NaN;
  }
  spec() { return { kind: this.kind }; }
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tensormd-test-'));
}

describe('Simulation', () => {
  it('stops on NaN forces with the step and atom named, keeping every frame and thermo row written before', () => {
    const dir = tmp();
    const system = lattice('fcc', { element: 'Ar', a: 5.26, repeat: 2 });
    system.setTemperature(50, new Rng(1));
    const sim = new Simulation({
      system,
      potential: new FailingPotential(25), // evaluation 26 is step 25's
      integrator: new VelocityVerlet({ dt: 2 }),
      observers: [
        new ThermoLog({ every: 5, csv: join(dir, 'thermo.csv'), console: false }),
        new TrajectoryWriter({ file: join(dir, 'traj.xyz'), every: 10 }),
      ],
    });
    expect(() => sim.run(100)).toThrow(/step 25.*non-finite force on atom 3 \(Ar\), component y/);
    const frames = readExtxyz(join(dir, 'traj.xyz'));
    expect(frames.map((f) => f.info.step)).toEqual([0, 10, 20]);
    const rows = readFileSync(join(dir, 'thermo.csv'), 'utf8').trim().split('\n');
    expect(rows.length).toBe(1 + 5); // header + steps 0, 5, 10, 15, 20
  });

  it('refuses overlapping atoms at the start, naming them', () => {
    const cell = Cell.orthorhombic(10, 10, 10);
    const system = new System({ symbols: ['Ar', 'Ar', 'Ar'], positions: [1, 1, 1, 5, 5, 5, 5.2, 5, 5], cell });
    expect(() => new Simulation({ system, potential: argonLJ(), integrator: new VelocityVerlet({ dt: 1 }) }))
      .toThrow(/atoms 1 \(Ar\) and 2 \(Ar\) are 0\.2000 Å apart/);
    const self = new System({ symbols: ['Ar'], positions: [0, 0, 0], cell: Cell.orthorhombic(0.3, 10, 10) });
    expect(() => new Simulation({ system: self, potential: argonLJ(), integrator: new VelocityVerlet({ dt: 1 }) }))
      .toThrow(/atom 0 \(Ar\) and its own periodic image/);
  });

  it('thermo samples are consistent: total = potential + kinetic, time = step·dt, T from kinetic energy', () => {
    const system = lattice('fcc', { element: 'Ar', a: 5.26, repeat: 2 });
    system.setTemperature(30, new Rng(9));
    const log = new ThermoLog({ every: 10, console: false });
    const sim = new Simulation({ system, potential: argonLJ(), integrator: new VelocityVerlet({ dt: 2 }), observers: [log] });
    sim.run(30);
    expect(log.samples.map((s) => s.step)).toEqual([0, 10, 20, 30]);
    const first = log.samples[0];
    expect(first.temperature).toBeCloseTo(30, 10);
    for (const s of log.samples) {
      expect(s.time).toBeCloseTo(2 * s.step, 12);
      expect(s.totalEnergy).toBeCloseTo(s.potentialEnergy + s.kineticEnergy, 12);
      expect(s.volume).toBeCloseTo(10.52 ** 3, 8);
    }
  });
});

describe('CLI', () => {
  it('runs an input file and writes thermo, trajectory and the final frame', async () => {
    const dir = tmp();
    const input = join(dir, 'in.yaml');
    writeFileSync(input, [
      'structure: { lattice: fcc, element: Ar, a: 5.3, repeat: 2 }',
      'potential: { kind: lj, epsilon: 0.0104, sigma: 3.4, cutoff: 8.0 }',
      'velocities: { temperature: 40, seed: 3 }',
      'integrator: { name: langevin, timestep: 2, temperature: 40, damping: 100, seed: 5 }',
      'steps: 40',
      'output: { thermo: { every: 10, file: t.csv }, trajectory: { every: 20, file: tr.xyz }, final: end.xyz, progress: false }',
    ].join('\n'));
    const code = await main(['run', input, '--output-dir', dir, '--quiet']);
    expect(code).toBe(0);
    expect(readFileSync(join(dir, 't.csv'), 'utf8').trim().split('\n').length).toBe(1 + 5);
    expect(readExtxyz(join(dir, 'tr.xyz')).map((f) => f.info.step)).toEqual([0, 20, 40]);
    const [end] = readExtxyz(join(dir, 'end.xyz'));
    expect(end.symbols.length).toBe(32);
  });

  it('runs the README quickstart input', async () => {
    const dir = tmp();
    const quickstart = join(import.meta.dirname, '../examples/quickstart.yaml');
    expect(await main(['run', quickstart, '--steps', '10', '--output-dir', dir, '--quiet'])).toBe(0);
    const frames = readExtxyz(join(dir, 'quickstart.xyz'));
    expect(frames[0].symbols.length).toBeGreaterThan(0);
    expect(readExtxyz(join(dir, 'quickstart-final.xyz'))[0].info.step).toBe(10);
  });

  it('runs the LATTE molybdenum NPT example', async () => {
    const dir = tmp();
    const example = join(import.meta.dirname, '../examples/mo-latte-npt.yaml');
    expect(await main(['run', example, '--steps', '4', '--output-dir', dir, '--quiet', '--workers', '1'])).toBe(0);
    const final = readExtxyz(join(dir, 'mo-latte-final.xyz'))[0];
    expect(final.symbols.length).toBe(250);
    expect(final.info.step).toBe(4);
    // The start is under pressure (+3.3 GPa at 1000 K on the 3.16 Å lattice): the barostat expands
    // the cell, isotropically, so it stays cubic.
    const [header, first] = readFileSync(join(dir, 'mo-latte-thermo.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    expect(Number(first[header.indexOf('vol_A3')])).toBeCloseTo((5 * 3.16) ** 3, 6);
    expect(Number(first[header.indexOf('press_GPa')])).toBeGreaterThan(2);
    const edge = final.cell[0];
    expect(edge).toBeGreaterThan(5 * 3.16 + 1e-4);
    expect(edge).toBeLessThan(5 * 3.16 * 1.01);
    expect([final.cell[4], final.cell[8]]).toEqual([edge, edge]);
  });

  it.skipIf(!hasLammps())('runs EAM copper from a LAMMPS potential file by bare name with a CSVR thermostat', async () => {
    const dir = tmp();
    const input = join(dir, 'cu.yaml');
    writeFileSync(input, [
      'structure: { lattice: fcc, element: Cu, a: 3.615, repeat: 3 }',
      'potential: { kind: eam, files: { Cu: Cu_u3.eam } }',
      'velocities: { temperature: 300, seed: 3 }',
      'integrator: { name: csvr, timestep: 2, temperature: 600, damping: 50, seed: 5 }',
      'steps: 200',
      'output: { thermo: { every: 200, file: t.csv }, progress: false }',
    ].join('\n'));
    expect(await main(['run', input, '--output-dir', dir, '--quiet'])).toBe(0);
    const [header, first, last] = readFileSync(join(dir, 't.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    const pe = header.indexOf('pe_eV'), T = header.indexOf('T_K');
    // Cohesive energy of Cu_u3 is 3.54 eV/atom (Foiles et al. 1986); 108 atoms.
    expect(Number(first[pe]) / 108).toBeCloseTo(-3.54, 4);
    // Started at 300 K, NVE would equipartition down to ~150 K; the thermostat (τ = 50 fs)
    // must instead heat it towards 600 K within 400 fs.
    expect(Number(first[T])).toBeCloseTo(300, 6);
    expect(Number(last[T])).toBeGreaterThan(400);
  });

  it('runs a custom plugin potential named by module path in the input file', async () => {
    const dir = tmp();
    const plugin = join(import.meta.dirname, '../examples/buckingham.ts');
    const input = join(dir, 'buck.yaml');
    writeFileSync(input, [
      'structure: { lattice: fcc, element: Ar, a: 5.3, repeat: 2 }',
      `potential: { kind: module, module: ${JSON.stringify(plugin)}, A: 1800, rho: 0.3, C: 50, cutoff: 7 }`,
      'velocities: { temperature: 30, seed: 3 }',
      'integrator: { name: nve, timestep: 2 }',
      'steps: 100',
      'output: { thermo: { every: 50, file: t.csv }, progress: false }',
    ].join('\n'));
    expect(await main(['run', input, '--output-dir', dir, '--quiet'])).toBe(0);
    const [header, ...rows] = readFileSync(join(dir, 't.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    const etot = header.indexOf('etotal_eV'), pe = header.indexOf('pe_eV');
    expect(rows.length).toBe(3);
    expect(Number(rows[0][pe])).toBeLessThan(0); // bound by the dispersion term
    for (const r of rows) expect(Math.abs(Number(r[etot]) - Number(rows[0][etot]))).toBeLessThan(1e-4);
  });

  it('names the file and field of a bad input', async () => {
    const dir = tmp();
    const input = join(dir, 'bad.yaml');
    writeFileSync(input, 'structure: { lattice: fcc, element: Ar, a: 5.3 }\npotential: { kind: lj }\nintegrator: { name: nve, timestep: 1 }\nstep: 10\n');
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      expect(await main(['run', input, '--quiet'])).toBe(1);
    } finally {
      console.error = orig;
    }
    expect(errors.join('\n')).toMatch(/bad\.yaml: 'step' is not a known setting/);
  });
});
