/**
 * A CLI subcommand: `tensormd <name> [args]`. Each lives in its own module under
 * src/cli/ and is listed in src/cli/main.ts.
 */
export interface Command {
  name: string;
  /** One line for `tensormd --help`. */
  summary: string;
  /** Full help text for `tensormd <name> --help`. */
  usage: string;
  /** Runs with the arguments after the subcommand name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/**
 * Rejects an option that the command's help text does not name (a typo such as
 * `--add-widht` would otherwise be ignored, silently, for the whole of a long run).
 * The help text is the list: every `--name` in it is accepted, and `--help`.
 */
export function rejectUnknownOptions(options: Readonly<Record<string, unknown>>, command: Pick<Command, 'name' | 'usage'>): void {
  const known = new Set([...command.usage.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]));
  known.add('help');
  const unknown = Object.keys(options).filter((name) => !known.has(name));
  if (unknown.length) {
    throw new Error(`${command.name}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `--${n}`).join(', ')} (tensormd ${command.name} --help lists them)`);
  }
}

/** A numeric option (fallback when absent); a missing value or a non-number names the option. */
export function optionNumber(options: Readonly<Record<string, string | true | undefined>>, name: string, fallback: number): number {
  const v = options[name];
  if (v === undefined) return fallback;
  const x = Number(v);
  if (v === true || !Number.isFinite(x)) throw new Error(`--${name} needs a number, got '${String(v)}'`);
  return x;
}

/**
 * A comma-separated numeric option such as `--hidden 64,32` (fallback when absent);
 * a missing value, an empty entry or a non-number is an error naming the option and
 * `what` it needs. Ranges (positive, integer) are the caller's to check.
 */
export function optionNumberList(options: Readonly<Record<string, string | true | undefined>>, name: string, fallback: number[], what?: string): number[];
export function optionNumberList(options: Readonly<Record<string, string | true | undefined>>, name: string, fallback?: undefined, what?: string): number[] | undefined;
export function optionNumberList(options: Readonly<Record<string, string | true | undefined>>, name: string, fallback?: number[], what = 'comma-separated numbers'): number[] | undefined {
  const v = options[name];
  if (v === undefined) return fallback;
  const xs = v === true ? [NaN] : v.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  if (!xs.every(Number.isFinite)) throw new Error(`--${name} needs ${what}, got '${v === true ? '' : v}'`);
  return xs;
}

/**
 * Parses `--key value`, `--key=value` and `--flag` options; the rest are positional.
 * A name in `flags` never takes a value: `--flag=x` is an error (it would otherwise be
 * a string that `options.flag === true` reads as absent).
 */
export function parseOptions(args: string[], flags: readonly string[] = []): { options: Record<string, string | true>; positional: string[] } {
  const options: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) {
        if (flags.includes(a.slice(2, eq))) throw new Error(`--${a.slice(2, eq)} is a flag (no value), got '${a}'`);
        options[a.slice(2, eq)] = a.slice(eq + 1);
      }
      else if (flags.includes(a.slice(2)) || k + 1 >= args.length || args[k + 1].startsWith('--')) options[a.slice(2)] = true;
      else options[a.slice(2)] = args[++k];
    } else positional.push(a);
  }
  return { options, positional };
}
