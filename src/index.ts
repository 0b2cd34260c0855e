/**
 * tensormd's scripting API. Everything a script needs is exported from here:
 *
 *   import { lattice, LennardJones, VelocityVerlet, Simulation, ThermoLog, Rng } from 'tensormd';
 *   const system = lattice('fcc', { element: 'Ar', a: 5.26, repeat: 5 });
 *   system.setTemperature(60, new Rng(1));
 *   const sim = new Simulation({ system, potential: new LennardJones({ epsilon: 0.0104, sigma: 3.4, cutoff: 8.5 }),
 *                                integrator: new VelocityVerlet({ dt: 2 }), observers: [new ThermoLog({ every: 100 })] });
 *   sim.run(1000);
 */
export * as units from './units.ts';
export { Rng, type RngState } from './rng.ts';
export { atomicMass, atomicNumber, symbolOf, isElement } from './elements.ts';
export { Cell, type Pbc } from './cell.ts';
export { System, type SystemInit } from './system.ts';
export { lattice, supercell, type LatticeKind, type LatticeOptions } from './lattice.ts';
export { NeighborList, type NeighborListOptions, type RebuildPolicy } from './neighbors.ts';
export { ForceEvaluator, NonFiniteForceError, type Evaluation, type ForceEvaluatorOptions } from './forces.ts';
export { pressure, stress } from './thermo.ts';
export { checkOverlaps } from './checks.ts';
export { Simulation, type SimulationOptions, type ThermoSample } from './simulation.ts';
export type { Observer } from './observers/observer.ts';
export { ThermoLog, type ThermoLogOptions } from './observers/thermo-log.ts';
export { ProgressBar } from './observers/progress.ts';
export { TrajectoryWriter, type TrajectoryOptions } from './observers/trajectory.ts';

import '../potentials/builtin.ts';
export type { Potential, PotentialSpec, Neighborhood, NeighborCsr, ComputeOutput, StagedCompute } from '../potentials/potential.ts';
export { createPotential, loadPotential, registerPotential, registeredKinds } from '../potentials/registry.ts';
export { LennardJones, type LennardJonesOptions } from '../potentials/lj.ts';
export { Morse, type MorseOptions } from '../potentials/morse.ts';
export { SumPotential } from '../potentials/sum.ts';
export { ScaledPotential } from '../potentials/scaled.ts';

export type { Integrator } from '../integrators/integrator.ts';
export { VelocityVerlet } from '../integrators/verlet.ts';
export { Langevin, type LangevinOptions } from '../integrators/langevin.ts';
export { createIntegrator, registerIntegrator, integratorNames } from '../integrators/registry.ts';
export { Csvr, type CsvrOptions } from '../integrators/csvr.ts';
export { NoseHoover, type NoseHooverOptions } from '../integrators/nose-hoover.ts';
export { NoseHooverChain } from '../integrators/nhc.ts';
export { Berendsen, type BerendsenOptions } from '../integrators/berendsen.ts';
export { fire, type FireOptions } from '../integrators/minimize/fire.ts';
export { lbfgs, type LbfgsOptions } from '../integrators/minimize/lbfgs.ts';
export { CellFilter, type CellFilterOptions } from '../integrators/minimize/cell-filter.ts';
export { PositionTarget, type MinimizeResult, type MinimizeTarget } from '../integrators/minimize/target.ts';
export { Eam, createFuncflEam, createMultiEam } from '../potentials/eam/eam.ts';
export { StillingerWeber, type StillingerWeberSpec } from '../potentials/sw.ts';
export { Tersoff, type TersoffSpec } from '../potentials/tersoff.ts';
export { frameEnergy, frameForces, frameToSystem, frameVirial, formatExtxyz, parseExtxyz, readExtxyz, systemToFrame, writeExtxyz, ExtxyzWriter, ExtxyzError, type Frame } from './io/extxyz.ts';
export { evaluateErrors, type ErrorReport } from './analysis/errors.ts';
export { labelFrames, type LabelOptions, type LabelledFrame } from './workflows/label.ts';
export { MtkBarostat, type MtkOptions } from '../integrators/npt.ts';
export { StochasticCellRescale, type CellRescaleOptions } from '../integrators/cell-rescale.ts';
export { reduceCell, reduceCellInPlace, maxSkew } from './cell-reduce.ts';

export * from '../potentials/trace/index.ts';
export { LattePotential, latteFromSpec } from '../potentials/latte/potential.ts';
export { trainLatte } from '../potentials/latte/train.ts';
export { averageModels } from '../potentials/latte/ensemble.ts';
export { ParallelForceEvaluator, type ParallelOptions } from './parallel/evaluator.ts';
export { WorkerPool } from './parallel/pool.ts';
export { runReplicas, type Replica, type ReplicaOptions, type ReplicaSummary } from './parallel/replicas.ts';
