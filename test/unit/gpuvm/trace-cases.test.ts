// SPDX-License-Identifier: MIT
// The twelve spec traces (../shared/spec/gpuvm-trace-cases) replayed through the `drm-gpuvm trace` CLI
// module give their .out files byte for byte.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../../lib/cli/trace.js';

const casesDir = new URL('../../../../shared/spec/gpuvm-trace-cases/', import.meta.url);
const traces = readdirSync(casesDir).filter((name) => name.endsWith('.trace')).sort();

/** Runs the CLI module with `argv`, capturing what it writes. */
async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string, cb?: (err?: Error) => void) => {
    stdout += chunk;
    cb?.();
    return true;
  }) as typeof process.stdout.write);
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write);
  const code = await run(argv);
  return { code, stdout, stderr };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('drm-gpuvm trace on the spec cases', () => {
  it('finds all twelve cases', () => {
    expect(traces).toHaveLength(12);
  });

  it.each(traces)('%s prints its .out exactly', async (name) => {
    const expected = readFileSync(new URL(name.replace(/\.trace$/, '.out'), casesDir), 'utf8');
    const result = await runCli([fileURLToPath(new URL(name, casesDir))]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(expected);
  });
});
