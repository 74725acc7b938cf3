// SPDX-License-Identifier: MIT
// The addon built from the sources the package ships, as on a machine the prebuilds do not fit (glibc older
// than 2.33, musl): `npm install --build-from-source` of the packed tarball in a fresh consumer project
// compiles build/Release/drm-gpuvm.node with node-gyp, and the package then loads that binary, not the
// prebuild. node-gyp gets the headers installed with this Node (--nodedir, as scripts/prebuild.mjs does), so
// the build needs no download.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { nativeSourceDigest } from '../../scripts/native-digest.mjs';
import { embeddedDigest } from '../../scripts/prebuild.mjs';
import { consumerEnv } from './consumer-setup.js';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const tarball = inject('tarball');
const work = mkdtempSync(join(tmpdir(), 'drm-gpuvm-from-source-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Uses the addon (a buffer of the first device, the software one where there is no DRM node, mapped and
// written), then prints the addon binaries the
// process has loaded.
const PROGRAM = `import { openDevice } from 'drm-gpuvm';
const device = openDevice();
const buffer = device.createBuffer(4096);
const mapping = buffer.map();
mapping.bytes.fill(7);
const sum = mapping.bytes.reduce((a, b) => a + b, 0);
mapping.unmap();
buffer.close();
device.close();
const loaded = process.report.getReport().sharedObjects.filter((path) => path.endsWith('.node'));
console.log(JSON.stringify({ sum, loaded }));
`;

describe('npm install --build-from-source of the packed package', () => {
  it('builds the addon from the shipped sources and loads that build, not the prebuild', () => {
    writeFileSync(join(work, 'package.json'), `${JSON.stringify({ name: 'drm-gpuvm-from-source', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
    const nodeDir = dirname(dirname(process.execPath));
    expect(existsSync(join(nodeDir, 'include', 'node', 'node_api.h')), `node headers under ${nodeDir}/include/node`).toBe(true);
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--build-from-source', `--nodedir=${nodeDir}`, tarball], { cwd: work, env: consumerEnv(), encoding: 'utf8' });
    expect({ status: install.status, stderr: install.status === 0 ? '' : install.stderr }).toEqual({ status: 0, stderr: '' });

    const pkg = join(work, 'node_modules', 'drm-gpuvm');
    const built = join(pkg, 'build', 'Release', 'drm-gpuvm.node');
    expect(existsSync(built)).toBe(true);
    // The build carries the digest of the sources it came from: the repository's, as the prebuilds do.
    expect(embeddedDigest(readFileSync(built))).toBe(nativeSourceDigest(repo));

    writeFileSync(join(work, 'use-addon.mjs'), PROGRAM);
    const use = spawnSync(process.execPath, ['use-addon.mjs'], { cwd: work, env: consumerEnv(), encoding: 'utf8' });
    expect({ status: use.status, stderr: use.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(use.stdout)).toEqual({ sum: 7 * 4096, loaded: [built] });
  }, 600_000);
});
