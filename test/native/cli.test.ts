// SPDX-License-Identifier: MIT
// The drm-gpuvm command as a user meets it: every subcommand answers --help with its usage (exit 0), refuses
// an unknown option with exit 2, and an unknown subcommand is refused too.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../lib/cli/main.js';

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
});
