// SPDX-License-Identifier: MIT
// Prints the SHA-256 of the addon's sources (binding.gyp and native/*.cc, *.h, in name order). The build bakes
// it into the binary and test/native/digest.test.ts compares it with the sources, so a stale prebuild is caught.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The hex digest of the addon sources under `root`. */
export function nativeSourceDigest(root) {
  const hash = createHash('sha256');
  const files = ['binding.gyp', ...readdirSync(join(root, 'native'))
    .filter((name) => name.endsWith('.cc') || name.endsWith('.h'))
    .sort()
    .map((name) => `native/${name}`)];
  for (const file of files) {
    // Names and contents both count; line endings are normalised so a checkout on any system agrees.
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(root, file), 'utf8').replace(/\r\n/g, '\n'));
    hash.update('\0');
  }
  return hash.digest('hex');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(nativeSourceDigest(fileURLToPath(new URL('..', import.meta.url))));
}
