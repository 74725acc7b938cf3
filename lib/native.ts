// SPDX-License-Identifier: MIT
// Loads the C++ addon once. node-gyp-build looks in build/Release (a local build) and then in
// prebuilds/<platform>-<arch>/ (the committed prebuild); a failure says what was looked for and how to
// build from source. This file sits at the same depth in lib/ and dist/, so '..' is the package root.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import load from 'node-gyp-build';
import type { NativeBinding } from './native-types.js';

/** The package root (where binding.gyp and prebuilds/ are). */
export const packageRoot = fileURLToPath(new URL('..', import.meta.url));

let binding: NativeBinding | undefined;

/** The addon, loaded on first use. Throws an Error with code ERR_DRM_NATIVE_LOAD when it cannot be. */
export function native(): NativeBinding {
  binding ??= loadBinding();
  return binding;
}

function libc(): string {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime !== undefined ? `glibc ${report.header.glibcVersionRuntime}` : 'musl or unknown libc';
}

/** @internal Loads the addon from `root` (a package root); native() is the way in. */
export function loadBinding(root: string = packageRoot): NativeBinding {
  try {
    return load(root) as NativeBinding;
  } catch (cause) {
    const prebuildDir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
    const found = existsSync(prebuildDir) ? readdirSync(prebuildDir).join(', ') || 'none' : 'no such folder';
    const lines = [
      `drm-gpuvm: cannot load the native addon for ${process.platform}-${process.arch} (${libc()}, Node ${process.version}, N-API 8).`,
      `  tried: ${join(root, 'build', 'Release', 'drm-gpuvm.node')} (a local build)`,
      `  tried: ${prebuildDir}/ (prebuilds there: ${found})`,
      `  cause: ${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}`,
      '  to build from source: install g++, make and python3 (Debian: apt-get install g++ make python3),',
      '  then run `npx node-gyp rebuild` in the package folder. drm-gpuvm supports Linux only.',
    ];
    const error = new Error(lines.join('\n'), { cause });
    (error as NodeJS.ErrnoException).code = 'ERR_DRM_NATIVE_LOAD';
    throw error;
  }
}
