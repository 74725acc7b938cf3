// SPDX-License-Identifier: MIT
// openGpu inside `drm-gpuvm vm`: on vgem (both kernels: the VA window backend over vgem memory, real vgem
// fences as jobs) and on the vgpuvm module (sid with --with-vgpuvm: binds through the kernel's drm_gpuvm,
// jobs on its drm_sched queues through vm.exec), the same checks as on the host's software device
// (test/support/gpu-scenarios.ts), with fds, GEM handles and, on vgpuvm, the module's live VM and BO
// counts equal before and after.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { issueIoctlCall } from '../../lib/backends/ioctl-call.js';
import { backendFor } from '../../lib/backends/kernel-backend-catalogue.js';
import { decodeVgpuvmOps, decodeVgpuvmPairs, readVgpuvmField, vgpuvmBoQuery, vgpuvmStats, vgpuvmVmQuery } from '../../lib/backends/vgpuvm.js';
import { DrmDevice } from '../../lib/drm/drm-device.js';
import { Syncobj } from '../../lib/drm/syncobj.js';
import { SoftwareFence } from '../../lib/fence/software-fence.js';
import type { DeviceVm } from '../../lib/gpu/device-vm.js';
import type { ExecJob } from '../../lib/gpu/exec-job.js';
import { runTask } from '../../lib/locks/task.js';
import { openGpu } from '../../lib/gpu/open-gpu.js';
import { findVgpuvm } from '../../lib/qemu/vgpuvm.js';
import { fnv1a } from '../support/fnv1a.js';
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
  it('refuses startJob: its jobs are GPU work, run with vm.exec', counted(s.jobGatesUnmapAndClose));

  /** Waits for `job`, which must end, and closes it. */
  const done = async (job: ExecJob): Promise<Error | null> => {
    expect(await job.wait({ timeoutMs: 20_000 })).toBe(true);
    const error = job.error;
    job.close();
    return error;
  };
  const u64At = (bytes: Uint8Array, at: number): bigint => new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(at, true);

  it('vm.exec fills, copies and checksums through the kernel\'s tree, in all three designs', counted(async (o) => {
    using gpu = o();
    expect(gpu.describe()).toMatchObject({ exec: { supported: true, how: expect.stringContaining('drm_sched') }, jobs: { supported: false, how: expect.stringContaining('vm.exec') } });
    for (const policy of ['resv', 'gpuva-lock', 'deferred'] as const) {
      using vm = gpu.createVm({ policy, range: 1n << 32n, name: policy });
      using a = gpu.createBo(4n * s.PAGE, { name: 'a' });
      using b = gpu.createBo(4n * s.PAGE, { name: 'b', private: vm });
      const base = 0x200000n;
      await vm.map({ addr: base, range: 4n * s.PAGE, bo: a });
      await vm.map({ addr: base + 4n * s.PAGE, range: 4n * s.PAGE, bo: b });
      const page = Number(s.PAGE);
      const value = 0x0123_4567_89ab_cdefn;
      const error = await done(await vm.exec([
        { op: 'fill', dst: base, size: 2n * s.PAGE, value },
        // Across the two BOs: the end of a and the start of b.
        { op: 'copy', src: base + 8n, dst: base + 4n * s.PAGE - 50n, size: 100n },
        { op: 'checksum', src: base, size: 2n * s.PAGE, dst: base + 3n * s.PAGE },
      ], { name: `${policy} job` }));
      expect(error, policy).toBeNull();
      const bytes = await vm.read(base, 8n * s.PAGE);
      const filled = new Uint8Array(2 * page);
      for (let at = 0; at < filled.length; at += 8) new DataView(filled.buffer).setBigUint64(at, value, true);
      expect(bytes.subarray(0, 2 * page), policy).toEqual(filled);
      expect(bytes.subarray(4 * page - 50, 4 * page + 50), policy).toEqual(filled.subarray(8, 108));
      expect(u64At(bytes, 3 * page), policy).toBe(fnv1a(filled));
      // The CPU's view of BO a agrees: the job wrote its pages.
      using aBytes = a.map();
      expect(aBytes.bytes.subarray(0, 2 * page), policy).toEqual(filled);
      vm.close();
    }
    expect(gpu.resources()).toEqual({ vms: 0, bos: 0, jobs: 0 });
  }));

  it('a command that touches an unmapped or sparse address faults the job there; the commands before it ran, it wrote nothing', counted(async (o) => {
    using gpu = o();
    using vm = gpu.createVm({ policy: 'deferred', range: 1n << 32n });
    using bo = gpu.createBo(2n * s.PAGE);
    const base = 0x10000n;
    // [bo: 2 pages][hole: 1 page][sparse: 1 page]
    await vm.map({ addr: base, range: 2n * s.PAGE, bo });
    await vm.map({ addr: base + 3n * s.PAGE, range: s.PAGE });
    const last = Number(2n * s.PAGE) - 8;
    for (const [dst, address] of [[base + 2n * s.PAGE - 8n, base + 2n * s.PAGE], [base + 3n * s.PAGE, base + 3n * s.PAGE]] as const) {
      const error = await done(await vm.exec([
        { op: 'fill', dst: base, size: 16n, value: 0x1111n },
        { op: 'fill', dst, size: 16n, value: 0x3333n },
        { op: 'fill', dst: base + 128n, size: 16n, value: 0x4444n },
      ]));
      expect(error).toMatchObject({ name: 'GpuError', code: 'ERR_GPU_JOB_FAULT', command: 1, address });
      const bytes = await vm.read(base, 2n * s.PAGE);
      expect([u64At(bytes, 0), u64At(bytes, 128), u64At(bytes, last)]).toEqual([0x1111n, 0n, 0n]);
      await vm.write(base, new Uint8Array(Number(2n * s.PAGE)));
    }
    // Bad commands are refused with typed errors before any ioctl, and nothing is queued.
    await expect(vm.exec([])).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(vm.exec([{ op: 'fill', dst: 0n, size: 0n, value: 0n }])).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(vm.exec([{ op: 'jump' } as never])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(vm.exec([{ op: 'fill', dst: 0n, size: 8n, value: 0n }], { after: [42 as never] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(vm.exec([{ op: 'fill', dst: 0n, size: 8n, value: 0n }], null as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(gpu.resources().jobs).toBe(0);
  }));

  it('a job waits for its after fences: jobs of the Gpu in the kernel, a software fence before it is submitted', counted(async (o) => {
    using gpu = o();
    using one = gpu.createVm({ policy: 'gpuva-lock', range: 1n << 32n, name: 'one' });
    using two = gpu.createVm({ policy: 'deferred', range: 1n << 32n, name: 'two' });
    const size = 4n << 20n;
    using shared = gpu.createBo(size, { name: 'shared' });
    await one.map({ addr: 0x100000n, range: size, bo: shared });
    await two.map({ addr: 0x800000n, range: size, bo: shared });
    await two.map({ addr: 0x800000n + size, range: s.PAGE, bo: gpu.createBo(s.PAGE, { name: 'sum' }) });
    // A long first job on VM one; the checksum on VM two runs after it only because of the in-sync.
    const fills = Array.from({ length: 64 }, (_, i) => ({ op: 'fill' as const, dst: 0x100000n, size, value: BigInt(i + 1) * 0x0101_0101_0101_0101n }));
    const first = await one.exec(fills, { name: 'fills' });
    const sum = await two.exec([{ op: 'checksum', src: 0x800000n, size, dst: 0x800000n + size }], { after: [first], name: 'sum' });
    expect(await done(sum)).toBeNull();
    expect(first.signaled).toBe(true);
    expect(await done(first)).toBeNull();
    const expected = new Uint8Array(Number(size)).fill(64);
    expect(u64At(await two.read(0x800000n + size, 8n), 0)).toBe(fnv1a(expected));
    // A fence that is not a job of this Gpu is waited for here: nothing is submitted before it signals.
    const gate = new SoftwareFence({ name: 'gate' });
    let submitted = false;
    const later = one.exec([{ op: 'fill', dst: 0x100000n, size: 8n, value: 7n }], { after: [gate] }).then((job) => {
      submitted = true;
      return job;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(submitted).toBe(false);
    gate.signal();
    expect(await done(await later)).toBeNull();
    expect(u64At(await one.read(0x100000n, 8n), 0)).toBe(7n);
  }));

  it('a job\'s fence is in the VM\'s and extobjs\' reservations: unmaps wait for it, close refuses while it runs', counted(async (o) => {
    using gpu = o();
    using vm = gpu.createVm({ policy: 'deferred', range: 1n << 32n });
    const size = 8n << 20n;
    using bo = gpu.createBo(size, { name: 'ext' });
    await vm.map({ addr: 0x100000n, range: size, bo });
    const job = await vm.exec(Array.from({ length: 32 }, (_, i) => ({ op: 'fill' as const, dst: 0x100000n, size, value: BigInt(i) })), { name: 'long' });
    expect(vm.resv.fences('bookkeep').map((f) => f.fence)).toContain(job);
    expect(bo.resv.fences('bookkeep').map((f) => f.fence)).toContain(job);
    // 256 MiB of fills under TCG take long enough to be caught running; say so when it was not.
    if (job.signaled) process.stderr.write('gpu (vgpuvm): the long job was done before close() could be tried on it\n');
    else {
      expect(() => vm.close()).toThrow(expect.objectContaining({ code: 'ERR_GPU_BUSY' }));
      expect(() => job.close()).toThrow(expect.objectContaining({ code: 'ERR_GPU_BUSY' }));
    }
    // The unmap of the memory the job uses completes only once the job is done, and the job did not fault.
    let doneFirst: boolean | null = null;
    await vm.unmap(0x100000n, size).then(() => {
      doneFirst = job.signaled;
    });
    expect(doneFirst).toBe(true);
    expect(await done(job)).toBeNull();
    vm.close();
  }));

  it('a bind with fences the kernel sees is a job on the VM\'s queue (immediate VMs); a staged VM binds synchronously', counted(async (o) => {
    using gpu = o();
    expect(gpu.describe().bindSyncobjs).toMatchObject({ supported: true, how: expect.stringContaining('immediate-mode') });
    const device = gpu.device as DrmDevice;
    for (const policy of ['deferred', 'gpuva-lock', 'resv'] as const) {
      using vm = gpu.createVm({ policy, range: 1n << 32n, name: policy });
      // The ops QUERY_OPS lists: those of the VM's last synchronous bind.
      const lastSyncBind = () => {
        const call = vgpuvmVmQuery(vm.vmId!, 'ops', 16);
        issueIoctlCall(device, call);
        return decodeVgpuvmOps(call).map((op) => [op.kind, op.va.addr]);
      };
      using bo = gpu.createBo(2n * s.PAGE);
      await vm.map({ addr: 0x10000n, range: s.PAGE, bo });
      expect(lastSyncBind(), policy).toEqual([['map', 0x10000n]]);
      const job = await vm.exec([{ op: 'fill', dst: 0x10000n, size: 8n, value: 9n }], { name: 'writer' });
      using out = Syncobj.create(device);
      await vm.map({ addr: 0x20000n, range: s.PAGE, bo, offset: s.PAGE, waitFor: [job], outFence: out });
      expect(job.signaled, policy).toBe(true);
      expect(() => out.wait(), policy).not.toThrow();
      // The kernel's tree has the mapping either way; only a synchronous bind shows in QUERY_OPS.
      expect(await vm.read(0x20000n, 16n), policy).toEqual(new Uint8Array(16));
      expect(lastSyncBind(), policy).toEqual(policy === 'resv' ? [['map', 0x20000n]] : [['map', 0x10000n]]);
      expect(await done(job), policy).toBeNull();
      vm.close();
    }
  }));

  // Each in a fresh process (test/support/exec-child.mjs): no earlier test can hide a crash.
  const child = fileURLToPath(new URL('../support/exec-child.mjs', import.meta.url));
  const runChild = (scenario: string) => spawnSync(process.execPath, [child, vgpuvm.ready ? vgpuvm.node : '', scenario], { encoding: 'utf8', timeout: 120_000 });
  /** The module's live objects, queues and jobs too; a job killed with its file is freed once it has run. */
  const liveAll = () => {
    using device = DrmDevice.open(vgpuvm.ready ? vgpuvm.node : '');
    const call = vgpuvmStats();
    issueIoctlCall(device, call);
    return Object.fromEntries(['vms', 'bos', 'vm_bos', 'vas', 'queues', 'jobs'].map((f) => [f, readVgpuvmField(call, f)]));
  };
  const settled = async (before: Record<string, bigint>): Promise<void> => {
    const same = (now: Record<string, bigint>): boolean => Object.keys(before).every((k) => now[k] === before[k]);
    for (let i = 0; i < 400 && !same(liveAll()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(liveAll()).toEqual(before);
  };

  it.each(['exit', 'worker'])('a %s with a job in flight and a wait pending on it: no crash, and nothing is left in the module', async (scenario) => {
    const before = liveAll();
    const run = runChild(scenario);
    expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    expect(run.stdout).toContain(scenario === 'exit' ? 'exiting with the job in flight' : 'the worker ended (0)');
    await settled(before);
  }, 150_000);

  it('vm.exec with hostile arguments: typed errors (or the caller\'s own), nothing queued, no crash', async () => {
    const before = liveAll();
    const run = runChild('hostile');
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(run.stdout.trim())).toEqual({
      throwingGetter: 'RangeError: getter', throwingOptions: 'RangeError: options', proxyCommand: 'ok', proxyArray: 'ok',
      revokedProxy: expect.stringMatching(/^TypeError: .*revoked/), tooMany: 'ERR_OUT_OF_RANGE', notArray: 'ERR_INVALID_ARG_TYPE',
      stringSize: 'ERR_INVALID_ARG_TYPE', hugeDst: 'ERR_OUT_OF_RANGE', negativeValue: 'ERR_OUT_OF_RANGE', copyWithoutSrc: 'ERR_INVALID_ARG_TYPE',
      afterNotFence: 'ERR_INVALID_ARG_TYPE', afterClosedJob: 'ok', afterForeignJob: 'ok', afterSignalledSoftware: 'ok', jobsHeld: 0,
      closedVm: 'ERR_GPU_CLOSED', closedGpu: 'ERR_GPU_CLOSED',
    });
    await settled(before);
  }, 150_000);

  it('evicting a BO marks its pairs in the kernel too; the next job validates them there and in the model', counted(async (o) => {
    using gpu = o();
    const pairsOf = (vm: DeviceVm, handle: number) => {
      const call = vgpuvmBoQuery(handle, 8);
      issueIoctlCall(gpu.device as DrmDevice, call);
      return decodeVgpuvmPairs(call).filter((p) => p.vmId === vm.vmId);
    };
    for (const policy of ['resv', 'gpuva-lock', 'deferred'] as const) {
      using vm = gpu.createVm({ policy, range: 1n << 32n, name: policy });
      using bo = gpu.createBo(s.PAGE, { name: 'evicted' });
      await vm.map({ addr: 0x10000n, range: s.PAGE, bo });
      await runTask('evict', async () => {
        using guard = await bo.resv.lock();
        bo.evict(guard);
      });
      expect(pairsOf(vm, bo.handle).map((p) => p.evicted), policy).toEqual([true]);
      expect(vm.evictList.entries().length, policy).toBe(1);
      // A refused job validates nothing, here or in the kernel.
      await expect(vm.exec([{ op: 'fill', dst: 0x10000n, size: 0n, value: 5n }])).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      expect(vm.evictList.entries().length, policy).toBe(1);
      expect(pairsOf(vm, bo.handle).map((p) => p.evicted), policy).toEqual([true]);
      expect(await done(await vm.exec([{ op: 'fill', dst: 0x10000n, size: 8n, value: 5n }]))).toBeNull();
      expect(pairsOf(vm, bo.handle).map((p) => p.evicted), policy).toEqual([false]);
      expect(vm.evictList.entries().length, policy).toBe(0);
      vm.close();
    }
  }));
  it('a released BO\'s GEM handle is closed in the kernel', counted(s.handlesReleased));
  // The same property as on vgem, bytes read through the kernel's tree (VM_RW), and jobs that are GPU work:
  // checksums through vm.exec, faulting where the model says, equal to the model's where they do not.
  it('random map/unmap/evict/validate/exec sequences, every page read through the kernel after every step', counted(async (o) => {
    // Twice vgem's count by default: a third of the exec steps land where BOs back the whole range.
    const runs = Number(process.env.GPU_PROPERTY_RUNS ?? 20);
    const total = await gpuProperty(o, runs, 20, Number(process.env.GPU_PROPERTY_SEED ?? 13));
    process.stderr.write(`gpu property (vgpuvm): ${JSON.stringify(total)}\n`);
    expect(total.sequences).toBe(runs);
    expect(total.execs).toBeGreaterThan(runs / 2);
    expect(total.faults).toBeGreaterThan(0);
    expect(total.faults).toBeLessThan(total.execs);
  }), 600_000);
});
