// SPDX-License-Identifier: MIT
// The FILE argument of the commands that read a text: a path, or standard input when absent or '-', read
// as a stream of lines so that memory stays constant whatever the input's size.
import { createReadStream, openSync } from 'node:fs';
import type { Readable } from 'node:stream';

/** An input that could not be opened or read; the command says so and exits 2. */
export class CliInputError extends Error {
  readonly code = 'ERR_CLI_INPUT';

  constructor(name: string, cause: Error) {
    super(`cannot read ${name}: ${cause.message}`, { cause });
    this.name = 'CliInputError';
  }
}

/** A command's input: the name its messages give it ('stdin' or the path) and its lines. */
export interface CliInput {
  /** 'stdin', or the path as given. */
  readonly name: string;
  /**
   * The lines, without their '\n', in batches (one per chunk read); a last line without '\n' counts, an
   * empty input has none (as `text.split('\n')` without its trailing ''). Throws CliInputError on a read
   * error. The next chunk is read only when the consumer asks for the next batch.
   */
  readonly lines: AsyncIterable<string[]>;
}

/** Opens `file`, or standard input when it is undefined or '-'; throws CliInputError when it cannot be opened. */
export function openCliInput(file: string | undefined): CliInput {
  if (file === undefined || file === '-') return { name: 'stdin', lines: linesOf(process.stdin, 'stdin') };
  let fd: number;
  try {
    // Opened now, so that a missing file is reported before any output.
    fd = openSync(file, 'r');
  } catch (err) {
    throw new CliInputError(file, err as Error);
  }
  return { name: file, lines: linesOf(createReadStream('', { fd }), file) };
}

async function* linesOf(stream: Readable, name: string): AsyncGenerator<string[]> {
  stream.setEncoding('utf8');
  let partial = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      if (lines.length > 0) yield lines;
    }
  } catch (err) {
    throw new CliInputError(name, err as Error);
  } finally {
    if (stream !== process.stdin) stream.destroy();
  }
  if (partial !== '') yield [partial];
}
