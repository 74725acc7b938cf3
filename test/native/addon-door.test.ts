// SPDX-License-Identifier: MIT
// One door to the addon: only lib/drm and lib/native.ts import lib/native.ts, lib/native-types.ts or the
// addon loader, so every native call goes through the device layer's argument checks and error mapping.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, LIB, libFiles, ROOT, target } from '../support/lib-imports.js';

const ADDON_MODULES = new Set(['lib/native.ts', 'lib/native-types.ts']);

describe('the addon has one door', () => {
  const files = libFiles();

  it('finds the imports it checks (the scan is not vacuous)', () => {
    const drmDevice = files.find((f) => f.endsWith('lib/drm/drm-device.ts'))!;
    expect(importsOf(drmDevice).map((s) => target(drmDevice, s))).toContain('lib/native.ts');
  });

  it('no file outside lib/drm and lib/native.ts imports the addon, its types or its loader', () => {
    const offenders: string[] = [];
    for (const file of files) {
      const from = relative(ROOT, file);
      if (from.startsWith('lib/drm/') || from === 'lib/native.ts') continue;
      for (const specifier of importsOf(file)) {
        const to = target(file, specifier);
        if (ADDON_MODULES.has(to) || to === 'node-gyp-build' || to.endsWith('.node')) offenders.push(`${from} imports ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('declares every function the addon exports once, in lib/native-types.ts', async () => {
    const { native } = await import('../../lib/native.js');
    const declared = readFileSync(join(LIB, 'native-types.ts'), 'utf8');
    const body = declared.slice(declared.indexOf('export interface NativeBinding'));
    const missing = Object.keys(native()).filter((name) => !new RegExp(`\\n\\s+(?:readonly )?${name}[(:]`).test(body));
    expect(missing).toEqual([]);
  });
});
