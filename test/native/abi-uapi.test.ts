// SPDX-License-Identifier: MIT
// ABI proof: every struct size, field offset and width, ioctl number and constant the kernel backends encode
// is compiled from Debian sid's linux-libc-dev (the newest released uAPI headers) and compared with our
// tables, on x86-64 and on arm64 (cross-compiled, read from the object file). Needs network access to
// Debian, gcc and gcc-aarch64-linux-gnu; if the headers cannot be fetched the suite says so and is
// skipped, except under CI, where it fails.
import { describe, expect, it } from 'vitest';
import { AMDGPU_UAPI } from '../../lib/backends/amdgpu.js';
import { MSM_UAPI } from '../../lib/backends/msm.js';
import { NOUVEAU_UAPI } from '../../lib/backends/nouveau.js';
import { PANTHOR_UAPI } from '../../lib/backends/panthor.js';
import { defineStruct } from '../../lib/backends/uapi-struct.js';
import { XE_UAPI } from '../../lib/backends/xe.js';
import { sidUapiHeadersForSuite } from '../abi/sid-uapi-headers.js';
import { headerFacts, tableFacts } from '../abi/uapi-probe.js';

const UAPIS = [XE_UAPI, NOUVEAU_UAPI, PANTHOR_UAPI, MSM_UAPI, AMDGPU_UAPI];

const { headers, unavailable } = sidUapiHeadersForSuite(process.cwd(), 'ABI CHECK');

describe('uAPI headers', () => {
  it.runIf(process.env.CI !== undefined)('are fetched in CI', () => {
    expect(unavailable).toBe('');
  });
});

describe.runIf(headers !== undefined)(`kernel backend layouts against sid linux-libc-dev ${headers?.version ?? ''}`, () => {
  // The same tables serve both architectures, so every fact must hold for each: the arm64 probe is
  // cross-compiled with Debian's aarch64 gcc against the arm64 asm headers linux-libc-dev ships.
  for (const arch of ['x64', 'arm64'] as const) {
    describe(arch, () => {
      it('reports a table that disagrees with the header (the check can fail)', () => {
        const wrong = {
          ...MSM_UAPI,
          structs: [defineStruct('struct drm_msm_vm_bind_op', 40, { iova: [8, 'u64'] })],
          ioctls: [], constants: { MSM_PARAM_EN_VM_BIND: 0x15 },
        };
        const probed = headerFacts([wrong], headers!.include, arch);
        const mismatches = [...tableFacts([wrong])].filter(([key, value]) => probed.get(key) !== value).map(([key]) => key);
        expect(mismatches).toEqual(['offset struct drm_msm_vm_bind_op.iova', 'const MSM_PARAM_EN_VM_BIND']);
      });

      const fromHeaders = headers === undefined ? new Map<string, bigint>() : headerFacts(UAPIS, headers.include, arch);
      for (const uapi of UAPIS) {
        const ours = tableFacts([uapi]);
        it(`${uapi.header}: ${ours.size} facts match`, () => {
          const mismatches = [...ours].filter(([key, value]) => fromHeaders.get(key) !== value)
            .map(([key, value]) => `${key}: ours ${value}, header ${fromHeaders.get(key)}`);
          expect(mismatches).toEqual([]);
        });
      }
    });
  }
});
