// SPDX-License-Identifier: MIT
// ABI proof for the vgpuvm backend: every struct size, field offset and width, ioctl number and constant of
// lib/backends/vgpuvm.ts compiled from kmod/vgpuvm/vgpuvm_drm.h (which includes the kernel's drm/drm.h, taken
// from Debian sid's linux-libc-dev like the other backends' ABI test) and compared with our tables.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VGPUVM_UAPI } from '../../lib/backends/vgpuvm.js';
import { defineStruct } from '../../lib/backends/uapi-struct.js';
import { sidUapiHeadersForSuite } from '../abi/sid-uapi-headers.js';
import { headerFacts, tableFacts } from '../abi/uapi-probe.js';

// The probe includes <header>; an absolute path names our header wherever the checkout is.
const UAPI = { ...VGPUVM_UAPI, header: fileURLToPath(new URL('../../kmod/vgpuvm/vgpuvm_drm.h', import.meta.url)) };

const { headers, unavailable } = sidUapiHeadersForSuite(process.cwd(), 'VGPUVM ABI CHECK');

describe('uAPI headers for the vgpuvm ABI check', () => {
  it.runIf(process.env.CI !== undefined)('are fetched in CI', () => {
    expect(unavailable).toBe('');
  });
});

describe.runIf(headers !== undefined)('vgpuvm backend layouts against kmod/vgpuvm/vgpuvm_drm.h', () => {
  it('reports a table that disagrees with the header (the check can fail)', () => {
    const wrong = { ...UAPI, structs: [defineStruct('struct drm_vgpuvm_bind_op', 40, { addr: [8, 'u64'] })], ioctls: [], constants: { DRM_VGPUVM_BIND_SPARSE: 2 } };
    const probed = headerFacts([wrong], headers!.include);
    const mismatches = [...tableFacts([wrong])].filter(([key, value]) => probed.get(key) !== value).map(([key]) => key);
    expect(mismatches).toEqual(['offset struct drm_vgpuvm_bind_op.addr', 'const DRM_VGPUVM_BIND_SPARSE']);
  });

  it('every struct, field, ioctl number and constant matches', () => {
    const ours = tableFacts([UAPI]);
    const probed = headerFacts([UAPI], headers!.include);
    const mismatches = [...ours].filter(([key, value]) => probed.get(key) !== value).map(([key, value]) => `${key}: ours ${value}, header ${probed.get(key)}`);
    expect(mismatches).toEqual([]);
    expect(ours.size).toBeGreaterThan(60);
  });
});
