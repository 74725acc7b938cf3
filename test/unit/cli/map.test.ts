// SPDX-License-Identifier: MIT
// drm-gpuvm map, run in-process: exit codes, where the SVG goes, messages for bad input.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../../lib/cli/map.js';
import { replayTrace } from '../../../lib/trace/trace.js';
import { parseXml } from '../va-map/xml.js';

const CASE = join(import.meta.dirname, '../../fixtures/trace-cases/12-reserved-and-errors.trace');
const dir = mkdtempSync(join(tmpdir(), 'va-map-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the subcommand and captures what it writes. */
async function map(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string, cb?: (e?: Error) => void) => {
    stdout += chunk;
    cb?.();
    return true;
  }) as typeof process.stdout.write);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write);
  try {
    return { code: await run(argv), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('drm-gpuvm map', () => {
  it('replays a trace and writes the SVG to -o', async () => {
    const file = join(dir, 'case12.svg');
    const result = await map('--svg', CASE, '-o', file);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    const svg = readFileSync(file, 'utf8');
    expect(parseXml(svg).name).toBe('svg');
    expect(svg).toContain('reserved-marker');
    expect(svg).toContain('VA space after the trace');
  });
  it('writes to standard output without -o, and honours --width and --title', async () => {
    const result = await map('--svg', '--width', '800', '--title', 'case 12', CASE);
    expect(result.code).toBe(0);
    expect(parseXml(result.stdout).attrs.width).toBe('800');
    expect(result.stdout).toContain('>case 12 [0x0, 0x1_0000_0000)');
  });
  it('draws the output of drm-gpuvm trace (a dump) the same as the trace itself', async () => {
    const dump = join(dir, 'case12.out');
    const trace = readFileSync(CASE, 'utf8');
    writeFileSync(dump, `${trace.split('\n').find((l) => l.startsWith('vm '))}\n${replayTrace(trace)}`);
    const fromDump = await map('--svg', '--title', 'same', dump);
    const fromTrace = await map('--svg', '--title', 'same', CASE);
    expect(fromDump.code).toBe(0);
    expect(fromDump.stdout).toBe(fromTrace.stdout);
  });
  it.each([
    [['x.trace'], /choose the output format: --svg/],
    [['--svg', '--width', '100', CASE], /--width must be between 600 and 4800, got 100/],
    [['--svg', '-o'], /-o needs a value/],
    [['--svg', '--frob'], /unknown option '--frob'/],
    [['--svg', 'a', 'b'], /more than one FILE/],
  ])('refuses %j with usage and exit status 2', async (argv, message) => {
    const result = await map(...argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('usage: drm-gpuvm map --svg');
  });
  it('names the file and line of a malformed trace', async () => {
    const bad = join(dir, 'bad.trace');
    writeFileSync(bad, 'vm 0x0 0x1000\nmap 0x0 zz sparse\n');
    const result = await map('--svg', bad);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad\.trace: line 2: /);
  });
  it('names the file and line of a malformed dump', async () => {
    const bad = join(dir, 'bad.dump');
    writeFileSync(bad, 'va 0x2000 0x1000 a 0x0\nva 0x1000 0x1000 a 0x0\n');
    const result = await map('--svg', bad);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad\.dump: line 2: .*address order/);
  });
  it('says when the output cannot be written, with exit status 1', async () => {
    const result = await map('--svg', CASE, '-o', join(dir, 'no-such-dir', 'x.svg'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot write .*x\.svg: ENOENT/);
  });
  it('says when the input cannot be read', async () => {
    const result = await map('--svg', join(dir, 'missing.trace'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read .*missing\.trace: ENOENT/);
  });
});
