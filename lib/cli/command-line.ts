// SPDX-License-Identifier: MIT
// The one argument grammar of every drm-gpuvm subcommand, on node:util parseArgs: options are declared in a
// table, and every refusal (an unknown option, a missing value, a value given to a flag, a stray operand, a
// number out of range) is a UsageError worded the same way, which the command prints with its usage and
// answers with exit status 2. A subcommand gains an option by adding a row to its table.
import { parseArgs } from 'node:util';

/** One option of a subcommand: a flag, or an option that takes a value (`--name V` or `--name=V`). */
export interface OptionSpec {
  readonly type: 'boolean' | 'string';
  /** One-letter alias, as in `-o`. */
  readonly short?: string;
}

/** A subcommand's grammar. */
export interface CommandSpec<O extends Record<string, OptionSpec>> {
  /** The subcommand's name, as typed after `drm-gpuvm`. */
  readonly name: string;
  /** The usage text, printed for --help and after every usage error. */
  readonly usage: string;
  readonly options: O;
  /** What the one operand is called (`FILE`), when the subcommand takes one; none by default. */
  readonly operand?: string;
  /** Everything after the first `--` is a command to run (its own options included), as with `vm`. */
  readonly command?: boolean;
}

/** The values of a subcommand's options: a string for each given value option, true for each given flag. */
export type OptionValues<O extends Record<string, OptionSpec>> = {
  -readonly [K in keyof O]?: O[K]['type'] extends 'string' ? string : true;
};

/** What a command line says. */
export interface CommandLine<O extends Record<string, OptionSpec>> {
  readonly values: OptionValues<O>;
  /** The operand (FILE), when given. */
  readonly operand: string | undefined;
  /** The words after `--`, for a subcommand that runs a command; undefined when there was no `--`. */
  readonly command: string[] | undefined;
}

/** A command line the subcommand cannot accept; the message names the offending word. */
export class UsageError extends Error {
  readonly code = 'ERR_CLI_USAGE';
  /** What the process exits with for it. */
  readonly exitCode = 2;

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const HELP = new Set(['-h', '--help']);

/**
 * Reads a subcommand's arguments. Returns 'help' when -h or --help comes before any `--` (whatever else is
 * there, so help is never refused); throws UsageError for anything else it cannot accept.
 */
export function parseCommandLine<O extends Record<string, OptionSpec>>(spec: CommandSpec<O>, argv: readonly string[]): CommandLine<O> | 'help' {
  const terminator = argv.indexOf('--');
  const own = terminator === -1 ? argv : argv.slice(0, terminator);
  if (own.some((arg) => HELP.has(arg))) return 'help';
  // Lenient parsing only to get the tokens: every refusal is decided below, in this module's wording.
  const { tokens } = parseArgs({
    args: spec.command === true ? [...own] : [...argv],
    options: spec.options as Record<string, OptionSpec>,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | true> = {};
  let operand: string | undefined;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      if (spec.operand === undefined) {
        throw new UsageError(`unexpected '${token.value}'${spec.command === true ? ': put the command after --' : ''}`);
      }
      if (operand !== undefined) throw new UsageError(`more than one ${spec.operand}`);
      operand = token.value;
      continue;
    }
    const option = Object.hasOwn(spec.options, token.name) ? spec.options[token.name] : undefined;
    if (option === undefined) throw new UsageError(`unknown option '${token.rawName}'`);
    if (option.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`);
      values[token.name] = true;
      continue;
    }
    // A separate value that is one of this subcommand's options means the value was forgotten (`--kernel
    // --mem 512`); any other word is the value, a leading '-' included (`--seed -1` is then refused as a number).
    if (token.value === undefined || (!token.inlineValue && isOptionWord(spec.options, token.value))) {
      throw new UsageError(`${token.rawName} needs a value`);
    }
    values[token.name] = token.value;
  }
  const command = spec.command === true && terminator !== -1 ? argv.slice(terminator + 1) : undefined;
  return { values: values as OptionValues<O>, operand, command };
}

function isOptionWord(options: Record<string, OptionSpec>, word: string): boolean {
  if (HELP.has(word) || word === '--') return true;
  if (word.startsWith('--')) return Object.hasOwn(options, word.slice(2).split('=')[0]!);
  return word.length === 2 && Object.values(options).some((option) => option.short === word[1]);
}

/**
 * A whole number option value in [min, max]; `fallback` when the option was not given (a required option
 * has none). Throws UsageError naming the option.
 */
export function wholeNumber(name: string, text: string | undefined, range: { min: number; max: number; fallback?: number }): number {
  if (text === undefined) {
    if (range.fallback === undefined) throw new UsageError(`--${name} is required`);
    return range.fallback;
  }
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`--${name} needs a whole number, got '${text}'`);
  const n = Number(text);
  if (n < range.min || n > range.max) throw new UsageError(`--${name} must be between ${range.min} and ${range.max}, got ${text}`);
  return n;
}

/** One of `choices`, or `fallback` when the option was not given; throws UsageError naming the option. */
export function oneOf<T extends string>(name: string, text: string | undefined, choices: readonly T[], fallback?: T): T {
  if (text === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required (${choices.join(', ')})`);
    return fallback;
  }
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${text}'`);
  return text as T;
}

/**
 * Runs a subcommand: parses `argv` against `spec`, prints the usage for --help (exit 0), and prints any
 * UsageError the parse or `body` throws as `drm-gpuvm NAME: MESSAGE` followed by the usage (exit 2).
 */
export async function runCommand<O extends Record<string, OptionSpec>>(
  spec: CommandSpec<O>,
  argv: readonly string[],
  body: (line: CommandLine<O>) => Promise<number> | number,
): Promise<number> {
  try {
    const line = parseCommandLine(spec, argv);
    if (line === 'help') {
      process.stdout.write(spec.usage);
      return 0;
    }
    return await body(line);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`drm-gpuvm ${spec.name}: ${err.message}\n${spec.usage}`);
    return err.exitCode;
  }
}
