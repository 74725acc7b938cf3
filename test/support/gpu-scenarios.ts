// SPDX-License-Identifier: MIT
// What openGpu must do on every device, as checks a suite runs against one Gpu opener: the software device
// on the host (test/native/gpu.test.ts), vgem and vgpuvm in the VM (test/guest/gpu.test.ts). Each check
// counts the process's fds and the reserved VA window bytes before and after, so a leak fails it.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Device } from '../../lib/drm/device.js';
import { VaWindow } from '../../lib/drm/va-window.js';
import { DrmCap } from '../../lib/drm/caps.js';
import { DrmDevice } from '../../lib/drm/drm-device.js';
import { callNative } from '../../lib/drm/errors.js';
import { native } from '../../lib/native.js';
import type { Gpu } from '../../lib/gpu/gpu.js';
import { pageSize } from '../../lib/drm/page-size.js';
import { SoftwareFence } from '../../lib/fence/software-fence.js';
import { runTask } from '../../lib/locks/task.js';
import { Bo } from '../../lib/vm/bo.js';

export const PAGE = BigInt(pageSize());

/** What a leak check counts: open fds, and CPU address space reserved for VA windows. */
export function resourceCounts(): { fds: number; windowBytes: bigint } {
  return { fds: readdirSync('/proc/self/fd').length, windowBytes: VaWindow.reservedBytes };
}

// Handles the kernel allocates lowest-free from 1 (idr_alloc): a leak in a short test lies below this.
const HANDLE_PROBE = 256;

// Whether `probe` found its handle: anything but ENOENT says it is there (a syncobj wait's ETIME or EINVAL too).
function exists(probe: () => unknown): boolean {
  try {
    probe();
    return true;
  } catch (error) {
    return (error as { code?: string }).code !== 'ENOENT';
  }
}

/**
 * The GEM handles and syncobjs alive on a DRM file, as the kernel has them: each handle below 256 probed
 * (PRIME export, which fails ENOENT where there is no GEM; SYNCOBJ_WAIT with no timeout, ENOENT where there
 * is no syncobj). `syncobjs` is null where the driver has none. Probing a live GEM exports it once.
 */
export function kernelHandles(device: DrmDevice): { gem: number; syncobjs: number | null } {
  const site = device.callSite;
  let gem = 0;
  let syncobjs: number | null = device.getCap(DrmCap.SYNCOBJ) === 0n ? null : 0;
  for (let handle = 1; handle < HANDLE_PROBE; handle++) {
    if (exists(() => device.exportHandle(handle, 0n, false).close())) gem++;
    if (syncobjs !== null && exists(() => callNative(site, () => native().syncobjWait(device.fd, [handle], 0n, true)))) syncobjs++;
  }
  return { gem, syncobjs };
}

/** What a Gpu on a DRM node holds in the kernel (see kernelHandles); null on the software device. */
export function gpuKernelHandles(gpu: Gpu): { gem: number; syncobjs: number | null } | null {
  return gpu.device instanceof DrmDevice ? kernelHandles(gpu.device) : null;
}

/** Runs `body` and checks that it left the counts as they were. */
export async function withoutLeaks(body: () => Promise<void> | void): Promise<void> {
  const before = resourceCounts();
  await body();
  expect(resourceCounts()).toEqual(before);
}

/** Reads `length` bytes at `addr` the best way the device allows: the VA window, else the BO's CPU mapping. */
export function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The README example's path: map, write through the device's view, read back; on every device. */
export async function mapWriteRead(open: () => Gpu): Promise<void> {
  await withoutLeaks(async () => {
    using gpu = open();
    using vm = gpu.createVm({ policy: 'gpuva-lock', range: 1n << 40n });
    using bo = gpu.createBo(64 * 1024, { name: 'tex' });
    expect(bo.size).toBe(64n * 1024n);
    await vm.map({ addr: 0x100000n, range: 0x10000n, bo });
    expect(vm.mappings().map((va) => [va.addr, va.range, va.obj?.name])).toEqual([[0x100000n, 0x10000n, 'tex']]);
    const d = gpu.describe();
    if (d.cpuVaAccess.supported) {
      await vm.write(0x100000n + PAGE, bytesOf('hello'));
      expect(await vm.read(0x100000n + PAGE, 5n)).toEqual(bytesOf('hello'));
      using mapping = bo.map();
      expect(mapping.bytes.subarray(Number(PAGE), Number(PAGE) + 5)).toEqual(bytesOf('hello'));
    } else {
      await expect(vm.read(0x100000n, 5n)).rejects.toMatchObject({ code: 'ERR_VM_NO_VA_ACCESS' });
      using mapping = bo.map();
      mapping.bytes.set(bytesOf('hello'));
      expect(mapping.bytes.subarray(0, 5)).toEqual(bytesOf('hello'));
    }
  });
}

/** One BO mapped in two VMs is one memory: a write through one VM reads back through the other. */
export async function sharedAcrossVms(open: () => Gpu): Promise<void> {
  await withoutLeaks(async () => {
    using gpu = open();
    using a = gpu.createVm({ policy: 'resv', range: 1n << 32n, name: 'a' });
    using b = gpu.createVm({ policy: 'resv', range: 1n << 32n, name: 'b' });
    using bo = gpu.createBo(4n * PAGE, { name: 'shared' });
    await a.map({ addr: 0x10000n, range: 4n * PAGE, bo });
    await b.map({ addr: 0x80000n, range: 4n * PAGE, bo });
    expect(a.isExtobj(bo) && b.isExtobj(bo)).toBe(true);
    if (gpu.describe().cpuVaAccess.supported) {
      await a.write(0x10000n + 2n * PAGE, bytesOf('both'));
      expect(await b.read(0x80000n + 2n * PAGE, 4n)).toEqual(bytesOf('both'));
    }
    expect([...bo.gem.vmBos()].length).toBe(2);
  });
}

/**
 * Every order of closing BO, VM and Gpu, explicitly, releases everything (also with the BO still mapped, a
 * CPU mapping of it and an exported dma-buf left open): fds, window bytes and, on a DRM node, the GEM
 * handles and syncobjs of the Gpu's file, counted in the kernel before the Gpu closes last.
 */
export async function anyCloseOrder(open: () => Gpu): Promise<void> {
  const orders = [['bo', 'vm', 'gpu'], ['bo', 'gpu', 'vm'], ['vm', 'bo', 'gpu'], ['vm', 'gpu', 'bo'], ['gpu', 'bo', 'vm'], ['gpu', 'vm', 'bo']] as const;
  for (const order of orders) {
    await withoutLeaks(async () => {
      const gpu = open();
      const vm = gpu.createVm({ policy: 'deferred', range: 1n << 32n });
      const bo = gpu.createBo(2n * PAGE);
      await vm.map({ addr: 0n, range: 2n * PAGE, bo });
      await vm.map({ addr: 4n * PAGE, range: PAGE });
      // Left open for the BO's release to close: a CPU mapping and an exported dma-buf.
      bo.map();
      bo.exportDmaBuf();
      const objects = { bo, vm, gpu };
      const inKernel = gpuKernelHandles(gpu);
      if (inKernel !== null) expect(inKernel.gem).toBe(1);
      for (const which of order) {
        // Last to close, the Gpu holds nothing once its VM and BO are closed, nor does its DRM file in the kernel.
        if (which === 'gpu' && vm.closed && bo.closed) {
          expect(gpu.resources()).toEqual({ vms: 0, bos: 0, jobs: 0 });
          if (inKernel !== null) expect(gpuKernelHandles(gpu)).toEqual({ gem: 0, syncobjs: inKernel.syncobjs === null ? null : 0 });
        }
        objects[which].close();
      }
      expect({ order, vm: vm.closed, bo: bo.closed, released: bo.released, gpu: gpu.closed, held: gpu.resources() })
        .toEqual({ order, vm: true, bo: true, released: true, gpu: true, held: { vms: 0, bos: 0, jobs: 0 } });
    });
  }
}

/** A closed BO that is still mapped keeps its memory; its last unmap gives it back. */
export async function closedBoLivesWhileMapped(open: () => Gpu): Promise<void> {
  await withoutLeaks(async () => {
    using gpu = open();
    using vm = gpu.createVm({ policy: 'gpuva-lock', range: 1n << 32n });
    const bo = gpu.createBo(PAGE);
    await vm.map({ addr: PAGE, range: PAGE, bo });
    bo.close();
    expect({ closed: bo.closed, released: bo.released, bos: gpu.resources().bos }).toEqual({ closed: true, released: false, bos: 1 });
    if (gpu.describe().cpuVaAccess.supported) {
      await vm.write(PAGE, bytesOf('alive'));
      expect(await vm.read(PAGE, 5n)).toEqual(bytesOf('alive'));
    }
    await vm.unmap(PAGE, PAGE);
    expect({ released: bo.released, bos: gpu.resources().bos }).toEqual({ released: true, bos: 0 });
  });
}

/** BOs of another Gpu, plain model Bos, and BOs private to another VM are refused, changing nothing. */
export async function refusals(open: () => Gpu): Promise<void> {
  await withoutLeaks(async () => {
    using gpu = open();
    using other = open();
    using vm = gpu.createVm({ policy: 'resv', range: 1n << 32n, name: 'mine' });
    using second = gpu.createVm({ policy: 'resv', range: 1n << 32n, name: 'second' });
    using foreign = other.createBo(PAGE, { name: 'foreign' });
    const plain = new Bo(PAGE, { name: 'plain' });
    await expect(vm.map({ addr: 0n, range: PAGE, bo: foreign })).rejects.toMatchObject({ code: 'ERR_GPU_FOREIGN_BO' });
    await expect(vm.map({ addr: 0n, range: PAGE, bo: plain })).rejects.toMatchObject({ code: 'ERR_GPU_FOREIGN_BO' });
    using priv = gpu.createBo(PAGE, { name: 'priv', private: vm });
    expect(vm.isExtobj(priv)).toBe(false);
    expect(priv.resv).toBe(vm.resv);
    await expect(second.map({ addr: 0n, range: PAGE, bo: priv })).rejects.toMatchObject({ code: 'ERR_GPU_PRIVATE_BO' });
    expect(() => priv.exportDmaBuf()).toThrow(expect.objectContaining({ code: 'ERR_GPU_PRIVATE_BO' }));
    await vm.map({ addr: 0n, range: PAGE, bo: priv });
    expect(second.mappings()).toEqual([]);
    expect(() => gpu.createVm(null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => gpu.createVm({ policy: 'nope' as never, range: 1n << 32n })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => gpu.createBo('big' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => gpu.createBo(PAGE, { private: {} as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => gpu.importBo('fd' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(gpu.resources()).toEqual({ vms: 2, bos: 1, jobs: 0 });
    await vm.unmap(0n, PAGE);
  });
}

/** A dma-buf exported by one Gpu and imported by another is an external BO there, over the same memory. */
export async function importAcrossGpus(open: () => Gpu): Promise<void> {
  await withoutLeaks(async () => {
    using exporter = open();
    using importer = open();
    using bo = exporter.createBo(2n * PAGE, { name: 'src' });
    {
      using cpu = bo.map();
      cpu.bytes.set(bytesOf('shared'), Number(PAGE));
    }
    using dmaBuf = bo.exportDmaBuf();
    using imported = importer.importBo(dmaBuf.fd, { name: 'dst' });
    expect(imported.external).toBe(true);
    using vm = importer.createVm({ policy: 'resv', range: 1n << 32n });
    await vm.map({ addr: 0n, range: 2n * PAGE, bo: imported });
    expect(vm.isExtobj(imported)).toBe(true);
    if (importer.describe().cpuVaAccess.supported) expect(await vm.read(PAGE, 6n)).toEqual(bytesOf('shared'));
    await vm.unmap(0n, 2n * PAGE);
  });
}

/**
 * A dma-buf exported by another device (not a Gpu: a plain Device the test opened) imported by a Gpu: an
 * external BO, an extobj of every VM that maps it (drm_gpuvm_is_extobj), whose reservation gets the job
 * fences vm.addFence adds to extobjs; one memory with the exporter's buffer, which outlives the import.
 */
export async function importsForeignDmaBuf(open: () => Gpu, exporterDevice: () => Device): Promise<void> {
  await withoutLeaks(async () => {
    using exporter = exporterDevice();
    using source = exporter.createBuffer(2n * PAGE);
    using cpu = source.map();
    cpu.bytes.set(bytesOf('foreign'), Number(PAGE));
    const gpu = open();
    {
      using dmaBuf = source.exportDmaBuf();
      using bo = gpu.importBo(dmaBuf, { name: 'foreign' });
      expect(bo.external).toBe(true);
      using a = gpu.createVm({ policy: 'resv', range: 1n << 32n, name: 'a' });
      using b = gpu.createVm({ policy: 'resv', range: 1n << 32n, name: 'b' });
      await a.map({ addr: 0n, range: 2n * PAGE, bo });
      await b.map({ addr: 0x100000n, range: 2n * PAGE, bo });
      expect([a.isExtobj(bo), b.isExtobj(bo)]).toEqual([true, true]);
      expect([[...a.extobjList.entries()].map((vmBo) => vmBo.obj), [...b.extobjList.entries()].map((vmBo) => vmBo.obj)]).toEqual([[bo.gem], [bo.gem]]);
      const job = new SoftwareFence({ name: 'job' });
      await runTask('submit', async () => {
        using _exec = await a.execLock({ numFences: 1 });
        a.addFence(job, { usage: 'bookkeep', extobjUsage: 'write' });
      });
      expect({ extobj: bo.resv.fences(), vm: a.resv.fences() }).toEqual({ extobj: [{ fence: job, usage: 'write' }], vm: [{ fence: job, usage: 'bookkeep' }] });
      job.signal();
      if (gpu.describe().cpuVaAccess.supported) {
        expect(await a.read(PAGE, 7n)).toEqual(bytesOf('foreign'));
        await b.write(0x100000n, bytesOf('back'));
      } else {
        using mapping = bo.map();
        expect(mapping.bytes.subarray(Number(PAGE), Number(PAGE) + 7)).toEqual(bytesOf('foreign'));
        mapping.bytes.set(bytesOf('back'));
      }
      expect(cpu.bytes.subarray(0, 4)).toEqual(bytesOf('back'));
    }
    gpu.close();
    expect({ closed: gpu.closed, held: gpu.resources() }).toEqual({ closed: true, held: { vms: 0, bos: 0, jobs: 0 } });
    expect(cpu.bytes.subarray(Number(PAGE), Number(PAGE) + 7)).toEqual(bytesOf('foreign'));
  });
}

const importChild = fileURLToPath(new URL('./import-bo-child.mjs', import.meta.url));

/**
 * A dma-buf of this process imported by a Gpu in another process (the fd passed as the child's fd 3): there
 * it is an external BO and an extobj, reads what this process wrote, and what it writes through its VM (or
 * the BO's mapping) this process reads back. Needs dist/ built (npm run build:ts).
 */
export async function importsDmaBufOfAnotherProcess(gpuPath: string, exporterDevice: () => Device): Promise<void> {
  await withoutLeaks(async () => {
    using exporter = exporterDevice();
    using source = exporter.createBuffer(2n * PAGE);
    using cpu = source.map();
    cpu.bytes.set(bytesOf('parent'), Number(PAGE));
    using dmaBuf = source.exportDmaBuf();
    const child = spawn(process.execPath, [importChild, gpuPath, String(PAGE)], { stdio: ['ignore', 'pipe', 'pipe', dmaBuf.fd] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, err).toBe(0);
    const report = JSON.parse(out.trim().split('\n').at(-1)!) as unknown;
    expect(report).toEqual({ external: true, extobj: true, read: 'parent', released: true });
    expect(cpu.bytes.subarray(0, 5)).toEqual(bytesOf('child'));
  });
}

/** close() with a reference still held refuses and changes nothing; gpu.close() releases all anyway and says why. */
export async function referenceHeldAtClose(open: () => Gpu): Promise<void> {
  await withoutLeaks(async () => {
    const gpu = open();
    const vm = gpu.createVm({ policy: 'gpuva-lock', range: 1n << 32n });
    const bo = gpu.createBo(PAGE, { name: 'held' });
    await vm.map({ addr: 0n, range: PAGE, bo });
    const ref = vm.obtain(bo);
    expect(() => vm.close()).toThrow(expect.objectContaining({ code: 'ERR_VM_BUSY' }));
    expect(vm.mappings().length).toBe(1);
    expect(() => gpu.close()).toThrow(expect.objectContaining({ code: 'ERR_GPU_BUSY' }));
    expect({ gpu: gpu.closed, released: bo.released, held: gpu.resources() }).toEqual({ gpu: true, released: true, held: { vms: 0, bos: 0, jobs: 0 } });
    await expect(vm.map({ addr: PAGE, range: PAGE })).rejects.toMatchObject({ code: 'ERR_GPU_CLOSED' });
    await runTask('put', async () => ref.put());
  });
}

/**
 * A job on a mapped BO, added to the VM's reservations as BOOKKEEP: an unmap waits for it (an aborted wait
 * changes nothing), vm.close refuses while it is pending, and gpu.close with a job still pending releases
 * everything anyway.
 */
export async function jobGatesUnmapAndClose(open: () => Gpu): Promise<void> {
  await withoutLeaks(async () => {
    using gpu = open();
    using vm = gpu.createVm({ policy: 'gpuva-lock', range: 1n << 32n });
    using bo = gpu.createBo(2n * PAGE, { name: 'busy' });
    if (!gpu.describe().jobs.supported) {
      expect(() => gpu.startJob([bo])).toThrow(expect.objectContaining({ code: 'ERR_GPU_UNSUPPORTED' }));
      return;
    }
    await vm.map({ addr: 0n, range: 2n * PAGE, bo });
    using job = gpu.startJob([bo], { write: true });
    await runTask('submit', async () => {
      using _exec = await vm.execLock({ numFences: 1 });
      vm.addFence(job, { usage: 'bookkeep' });
    });
    expect(gpu.resources().jobs).toBe(1);
    expect(() => vm.close()).toThrow(expect.objectContaining({ code: 'ERR_GPU_BUSY' }));
    const aborted = new AbortController();
    // The tail: vgem on Linux 6.1 maps BOs from offset 0 only, so the piece left must start there.
    const refused = vm.unmap(PAGE, PAGE, { signal: aborted.signal });
    aborted.abort();
    await expect(refused).rejects.toMatchObject({ code: 'ABORT_ERR' });
    let unmapped = false;
    const unmap = vm.unmap(PAGE, PAGE).then(() => {
      unmapped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect({ unmapped, mappings: vm.mappings().length }).toEqual({ unmapped: false, mappings: 1 });
    job.signal();
    await unmap;
    expect(vm.mappings().map((va) => [va.addr, va.range])).toEqual([[0n, PAGE]]);
    job.close();
    expect(gpu.resources().jobs).toBe(0);
  });
  await withoutLeaks(async () => {
    const gpu = open();
    if (!gpu.describe().jobs.supported) return gpu.close();
    const vm = gpu.createVm({ policy: 'resv', range: 1n << 32n });
    const bo = gpu.createBo(PAGE);
    await vm.map({ addr: 0n, range: PAGE, bo });
    const job = gpu.startJob([bo]);
    await runTask('submit', async () => {
      using _exec = await vm.execLock({ numFences: 1 });
      vm.addFence(job, { usage: 'bookkeep' });
    });
    expect(() => gpu.close()).toThrow(expect.objectContaining({ code: 'ERR_GPU_BUSY' }));
    expect({ closed: gpu.closed, held: gpu.resources() }).toEqual({ closed: true, held: { vms: 0, bos: 0, jobs: 0 } });
  });
}

/** On a DRM node: a BO's GEM handle is closed in the kernel once its device side is released (PRIME export of it fails). */
export function handlesReleased(open: () => Gpu): void {
  using gpu = open();
  const device = gpu.device as DrmDevice;
  const bo = gpu.createBo(PAGE);
  const { handle, size } = bo.buffer;
  device.exportHandle(handle, size, true).close();
  bo.close();
  expect(bo.released).toBe(true);
  expect(() => device.exportHandle(handle, size, true)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
}
