/**
 * Triplet-keyed parameter files as LAMMPS's many-body styles read them (.sw,
 * .tersoff): each entry is three element names followed by a fixed number of
 * numbers, possibly spread over several lines; '#' starts a comment.
 *
 * As with LAMMPS's pair_coeff, a list of elements to use selects the entries
 * whose three elements are all in it; every triplet of those elements must then
 * have exactly one entry (LAMMPS does not accept ACB for ABC).
 */
import { PotentialFileError, TokenReader } from './files.ts';

export interface TripletEntry {
  /** Element names as written in the file. */
  readonly names: readonly [string, string, string];
  /** The numbers of the entry, in the file's order. */
  readonly values: Float64Array;
  /** Line of the entry's first token. */
  readonly line: number;
}

export interface TripletTable {
  /** Resolved file path. */
  readonly file: string;
  /** The elements in use, in the order given (or of first appearance in the file). */
  readonly elements: readonly string[];
  /** entry[(a·ne + b)·ne + c] for element indices a, b, c into `elements`. */
  readonly entries: readonly TripletEntry[];
}

/**
 * Reads a triplet file. `fields` names the numbers of an entry (used in error
 * messages); `style` names the format ('sw', 'tersoff') in messages; `use` lists
 * the elements to use (default: every element of the file).
 */
export function readTripletFile(
  file: string,
  style: string,
  fields: readonly string[],
  use?: readonly string[],
  text?: string,
): TripletTable {
  const reader = new TokenReader(file, text, '#');
  const all: TripletEntry[] = [];
  const fileElements: string[] = [];
  let lastLine = 0;
  while (!reader.done) {
    const line = reader.line;
    if (line === lastLine) {
      throw reader.error(`extra value '${reader.word('')}' after the ${fields.length + 3} fields of the ${style} entry that ends on this line`, line);
    }
    const names: [string, string, string] = [
      reader.word('element 1 of an entry'),
      reader.word('element 2 of an entry'),
      reader.word('element 3 of an entry'),
    ];
    for (const [k, name] of names.entries()) {
      if (Number.isFinite(Number(name))) {
        throw new PotentialFileError(file, line, `expected element ${k + 1} of a ${style} entry (a name), found the number '${name}'`);
      }
      if (!fileElements.includes(name)) fileElements.push(name);
    }
    const what = names.join(' ');
    const values = new Float64Array(fields.length);
    for (let f = 0; f < fields.length; f++) {
      const at = reader.line;
      if (reader.done) {
        throw new PotentialFileError(file, reader.line, `unexpected end of file in the ${style} entry ${what} (line ${line}): missing ${fields.slice(f).join(', ')}`);
      }
      values[f] = reader.number(`${fields[f]} of entry ${what} (line ${line})`);
      lastLine = at;
    }
    all.push({ names, values, line });
  }

  const elements = use ? [...use] : fileElements;
  if (elements.length === 0) throw new PotentialFileError(file, 1, `no ${style} entries found`);
  for (const e of elements) {
    if (typeof e !== 'string' || e === '') throw new Error(`${style}: elements must be non-empty strings, got ${JSON.stringify(e)}`);
    if (!fileElements.includes(e)) {
      throw new Error(`${style} file ${file} has no entries for element ${e} (it covers ${fileElements.join(', ')})`);
    }
  }
  if (new Set(elements).size !== elements.length) throw new Error(`${style}: element list ${elements.join(' ')} names an element twice`);
  const ne = elements.length;
  const entries: (TripletEntry | undefined)[] = new Array(ne * ne * ne).fill(undefined);
  for (const entry of all) {
    const [a, b, c] = entry.names.map((n) => elements.indexOf(n));
    if (a < 0 || b < 0 || c < 0) continue;
    const slot = (a * ne + b) * ne + c;
    const previous = entries[slot];
    if (previous) {
      throw new PotentialFileError(file, entry.line, `duplicate ${style} entry ${entry.names.join(' ')} (first given at line ${previous.line})`);
    }
    entries[slot] = entry;
  }
  for (let a = 0; a < ne; a++)
    for (let b = 0; b < ne; b++)
      for (let c = 0; c < ne; c++) {
        if (!entries[(a * ne + b) * ne + c]) {
          throw new Error(`${style} file ${file} is missing the entry for triplet ${elements[a]} ${elements[b]} ${elements[c]}`);
        }
      }
  return { file, elements, entries: entries as TripletEntry[] };
}

/** Throws a file:line error unless entry value `field` satisfies the check. */
export function checkField(table: TripletTable, entry: TripletEntry, fields: readonly string[], field: string, ok: (v: number) => boolean, rule: string): void {
  const v = entry.values[fields.indexOf(field)];
  if (!ok(v)) {
    throw new PotentialFileError(table.file, entry.line, `entry ${entry.names.join(' ')}: ${field} = ${v} is illegal (${rule})`);
  }
}
