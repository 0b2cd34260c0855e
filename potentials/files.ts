/**
 * Finding and reading classical potential files (LAMMPS formats): by path, or by
 * name in Debian's lammps-data directory; a token reader that remembers line
 * numbers so parse errors name file and line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** Where Debian's `lammps-data` installs LAMMPS's potential files. */
export const LAMMPS_POTENTIALS_DIR = process.env.TENSORMD_POTENTIALS ?? '/usr/share/lammps/potentials';

/** Resolves a potential file given as a path or as a bare name in LAMMPS_POTENTIALS_DIR. */
export function resolvePotentialFile(name: string, baseDir = process.cwd()): string {
  const candidates = [isAbsolute(name) ? name : resolve(baseDir, name)];
  if (!name.includes('/')) candidates.push(join(LAMMPS_POTENTIALS_DIR, name));
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(
    `potential file '${name}' not found (looked at ${candidates.join(' and ')}; ` +
      `install Debian's lammps-data or give a path)`,
  );
}

/** An error that names the file and line. */
export class PotentialFileError extends Error {
  override name = 'PotentialFileError';
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
  }
}

/**
 * Whitespace-separated tokens of a text file with their line numbers. Text after
 * `comment` on a line is dropped (pass null to keep everything).
 */
export class TokenReader {
  readonly file: string;
  readonly lines: string[];
  private tokens: string[] = [];
  private tokenLines: number[] = [];
  private pos = 0;

  constructor(file: string, text?: string, comment: string | null = null) {
    this.file = file;
    this.lines = (text ?? readFileSync(file, 'utf8')).split(/\r?\n/);
    this.lines.forEach((raw, k) => {
      const line = comment !== null && raw.includes(comment) ? raw.slice(0, raw.indexOf(comment)) : raw;
      for (const t of line.trim().split(/\s+/)) {
        if (t !== '') { this.tokens.push(t); this.tokenLines.push(k + 1); }
      }
    });
  }

  /** Starts token reading after `lineCount` raw lines (e.g. header comment lines). */
  skipLines(lineCount: number): void {
    while (this.pos < this.tokens.length && this.tokenLines[this.pos] <= lineCount) this.pos++;
  }

  get done(): boolean {
    return this.pos >= this.tokens.length;
  }

  /** Line number of the next token (or of the end of file). */
  get line(): number {
    return this.pos < this.tokens.length ? this.tokenLines[this.pos] : this.lines.length;
  }

  /** The next `n` tokens on the current line... or fewer at a line end: the rest of the line. */
  restOfLine(): string[] {
    const line = this.line;
    const out: string[] = [];
    while (this.pos < this.tokens.length && this.tokenLines[this.pos] === line) out.push(this.tokens[this.pos++]);
    return out;
  }

  error(message: string, line = this.line): PotentialFileError {
    return new PotentialFileError(this.file, line, message);
  }

  word(what: string): string {
    if (this.pos >= this.tokens.length) throw this.error(`unexpected end of file, expected ${what}`);
    return this.tokens[this.pos++];
  }

  number(what: string): number {
    const line = this.line;
    const t = this.word(what);
    const v = Number(t.replace(/[dD]/, 'e'));
    if (!Number.isFinite(v) || t.trim() === '') throw this.error(`expected ${what} (a number), found '${t}'`, line);
    return v;
  }

  integer(what: string): number {
    const line = this.line;
    const v = this.number(what);
    if (!Number.isInteger(v)) throw this.error(`expected ${what} (an integer), found ${v}`, line);
    return v;
  }

  /** Reads `count` numbers into a Float64Array (tabulated functions spanning many lines). */
  numbers(count: number, what: string): Float64Array {
    const out = new Float64Array(count);
    for (let k = 0; k < count; k++) out[k] = this.number(`${what} [${k + 1} of ${count}]`);
    return out;
  }
}
