/**
 * The radial functions of a LATTE model, one row each, in parameter order: which
 * block, term and body of the descriptor they belong to, their tensor rank, centre
 * (one per central element), width, and where their support ends. What `tensormd info
 * --functions` and `bench/latte-shape.ts --list` print: the support's end sets a
 * term's cost (the neighbours inside it), which is what choosing terms for
 * `train --drop-blocks BLOCK.TERM` weighs.
 */
import type { LatteModel } from './model.ts';

export interface RadialFunctionRow {
  /** Index among the model's functions (0-based). */
  index: number;
  /** Block, term within the block and body within the term, numbered from 1 (--drop-blocks names a term BLOCK.TERM). */
  block: number;
  term: number;
  body: number;
  rank: number;
  /** Centre per central element (model order), Å. */
  centres: number[];
  /** Width, Å. */
  width: number;
  /** Largest centre + width: the support's end, Å. */
  supportEnd: number;
}

export function radialFunctionTable(m: LatteModel): RadialFunctionRow[] {
  const F = m.nFunctions, th = m.theta, rows: RadialFunctionRow[] = [];
  let f = 0;
  m.blocks.forEach((block, q) => {
    for (let body = 0; body < block.bodies.length; body++) {
      for (let term = 0; term < block.n; term++, f++) {
        const width = th[m.offWidths + f];
        const centres = Array.from({ length: m.nSpecies }, (_, t) => th[m.offCentres + t * F + f]);
        rows.push({ index: f, block: q + 1, term: term + 1, body: body + 1, rank: m.functionRank(f), centres, width, supportEnd: Math.max(...centres) + width });
      }
    }
  });
  return rows;
}

/** The table as text: a header line, then one line per function. */
export function formatRadialFunctionTable(rows: readonly RadialFunctionRow[]): string[] {
  return [
    'f block term body rank centre(s) width support_end',
    ...rows.map((r) => `${r.index} ${r.block} ${r.term} ${r.body} ${r.rank} ${r.centres.map((x) => x.toFixed(4)).join('/')} ${r.width.toFixed(4)} ${r.supportEnd.toFixed(4)}`),
  ];
}
