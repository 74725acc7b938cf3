// SPDX-License-Identifier: MIT
// The addon in worker_threads. Each scenario runs in a fresh child process in which only the worker loads
// the addon (fixtures/worker-ending.mjs): then the worker's end tears the addon's environment down and Node
// may unload its code, which is where a pending wait's libuv close callback used to crash the process
// (SIGSEGV) and where the worker's memfd and dma-buf fds used to leak.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/worker-ending.mjs', import.meta.url));

/** Runs `count` workers one after another in a fresh process; returns what the process reports. */
function runWorkers(ending: string, waiting: string, count: number): { before: number; after: number; pending: number; rss: number[] } {
  const run = spawnSync(process.execPath, [child, ending, waiting, String(count)], { encoding: 'utf8', timeout: 240_000 });
  expect(run.signal, `the process died: ${run.stderr}`).toBeNull();
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { before: number; after: number; pending: number; rss: number[] };
}

describe('a worker that alone loaded the addon, ending with a pending wait', () => {
  it.each([
    ['terminate', 'awaited'], ['terminate', 'unawaited'],
    ['exit', 'awaited'], ['exit', 'unawaited'],
    ['return', 'unawaited'],
  ])('ends by %s with an %s wait: no crash, and its fds are closed', (ending, waiting) => {
    const seen = runWorkers(ending, waiting, 3);
    expect(seen.pending).toBe(1);
    expect(seen.after).toBe(seen.before);
  }, 60_000);
});

describe('leak check: 200 workers that end with pending waits', () => {
  it('leave the fd count flat and the RSS on a plateau', () => {
    const seen = runWorkers('terminate', 'awaited', 200);
    expect(seen.after).toBe(seen.before);
    // RSS after 50, 100, 150 and 200 workers: no growth beyond noise between the first and the last.
    expect(seen.rss).toHaveLength(4);
    expect(seen.rss[3]! - seen.rss[0]!).toBeLessThan(16);
  }, 240_000);
});
