// SPDX-License-Identifier: MIT
// The README-examples test's parser (test/support/readme-blocks.ts): which blocks run, how, and with what
// expected output; a marker it does not know fails instead of silently skipping a block.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readmeBlocks } from '../../support/readme-blocks.js';

const md = (...lines: string[]) => `${lines.join('\n')}\n`;

describe('readmeBlocks', () => {
  it('takes sh, ts and js blocks and leaves the others', () => {
    const blocks = readmeBlocks(md('```sh', 'echo a', '```', '```text', 'x', '```', '```ts', 'let a = 1;', '```', '```js', 'f();', '```', '```', 'plain', '```'));
    expect(blocks.map((b) => [b.line, b.lang])).toEqual([[1, 'sh'], [7, 'ts'], [10, 'js']]);
  });

  it('reads the marker before the fence, blank lines between allowed', () => {
    const [a, b] = readmeBlocks(md('<!-- readme-test: skip (needs a GPU; and a display) -->', '', '```sh', 'x', '```',
      '<!-- readme-test: vm; continues; files t.trace=test/fixtures/a.trace docs/b.trace -->', '```ts', 'x', '```'));
    expect(a!.skip).toBe('needs a GPU; and a display');
    expect(b).toMatchObject({ vm: true, continues: true, skip: undefined });
    expect([...b!.files]).toEqual([['t.trace', 'test/fixtures/a.trace'], ['docs/b.trace', 'docs/b.trace']]);
  });

  it('refuses an unknown marker, a skip without a reason, and vm on an sh block', () => {
    expect(() => readmeBlocks(md('<!-- readme-test: skp (x) -->', '```sh', 'x', '```'))).toThrow("unknown readme-test marker 'skp (x)'");
    expect(() => readmeBlocks(md('<!-- readme-test: skip -->', '```sh', 'x', '```'))).toThrow('unknown readme-test marker');
    expect(() => readmeBlocks(md('<!-- readme-test: vm -->', '```sh', 'x', '```'))).toThrow("'vm' and 'continues'");
  });

  it('host and vgpuvm widen a vm block to the host and the vgpuvm VM, and need vm', () => {
    const [b] = readmeBlocks(md('<!-- readme-test: vm; host; vgpuvm -->', '```ts', 'x', '```'));
    expect(b).toMatchObject({ vm: true, host: true, vgpuvm: true });
    expect(() => readmeBlocks(md('<!-- readme-test: host -->', '```ts', 'x', '```'))).toThrow("'host' and 'vgpuvm' go with 'vm'");
  });

  it('splits an sh block into commands; comments between commands describe, a trailing run is the last one\'s stdout', () => {
    const [b] = readmeBlocks(md('```sh', '# first', 'echo a', '# then', 'printf "b\\n" \\', '  | cat', '# b', '```'));
    expect(b!.commands).toEqual([
      { line: 3, text: 'echo a', stdout: undefined },
      { line: 5, text: 'printf "b\\n" \n  | cat', stdout: 'b\n' },
    ]);
  });

  it('finds every runnable block of the README, and a reason on each one it does not run', () => {
    const blocks = readmeBlocks(readFileSync(new URL('../../../README.md', import.meta.url), 'utf8'));
    expect(blocks.length).toBeGreaterThan(5);
    for (const b of blocks.filter((x) => x.skip !== undefined)) expect(b.skip!.length).toBeGreaterThan(10);
  });
});
