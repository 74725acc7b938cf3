// SPDX-License-Identifier: MIT
// `drm-gpuvm trace` (the CLI module): the twelve spec traces (test/fixtures/trace-cases) give their
// .out files byte for byte; malformed traces exit 2 naming the line; --time prints its one line.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../../lib/cli/trace.js';

const casesDir = new URL('../../fixtures/trace-cases/', import.meta.url);
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

const scratch = mkdtempSync(join(tmpdir(), 'gpuvm-trace-'));
let scratchFiles = 0;
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes `text` to a scratch file and runs the CLI on it. */
function runText(text: string, options: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(scratch, `t${scratchFiles++}.trace`);
  writeFileSync(file, text);
  return runCli([...options, file]);
}

describe('malformed traces exit 2 with the line number and print nothing', () => {
  it.each<[string, string, number]>([
    ['a request before vm', 'bo a 0x1000\nvm 0x0 0x1000\n', 1],
    ['a second vm', 'vm 0x0 0x10000\n# comment\n\nvm 0x0 0x10000\n', 4],
    ['an unknown BO', 'vm 0x0 0x10000\nmap 0x0 0x1000 nope 0x0\n', 2],
    ['a decimal number', 'vm 0x0 0x10000\nunmap 0 0x1000\n', 2],
    ['a number past 64 bits', 'vm 0x0 0x10000\nunmap 0x10000000000000000 0x1\n', 2],
    ['a wrong argument count', 'vm 0x0 0x10000\nunmap 0x0\n', 2],
    ['an unknown command', 'vm 0x0 0x10000\nremap 0x0 0x1000\n', 2],
    ['a VM past 2^64-1', 'vm 0x1 0xffffffffffffffff\n', 1],
    ['a reserved node outside the VM', 'vm 0x1000 0x1000 reserve 0x0 0x1000\n', 1],
    ['no vm at all', '# empty\n', 2],
  ])('%s', async (_name, text, line) => {
    const result = await runText(text);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`line ${line}:`);
  });

  it('an unknown option is a usage error', async () => {
    const result = await runCli(['--fast']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: drm-gpuvm trace');
  });

  it('a missing file is reported, exit 2', async () => {
    const result = await runCli([join(scratch, 'missing.trace')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot read');
  });
});

describe('--time', () => {
  it('prints one line with the request and op counts and the final mapping count', async () => {
    const text = 'vm 0x0 0x100000 reserve 0x0 0x1000\nbo a 0x10000\nmap 0x1000 0x2000 a 0x0\ndump\nmap 0x2000 0x1000 sparse\nunmap 0x0 0x1\n';
    const result = await runText(text, ['--time']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^time: requests=3 total_ms=\d+\.\d{3} ns_per_request=\d+\.\d ops\(map=2 remap=1 unmap=0\) final_mappings=2\n$/);
  });
});

describe('comments and blank lines', () => {
  it('are ignored wherever they appear', async () => {
    const result = await runText('  # header\nvm 0x0 0x100000   # the VM\n\n\tbo a 0x1000\nmap 0x0 0x1000 a 0x0#x\n');
    expect(result.stdout).toBe('map 0x0 0x1000 a 0x0\nend\n');
  });
});
