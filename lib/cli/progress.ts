// SPDX-License-Identifier: MIT
// How a long first-use step (downloading a kernel, building the vgpuvm chroot and module) shows on standard
// error. The QEMU runner reports each step as a line (its `log`) and a download's bytes as they arrive (the
// log's `bytes`); on a terminal every line starts a phase whose elapsed time, and bytes and percent while it
// downloads, tick in place and are kept when the next phase starts; in a pipe or a file the phases stay quiet
// and `end` prints one final line saying what was done, what was downloaded and how long it took.
import type { StepLog } from '../qemu/step-log.js';

/** A `log` for the runner, and the line that ends it. */
export interface ProgressReporter {
  /** Starts a phase named by `line`; its `bytes` shows the phase's download. */
  readonly log: StepLog;
  /** Closes the last phase; in a pipe, prints the summary line when there were phases. A second call does nothing. */
  end(): void;
}

const TICK_MS = 1000;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function size(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** `12.3 MB of 70.6 MB (17%)`, or `12.3 MB` when the total is not known. */
function downloaded(done: number, total: number): string {
  return total > 0 ? `${size(done)} of ${size(total)} (${Math.floor((done * 100) / total)}%)` : size(done);
}

/** A reporter writing to `stream` (standard error by default); `now` is the clock (tests give their own). */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): ProgressReporter {
  const terminal = stream.isTTY === true;
  const started = now();
  let phase: { line: string; since: number; done: number; total: number } | undefined;
  let phases = 0;
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = (final: boolean): void => {
    if (phase === undefined) return;
    const download = phase.done > 0 || phase.total > 0 ? `: ${downloaded(phase.done, phase.total)}` : '';
    // \r and "erase to end of line" redraw the phase in place.
    stream.write(`\r${phase.line}${download} (${seconds(now() - phase.since)})\x1b[K${final ? '\n' : ''}`);
  };
  const close = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    if (terminal) draw(true);
    bytes += phase?.done ?? 0;
    phase = undefined;
  };
  const log = (line: string): void => {
    close();
    phases++;
    phase = { line, since: now(), done: 0, total: 0 };
    if (!terminal) return;
    draw(false);
    timer = setInterval(() => draw(false), TICK_MS);
    timer.unref();
  };
  const onBytes = (done: number, total: number): void => {
    if (phase === undefined) return;
    phase.done = done;
    phase.total = total;
    if (terminal) draw(false);
  };
  return {
    log: Object.assign(log, { bytes: onBytes }),
    end(): void {
      const last = phase?.line;
      close();
      if (!terminal && phases > 0) {
        const fetched = bytes > 0 ? `, ${size(bytes)} downloaded` : '';
        stream.write(`drm-gpuvm vm: first-use steps: ${phases} in ${seconds(now() - started)}${fetched}; the last: ${last ?? ''}\n`);
      }
      phases = 0;
      bytes = 0;
    },
  };
}
