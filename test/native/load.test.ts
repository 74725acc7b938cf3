// SPDX-License-Identifier: MIT
// When the addon cannot be loaded, the error says what was looked for, what was tried and how to build.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBinding } from '../../lib/native.js';

describe('loading the addon', () => {
  it('fails with ERR_DRM_NATIVE_LOAD naming the platform, libc, the places tried and the build command', () => {
    const empty = mkdtempSync(join(tmpdir(), 'drm-gpuvm-noaddon-'));
    try {
      expect(() => loadBinding(empty)).toThrow(expect.objectContaining({ code: 'ERR_DRM_NATIVE_LOAD' }));
      let message = '';
      try {
        loadBinding(empty);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(`${process.platform}-${process.arch}`);
      expect(message).toMatch(/glibc \d+\.\d+/);
      expect(message).toContain(join(empty, 'build', 'Release', 'drm-gpuvm.node'));
      expect(message).toContain(join(empty, 'prebuilds', `${process.platform}-${process.arch}`));
      expect(message).toContain('npx node-gyp rebuild');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
