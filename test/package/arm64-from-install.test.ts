// SPDX-License-Identifier: MIT
// The arm64 prebuild from an install: in a consumer project with the packed tarball, `npx drm-gpuvm vm
// --arch arm64` runs arm64 Node (the guest's own, from Debian) on an arm64 kernel, and the package opens the
// vgem device there with the committed linux-arm64 prebuild: no compiler in the guest, no build from source.
import { spawnSync } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { consumerEnv } from './consumer-setup.js';

const consumer = inject('consumer');

describe('the arm64 prebuild from an installed package', () => {
  it('opens /dev/dri/card0 in `npx drm-gpuvm vm --arch arm64` and reads vgem, through prebuilds/linux-arm64', () => {
    const script = [
      "import { createRequire } from 'node:module';",
      "import { openDevice } from 'drm-gpuvm';",
      "const d = openDevice('/dev/dri/card0');",
      'console.log(d.driver, process.arch);',
      'd.close();',
      "console.log(createRequire(import.meta.url)('node-gyp-build').resolve('node_modules/drm-gpuvm'));",
    ].join(' ');
    // A compiler in the guest would make "the prebuild loaded" an open question: there must be none.
    const noCompiler = 'for c in cc gcc g++ c++ clang make; do if command -v $c; then exit 9; fi; done';
    const r = spawnSync('npx', ['drm-gpuvm', 'vm', '--arch', 'arm64', '--', 'sh', '-c', `${noCompiler}; exec node --input-type=module -e "$0"`, script], {
      cwd: consumer, env: { ...consumerEnv(), NO_COLOR: '1' }, encoding: 'utf8',
    });
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    const [device, loaded] = r.stdout.trim().split('\n');
    expect(device).toBe('vgem arm64');
    expect(loaded).toBe(`${consumer}/node_modules/drm-gpuvm/prebuilds/linux-arm64/drm-gpuvm.glibc.node`);
  }, 600_000);
});
