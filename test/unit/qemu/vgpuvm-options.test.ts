// SPDX-License-Identifier: MIT
// `drm-gpuvm vm --with-vgpuvm`: how the option is taken out of the arguments, and which kernels it accepts.
import { describe, expect, it } from 'vitest';
import { takeWithVgpuvm, vgpuvmModulesFor } from '../../../lib/qemu/vgpuvm.js';

describe('takeWithVgpuvm', () => {
  it.each([
    { argv: ['--kernel', 'sid', '--with-vgpuvm', '--', 'true'], withVgpuvm: true, rest: ['--kernel', 'sid', '--', 'true'] },
    { argv: ['--with-vgpuvm', '--kernel', 'sid', '--', 'true'], withVgpuvm: true, rest: ['--kernel', 'sid', '--', 'true'] },
    { argv: ['--kernel', 'sid', '--', 'true'], withVgpuvm: false, rest: ['--kernel', 'sid', '--', 'true'] },
    { argv: ['--', 'echo', '--with-vgpuvm'], withVgpuvm: false, rest: ['--', 'echo', '--with-vgpuvm'] },
    { argv: ['--with-vgpuvm'], withVgpuvm: true, rest: [] },
  ])('$argv -> $withVgpuvm, $rest', ({ argv, withVgpuvm, rest }) => {
    expect(takeWithVgpuvm(argv)).toEqual({ withVgpuvm, rest });
  });
});

describe('vgpuvmModulesFor', () => {
  it.each([
    { kind: 'debian', suite: 'bookworm' } as const,
    { kind: 'path', path: '/boot' } as const,
  ])('refuses a kernel other than sid: %o', async (kernel) => {
    await expect(vgpuvmModulesFor(kernel, '/nonexistent-cache', () => {})).rejects.toMatchObject({ code: 'ERR_QEMU_USAGE' });
  });
});
