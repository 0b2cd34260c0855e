/** The `tensormd` command line: dispatches to subcommands. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from './command.ts';
import { ensembleCommand } from './ensemble.ts';
import { evalCommand } from './eval.ts';
import { infoCommand } from './info.ts';
import { labelCommand } from './label.ts';
import { fitCommand } from './fit.ts';
import { trainCommand } from './train.ts';
import { runCommand } from './run.ts';

const COMMANDS: Command[] = [runCommand, evalCommand, fitCommand, trainCommand, labelCommand, ensembleCommand, infoCommand];

function version(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'tensormd — molecular dynamics with classical and machine-learned potentials',
    '',
    'Usage: tensormd <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'tensormd <command> --help' for a command's options and input format.",
    'Examples:',
    '  tensormd run examples/quickstart.yaml     silicon with the shipped ACE model',
    '  tensormd run examples/mo-latte-npt.yaml   molybdenum NPT with the shipped LATTE model',
    '  tensormd run examples/argon.yaml          Lennard-Jones argon',
    '  tensormd info models/latte/Mo.msgpack     what a model file holds and how it was made',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(version());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`tensormd: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    console.error(`tensormd ${name}: ${(err as Error).message}`);
    if (process.env.TENSORMD_DEBUG) console.error((err as Error).stack);
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
