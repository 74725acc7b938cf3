// SPDX-License-Identifier: MIT
// The VA window backend on the software device (memfd memory, any offsets): reads and writes through the
// tree, sparse and unmapped semantics, refusals that change nothing, random sequences with a page check
// after every request, and fault injection of every mmap of every request.
import { describe, expect, it, vi } from 'vitest';
import { SoftwareDevice } from '../../lib/drm/software-device.js';
import type { GpuVaAccess, GpuVmBackend } from '../../lib/backends/backend.js';
import { VaWindowBackend } from '../../lib/backends/va-window-backend.js';
import { GemObject } from '../../lib/gpuvm/gem.js';
import { GpuVm } from '../../lib/gpuvm/gpuvm.js';
import { Bo } from '../../lib/vm/bo.js';
import { Vm } from '../../lib/vm/vm.js';
import { runWindowDemo } from '../../lib/cli/demo-window.js';
import { run as demo } from '../../lib/cli/demo.js';
import { expectedPage, P, PAGE, randomSequence, WindowRig } from '../support/va-window-checks.js';

function rig(pages = 16, bos = 2, boPages = 8): WindowRig & { device: SoftwareDevice } {
  const device = new SoftwareDevice();
  return Object.assign(new WindowRig(device, pages, bos, boPages), { device });
}

describe('VaWindowBackend on the software device', () => {
  it('probes memfd memory with any BO offset allowed', () => {
    using r = rig();
    expect(r.backend.plan).toEqual({ kind: 'memfd', anyOffset: true, reason: '' });
  });

  it('shows the BO page at its offset: page k of the mapping reads BO page offset/P + k', async () => {
    using r = rig();
    await r.map(2, 3, 1, 4);
    expect(Buffer.compare(r.backend.read(3n * P, P), expectedPage(1, 5))).toBe(0);
    r.checkAllPages();
  });

  it('reads across two adjacent mappings of different BOs in one call', async () => {
    using r = rig();
    await r.map(0, 1, 0, 0);
    await r.map(1, 1, 1, 0);
    const both = r.backend.read(P - 4n, 8);
    expect([...both]).toEqual([...expectedPage(0, 0).subarray(PAGE - 4), ...expectedPage(1, 0).subarray(0, 4)]);
  });

  it('writes land in the BO memory behind the address', async () => {
    using r = rig();
    await r.map(5, 2, 1, 2);
    r.backend.write(6n * P + 10n, new Uint8Array([1, 2, 3]));
    using mapping = r.backend.mapMemory(r.bos[1]!.gem);
    expect([...mapping.bytes.subarray(3 * PAGE + 10, 3 * PAGE + 13)]).toEqual([1, 2, 3]);
  });

  it('refuses a read that touches an unmapped byte, naming the address', async () => {
    using r = rig();
    await r.map(0, 2, 0, 0);
    expect(() => r.backend.read(P, 2n * P)).toThrow(expect.objectContaining({ code: 'ERR_VA_WINDOW_UNMAPPED', address: 2n * P }));
  });

  it('refuses a write that touches an unmapped byte and writes nothing, not even the mapped part', async () => {
    using r = rig();
    await r.map(0, 1, 0, 0);
    expect(() => r.backend.write(P - 2n, new Uint8Array([9, 9, 9, 9]))).toThrow(expect.objectContaining({ code: 'ERR_VA_WINDOW_UNMAPPED', address: P }));
    expect(Buffer.compare(r.backend.read(0n, P), expectedPage(0, 0))).toBe(0);
  });

  it('reads zeros from a sparse mapping', async () => {
    using r = rig();
    await r.map(3, 2, null);
    expect(r.backend.read(3n * P, 2n * P).every((b) => b === 0)).toBe(true);
  });

  it('drops writes to a sparse mapping (NULL-binding semantics) but still writes the mapped part', async () => {
    using r = rig();
    await r.map(0, 1, null);
    await r.map(1, 1, 0, 0);
    r.backend.write(P - 2n, new Uint8Array([7, 7, 7, 7]));
    expect([...r.backend.read(P - 2n, 4)]).toEqual([0, 0, 7, 7]);
    expect(r.backend.mappedRanges()).toEqual([{ addr: P, end: 2n * P }]);
  });

  it('vm.read and vm.write reach the window through the VM', async () => {
    using r = rig();
    await r.map(2, 2, 0, 1);
    expect(Buffer.compare(await r.vm.read(3n * P, P), expectedPage(0, 2))).toBe(0);
    await r.vm.write(2n * P + 1n, new Uint8Array([5, 6]));
    expect([...r.backend.read(2n * P, 4)]).toEqual([expectedPage(0, 1)[0], 5, 6, expectedPage(0, 1)[3]]);
  });

  it('vm.read waits for a request in flight on its range: it never sees the window ahead of the tree', async () => {
    using r = rig();
    // The window changes inside commit; the tree only after it resolves. A read slipping in between would
    // find the address unmapped in the tree.
    const inner = r.backend;
    const slow: GpuVmBackend & GpuVaAccess = {
      name: 'slow-window',
      async commit(gpuvm, ops) {
        inner.commit(gpuvm, ops);
        await new Promise<void>((resolve) => setTimeout(resolve, 5));
      },
      read: (addr, length) => inner.read(addr, length),
      write: (addr, bytes) => inner.write(addr, bytes),
    };
    const vm = new Vm({ policy: 'resv', start: 0n, range: 16n * P, backend: slow });
    const mapping = vm.map({ addr: 4n * P, range: P, bo: r.bos[1]!, offset: 3n * P });
    const read = vm.read(4n * P, P);
    expect(Buffer.compare(await read, expectedPage(1, 3))).toBe(0);
    await mapping;
    await vm.unmap(4n * P, P);
    vm.close();
  });

  it('vm.read refuses an unmapped address with the backend\'s error and vm.write refuses a non-Uint8Array', async () => {
    using r = rig();
    await expect(r.vm.read(0n, 1)).rejects.toMatchObject({ code: 'ERR_VA_WINDOW_UNMAPPED', address: 0n });
    await expect(r.vm.write(0n, [1] as unknown as Uint8Array)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(r.vm.read(-1, 1)).rejects.toThrow(RangeError);
  });

  it('refuses reads inside the kernel-reserved node', async () => {
    using device = new SoftwareDevice();
    using backend = new VaWindowBackend({ device, size: 8n * P });
    const vm = new Vm({ policy: 'resv', start: 0n, range: 8n * P, reserveOffset: 0n, reserveRange: P, backend });
    const bo = new Bo(P);
    backend.allocate(bo.gem);
    await vm.map({ addr: P, range: P, bo });
    expect(() => backend.read(0n, 1)).toThrow(expect.objectContaining({ code: 'ERR_VA_WINDOW_UNMAPPED', message: expect.stringContaining('kernel-reserved') }));
  });

  it('unmaps only the hole of a remap: the pieces on either side keep their pages', async () => {
    using r = rig();
    await r.map(0, 8, 0, 0);
    await r.unmap(3, 2);
    expect(r.backend.mappedRanges()).toEqual([{ addr: 0n, end: 3n * P }, { addr: 5n * P, end: 8n * P }]);
    r.checkAllPages();
  });

  it('a keep=1 merge (same BO at a consistent offset) shows the same pages afterwards', async () => {
    using r = rig();
    await r.map(0, 4, 0, 0);
    const ops = r.vm.gpuvm.smMapOps({ addr: P, range: 2n * P, obj: r.bos[0]!.gem, offset: P });
    expect(ops.ops.some((op) => op.type === 'remap' && op.unmap.keep)).toBe(true);
    await r.map(1, 2, 0, 1);
    r.checkAllPages();
  });

  it.each([
    ['an unaligned address', { addr: 100n, range: P, offset: 0n }, 'ERR_VA_WINDOW_ALIGNMENT'],
    ['an unaligned size', { addr: 0n, range: P + 1n, offset: 0n }, 'ERR_VA_WINDOW_ALIGNMENT'],
    ['an unaligned BO offset', { addr: 0n, range: P, offset: 8n }, 'ERR_VA_WINDOW_ALIGNMENT'],
  ])('refuses %s before the window or the tree changes', async (_what, req, code) => {
    using r = rig();
    await r.map(0, 2, 0, 0);
    const before = r.snapshot();
    await expect(r.vm.map({ ...req, bo: r.bos[1]! })).rejects.toMatchObject({ code });
    expect(r.snapshot()).toEqual(before);
  });

  it('refuses a mapping beyond the window (the VM may be larger than the window)', async () => {
    using device = new SoftwareDevice();
    using backend = new VaWindowBackend({ device, start: 4n * P, size: 4n * P });
    const vm = new Vm({ policy: 'resv', start: 0n, range: 64n * P, backend });
    const bo = new Bo(2n * P);
    backend.allocate(bo.gem);
    await expect(vm.map({ addr: 7n * P, range: 2n * P, bo })).rejects.toMatchObject({ code: 'ERR_VA_WINDOW_RANGE', address: 7n * P });
    await vm.map({ addr: 6n * P, range: 2n * P, bo });
    expect(backend.mappedRanges()).toEqual([{ addr: 6n * P, end: 8n * P }]);
    expect(vm.mappings()).toHaveLength(1);
  });

  it('refuses a BO that has no memory in the backend', async () => {
    using device = new SoftwareDevice();
    using backend = new VaWindowBackend({ device, size: 4n * P });
    const vm = new Vm({ policy: 'resv', start: 0n, range: 4n * P, backend });
    await expect(vm.map({ addr: 0n, range: P, bo: new Bo(P) })).rejects.toMatchObject({ code: 'ERR_VA_WINDOW_NO_MEMORY' });
    expect(vm.mappings()).toEqual([]);
  });

  it('refuses ops of a second VM once it serves one', async () => {
    using r = rig();
    await r.map(0, 1, 0, 0);
    const other = new GpuVm({ name: 'other', start: 0n, range: 16n * P });
    const obj = new GemObject(P);
    expect(() => r.backend.commit(other, other.smMapOps({ addr: 0n, range: P, obj, offset: 0n }))).toThrow(expect.objectContaining({ code: 'ERR_VA_WINDOW_WRONG_VM' }));
  });

  it('refuses to free a BO that is still mapped, and frees it once unmapped', async () => {
    using r = rig();
    await r.map(0, 1, 0, 0);
    expect(() => r.backend.free(r.bos[0]!.gem)).toThrow(expect.objectContaining({ code: 'ERR_VA_WINDOW_NO_MEMORY' }));
    await r.unmap(0, 1);
    r.backend.free(r.bos[0]!.gem);
    expect(r.backend.bufferOf(r.bos[0]!.gem)).toBeNull();
  });

  it('refuses everything after close', () => {
    using r = rig();
    r.backend.close();
    expect(() => r.backend.read(0n, 1)).toThrow(expect.objectContaining({ code: 'ERR_VA_WINDOW_CLOSED' }));
  });

  it.each([
    ['a negative address', -1, 1, 'ERR_OUT_OF_RANGE'],
    ['a length over 1 GiB', 0, 2 ** 31, 'ERR_OUT_OF_RANGE'],
    ['a range past 2^64', 2n ** 64n - 1n, 2, 'ERR_OUT_OF_RANGE'],
    ['a string address', '0', 1, 'ERR_INVALID_ARG_TYPE'],
  ])('read rejects %s with a typed error', (_what, addr, length, code) => {
    using r = rig();
    expect(() => r.backend.read(addr as never, length)).toThrow(expect.objectContaining({ code }));
  });

  it('write rejects bytes that are not a Uint8Array', () => {
    using r = rig();
    expect(() => r.backend.write(0n, [1, 2] as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it.each([
    ['a size that is not a page multiple', { size: P + 1n }],
    ['a size over 2^46', { size: 1n << 47n }],
    ['an unaligned start', { start: 1n, size: P }],
  ])('the constructor rejects %s', (_what, extra) => {
    using device = new SoftwareDevice();
    expect(() => new VaWindowBackend({ device, ...extra })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it.each([1, 2, 3])('random map/remap/unmap sequence (seed %i): every page right after every request, keep=1 cases included', async (seed) => {
    using r = rig(48, 3, 16);
    const counts = await randomSequence(r, seed, 150, false);
    expect(counts.refused).toBe(0);
    expect(counts.keeps).toBeGreaterThan(0);
    expect(counts.remaps).toBeGreaterThan(0);
  });

  it('fault injection: failing the k-th mmap of a request, for every k, leaves window, tree, pairs and pages as before', async () => {
    using r = rig(32, 3, 12);
    const counts = await randomSequence(r, 7, 60, true);
    expect(counts.injected).toBeGreaterThan(60);
    expect(counts.keeps).toBeGreaterThan(0);
  });

  it('the demo sequence finds no mismatch on the software device', async () => {
    using device = new SoftwareDevice();
    const result = await runWindowDemo(device, { seed: 3, requests: 100, pages: 32, bos: 3, boPages: 8 });
    expect(result).toMatchObject({ requests: 100, refused: 0, pagesChecked: 3200, mismatches: 0, memory: 'memfd' });
  });

  it('drm-gpuvm demo --backend window ends with the summary line and exit code 0', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { out.push(String(chunk)); return true; });
    let code: number;
    try {
      code = await demo(['--backend', 'window', '--seed', '4', '--requests', '20']);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    expect(out.join('').trimEnd().split('\n').at(-1)).toBe('window: 20 requests, 1280 pages checked, 0 mismatches');
  });
});
