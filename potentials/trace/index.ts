/**
 * Tensor-reduced ACE (TRACE) and linear ACE: basis, potential (registered as kind
 * 'trace'), fitting and model files. See /work/shared/specs/trace.md.
 */
export { AceBasis, type BasisSpec, type ChannelSpec } from './basis.ts';
export { RadialBasis, type RadialSpec, type RadialKind } from './radial.ts';
export { SphericalHarmonics } from './sph.ts';
export { clebschGordan, realCouplings } from './clebsch.ts';
export { AceEvaluator } from './evaluator.ts';
export { TracePotential, createTracePotential, foldCoefficients } from './potential.ts';
export { fitTrace, defaultBasisSpec, elementsOf, type FitOptions, type FitResult, type FitWeights } from './fit.ts';
export { loadModel, saveModel, type TraceModel } from './model.ts';
export { PairTerm, pairRow, type PairSpec } from './pair.ts';
