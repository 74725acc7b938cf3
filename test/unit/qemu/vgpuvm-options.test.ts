// SPDX-License-Identifier: MIT
// vgpuvmModulesFor: which kernels vgpuvm can be built for (the option itself is read in lib/cli/vm.ts).
import { describe, expect, it } from 'vitest';
import { vgpuvmModulesFor } from '../../../lib/qemu/vgpuvm.js';

describe('vgpuvmModulesFor', () => {
  it.each([
    { kind: 'debian', suite: 'bookworm' } as const,
    { kind: 'path', path: '/boot' } as const,
  ])('refuses a kernel other than sid: %o', async (kernel) => {
    await expect(vgpuvmModulesFor(kernel, '/nonexistent-cache', () => {})).rejects.toMatchObject({ code: 'ERR_QEMU_USAGE' });
  });
});
