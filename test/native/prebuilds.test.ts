// SPDX-License-Identifier: MIT
// Every committed prebuild, of every architecture, carries the digest of the sources in this checkout. The
// digest is read from the binary's bytes (an arm64 binary cannot be loaded here); `npm run prebuild`
// refreshes them all, and CI's `node scripts/prebuild.mjs --check` also rebuilds them and compares bytes.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeSourceDigest } from '../../scripts/native-digest.mjs';
import { embeddedDigest, prebuildPath, TARGETS } from '../../scripts/prebuild.mjs';
import { packageRoot } from '../../lib/native.js';

const sources = nativeSourceDigest(packageRoot);

describe('committed prebuilds', () => {
  it('are exactly the architectures the prebuild script makes', () => {
    const dirs = readdirSync(join(packageRoot, 'prebuilds')).sort();
    expect(dirs).toEqual(Object.keys(TARGETS).map((arch) => `linux-${arch}`).sort());
  });

  for (const arch of Object.keys(TARGETS)) {
    it(`linux-${arch} carries the digest of binding.gyp and native/ in this checkout`, () => {
      const binary = readFileSync(prebuildPath(arch, packageRoot));
      expect(embeddedDigest(binary), 'stale prebuild: run npm run prebuild and commit prebuilds/').toBe(sources);
    });
  }

  it(`reads from the bytes the digest that the linux-${process.arch} prebuild reports when loaded`, () => {
    const path = prebuildPath(process.arch, packageRoot);
    const loaded = createRequire(import.meta.url)(path) as { sourceDigest: string };
    expect(embeddedDigest(readFileSync(path))).toBe(loaded.sourceDigest);
  });

  it('finds no digest in bytes that hold none, or two different ones', () => {
    const digest = (c: string) => `\0${c.repeat(64)}\0`;
    expect(embeddedDigest(Buffer.from('\0not a digest\0'))).toBeUndefined();
    expect(embeddedDigest(Buffer.from(digest('a') + digest('b')))).toBeUndefined();
    expect(embeddedDigest(Buffer.from(`x${digest('c')}${digest('c')}`))).toBe('c'.repeat(64));
  });
});
