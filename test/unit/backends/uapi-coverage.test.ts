// SPDX-License-Identifier: MIT
// The ABI test (test/native/abi-uapi.test.ts, on x64 and aarch64 headers alike) checks the facts each
// driver's DriverUapi lists. This keeps those lists complete: every ioctl an encoder of a hardware driver
// emits, BO and VM creation included, is one its DriverUapi lists, with the struct it lists for it; the sync
// structs of the bind arrays are listed too, and every constant the creation and sync encoders write is a
// listed fact.
import { describe, expect, it } from 'vitest';
import { AMDGPU, AMDGPU_UAPI, amdgpuGemCreate, amdgpuGemVa, type AmdgpuVm } from '../../../lib/backends/amdgpu.js';
import type { DriverUapi } from '../../../lib/backends/driver-uapi.js';
import type { IoctlCall } from '../../../lib/backends/ioctl-call.js';
import { MSM, MSM_SYNCOBJ, MSM_UAPI, msmBindQueueNew, msmEnableVmBind, msmGemNew, msmQueueClose, msmVmBind, type MsmVm } from '../../../lib/backends/msm.js';
import { NOUVEAU, NOUVEAU_SYNC, NOUVEAU_UAPI, nouveauGemNew, nouveauVmBind, nouveauVmInit, type NouveauVm } from '../../../lib/backends/nouveau.js';
import { PANTHOR, PANTHOR_SYNC_OP, PANTHOR_UAPI, panthorBoCreate, panthorVmBind, panthorVmCreate, panthorVmDestroy, type PanthorVm } from '../../../lib/backends/panthor.js';
import { XE, XE_SYNC, XE_UAPI, xeGemCreate, xeVmBind, xeVmCreate, xeVmDestroy, type XeVm } from '../../../lib/backends/xe.js';
import { A, handleOf, map } from './layout-bytes.js';

const rules = { pageSize: 0x1000n, vaStart: 0x1_0000_0000n, vaEnd: 0x2_0000_0000n };
const bindOps = [map(0x1_0000_0000, 0x1000, A)];
const syncs = { waits: [{ handle: 1 }], signals: [{ handle: 2, point: 3n }] };

/** Per driver: its uAPI list and a call of every encoder it has (creation first, then a bind with syncs). */
const ENCODERS: readonly (readonly [DriverUapi, readonly IoctlCall[]])[] = [
  [XE_UAPI, [
    xeVmCreate(XE.DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE), xeVmDestroy(1),
    xeGemCreate({ size: 0x1000n, placement: 1, cpuCaching: XE.DRM_XE_GEM_CPU_CACHING_WB, vmId: 1, flags: XE.DRM_XE_GEM_CREATE_FLAG_DEFER_BACKING }),
    ...xeVmBind({ vmId: 1, patIndex: 0, rules, handleOf } satisfies XeVm, bindOps, syncs),
  ]],
  [MSM_UAPI, [
    msmEnableVmBind(), msmBindQueueNew(), msmQueueClose(1), msmGemNew(0x1000n, MSM.MSM_BO_WC, true),
    ...msmVmBind({ queueId: 1, hasPrr: true, rules, handleOf } satisfies MsmVm, bindOps, syncs),
  ]],
  [PANTHOR_UAPI, [
    panthorVmCreate(1n << 32n), panthorVmDestroy(1), panthorBoCreate({ size: 0x1000n, flags: PANTHOR.DRM_PANTHOR_BO_NO_MMAP, exclusiveVmId: 1 }),
    ...panthorVmBind({ vmId: 1, rules, handleOf } satisfies PanthorVm, bindOps, syncs),
  ]],
  [NOUVEAU_UAPI, [
    nouveauVmInit({ addr: 0n, size: 1n << 32n }), nouveauGemNew({ size: 0x1000n, domain: NOUVEAU.NOUVEAU_GEM_DOMAIN_VRAM, vmPrivate: true }),
    ...nouveauVmBind({ rules, kernel: { addr: 0n, size: 1n << 32n }, handleOf } satisfies NouveauVm, bindOps, syncs),
  ]],
  [AMDGPU_UAPI, [
    amdgpuGemCreate({ size: 0x1000n, alignment: 0x1000n, domains: AMDGPU.AMDGPU_GEM_DOMAIN_VRAM, vmPrivate: true }),
    ...amdgpuGemVa({ rules, handleOf } satisfies AmdgpuVm, bindOps),
  ]],
];

describe('every encoding the hardware backends emit is one the ABI test checks', () => {
  it.each(ENCODERS.map(([uapi, calls]) => [uapi.header, uapi, calls] as const))('%s', (_header, uapi, calls) => {
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(uapi.ioctls, `${call.ioctl.name} is listed`).toContain(call.ioctl);
      expect(uapi.structs, `${call.ioctl.struct.cType} of ${call.ioctl.name} is listed`).toContain(call.ioctl.struct);
    }
  });

  it.each(([
    [XE_UAPI, XE_SYNC, ['DRM_XE_SYNC_TYPE_SYNCOBJ', 'DRM_XE_SYNC_TYPE_TIMELINE_SYNCOBJ', 'DRM_XE_SYNC_FLAG_SIGNAL']],
    [MSM_UAPI, MSM_SYNCOBJ, []],
    [PANTHOR_UAPI, PANTHOR_SYNC_OP, ['DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ', 'DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ', 'DRM_PANTHOR_SYNC_OP_SIGNAL', 'DRM_PANTHOR_VM_BIND_ASYNC']],
    [NOUVEAU_UAPI, NOUVEAU_SYNC, ['DRM_NOUVEAU_SYNC_SYNCOBJ', 'DRM_NOUVEAU_SYNC_TIMELINE_SYNCOBJ', 'DRM_NOUVEAU_VM_BIND_RUN_ASYNC']],
  ] as const).map(([uapi, struct, constants]) => [uapi.header, uapi, struct, constants] as const))('%s: the sync struct of its bind arrays and the sync constants are listed facts', (_header, uapi, struct, constants) => {
    expect(uapi.structs).toContain(struct);
    for (const name of constants) expect(uapi.constants, name).toHaveProperty(name);
  });

  it('the VM-private BO flags are listed facts of their headers', () => {
    expect(MSM_UAPI.constants).toHaveProperty('MSM_BO_NO_SHARE', 0x4);
    expect(NOUVEAU_UAPI.constants).toHaveProperty('NOUVEAU_GEM_DOMAIN_NO_SHARE', 1 << 5);
    expect(AMDGPU_UAPI.constants).toHaveProperty('AMDGPU_GEM_CREATE_VM_ALWAYS_VALID', 1 << 6);
  });
});
