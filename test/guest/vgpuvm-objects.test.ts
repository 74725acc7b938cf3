// SPDX-License-Identifier: MIT
// What the vgpuvm module's objects are to the rest of DRM, on the real module: its render node carries the
// core syncobj ioctls (DRIVER_SYNCOBJ); its BOs go out and come back through PRIME (a vgpuvm BO imported on
// another file is the same object, a vgem BO imported is an external BO a VM can map); a VM-private BO maps
// in its own VM only and cannot be exported; and each of the three VmBo lifetime designs chosen at
// VM_CREATE frees every pair, mapping and BO when the last reference goes, whichever order the handle close
// and the unbinds come in. The debug queries show the kernel's own state: each BO's pairs (GEM list order,
// refcounts, mappings, list marks), each VM's extobj and evict lists and zombies; BO_EVICT and
// VM_VALIDATE move pairs on and off the evict lists as drm_gpuvm_bo_evict and drm_gpuvm_validate do.
// Module-wide live counts (STATS) are equal before and after each test.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueIoctlCall, type IoctlCall } from '../../lib/backends/ioctl-call.js';
import {
  decodeVgpuvmPairs, decodeVgpuvmTree, readVgpuvmField, VGPUVM, vgpuvmBoCreate, vgpuvmBoEvict, vgpuvmBoQuery, vgpuvmStats,
  vgpuvmVmBind, vgpuvmVmCreate, vgpuvmVmDestroy, vgpuvmVmQuery, vgpuvmVmValidate, type VgpuvmBindRequest, type VgpuvmPair,
} from '../../lib/backends/vgpuvm.js';
import { DrmDevice } from '../../lib/drm/drm-device.js';
import { Syncobj } from '../../lib/drm/syncobj.js';
import { findVgpuvm } from '../../lib/qemu/vgpuvm.js';
import { VM_BO_POLICIES } from '../../lib/vm/policy.js';
import { findVgem, reportNotRun } from './vgem-node.js';

const setup = await findVgpuvm();
if (!setup.ready) process.stderr.write(`vgpuvm objects: NOT RUN (skipped, not passed): ${setup.reason}\n`);
const vgem = findVgem();
reportNotRun('vgpuvm objects (vgem import)', vgem);

const PAGE = 4096n;
const RANGE = 1n << 32n;

describe.skipIf(!setup.ready)('vgpuvm objects', () => {
  const node = setup.ready ? setup.node : '';
  const opened: DrmDevice[] = [];
  const open = (): DrmDevice => {
    const device = DrmDevice.open(node);
    opened.push(device);
    return device;
  };
  const issue = (device: DrmDevice, call: IoctlCall): IoctlCall => {
    issueIoctlCall(device, call);
    return call;
  };
  const stats = () => {
    using device = DrmDevice.open(node);
    const call = issue(device, vgpuvmStats());
    return { vms: readVgpuvmField(call, 'vms'), bos: readVgpuvmField(call, 'bos'), vmBos: readVgpuvmField(call, 'vm_bos'), vas: readVgpuvmField(call, 'vas') };
  };
  const bo = (device: DrmDevice, size: bigint, privateVmId = 0) => {
    const call = issue(device, vgpuvmBoCreate(size, privateVmId));
    return { handle: Number(readVgpuvmField(call, 'handle')), id: readVgpuvmField(call, 'bo_id') };
  };
  const vm = (device: DrmDevice, design: (typeof VM_BO_POLICIES)[number] = 'resv') =>
    Number(readVgpuvmField(issue(device, vgpuvmVmCreate({ start: 0n, range: RANGE, design })), 'vm_id'));
  const bind = (device: DrmDevice, vmId: number, ...requests: VgpuvmBindRequest[]) => issue(device, vgpuvmVmBind(vmId, requests));
  const map = (addr: bigint, range: bigint, handle: number, offset = 0n): VgpuvmBindRequest => ({ op: 'map', addr, range, bo: { handle, offset } });
  const unmap = (addr: bigint, range: bigint): VgpuvmBindRequest => ({ op: 'unmap', addr, range });
  const tree = (device: DrmDevice, vmId: number) => {
    const count = Number(readVgpuvmField(issue(device, vgpuvmVmQuery(vmId, 'tree', 0)), 'count'));
    return decodeVgpuvmTree(issue(device, vgpuvmVmQuery(vmId, 'tree', count))).map((v) => ({ addr: v.addr, range: v.range, offset: v.offset, boId: v.boId }));
  };
  /** A BO's pairs (BO_QUERY) and facts, sized by a first call. */
  const boState = (device: DrmDevice, handle: number) => {
    const count = Number(readVgpuvmField(issue(device, vgpuvmBoQuery(handle, 0)), 'count'));
    const call = issue(device, vgpuvmBoQuery(handle, count));
    return { pairs: decodeVgpuvmPairs(call), flags: Number(readVgpuvmField(call, 'flags')), size: readVgpuvmField(call, 'size') };
  };
  const vmList = (device: DrmDevice, vmId: number, what: 'extobj' | 'evict' | 'zombies') => {
    const count = Number(readVgpuvmField(issue(device, vgpuvmVmQuery(vmId, what, 0)), 'count'));
    return decodeVgpuvmPairs(issue(device, vgpuvmVmQuery(vmId, what, count)));
  };
  const pair = (boId: bigint, vmId: number, vas: number, marks: Partial<VgpuvmPair> = {}): VgpuvmPair =>
    ({ boId, vmId, refcount: vas, vas, extobj: true, evictListed: false, evicted: false, ...marks });
  const errno = (run: () => unknown): string => {
    try {
      run();
    } catch (err) {
      return (err as { code?: string }).code ?? String(err);
    }
    return 'no error';
  };
  const gemClose = (device: DrmDevice, handle: number, size: bigint) => device.adoptGemHandle(handle, size).close();

  let before: ReturnType<typeof stats>;
  beforeEach(() => {
    before = stats();
  });
  afterEach(() => {
    while (opened.length > 0) opened.pop()!.close();
    expect(stats()).toEqual(before);
  });

  it('has the core syncobj ioctls: a syncobj signalled on the vgpuvm node waits as signalled', () => {
    const device = open();
    using syncobj = Syncobj.create(device);
    expect(errno(() => syncobj.wait(0n))).not.toBe('no error');
    syncobj.signal();
    expect(errno(() => syncobj.wait(0n))).toBe('no error');
  });

  it('a BO exported and imported on another file is the same object: one bo_id in both VMs, freed with the last user', () => {
    const a = open();
    const b = open();
    const shared = bo(a, 2n * PAGE);
    const dmaBuf = a.exportHandle(shared.handle, 2n * PAGE, true);
    const imported = b.importDmaBuf(dmaBuf);
    dmaBuf.close();
    const vmA = vm(a);
    const vmB = vm(b);
    bind(a, vmA, map(0x10000n, 2n * PAGE, shared.handle));
    bind(b, vmB, map(0x40000n, PAGE, imported.handle, PAGE));
    expect(tree(a, vmA)).toEqual([{ addr: 0x10000n, range: 2n * PAGE, offset: 0n, boId: shared.id }]);
    expect(tree(b, vmB)).toEqual([{ addr: 0x40000n, range: PAGE, offset: PAGE, boId: shared.id }]);
    expect(stats().bos).toBe(before.bos + 1n);
    // The object outlives the exporting file: b's import and mapping keep it.
    issue(a, vgpuvmVmDestroy(vmA));
    opened.shift()!.close();
    expect(stats().bos).toBe(before.bos + 1n);
    expect(tree(b, vmB)).toHaveLength(1);
  });

  it.skipIf(!vgem.ready)('a vgem BO imported through PRIME maps in every design as an external BO', () => {
    const device = open();
    // vgem allocates on its card node only.
    using vgemDevice = DrmDevice.open(vgem.ready ? vgem.card : '');
    using source = vgemDevice.createBuffer(4n * PAGE);
    using dmaBuf = source.exportDmaBuf({ writable: true });
    const imported = device.importDmaBuf(dmaBuf);
    expect(stats().bos).toBe(before.bos + 1n);
    for (const design of VM_BO_POLICIES) {
      // A BO takes the mode of its first VM: the staged design needs its own import.
      if (design === 'resv') continue;
      const vmId = vm(device, design);
      bind(device, vmId, map(0x100000n, 4n * PAGE, imported.handle), unmap(0x101000n, PAGE));
      const [first, second] = tree(device, vmId);
      expect(first).toMatchObject({ addr: 0x100000n, range: PAGE, offset: 0n });
      expect(second).toMatchObject({ addr: 0x102000n, range: 2n * PAGE, offset: 2n * PAGE, boId: first!.boId });
      issue(device, vgpuvmVmDestroy(vmId));
    }
    const staged = vm(device, 'resv');
    // The import is an immediate-mode BO now; a staged VM refuses it, and the refusal changes nothing.
    expect(errno(() => bind(device, staged, map(0x0n, PAGE, imported.handle)))).toBe('EINVAL');
    expect(tree(device, staged)).toEqual([]);
    imported.close();
  });

  it('a VM-private BO maps in its VM only, cannot be exported, and outlives its VM', () => {
    const device = open();
    const own = vm(device);
    const other = vm(device);
    const priv = bo(device, PAGE, own);
    bind(device, own, map(0x2000n, PAGE, priv.handle));
    expect(errno(() => bind(device, other, map(0x2000n, PAGE, priv.handle)))).toBe('EINVAL');
    expect(tree(device, other)).toEqual([]);
    expect(errno(() => device.exportHandle(priv.handle, PAGE, true))).toBe('EINVAL');
    expect(errno(() => bo(device, PAGE, 9999))).toBe('ENOENT');
    issue(device, vgpuvmVmDestroy(own));
    // The BO still holds the VM's shared reservation; the handle is what frees it.
    expect(stats().bos).toBe(before.bos + 1n);
    gemClose(device, priv.handle, PAGE);
    expect(stats().bos).toBe(before.bos);
  });

  it('VM_CREATE takes the three designs and refuses PUT_LOCKED without IMMEDIATE', () => {
    const device = open();
    for (const design of VM_BO_POLICIES) expect(vm(device, design)).toBeGreaterThan(0);
    const refused = vgpuvmVmCreate({ start: 0n, range: RANGE });
    refused.buffers[0]!.set([VGPUVM.DRM_VGPUVM_VM_CREATE_PUT_LOCKED], 32);
    expect(errno(() => issue(device, refused))).toBe('EINVAL');
    expect(stats().vms).toBe(before.vms + 3n);
  });

  it.each(VM_BO_POLICIES)('%s: a closed BO lives while mapped; splits, merges and the last unbind free every pair', (design) => {
    const device = open();
    const vmId = vm(device, design);
    const a = bo(device, 8n * PAGE);
    const b = bo(device, 8n * PAGE);
    bind(device, vmId, map(0x0n, 8n * PAGE, a.handle), map(0x10000n, 4n * PAGE, b.handle));
    gemClose(device, a.handle, 8n * PAGE);
    gemClose(device, b.handle, 8n * PAGE);
    expect(stats()).toMatchObject({ bos: before.bos + 2n, vmBos: before.vmBos + 2n, vas: before.vas + 2n });
    // Split a in three, then drop the middle and both ends: the last unmap of a frees its pair and a.
    bind(device, vmId, unmap(0x2000n, PAGE));
    expect(stats()).toMatchObject({ vmBos: before.vmBos + 2n, vas: before.vas + 3n });
    bind(device, vmId, unmap(0x0n, 2n * PAGE), unmap(0x3000n, 5n * PAGE));
    expect(stats()).toMatchObject({ bos: before.bos + 1n, vmBos: before.vmBos + 1n, vas: before.vas + 1n });
    // b goes with the VM.
    issue(device, vgpuvmVmDestroy(vmId));
    expect(stats()).toEqual(before);
  });

  it('the two immediate designs share a BO; a staged VM refuses it', () => {
    const device = open();
    const shared = bo(device, 2n * PAGE);
    const locked = vm(device, 'gpuva-lock');
    const deferred = vm(device, 'deferred');
    const staged = vm(device, 'resv');
    bind(device, locked, map(0x0n, 2n * PAGE, shared.handle));
    bind(device, deferred, map(0x0n, PAGE, shared.handle, PAGE));
    expect(errno(() => bind(device, staged, map(0x0n, PAGE, shared.handle)))).toBe('EINVAL');
    expect(stats()).toMatchObject({ vmBos: before.vmBos + 2n });
    gemClose(device, shared.handle, 2n * PAGE);
    bind(device, locked, unmap(0x0n, 2n * PAGE));
    expect(stats()).toMatchObject({ bos: before.bos + 1n, vmBos: before.vmBos + 1n });
    bind(device, deferred, unmap(0x0n, PAGE));
    expect(stats()).toMatchObject({ bos: before.bos, vmBos: before.vmBos });
  });

  it.each(VM_BO_POLICIES)('%s: BO_QUERY lists a BO\'s pairs in GEM list order with one reference per mapping', (design) => {
    const device = open();
    const first = vm(device, design);
    const second = vm(device, design);
    const shared = bo(device, 8n * PAGE);
    bind(device, second, map(0x0n, 8n * PAGE, shared.handle));
    bind(device, first, map(0x10000n, 4n * PAGE, shared.handle), map(0x20000n, PAGE, shared.handle, 7n * PAGE));
    // A split adds a mapping, and a reference, to the pair.
    bind(device, second, unmap(0x1000n, PAGE));
    expect(boState(device, shared.handle)).toEqual({ pairs: [pair(shared.id, second, 2), pair(shared.id, first, 2)], flags: 0, size: 8n * PAGE });
    bind(device, second, unmap(0x0n, 8n * PAGE));
    expect(boState(device, shared.handle).pairs).toEqual([pair(shared.id, first, 2)]);
    for (const vmId of [first, second]) expect(vmList(device, vmId, 'zombies')).toEqual([]);
  });

  it('extobj lists hold the BOs with their own reservation, in bind order; a VM-private BO is never one', () => {
    const device = open();
    const vmId = vm(device);
    const a = bo(device, PAGE);
    const priv = bo(device, PAGE, vmId);
    const b = bo(device, PAGE);
    bind(device, vmId, map(0x0n, PAGE, b.handle), map(0x1000n, PAGE, priv.handle), map(0x2000n, PAGE, a.handle));
    expect(vmList(device, vmId, 'extobj')).toEqual([pair(b.id, vmId, 1), pair(a.id, vmId, 1)]);
    expect(boState(device, priv.handle)).toMatchObject({ pairs: [pair(priv.id, vmId, 1, { extobj: false })], flags: VGPUVM.DRM_VGPUVM_BO_PRIVATE });
    // The pair leaves the list with its last mapping.
    bind(device, vmId, unmap(0x0n, PAGE));
    expect(vmList(device, vmId, 'extobj')).toEqual([pair(a.id, vmId, 1)]);
  });

  it.skipIf(!vgem.ready)('a vgem import says IMPORTED and is an extobj', () => {
    const device = open();
    using vgemDevice = DrmDevice.open(vgem.ready ? vgem.card : '');
    using source = vgemDevice.createBuffer(PAGE);
    using dmaBuf = source.exportDmaBuf({ writable: true });
    using imported = device.importDmaBuf(dmaBuf);
    const vmId = vm(device);
    bind(device, vmId, map(0x0n, PAGE, imported.handle));
    const state = boState(device, imported.handle);
    expect(state.flags).toBe(VGPUVM.DRM_VGPUVM_BO_IMPORTED);
    expect(state.pairs).toEqual([pair(state.pairs[0]!.boId, vmId, 1)]);
    issue(device, vgpuvmVmDestroy(vmId));
  });

  it.each(VM_BO_POLICIES)('%s: BO_EVICT marks every pair of the BO; VM_VALIDATE takes its own VM\'s off the list', (design) => {
    const device = open();
    const one = vm(device, design);
    const two = vm(device, design);
    const shared = bo(device, 2n * PAGE);
    const priv = bo(device, PAGE, one);
    bind(device, one, map(0x0n, 2n * PAGE, shared.handle), map(0x4000n, PAGE, priv.handle));
    bind(device, two, map(0x0n, PAGE, shared.handle));
    issue(device, vgpuvmBoEvict(shared.handle, true));
    issue(device, vgpuvmBoEvict(priv.handle, true));
    const evicted = { evicted: true, evictListed: true };
    expect(boState(device, shared.handle).pairs).toEqual([pair(shared.id, one, 1, evicted), pair(shared.id, two, 1, evicted)]);
    expect(vmList(device, one, 'evict')).toEqual([pair(shared.id, one, 1, evicted), pair(priv.id, one, 1, { ...evicted, extobj: false })]);
    expect(Number(readVgpuvmField(issue(device, vgpuvmVmValidate(one)), 'validated'))).toBe(2);
    expect(vmList(device, one, 'evict')).toEqual([]);
    expect(boState(device, shared.handle).pairs).toEqual([pair(shared.id, one, 1), pair(shared.id, two, 1, evicted)]);
    // Nothing left to validate in the first VM; the second is validated by marking the BO resident.
    expect(Number(readVgpuvmField(issue(device, vgpuvmVmValidate(one)), 'validated'))).toBe(0);
    issue(device, vgpuvmBoEvict(shared.handle, false));
    expect(vmList(device, two, 'evict')).toEqual([]);
    // An evicted pair goes with its last mapping, off the list too.
    issue(device, vgpuvmBoEvict(shared.handle, true));
    bind(device, two, unmap(0x0n, PAGE));
    expect(vmList(device, two, 'evict')).toEqual([]);
    expect(boState(device, shared.handle).pairs).toEqual([pair(shared.id, one, 1, evicted)]);
  });

  it('the queries refuse what they do not know and change nothing', () => {
    const device = open();
    const vmId = vm(device);
    expect(errno(() => issue(device, vgpuvmBoQuery(12345, 0)))).toBe('ENOENT');
    expect(errno(() => issue(device, vgpuvmBoEvict(12345, true)))).toBe('ENOENT');
    expect(errno(() => issue(device, vgpuvmVmValidate(vmId + 1000)))).toBe('ENOENT');
    const bad = vgpuvmBoEvict(1, true);
    bad.buffers[0]!.set([2], 4);
    expect(errno(() => issue(device, bad))).toBe('EINVAL');
  });
});
