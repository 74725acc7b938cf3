// SPDX-License-Identifier: MIT
// How a long first-use step (downloading a kernel, building the vgpuvm chroot and module) shows on standard
// error. The QEMU runner reports each step as a line (its `log`); on a terminal every line starts a phase
// whose elapsed time ticks in place and is kept when the next phase starts; in a pipe or a file the phases
// stay quiet and `end` prints one final line saying what was done and how long it took.

/** A `log` for the runner, and the line that ends it. */
export interface ProgressReporter {
  /** Starts a phase named by `line`. */
  readonly log: (line: string) => void;
  /** Closes the last phase; in a pipe, prints the summary line when there were phases. A second call does nothing. */
  end(): void;
}

const TICK_MS = 1000;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A reporter writing to `stream` (standard error by default); `now` is the clock (tests give their own). */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): ProgressReporter {
  const terminal = stream.isTTY === true;
  const started = now();
  let phase: { line: string; since: number } | undefined;
  let phases = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = (final: boolean): void => {
    if (phase === undefined) return;
    // \r and "erase to end of line" redraw the phase in place.
    stream.write(`\r${phase.line} (${seconds(now() - phase.since)})\x1b[K${final ? '\n' : ''}`);
  };
  const close = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    if (terminal) draw(true);
    phase = undefined;
  };
  return {
    log(line: string): void {
      close();
      phases++;
      phase = { line, since: now() };
      if (!terminal) return;
      draw(false);
      timer = setInterval(() => draw(false), TICK_MS);
      timer.unref();
    },
    end(): void {
      const last = phase?.line;
      close();
      if (!terminal && phases > 0) stream.write(`drm-gpuvm vm: first-use steps: ${phases} in ${seconds(now() - started)}; the last: ${last ?? ''}\n`);
      phases = 0;
    },
  };
}
