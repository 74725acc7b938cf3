// SPDX-License-Identifier: MIT
// The addon carries the digest of the sources it was built from. A binary that disagrees with the
// sources in this checkout is stale: rebuild it (npm run build:native) or refresh the prebuild
// (npm run prebuildify) and commit prebuilds/.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeSourceDigest } from '../../scripts/native-digest.mjs';
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
