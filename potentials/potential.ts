/**
 * The contract every potential implements, built-in or plugin.
 *
 * A potential sees atoms the way LAMMPS does: the local atoms 0..nLocal-1 followed
 * by periodic images ("ghosts") nLocal..nTotal-1, all with explicit Cartesian
 * coordinates, so that a pair's displacement is simply x[j] - x[i] — no minimum
 * image, correct for any cell shape or thickness. `owner[k]` is the local atom that
 * entry k images (owner[i] = i for local atoms).
 *
 * compute() adds to out.energy, adds -∂E/∂x_k to out.forces for every extended
 * entry k it touches (ghosts included), and, when out.atomEnergies is non-null,
 * adds each atom's share of the energy. The evaluator then folds ghost entries into
 * their owners, and obtains the virial as Σ_k x_k ⊗ f_k over the extended atoms
 * (exact for any short-range potential written in extended coordinates), so a
 * potential does not compute a virial unless it sets `computesVirial`.
 */

/** Neighbours of each local atom in compressed-sparse-row form. */
export interface NeighborCsr {
  /** Length nLocal+1: neighbours of i are neighbors[offsets[i] .. offsets[i+1]). */
  offsets: Int32Array;
  /** Indices into the extended arrays. */
  neighbors: Int32Array;
}

/** What a potential reads: the extended atoms and their neighbour lists. */
export interface Neighborhood {
  readonly nLocal: number;
  readonly nTotal: number;
  /** Cartesian coordinates of extended atoms, length ≥ 3·nTotal. */
  readonly positions: Float64Array;
  /** Species index (into the system's element table) of each extended atom. */
  readonly species: Int32Array;
  /** Local atom imaged by each extended entry. */
  readonly owner: Int32Array;
  /** Each pair once, in the row of one of its two atoms (i local; j local or a ghost, local j may be < i). Null unless requested. */
  readonly half: NeighborCsr | null;
  /** Every neighbour j of each local i, ghosts included. Null unless requested. */
  readonly full: NeighborCsr | null;
  /** List cutoff (potential cutoff + skin); pairs beyond the potential's cutoff must be skipped by the potential. */
  readonly listCutoff: number;
  /**
   * Rows to compute, set by the parallel evaluator (src/parallel): compute() then
   * handles only local atoms rowStart ≤ i < rowEnd — their energy terms and the
   * forces those terms exert on any atom. Absent: every local atom. Rows outside
   * the range also have empty neighbour lists, so a potential that ignores these
   * fields still computes its share unless an atom without neighbours has energy.
   */
  readonly rowStart?: number;
  readonly rowEnd?: number;
}

export interface ComputeOutput {
  energy: number;
  /** Length ≥ 3·nTotal, zeroed before compute. */
  forces: Float64Array;
  /** Length ≥ nTotal, zeroed before compute; null when per-atom energies are not wanted. */
  atomEnergies: Float64Array | null;
  /**
   * Voigt order xx yy zz yz xz xy, W = Σ r⊗f (positive when repulsive), eV.
   * Written only by potentials with computesVirial = true.
   */
  virial: Float64Array;
}

/** A serialisable description from which a potential can be rebuilt (e.g. in a worker). */
export interface PotentialSpec {
  kind: string;
  [key: string]: unknown;
}

export interface Potential {
  /** Registered kind, e.g. 'lj'; spec().kind. */
  readonly kind: string;
  /** Interaction range, Å. */
  readonly cutoff: number;
  /** Which list compute() reads ('both' for composites such as a sum of potentials). */
  readonly neighborList: 'half' | 'full' | 'both';
  /** Elements covered, or null when any element is accepted. */
  readonly elements: readonly string[] | null;
  /** True when compute() writes out.virial itself (e.g. a potential with explicit cell dependence). */
  readonly computesVirial?: boolean;
  /**
   * How the parallel evaluator (src/parallel) may split compute() over threads:
   * - 'rows': E = Σ_i e_i, where row i's term e_i depends only on x_i and the
   *   atoms in row i of the neighbour list, and compute() honours
   *   atoms.rowStart/rowEnd (skips other rows). Split by rows, any cost per row.
   * - undefined: treated as 'rows' for a potential that ignores rowStart/rowEnd
   *   (rows outside a chunk are empty), after checking once that atoms without
   *   neighbours get no energy. Pair potentials on the half list and
   *   many-body potentials written row by row qualify with no extra code.
   * - 'staged': the energy becomes a sum of row terms after a per-atom reduction
   *   (EAM's densities); `stages` implements the protocol.
   * - 'serial': never split (run on the calling thread, as ForceEvaluator does).
   */
  readonly parallel?: 'rows' | 'staged' | 'serial';
  /** The stage protocol of a potential with parallel = 'staged'. */
  readonly stages?: StagedCompute;
  /**
   * Called with the system's element table before the first compute and whenever
   * it changes; must throw (naming the element) if an element is not covered.
   */
  bind(elements: readonly string[]): void;
  compute(atoms: Neighborhood, out: ComputeOutput): void;
  spec(): PotentialSpec;
}

/**
 * A potential that is not a sum of row terms, but becomes one given per-atom
 * fields obtained from a per-atom reduction (EAM: the densities ρ_i, then F'(ρ_i)).
 * The parallel evaluator runs, with rows split into chunks:
 *   1. accumulate() per chunk: adds `width` values per extended atom into
 *      `values` (zeroed, length ≥ width·nTotal), ghosts included;
 *   2. combine() per chunk of local atoms (rowStart..rowEnd-1), given `values`
 *      summed over the chunks with ghost entries folded into their owners: writes
 *      the fields of those atoms (width per atom) and adds their energy / per-atom
 *      energies to `out`; the evaluator then copies the fields of owners to their
 *      ghosts;
 *   3. finish() per chunk: energy, forces and per-atom energies of the rows given
 *      the fields of every extended atom.
 * accumulate(), combine() and finish() all honour atoms.rowStart/rowEnd.
 */
export interface StagedCompute {
  /** Values per atom accumulated in stage 1 and fields per atom read in stage 3. */
  readonly width: number;
  accumulate(atoms: Neighborhood, values: Float64Array): void;
  combine(atoms: Neighborhood, values: Float64Array, fields: Float64Array, out: ComputeOutput): void;
  finish(atoms: Neighborhood, fields: Float64Array, out: ComputeOutput): void;
}

/** Throws a clear error for elements outside `covered`. */
export function requireElements(potentialName: string, covered: readonly string[], elements: readonly string[]): void {
  const missing = elements.filter((e) => !covered.includes(e));
  if (missing.length > 0) {
    throw new Error(
      `${potentialName} does not cover element${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
        `(it covers ${covered.join(', ')})`,
    );
  }
}

/** Checks that a numeric parameter is finite (and positive if asked), naming it. */
export function requireNumber(owner: string, name: string, value: unknown, positive = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (positive && !(value > 0))) {
    throw new Error(`${owner}: '${name}' must be a ${positive ? 'positive' : 'finite'} number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Largest neighbour count of the rows start..end-1 of a list (default: every local atom; to size per-atom scratch buffers once per step). */
export function maxNeighborCount(list: NeighborCsr, end: number, start = 0): number {
  const offsets = list.offsets;
  let max = 0;
  for (let i = start; i < end; i++) {
    const count = offsets[i + 1] - offsets[i];
    if (count > max) max = count;
  }
  return max;
}
