// SPDX-License-Identifier: MIT
// The drm-gpuvm command as a user meets it: --version, the command list, every subcommand's --help (exit 0),
// the same refusal of an unknown option or a missing value in every subcommand (exit 2, with the usage), and
// the shape of each --json result.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../lib/cli/main.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const scratch = mkdtempSync(join(tmpdir(), 'cli-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const SUBCOMMANDS = ['info', 'demo', 'trace', 'trace-gen', 'map', 'stress', 'vm'];

function capture(stream: NodeJS.WriteStream): { text: () => string } {
  const chunks: string[] = [];
  vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return { text: () => chunks.join('') };
}

describe('drm-gpuvm', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('lists every subcommand in its usage', async () => {
    const out = capture(process.stdout);
    expect(await main(['--help'])).toBe(0);
    for (const name of SUBCOMMANDS) expect(out.text()).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it.each(SUBCOMMANDS)('%s --help prints its usage and exits 0', async (name) => {
    const out = capture(process.stdout);
    expect(await main([name, '--help'])).toBe(0);
    expect(out.text()).toContain(`usage: drm-gpuvm ${name}`);
  });

  it.each(SUBCOMMANDS)('%s refuses an unknown option with exit 2', async (name) => {
    capture(process.stdout);
    const err = capture(process.stderr);
    expect(await main([name, '--no-such-option'])).toBe(2);
    expect(err.text()).not.toBe('');
  });

  it('refuses an unknown subcommand with exit 2', async () => {
    capture(process.stdout);
    const err = capture(process.stderr);
    expect(await main(['frobnicate'])).toBe(2);
    expect(err.text()).toContain("unknown command 'frobnicate'");
  });

  it.each([['--version'], ['-V']])('%s prints the version', async (flag) => {
    const out = capture(process.stdout);
    expect(await main([flag])).toBe(0);
    expect(out.text()).toBe(`${VERSION}\n`);
  });

  it.each([[[]], [['help']]])('%j lists the commands, exit 0', async (argv) => {
    const out = capture(process.stdout);
    expect(await main(argv)).toBe(0);
    for (const name of SUBCOMMANDS) expect(out.text()).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it('help COMMAND prints that command\'s usage', async () => {
    const out = capture(process.stdout);
    expect(await main(['help', 'trace-gen'])).toBe(0);
    expect(out.text()).toContain('usage: drm-gpuvm trace-gen');
  });

  it.each(SUBCOMMANDS)('%s words an unknown option the same way and prints its usage', async (name) => {
    capture(process.stdout);
    const err = capture(process.stderr);
    expect(await main([name, '--no-such-option'])).toBe(2);
    expect(err.text()).toMatch(new RegExp(`^drm-gpuvm ${name}: unknown option '--no-such-option'\nusage: drm-gpuvm ${name}`));
  });

  it.each([
    ['trace-gen', '--seed'], ['stress', '--policy'], ['demo', '--device'], ['map', '--width'], ['vm', '--kernel'],
  ])('%s %s with no value: the same wording', async (name, option) => {
    capture(process.stdout);
    const err = capture(process.stderr);
    expect(await main([name, option])).toBe(2);
    expect(err.text()).toMatch(new RegExp(`^drm-gpuvm ${name}: ${option} needs a value\n`));
  });

  it('vm --kernel with a path that does not exist is a usage error (2), before any VM', async () => {
    capture(process.stdout);
    const err = capture(process.stderr);
    expect(await main(['vm', '--kernel', 'nosuch', '--', 'true'])).toBe(2);
    expect(err.text()).toMatch(/^drm-gpuvm vm: --kernel nosuch: neither bookworm nor sid, and there is no .*nosuch\n/);
  });

  it('vm --kernel with a file is a usage error too', async () => {
    capture(process.stdout);
    const file = join(scratch, 'not-a-dir');
    writeFileSync(file, '');
    expect(await main(['vm', '--kernel', file, '--', 'true'])).toBe(2);
  });

  it('stress --json prints one JSON object with the documented fields', async () => {
    const out = capture(process.stdout);
    expect(await main(['stress', '--policy', 'deferred', '--tasks', '2', '--ops', '20', '--json'])).toBe(0);
    expect(out.text().endsWith('\n')).toBe(true);
    expect(out.text().trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(out.text())).toEqual({
      ok: true, policy: 'deferred', tasks: 2, ops: 20, seed: 1, bos: 8, resvProtected: false,
      deadlocks: 0, violations: 0, violationMessages: [], misuseDetected: expect.any(Number), misuseInjected: expect.any(Number),
      opsPerSecond: expect.any(Number), elapsedMs: expect.any(Number),
      locks: { acquisitions: expect.any(Number), contended: expect.any(Number), waitMs: expect.any(Number), backoffs: expect.any(Number) },
    });
  });

  it('trace --time --json prints one JSON object with the documented fields', async () => {
    const file = join(scratch, 't.trace');
    writeFileSync(file, 'vm 0x0 0x100000 reserve 0x0 0x1000\nbo a 0x10000\nmap 0x1000 0x2000 a 0x0\ndump\nmap 0x2000 0x1000 sparse\nunmap 0x0 0x1\n');
    const out = capture(process.stdout);
    expect(await main(['trace', '--time', '--json', file])).toBe(0);
    expect(JSON.parse(out.text())).toEqual({
      requests: 3, totalMs: expect.any(Number), nsPerRequest: expect.any(Number), ops: { map: 2, remap: 1, unmap: 0 }, finalMappings: 2,
    });
  });

  it.each([
    [['trace', '--json'], '--json applies only to --time'],
    [['trace', '--kernel', '--time'], '--kernel and --time do not go together'],
    [['demo', '--json'], '--json applies only to --backend window'],
    [['demo', '--backend', 'other'], "--backend must be one of window, got 'other'"],
    [['vm', '--json', '--', 'true'], '--json applies only to --status'],
  ])('%j: --json where it does not apply is refused', async (argv, message) => {
    capture(process.stdout);
    const err = capture(process.stderr);
    expect(await main(argv)).toBe(2);
    expect(err.text()).toContain(message);
  });

  it('demo --backend window --json prints one JSON object with the documented fields (software device)', async () => {
    const out = capture(process.stdout);
    const code = await main(['demo', '--backend', 'window', '--requests', '10', '--json']);
    const result = JSON.parse(out.text()) as Record<string, unknown>;
    expect(result).toEqual({
      ok: true, device: expect.any(String), driver: expect.any(String), seed: 1, requests: 10,
      refused: expect.any(Number), pagesChecked: 640, mismatches: 0, memory: expect.any(String),
    });
    expect(code).toBe(0);
  });

  it('info --json prints one JSON object with a nodes list', async () => {
    const out = capture(process.stdout);
    expect(await main(['info', '--json'])).toBe(0);
    expect(JSON.parse(out.text())).toEqual({ nodes: expect.any(Array), software: expect.objectContaining({ backend: 'va-window', driver: 'software' }) });
  });
});
