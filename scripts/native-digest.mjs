// SPDX-License-Identifier: MIT
// Prints the SHA-256 of what the addon is built from: binding.gyp, the native/*.cc files it lists, and the
// headers those include (followed transitively), in name order. The build bakes it into the binary and
// test/native/digest.test.ts compares it with the sources, so a stale prebuild is caught. A file in
// native/ that the build does not use (someone's work in progress) does not change the digest.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The files under `root` that the addon's build reads, relative paths in name order. */
export function nativeSourceFiles(root) {
  const gyp = readFileSync(join(root, 'binding.gyp'), 'utf8');
  const pending = [...gyp.matchAll(/"(native\/[^"]+\.cc)"/g)].map((m) => m[1]);
  const seen = new Set();
  while (pending.length > 0) {
    const file = pending.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(join(root, file), 'utf8').matchAll(/^#include "([^"]+)"/gm)) {
      const header = `native/${m[1]}`;
      if (existsSync(join(root, header))) pending.push(header);
    }
  }
  return ['binding.gyp', ...[...seen].sort()];
}

/** The hex digest of the addon sources under `root`. */
export function nativeSourceDigest(root) {
  const hash = createHash('sha256');
  for (const file of nativeSourceFiles(root)) {
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
