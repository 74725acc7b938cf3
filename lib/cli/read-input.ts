// SPDX-License-Identifier: MIT
// The FILE argument of the commands that read a text: a path, or standard input when absent or '-'.
import { readFileSync } from 'node:fs';

/** A command's input text and the name its messages give it ('stdin' or the path). */
export interface CliInput {
  /** 'stdin', or the path as given. */
  readonly name: string;
  /** The whole input, as UTF-8. */
  readonly text: string;
}

/**
 * Reads `file`, or standard input when it is undefined or '-'. When it cannot be read, says so on stderr
 * (`drm-gpuvm <command>: cannot read <name>: <why>`) and returns undefined; the command then exits 2.
 */
export function readCliInput(command: string, file: string | undefined): CliInput | undefined {
  const stdin = file === undefined || file === '-';
  const name = stdin ? 'stdin' : file;
  try {
    return { name, text: readFileSync(stdin ? 0 : file, 'utf8') };
  } catch (err) {
    process.stderr.write(`drm-gpuvm ${command}: cannot read ${name}: ${(err as Error).message}\n`);
    return undefined;
  }
}
