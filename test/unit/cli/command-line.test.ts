// SPDX-License-Identifier: MIT
// The one grammar of every drm-gpuvm subcommand (lib/cli/command-line.ts): one wording for each refusal.
import { describe, expect, it } from 'vitest';
import { oneOf, parseCommandLine, UsageError, wholeNumber, type CommandSpec } from '../../../lib/cli/command-line.js';

const SPEC = {
  name: 'x', usage: 'usage: drm-gpuvm x\n', operand: 'FILE',
  options: { flag: { type: 'boolean' }, value: { type: 'string' }, output: { type: 'string', short: 'o' } },
} as const satisfies CommandSpec<Record<string, { type: 'boolean' | 'string'; short?: string }>>;

const refusal = (message: string) => expect.objectContaining({ name: 'UsageError', code: 'ERR_CLI_USAGE', exitCode: 2, message });

describe('parseCommandLine', () => {
  it('reads flags, values (both spellings), short aliases and the operand', () => {
    expect(parseCommandLine(SPEC, ['--flag', '--value', 'v', '-o', 'out', 'file'])).toEqual({
      values: { flag: true, value: 'v', output: 'out' }, operand: 'file', command: undefined,
    });
    expect(parseCommandLine(SPEC, ['--value=-1', '-'])).toMatchObject({ values: { value: '-1' }, operand: '-' });
    expect(parseCommandLine(SPEC, ['--value', '-1'])).toMatchObject({ values: { value: '-1' } });
    expect(parseCommandLine(SPEC, ['--', '-file'])).toMatchObject({ operand: '-file' });
  });

  it('answers help whatever else is there', () => {
    expect(parseCommandLine(SPEC, ['--bogus', '-h'])).toBe('help');
    expect(parseCommandLine(SPEC, ['--help'])).toBe('help');
  });

  it.each([
    [['--bogus'], "unknown option '--bogus'"],
    [['-z'], "unknown option '-z'"],
    [['--value'], '--value needs a value'],
    [['-o'], '-o needs a value'],
    [['--value', '--flag'], '--value needs a value'],
    [['--flag=yes'], '--flag takes no value'],
    [['a', 'b'], 'more than one FILE'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCommandLine(SPEC, argv)).toThrow(refusal(message));
  });

  it('gives everything after -- to a subcommand that runs a command, and no operand to one that does not', () => {
    const vmLike = { ...SPEC, operand: undefined, command: true } as const;
    expect(parseCommandLine(vmLike, ['--flag', '--', 'node', '--bogus'])).toMatchObject({ values: { flag: true }, command: ['node', '--bogus'] });
    expect(() => parseCommandLine(vmLike, ['true'])).toThrow(refusal("unexpected 'true': put the command after --"));
  });
});

describe('option values', () => {
  it('wholeNumber: a fallback, a range, one wording', () => {
    expect(wholeNumber('n', undefined, { min: 0, max: 9, fallback: 3 })).toBe(3);
    expect(wholeNumber('n', '9', { min: 0, max: 9 })).toBe(9);
    expect(() => wholeNumber('n', undefined, { min: 0, max: 9 })).toThrow(refusal('--n is required'));
    expect(() => wholeNumber('n', '1e3', { min: 0, max: 9 })).toThrow(refusal("--n needs a whole number, got '1e3'"));
    expect(() => wholeNumber('n', '10', { min: 0, max: 9 })).toThrow(refusal('--n must be between 0 and 9, got 10'));
  });

  it('oneOf', () => {
    expect(oneOf('p', 'b', ['a', 'b'] as const)).toBe('b');
    expect(oneOf('p', undefined, ['a', 'b'] as const, 'a')).toBe('a');
    expect(() => oneOf('p', 'c', ['a', 'b'] as const)).toThrow(UsageError);
    expect(() => oneOf('p', 'c', ['a', 'b'] as const)).toThrow(refusal("--p must be one of a, b, got 'c'"));
  });
});
