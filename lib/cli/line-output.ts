// SPDX-License-Identifier: MIT
// Standard output for the commands that print a stream of lines (trace, trace-gen): lines are gathered
// into chunks of about 64 KiB and each chunk is written only once the stream has taken the previous ones
// ('drain'), so a fast producer never piles output up in memory. A reader that goes away early (EPIPE, as
// with `| head`) ends the output quietly.

const CHUNK_CHARS = 1 << 16;

// One 'error' listener per stream, installed once and left attached: an EPIPE can arrive after the last
// write, and an unhandled 'error' would crash the process.
const writeFailures = new WeakMap<NodeJS.WriteStream, { error: NodeJS.ErrnoException | null }>();

function watchFailures(out: NodeJS.WriteStream): { error: NodeJS.ErrnoException | null } {
  let state = writeFailures.get(out);
  if (state === undefined) {
    const created: { error: NodeJS.ErrnoException | null } = { error: null };
    out.on('error', (err: NodeJS.ErrnoException) => { created.error ??= err; });
    writeFailures.set(out, created);
    state = created;
  }
  return state;
}

/** Lines on their way to standard output. */
export class LineOutput {
  /** Lines not yet written; producers push onto it (TraceReplayer.execute takes it as its output). */
  readonly pending: string[] = [];
  readonly #out: NodeJS.WriteStream;
  #pendingChars = 0;
  #counted = 0;
  readonly #failures: { error: NodeJS.ErrnoException | null };

  constructor(out: NodeJS.WriteStream = process.stdout) {
    this.#out = out;
    this.#failures = watchFailures(out);
    // Each output counts the failures from its own start (a process may write several, as tests do).
    this.#failures.error = null;
  }

  /** True once the reader has gone away or writing failed: producing more is pointless. */
  get stopped(): boolean {
    return this.#failures.error !== null;
  }

  /** True when the pending lines make a chunk: time to await {@link writePending}. */
  chunkReady(): boolean {
    for (let i = this.#counted; i < this.pending.length; i++) this.#pendingChars += this.pending[i]!.length + 1;
    this.#counted = this.pending.length;
    return this.#pendingChars >= CHUNK_CHARS;
  }

  /** Writes the pending lines, resolving once the stream can take more. */
  async writePending(): Promise<void> {
    if (this.pending.length > 0 && this.#failures.error === null) {
      const text = `${this.pending.join('\n')}\n`;
      if (!this.#out.write(text)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            this.#out.off('drain', done);
            this.#out.off('error', done);
            resolve();
          };
          this.#out.on('drain', done);
          this.#out.on('error', done);
        });
      }
    }
    this.pending.length = 0;
    this.#pendingChars = 0;
    this.#counted = 0;
  }

  /** Writes what is left; resolves with the exit status: 0, or 1 after saying why writing failed. */
  async end(command: string): Promise<number> {
    await this.writePending();
    const err = this.#failures.error;
    if (err === null || err.code === 'EPIPE') return 0;
    process.stderr.write(`drm-gpuvm ${command}: cannot write the output: ${err.message}\n`);
    return 1;
  }
}
