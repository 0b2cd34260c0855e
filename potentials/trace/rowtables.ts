/**
 * The per-neighbour tables of one row (one centre atom) of the evaluator's fast MD path,
 * filled by AceEvaluator.gatherFast and read by the force passes. The pair path keeps
 * two sets, so that two rows can be gathered before their polynomial is evaluated for
 * both at once.
 *
 * r̂, Y, ∇G, the radial rows and A are what the WebAssembly kernels read: the evaluator
 * places them in its arena (`arenaLengths`, `adopt`); the others are ordinary arrays.
 */
export class RowTables {
  /** Neighbours the tables have room for. */
  cap = 0;
  /** Per neighbour slot k: atom index, model species, 1/r, r. */
  index = new Int32Array(0);
  species = new Int32Array(0);
  inv = new Float64Array(0);
  dist = new Float64Array(0);
  /** Slots grouped by species (counting sort): order[speciesStart[z] .. speciesStart[z+1]). */
  order = new Int32Array(0);
  readonly speciesStart: Int32Array;
  /** Pair path: 1 where the slot is a pair owned by the row (see AceEvaluator.energyPairs). */
  owned = new Uint8Array(0);
  /**
   * The slots whose Y (and ∇G) the WebAssembly kernels compute two at a time: those with
   * gradients from the front, those with values only from the back.
   */
  shSlots = new Int32Array(0);
  /** Per slot: Σ t ∇G (3) and Σ s Y (1) of the row path's force pass. */
  G = new Float64Array(0);
  /** Per slot: the unit vector r̂ (3), Y_lm (nY), ∇G_lm (3·nY), radial values and derivatives (N + P each). */
  unit = new Float64Array(0);
  Y = new Float64Array(0);
  gradG = new Float64Array(0);
  R = new Float64Array(0);
  dR = new Float64Array(0);
  /** The row's atomic base in the fast layout (nA). */
  A = new Float64Array(0);

  constructor(nSpecies: number, private readonly nY: number, private readonly radialWidth: number, private readonly nA: number) {
    this.speciesStart = new Int32Array(nSpecies + 1);
  }

  /** Room for cap neighbours in the plain tables; the arena ones follow from `arenaLengths` and `adopt`. */
  grow(cap: number): void {
    this.index = new Int32Array(cap);
    this.species = new Int32Array(cap);
    this.inv = new Float64Array(cap);
    this.dist = new Float64Array(cap);
    this.order = new Int32Array(cap);
    this.owned = new Uint8Array(cap);
    this.shSlots = new Int32Array(cap);
    this.G = new Float64Array(4 * cap);
    this.cap = cap;
  }

  /** Lengths of r̂, Y, ∇G, R, R′ and A for the current capacity (in that order). */
  arenaLengths(): number[] {
    const cap = this.cap;
    return [3 * cap, cap * this.nY, 3 * cap * this.nY, cap * this.radialWidth, cap * this.radialWidth, this.nA];
  }

  /** Takes the views laid out for `arenaLengths` (contents not kept). */
  adopt(views: readonly Float64Array<ArrayBuffer>[]): void {
    [this.unit, this.Y, this.gradG, this.R, this.dR, this.A] = views;
  }
}
