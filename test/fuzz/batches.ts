// SPDX-License-Identifier: MIT
// Runs fuzz batches for the vitest suites (test/native/fuzz.test.ts on the software device, test/guest/fuzz.test.ts
// on vgem): each batch in a child process of its own (child.mjs) that logs every call before making it, so
// that a crash or a hang is observed, and named by its call, rather than suffered.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const child = fileURLToPath(new URL('./child.mjs', import.meta.url));

/**
 * Every class of hostile input a batch covers. Each was once a crash (issue "No input crashes the process"):
 * - huge-map: buffers past 2^31 and 2^32 bytes, mapped (the refused external ArrayBuffer was freed twice);
 * - open-non-drm: /dev/null, regular files and directories opened as DRM devices (a finalizer closed the
 *   fd number again after it had been reused);
 * - reentrant: getters, valueOf and toPrimitive that close, unmap or release live objects mid-call;
 * - raw-reentrant: the same on the raw addon, with resizable buffers shrunk or detached mid-call;
 * - proto-setter: an Array.prototype index setter that sabotages while a result array is built;
 * - gc: collections between calls, so finalizers run on dropped objects while others are live;
 * - unawaited-wait: waits nobody awaits, aborted or timing out.
 */
export const CLASSES = ['huge-map', 'open-non-drm', 'reentrant', 'raw-reentrant', 'proto-setter', 'gc', 'unawaited-wait'];


export interface BatchResult {
  seed: number;
  kind: string;
  calls: number;
  errors: number;
  untyped: number;
  findings: unknown[];
  start: Record<string, number>;
  end: Record<string, number>;
}

/**
 * The seeds and call counts that make `total` calls of one kind, in batches of at most `batchCalls` (a
 * finding names its seed, and a batch stays minutes long), at least `minBatches` of them so that small runs
 * still try several seeds. Seeds count up from `firstSeed`, so that a long run split into parts covers
 * distinct batches.
 */
export function plan(total: number, minBatches: number, batchCalls: number, firstSeed = 1): Array<{ seed: number; calls: number }> {
  const batches = Math.max(minBatches, Math.ceil(total / batchCalls));
  return Array.from({ length: batches }, (_, i) => ({ seed: firstSeed + i, calls: Math.floor(total / batches) + (i < total % batches ? 1 : 0) }));
}

/**
 * Runs one batch and asserts that it lived to the end: no signal, exit 0, a result line. `drmPaths`: the DRM
 * nodes the batch opens (none on the host).
 */
export function runBatch(kind: 'api' | 'native', seed: number, calls: number, options: { drmPaths?: string[]; timeoutMs: number }): BatchResult {
  const log = join(tmpdir(), `drm-gpuvm-fuzz-${process.pid}-${kind}-${seed}.log`);
  const config = JSON.stringify({ seed, calls, kind, log, classes: CLASSES, drmPaths: options.drmPaths ?? [] });
  const run = spawnSync(process.execPath, ['--expose-gc', child, config], { encoding: 'utf8', timeout: options.timeoutMs, maxBuffer: 64 << 20 });
  const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
  const last = lines[lines.length - 1];
  expect(run.signal, `crash or hang (${run.signal}) at call: ${last}\n${run.stderr}`).toBeNull();
  expect(run.status, `exit ${run.status} at call: ${last}\n${run.stderr}`).toBe(0);
  const result = run.stdout.split('\n').find((line) => line.startsWith('FUZZ-RESULT '));
  expect(result, run.stdout + run.stderr).toBeDefined();
  rmSync(log);
  return JSON.parse(result!.slice('FUZZ-RESULT '.length)) as BatchResult;
}

/** A batch passed: no finding (untyped error, wrong memory, leak), and fds and native records back to the start. */
export function expectClean(result: BatchResult): void {
  expect(result.findings).toEqual([]);
  expect(result.untyped).toBe(0);
  expect(result.end).toEqual(result.start);
}
