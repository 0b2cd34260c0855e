import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { optionNumberList, parseOptions } from '../src/cli/command.ts';
import { evalCommand } from '../src/cli/eval.ts';
import { fitCommand } from '../src/cli/fit.ts';
import { runCommand } from '../src/cli/run.ts';
import { trainCommand } from '../src/cli/train.ts';

const COMMANDS = [
  { command: evalCommand, file: 'src/cli/eval.ts', args: ['x.xyz', '--model', 'm.msgpack'] },
  { command: fitCommand, file: 'src/cli/fit.ts', args: ['--train', 'x.xyz', '--out', 'm.msgpack'] },
  { command: runCommand, file: 'src/cli/run.ts', args: ['in.yaml'] },
  { command: trainCommand, file: 'src/cli/train.ts', args: ['x.xyz', '--out', 'm.msgpack'] },
];

describe('CLI options', () => {
  it('a declared flag takes no value: --flag=x is an error naming it, --key=x of any other option is its value', () => {
    expect(() => parseOptions(['--per-frame=no', 'x.xyz'], ['per-frame'])).toThrow("--per-frame is a flag (no value), got '--per-frame=no'");
    expect(parseOptions(['--per-frame', 'x.xyz', '--model=m.msgpack'], ['per-frame'])).toEqual({ options: { 'per-frame': true, model: 'm.msgpack' }, positional: ['x.xyz'] });
  });

  for (const { command, file, args } of COMMANDS) {
    it(`${command.name}: an option its help does not name is an error naming it, before any work`, async () => {
      await expect(command.run([...args, '--add-widht', '0.7'])).rejects.toThrow(new RegExp(`${command.name}: unknown option --add-widht \\(tensormd ${command.name} --help lists them\\)`));
      await expect(command.run([...args, '--quite', '--stpes=5'])).rejects.toThrow(/unknown options --quite, --stpes/);
    });

    it(`${command.name}: every option the command reads is in its help (so none is rejected)`, () => {
      const source = readFileSync(file, 'utf8');
      const read = new Set<string>();
      for (const m of source.matchAll(/options\['([a-z0-9-]+)'\]|options\.([a-z][a-zA-Z]*)\b|optionNumber(?:List)?\(options, '([a-z0-9-]+)'|num\('([a-z0-9-]+)'|numbers\('([a-z0-9-]+)'/g)) {
        read.add(m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5]);
      }
      expect(read.size).toBeGreaterThan(1);
      const named = new Set([...command.usage.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]));
      expect([...read].filter((name) => name !== 'help' && !named.has(name))).toEqual([]);
    });
  }
});

describe('optionNumberList', () => {
  it('reads a comma-separated list, or the fallback when the option is absent', () => {
    expect(optionNumberList({ hidden: '64, 32' }, 'hidden', [32, 16])).toEqual([64, 32]);
    expect(optionNumberList({ rattle: '0,0.05,1e-1' }, 'rattle')).toEqual([0, 0.05, 0.1]);
    expect(optionNumberList({}, 'hidden', [32, 16])).toEqual([32, 16]);
    expect(optionNumberList({}, 'augment-weights')).toBeUndefined();
  });

  it('a missing value, an empty entry or a non-number is an error naming the option and what it got', () => {
    expect(() => optionNumberList({ hidden: true }, 'hidden', [32])).toThrow(/^--hidden needs comma-separated numbers, got ''$/);
    expect(() => optionNumberList({ hidden: '64,,32' }, 'hidden', [32])).toThrow(/--hidden needs comma-separated numbers, got '64,,32'/);
    expect(() => optionNumberList({ hidden: '64,' }, 'hidden', [32])).toThrow(/got '64,'/);
    expect(() => optionNumberList({ rattle: '0,x' }, 'rattle')).toThrow(/--rattle needs comma-separated numbers, got '0,x'/);
    expect(() => optionNumberList({ rattle: 'Infinity' }, 'rattle')).toThrow(/--rattle needs comma-separated numbers/);
  });

  it('train: --hidden and --widen-hidden with a bad entry fail before any file is read', async () => {
    await expect(trainCommand.run(['missing.xyz', '--out', 'm.msgpack', '--hidden', '64,3x'])).rejects.toThrow(/--hidden needs comma-separated numbers, got '64,3x'/);
    await expect(trainCommand.run(['missing.xyz', '--out', 'm.msgpack', '--widen-hidden', '64,'])).rejects.toThrow(/--widen-hidden needs comma-separated numbers, got '64,'/);
  });
});
