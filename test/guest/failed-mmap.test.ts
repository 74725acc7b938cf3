// SPDX-License-Identifier: MIT
// A VA window map whose mmap fails inside the kernel, on each guest kernel: Linux 6.1 unmaps the range before
// the file refuses (a memfd sealed against writes), so the window takes its hole back without replacing
// anything; 7.2 refuses before unmapping. Either way the error is typed and the window is as it was. The
// scenario is the host safety test's (test/native/fixtures/safety-child.mjs), run on this kernel.
import { spawnSync } from 'node:child_process';
import { release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('../native/fixtures/safety-child.mjs', import.meta.url));
const sealedMemfd = fileURLToPath(new URL('../native/fixtures/sealed-memfd.py', import.meta.url));

describe(`a failed VA window mmap on Linux ${release()}`, () => {
  it('is a typed error, and the window keeps its ranges and views and maps the range again', () => {
    const run = spawnSync('python3', [sealedMemfd, process.execPath, '--expose-gc', child, 'va-map-fails'], { encoding: 'utf8', timeout: 120_000 });
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toEqual({
      refused: 'EPERM', ranges: [[0, 1]], kept: { length: 4096, byte: 7 }, again: 7,
      records: { mappings: 0, waits: 0, windows: 0, views: 0, windowSources: 0, fds: 0 },
    });
  });
});
