// SPDX-License-Identifier: MIT
// openGpu inside `drm-gpuvm vm`: on vgem (both kernels: the VA window backend over vgem memory, real vgem
// fences as jobs) and on the vgpuvm module (sid with --with-vgpuvm: binds through the kernel's drm_gpuvm),
// the same checks as on the host's software device (test/support/gpu-scenarios.ts), with fds, GEM handles
// and, on vgpuvm, the module's live VM and BO counts equal before and after.
import { describe, expect, it } from 'vitest';
import { issueIoctlCall } from '../../lib/backends/ioctl-call.js';
import { backendFor } from '../../lib/backends/kernel-backend-catalogue.js';
import { readVgpuvmField, vgpuvmStats } from '../../lib/backends/vgpuvm.js';
import { DrmDevice } from '../../lib/drm/drm-device.js';
import { openGpu } from '../../lib/gpu/open-gpu.js';
import { findVgpuvm } from '../../lib/qemu/vgpuvm.js';
import { gpuProperty } from '../support/gpu-property.js';
import * as s from '../support/gpu-scenarios.js';
import { findVgem, reportNotRun } from './vgem-node.js';

const vgem = findVgem();
reportNotRun('gpu (vgem)', vgem);
const vgpuvm = await findVgpuvm();
if (!vgpuvm.ready) process.stderr.write(`gpu (vgpuvm): NOT RUN (skipped, not passed): ${vgpuvm.reason}\n`);

// Generous: under TCG a vgem fault takes milliseconds, and every check maps and unmaps dozens of times.
describe.skipIf(!vgem.ready)('openGpu on vgem', { timeout: 120_000 }, () => {
  const open = () => openGpu(vgem.ready ? vgem.card : '');

  it('chooses the VA window backend from the driver name, over memory the probe chose', () => {
    using gpu = open();
    expect(gpu.describe()).toMatchObject({ driver: 'vgem', backend: 'va-window', cpuVaAccess: { supported: true }, jobs: { supported: true }, bindSyncobjs: { supported: false }, verified: 'kernel-in-vm' });
  });

  it('openGpu() finds a node (vgpuvm first where it is loaded, else vgem)', () => {
    using gpu = openGpu();
    expect(gpu.driver).toBe(vgpuvm.ready ? 'vgpuvm' : 'vgem');
  });

  it('maps, writes and reads back through the VM', () => s.mapWriteRead(open));
  it('a BO mapped in two VMs is one memory', () => s.sharedAcrossVms(open));
  it('closes in every order, leaking nothing', () => s.anyCloseOrder(open));
  it('a closed BO lives while mapped and goes with its last unmap', () => s.closedBoLivesWhileMapped(open));
  it('refuses foreign, plain and other VMs\' private BOs', () => s.refusals(open));
  it('imports another Gpu\'s export as an external BO', () => s.importAcrossGpus(open));
  it('imports a dma-buf of a second DrmDevice as an external BO, an extobj of each VM', () => s.importsForeignDmaBuf(open, () => DrmDevice.open(vgem.ready ? vgem.card : '')));
  it('a Gpu in another process imports a dma-buf of this one', () => s.importsDmaBufOfAnotherProcess(vgem.ready ? vgem.card : '', () => DrmDevice.open(vgem.ready ? vgem.card : '')));
  it('a held reference: vm.close refuses, gpu.close releases all and says so', () => s.referenceHeldAtClose(open));
  it('a real vgem job gates unmap and close; aborted waits change nothing', () => s.jobGatesUnmapAndClose(open));
  it('a released BO\'s GEM handle is closed in the kernel', () => s.handlesReleased(open));

  // The host runs 40 sequences on the software device; under TCG 10 are what the time allows (GPU_PROPERTY_RUNS for more).
  it('random map/unmap/evict/validate/job sequences, real vgem jobs signalled in random order', async () => {
    const runs = Number(process.env.GPU_PROPERTY_RUNS ?? 10);
    const total = await gpuProperty(open, runs, 20, Number(process.env.GPU_PROPERTY_SEED ?? 13));
    process.stderr.write(`gpu property (vgem): ${JSON.stringify(total)}\n`);
    expect(total.sequences).toBe(runs);
  }, 600_000);
});

describe.skipIf(!vgpuvm.ready)('openGpu on vgpuvm', { timeout: 120_000 }, () => {
  const open = () => openGpu(vgpuvm.ready ? vgpuvm.node : '');
  /** The module's live VMs and BOs, module-wide: what a leak of VM ids or GEM objects would raise. */
  const live = () => {
    using device = DrmDevice.open(vgpuvm.ready ? vgpuvm.node : '');
    const call = vgpuvmStats();
    issueIoctlCall(device, call);
    return { vms: readVgpuvmField(call, 'vms'), bos: readVgpuvmField(call, 'bos'), vmBos: readVgpuvmField(call, 'vm_bos'), vas: readVgpuvmField(call, 'vas') };
  };
  const counted = (check: (o: typeof open) => Promise<void> | void) => async () => {
    const before = live();
    await check(open);
    expect(live()).toEqual(before);
  };

  it('chooses its kernel VM_BIND backend from the driver name; the CPU sees the VA space through VM_RW', () => {
    using gpu = open();
    expect(gpu.describe()).toMatchObject({
      driver: 'vgpuvm', backend: 'vgpuvm-vm-bind', cpuVaAccess: { supported: true, how: expect.stringContaining('VM_RW') },
      bindSyncobjs: { supported: backendFor('vgpuvm')!.syncobjs }, verified: 'kernel-in-vm',
    });
  });

  it('a map is a real bind: the kernel holds the VM and the mapping while it is there', counted(async (o) => {
    using gpu = o();
    const before = live();
    using vm = gpu.createVm({ policy: 'resv', range: 1n << 32n });
    using bo = gpu.createBo(2n * s.PAGE);
    await vm.map({ addr: 0x10000n, range: 2n * s.PAGE, bo });
    expect(live()).toEqual({ vms: before.vms + 1n, bos: before.bos + 1n, vmBos: before.vmBos + 1n, vas: before.vas + 1n });
    expect(vm.vmId).toEqual(expect.any(Number));
  }));

  it('vm.read / vm.write go through the kernel\'s tree: BO pages at their offsets, zeros where sparse, an unmapped byte refuses all', counted(async (o) => {
    using gpu = o();
    using vm = gpu.createVm({ policy: 'deferred', range: 1n << 32n });
    using a = gpu.createBo(4n * s.PAGE, { name: 'a' });
    using b = gpu.createBo(4n * s.PAGE, { name: 'b' });
    const base = 0x100000n;
    // [a from page 1: 2 pages][sparse: 1 page][b from page 0: 2 pages][hole]
    await vm.map({ addr: base, range: 2n * s.PAGE, bo: a, offset: s.PAGE });
    await vm.map({ addr: base + 2n * s.PAGE, range: s.PAGE });
    await vm.map({ addr: base + 3n * s.PAGE, range: 2n * s.PAGE, bo: b });
    const span = Number(5n * s.PAGE);
    const pattern = Uint8Array.from({ length: span }, (_, i) => (i * 7 + 3) % 251);
    await vm.write(base, pattern);
    using aBytes = a.map();
    using bBytes = b.map();
    const page = Number(s.PAGE);
    expect(aBytes.bytes.subarray(page, 3 * page)).toEqual(pattern.subarray(0, 2 * page));
    expect(bBytes.bytes.subarray(0, 2 * page)).toEqual(pattern.subarray(3 * page, 5 * page));
    const expected = pattern.slice();
    expected.fill(0, 2 * page, 3 * page);
    expect(await vm.read(base, BigInt(span))).toEqual(expected);
    // One byte past b's mapping is a hole: the whole write is refused with that address, nothing moves.
    const before = aBytes.bytes.slice();
    await expect(vm.write(base, new Uint8Array(span + 1).fill(0xee))).rejects.toMatchObject({ code: 'ERR_GPU_VA_UNMAPPED', address: base + 5n * s.PAGE });
    await expect(vm.read(base + 5n * s.PAGE - 1n, 2n)).rejects.toMatchObject({ code: 'ERR_GPU_VA_UNMAPPED', address: base + 5n * s.PAGE });
    expect(aBytes.bytes).toEqual(before);
    // An unmap is seen at once: the kernel's tree no longer has the range.
    await vm.unmap(base + 3n * s.PAGE, 2n * s.PAGE);
    await expect(vm.read(base + 3n * s.PAGE, 1n)).rejects.toMatchObject({ code: 'ERR_GPU_VA_UNMAPPED', address: base + 3n * s.PAGE });
    // Bad lengths and addresses are refused before any ioctl, as on the VA window.
    await expect(vm.read(base, 1n << 31n)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(vm.read((1n << 64n) - 1n, 2n)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(vm.write(-1, new Uint8Array(1))).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    vm.close();
    await expect(vm.read(base, 1n)).rejects.toMatchObject({ code: expect.stringMatching(/CLOSED/) });
  }));
  it('maps and writes the BO through its dma-buf', counted(s.mapWriteRead));
  it('a BO mapped in two VMs', counted(s.sharedAcrossVms));
  it('closes in every order, leaking nothing', counted(s.anyCloseOrder));
  it('a closed BO lives while mapped and goes with its last unmap', counted(s.closedBoLivesWhileMapped));
  it('refuses foreign, plain and other VMs\' private BOs', counted(s.refusals));
  it('imports another Gpu\'s export as an external BO', counted(s.importAcrossGpus));
  it.runIf(vgem.ready)('a vgem dma-buf imported is an external BO, bound as an extobj of each VM that maps it', counted(async (o) => {
    await s.importsForeignDmaBuf(o, () => DrmDevice.open(vgem.ready ? vgem.card : ''));
  }));
  it('a held reference: vm.close refuses, gpu.close releases all and says so', counted(s.referenceHeldAtClose));
  it('refuses jobs (no submit ioctl)', counted(s.jobGatesUnmapAndClose));
  it('a released BO\'s GEM handle is closed in the kernel', counted(s.handlesReleased));
  // The same property as on vgem, bytes read through the kernel's tree (VM_RW): no jobs (no submit ioctl).
  it('random map/unmap/evict/validate sequences, every page read through the kernel after every step', counted(async (o) => {
    const runs = Number(process.env.GPU_PROPERTY_RUNS ?? 10);
    const total = await gpuProperty(o, runs, 20, Number(process.env.GPU_PROPERTY_SEED ?? 13));
    process.stderr.write(`gpu property (vgpuvm): ${JSON.stringify(total)}\n`);
    expect(total.sequences).toBe(runs);
  }), 600_000);
});
