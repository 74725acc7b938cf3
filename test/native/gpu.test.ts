// SPDX-License-Identifier: MIT
// openGpu on the software device: the object graph from device to VM to BO, the VA window backend over
// memfds, sharing, imports, refusals and close in any order with nothing leaked (test/support/gpu-scenarios.ts,
// which the guest suite runs on vgem and vgpuvm too).
import { describe, expect, it } from 'vitest';
import { openGpu, SoftwareDevice } from '../../lib/index.js';
import * as s from '../support/gpu-scenarios.js';

const open = () => openGpu('software');

describe('openGpu on the software device', () => {
  it('chooses the VA window backend from the driver name and says what it can do', () => {
    using gpu = open();
    const d = gpu.describe();
    expect(d).toMatchObject({ kind: 'software', driver: 'software', backend: 'va-window', sparse: { supported: true }, cpuVaAccess: { supported: true }, bindSyncobjs: { supported: false }, verified: 'host' });
    expect(d.pageSizes).toEqual([Number(s.PAGE)]);
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });

  it('has no GPU to run commands: vm.exec is refused (ERR_GPU_UNSUPPORTED, saying why) and nothing is held', async () => {
    using gpu = open();
    expect(gpu.describe()).toMatchObject({ jobs: { supported: true }, exec: { supported: false, how: expect.stringContaining('gpu.startJob') } });
    using vm = gpu.createVm({ policy: 'deferred', range: 1n << 32n });
    await expect(vm.exec([{ op: 'fill', dst: 0n, size: 8n, value: 1n }])).rejects.toMatchObject({ name: 'GpuError', code: 'ERR_GPU_UNSUPPORTED', message: expect.stringContaining('software device') });
    // Argument checks come first, with typed errors, whatever the device.
    await expect(vm.exec([], { name: 7 as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(vm.exec([], { after: {} as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(gpu.resources()).toMatchObject({ jobs: 0 });
  });

  it('openGpu() with no DRM node usable here falls back to it (or opens a DRM node with a backend)', () => {
    using gpu = openGpu();
    expect(['va-window', 'vgpuvm-vm-bind', 'xe-vm-bind', 'nouveau-vm-bind', 'panthor-vm-bind', 'msm-vm-bind', 'amdgpu-vm-bind']).toContain(gpu.backend);
  });

  it('refuses a path that is not a string and a node that is not a DRM device', () => {
    expect(() => openGpu(42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => openGpu('/dev/null')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('maps, writes and reads back through the VM', () => s.mapWriteRead(open));
  it('a BO mapped in two VMs is one memory', () => s.sharedAcrossVms(open));
  it('closes in every order, leaking nothing', () => s.anyCloseOrder(open));
  it('a closed BO lives while mapped and goes with its last unmap', () => s.closedBoLivesWhileMapped(open));
  it('refuses foreign, plain and other VMs\' private BOs', () => s.refusals(open));
  it('imports another Gpu\'s export as an external BO', () => s.importAcrossGpus(open));
  it('imports a dma-buf (a memfd) of a plain software device as an external BO, an extobj of each VM', () => s.importsForeignDmaBuf(open, () => new SoftwareDevice()));
  it('a Gpu in another process imports a dma-buf (a memfd) of this one', () => s.importsDmaBufOfAnotherProcess('software', () => new SoftwareDevice()), 60_000);
  it('a held reference: vm.close refuses, gpu.close releases all and says so', () => s.referenceHeldAtClose(open));
  it('a job (software fence) gates unmap and close; aborted waits change nothing', () => s.jobGatesUnmapAndClose(open));
});
