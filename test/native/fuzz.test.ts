// SPDX-License-Identifier: MIT
// Fuzz batches on the software device, each in a child process (test/fuzz/child.mjs) that logs every call
// before making it, so a crash is observed and names its call. A batch passes when the child lives to the
// end with no untyped error, no byte off its tag, and fds and addon records back where they started.
// Bigger runs: FUZZ_CALLS=200000 npx vitest run test/native/fuzz.test.ts
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('../fuzz/child.mjs', import.meta.url));
const calls = Number(process.env.FUZZ_CALLS ?? 20000);

function batch(kind: string, seed: number): { findings: unknown[]; untyped: number; start: unknown; end: unknown } {
  const log = join(tmpdir(), `drm-gpuvm-fuzz-${process.pid}-${kind}-${seed}.log`);
  const config = JSON.stringify({ seed, calls, kind, log, classes: [] });
  const run = spawnSync(process.execPath, ['--expose-gc', child, config], { encoding: 'utf8', timeout: 300_000 });
  const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
  const last = lines[lines.length - 1];
  expect(run.signal, `crash or hang (${run.signal}) at call: ${last}\n${run.stderr}`).toBeNull();
  expect(run.status, `exit ${run.status} at call: ${last}\n${run.stderr}`).toBe(0);
  const result = run.stdout.split('\n').find((line) => line.startsWith('FUZZ-RESULT '));
  expect(result, run.stdout + run.stderr).toBeDefined();
  return JSON.parse(result!.slice('FUZZ-RESULT '.length)) as never;
}

describe('fuzzing on the software device', () => {
  it.each([1, 2, 3])(`raw addon: ${calls} calls (seed %i), no crash, fds and records back to the start`, (seed) => {
    const result = batch('native', seed);
    expect(result.findings).toEqual([]);
    expect(result.end).toEqual(result.start);
  }, 320_000);

  it.each([1, 2, 3])(`public API: ${calls} calls (seed %i), no crash, no untyped error, no wrong memory, no leak`, (seed) => {
    const result = batch('api', seed);
    expect(result.findings).toEqual([]);
    expect(result.untyped).toBe(0);
    expect(result.end).toEqual(result.start);
  }, 320_000);
});
