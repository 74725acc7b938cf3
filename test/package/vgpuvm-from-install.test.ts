// SPDX-License-Identifier: MIT
// vgpuvm from an install: in a consumer project with the packed tarball, `drm-gpuvm vm --with-vgpuvm` builds
// the module from the sources the package ships (kmod/vgpuvm/), and `drm-gpuvm trace --kernel` inside that VM
// replays a trace through the kernel's own drm_gpuvm, printing the same bytes as the model on the host.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { consumerEnv } from './consumer-setup.js';

const consumer = inject('consumer');

function npx(args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync('npx', args, { cwd: consumer, env: { ...consumerEnv(), NO_COLOR: '1' }, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

describe('drm-gpuvm trace --kernel from an installed package', () => {
  it('gives the same bytes inside `vm --kernel sid --with-vgpuvm` as the model on the host', () => {
    // A seeded mixed stream: overlapping requests, keep=1, sparse, u64-edge errors, dumps.
    const gen = npx(['drm-gpuvm', 'trace-gen', '--seed', '7', '--requests', '400']);
    expect(gen.status).toBe(0);
    const trace = join(consumer, 'some.trace');
    writeFileSync(trace, gen.stdout);
    const model = npx(['drm-gpuvm', 'trace', 'some.trace']);
    expect(model.status).toBe(0);
    const kernel = npx(['drm-gpuvm', 'vm', '--kernel', 'sid', '--with-vgpuvm', '--', 'npx', 'drm-gpuvm', 'trace', '--kernel', 'some.trace']);
    expect({ status: kernel.status, stderr: kernel.status === 0 ? '' : kernel.stderr }).toEqual({ status: 0, stderr: '' });
    expect(model.stdout.length).toBeGreaterThan(10_000);
    expect(kernel.stdout.toString('latin1')).toBe(model.stdout.toString('latin1'));
    expect(kernel.stdout.equals(model.stdout)).toBe(true);
  }, 1_200_000);
});
