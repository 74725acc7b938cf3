// SPDX-License-Identifier: MIT
// The addon carries the digest of the sources it was built from. A binary that disagrees with the
// sources in this checkout is stale: rebuild it (npm run build:native) or refresh the prebuild
// (npm run prebuildify) and commit prebuilds/.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeSourceDigest, nativeSourceFiles } from '../../scripts/native-digest.mjs';
import { native, packageRoot } from '../../lib/native.js';

const sources = nativeSourceDigest(packageRoot);
const prebuild = join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'drm-gpuvm.glibc.node');

describe('native source digest', () => {
  it('of the loaded addon matches binding.gyp and native/ in this checkout', () => {
    expect(native().sourceDigest).toBe(sources);
  });

  it('of the committed prebuild matches binding.gyp and native/ in this checkout', () => {
    expect(existsSync(prebuild), `${prebuild} is missing: run npm run prebuildify`).toBe(true);
    const binding = createRequire(import.meta.url)(prebuild) as { sourceDigest: string };
    expect(binding.sourceDigest, 'the prebuild is stale: run npm run prebuildify and commit prebuilds/').toBe(sources);
  });
});

describe('what the digest covers', () => {
  function copyOfSources(): string {
    const dir = mkdtempSync(join(tmpdir(), 'drm-gpuvm-digest-'));
    mkdirSync(join(dir, 'native'));
    for (const file of nativeSourceFiles(packageRoot)) cpSync(join(packageRoot, file), join(dir, file));
    return dir;
  }

  it('ignores a file in native/ that the build does not list', () => {
    const dir = copyOfSources();
    try {
      writeFileSync(join(dir, 'native', 'work_in_progress.cc'), '// not built\n');
      expect(nativeSourceDigest(dir)).toBe(sources);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('changes when a header that a built file includes changes', () => {
    const dir = copyOfSources();
    try {
      writeFileSync(join(dir, 'native', 'ioctl.h'), '// changed\n', { flag: 'a' });
      expect(nativeSourceDigest(dir)).not.toBe(sources);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
