// SPDX-License-Identifier: MIT
// Regression tests for the addon's classes of crashes and wrong memory, one describe per class. Each scenario
// runs in a child process (fixtures/safety-child.mjs, on the built package in dist/), so that a crash is
// observed rather than suffered: the child must exit 0 and report what it saw. Before the fixes, each of
// these died (SIGSEGV, abort) or reported the wrong thing; the comment on each says which.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/safety-child.mjs', import.meta.url));
const sealedMemfd = fileURLToPath(new URL('./fixtures/sealed-memfd.py', import.meta.url));
const NONE = { mappings: 0, waits: 0, windows: 0, views: 0, windowSources: 0, fds: 0 };

/** Runs one scenario of the child; `wrapper` (a command the child's command line is appended to) runs it. */
function scenario(name: string, wrapper: string[] = []): Record<string, unknown> {
  const command = [...wrapper, process.execPath, '--expose-gc', child, name];
  const run = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 120_000 });
  expect(run.signal, `${name} died: ${run.stderr}`).toBeNull();
  expect(run.status, `${name} failed: ${run.stderr}`).toBe(0);
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

describe('a mapping longer than the largest ArrayBuffer (was: double free, abort)', () => {
  it('is ERR_OUT_OF_RANGE through the public API, the raw addon and a VA window view, and leaves nothing behind', () => {
    expect(scenario('map-too-large')).toEqual({ publicCode: 'ERR_OUT_OF_RANGE', raw: 'ERR_OUT_OF_RANGE', view: 'ERR_OUT_OF_RANGE', records: NONE });
  });
});

describe('opening a path that is not a DRM node (was: a finalizer closed the fd number again)', () => {
  it('refuses it, and after GC every fd the program opened itself is still open', () => {
    expect(scenario('open-not-drm')).toEqual({ codes: ['ERR_INVALID_ARG_VALUE'], badFds: 0, records: NONE });
  });
});

describe('resources closed and then collected (close() unregisters their finalizers)', () => {
  it('release nothing again: every dma-buf opened after them still has its fd and maps', () => {
    expect(scenario('closed-then-collected')).toEqual({ badFds: 0, records: NONE });
  });
});

describe('VA window views collected while mapped (was: untyped "Invalid argument", live views over holes, leaked window)', () => {
  it('changes nothing a window tracks: unmaps succeed and detach, close succeeds, dropped views cost no record', () => {
    const seen = scenario('va-view-gc');
    expect(seen).toMatchObject({ unmapFirst: 'no error', unmapSecond: 'no error', keptLength: 0, ranges: [[2, 4]], close: 'no error', views: 0, records: NONE });
    // 500,000 dropped views used to keep 155 MiB of records.
    expect(seen.rssGrowthMiB).toBeLessThan(64);
  }, 120_000);
});

describe('user code in the middle of a call (was: SIGSEGV in mappedRanges, map of a closed buffer showing another one)', () => {
  it('runs no prototype setter inside native calls, and a getter that closes the object makes the call ERR_USE_AFTER_CLOSE', () => {
    expect(scenario('reentrancy')).toEqual({
      ranges: ['0-4096', '8192-12288'], setterRan: 0, windowOpen: true, fromFdKind: 'memfd', objectSetter: 0,
      mapCode: 'ERR_USE_AFTER_CLOSE', windowMapCode: 'ERR_USE_AFTER_CLOSE', waitCode: 'ERR_USE_AFTER_CLOSE', records: NONE,
    });
  });
});

describe('raw driverIoctl with a getter that detaches or shrinks a buffer (was: SIGSEGV or a silent use-after-free read)', () => {
  it('takes every buffer only after all elements are read, and refuses the spoilt argument before any copy', () => {
    expect(scenario('driver-ioctl')).toEqual({ detached: 'ERR_OUT_OF_RANGE', shrunk: 'ERR_OUT_OF_RANGE' });
  });
});

describe('VaWindow.reserve past the address space (was: all 128 TiB taken, then std::bad_alloc aborted the process)', () => {
  it('stops at the process budget with ERR_DRM_VA_LIMIT, memory still allocates, and the budget can be set', () => {
    expect(scenario('va-limit')).toEqual({
      count: 512, refusal: { code: 'ERR_DRM_VA_LIMIT', limit: 'bigint', reserved: 'bigint' }, reservedAtLimit: true,
      allocated: 64 * 2 ** 20 + 1e6, lowered: 'ERR_DRM_VA_LIMIT', reservedAfter: '0',
    });
  });
});

describe('an unawaited software-device wait with an aborted signal (was: an unhandled rejection killed the process)', () => {
  it('neither crashes nor holds the process', () => {
    expect(scenario('unawaited-abort')).toEqual({ fds: true });
  });
});

describe('a VA window map whose mmap fails in the kernel (Linux 6.1 unmaps the range first)', () => {
  it('is a typed error, and the window keeps its ranges and views and maps the range again', () => {
    expect(scenario('va-map-fails', ['python3', sealedMemfd])).toEqual({
      refused: 'EPERM', ranges: [[0, 1]], kept: { length: 4096, byte: 7 }, again: 7, records: NONE,
    });
  });
});
