// SPDX-License-Identifier: MIT
// Random calls into every native function, in a child process so that a crash is observed rather than
// suffered: the child must exit 0 having made every call (errors thrown are fine, signals are not).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/fuzz-child.mjs', import.meta.url));

describe('fuzzing the native addon', () => {
  it.each([1, 2, 3])('survives 20,000 random calls (seed %i)', (seed) => {
    const run = spawnSync(process.execPath, [child, String(seed), '20000'], { encoding: 'utf8', timeout: 120_000 });
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^fuzz ok seed=${seed} calls=20000 errors=\\d+`));
  }, 130_000);
});
