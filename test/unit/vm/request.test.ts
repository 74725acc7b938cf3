import { describe, expect, it } from 'vitest';
import type { GpuVmBackend } from '../../../lib/backends/backend.js';
import { TrackOnlyBackend } from '../../../lib/backends/track-only.js';
import type { GpuVm } from '../../../lib/gpuvm/gpuvm.js';
import type { GpuVaOps } from '../../../lib/gpuvm/ops.js';
import { DrmExec, runTask } from '../../../lib/locks/index.js';
import { Bo, Vm, vmInvariantViolations, VM_BO_POLICIES, type VmBoPolicy, type VmMapRequest } from '../../../lib/vm/index.js';
import { snapshot } from './snapshot.js';

/**
 * Records like the track-only backend, but fails the k-th commit (1-based): by throwing, as a synchronous
 * backend would, or by rejecting after an await, as one waiting for a device would.
 */
class FailingBackend implements GpuVmBackend {
  readonly name = 'failing';
  readonly inner = new TrackOnlyBackend();
  calls = 0;
  constructor(private readonly failAt: number, private readonly how: 'throws' | 'rejects') {}
  commit(vm: GpuVm, ops: GpuVaOps): void | Promise<void> {
    const fail = ++this.calls === this.failAt;
    const error = Object.assign(new Error(`injected failure of commit ${this.calls}`), { code: 'EIO' });
    if (this.how === 'throws') {
      if (fail) throw error;
      return this.inner.commit(vm, ops);
    }
    return tick().then(() => {
      if (fail) throw error;
      this.inner.commit(vm, ops);
    });
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe.each(VM_BO_POLICIES)('requests under the %s policy', (policy) => {
  const newVm = (extra: Partial<ConstructorParameters<typeof Vm>[0]> = {}) => new Vm({ policy, start: 0, range: 0x100000, ...extra });

  it('a map splits what it overlaps and links every piece to its BO pair', async () => {
    const vm = newVm();
    const a = new Bo(0x10000, { name: 'a' });
    const b = new Bo(0x10000, { name: 'b' });
    await vm.map({ addr: 0x0, range: 0x4000, bo: a });
    await vm.map({ addr: 0x1000, range: 0x1000, bo: b, offset: 0x2000 });
    expect(vm.mappings().map((v) => [v.addr, v.range, v.obj?.name, v.offset])).toEqual([
      [0x0n, 0x1000n, 'a', 0x0n], [0x1000n, 0x1000n, 'b', 0x2000n], [0x2000n, 0x2000n, 'a', 0x2000n],
    ]);
    expect(vm.pairs().map((p) => [p.obj.name, p.refcount])).toEqual([['a', 2], ['b', 1]]);
    expect(vmInvariantViolations(vm)).toEqual([]);
  });

  it('an invalid request is refused before anything is locked or committed', async () => {
    const vm = newVm();
    const a = new Bo(0x1000, { name: 'a' });
    const before = snapshot(vm);
    await expect(vm.map({ addr: 0, range: 0x2000, bo: a })).rejects.toMatchObject({ code: 'ERR_GPUVM_BO_BOUNDS' });
    await expect(vm.unmap(0, 0)).rejects.toMatchObject({ code: 'ERR_GPUVM_ZERO_RANGE' });
    await expect(vm.map({ addr: -1, range: 1 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(snapshot(vm)).toEqual(before);
    expect((vm.backend as TrackOnlyBackend).commits).toBe(0);
  });

  const script: Array<['map', VmMapRequest & { boName: 'a' | 'b' | null }] | ['unmap', [number, number]]> = [
    ['map', { addr: 0x0, range: 0x8000, boName: 'a' }],
    ['map', { addr: 0x2000, range: 0x2000, boName: 'b' }],
    ['map', { addr: 0x9000, range: 0x1000, boName: null }],
    ['unmap', [0x3000, 0x2000]],
    ['map', { addr: 0x0, range: 0x1000, boName: 'a' }],
    ['unmap', [0x0, 0x3000]],
    ['map', { addr: 0x6000, range: 0x4000, boName: 'b', offset: 0x1000 }],
    ['unmap', [0x0, 0x100000]],
  ];

  const failures = script.flatMap((_, i) => (['throws', 'rejects'] as const).map((how) => [i + 1, how] as const));
  it.each(failures)('a failure of commit %i (it %s) leaves tree, pairs, refcounts and lists exactly as before', async (k, how) => {
    const backend = new FailingBackend(k, how);
    const vm = newVm({ backend });
    const bos = { a: new Bo(0x10000, { name: 'a' }), b: new Bo(0x10000, { name: 'b' }) };
    // A reference held across the run, so refcounts include references, not only mappings.
    const held = await runTask('holder', async () => {
      using g = await bos.a.resv.lock();
      return vm.obtain(bos.a, policy === 'resv' ? g : undefined);
    });
    for (const [i, [kind, arg]] of script.entries()) {
      const before = snapshot(vm);
      const run = kind === 'map' ? vm.map({ ...arg, bo: arg.boName === null ? null : bos[arg.boName] }) : vm.unmap(...arg);
      if (i + 1 === k) {
        await expect(run).rejects.toMatchObject({ code: 'EIO' });
        expect(snapshot(vm)).toEqual(before);
      } else {
        await run;
      }
      expect(vmInvariantViolations(vm)).toEqual([]);
    }
    await vm.unmap(0, 0x100000); // again, in case the failed commit was the script's last unmap
    expect(backend.inner.spans()).toEqual([]);
    await runTask('holder', async () => {
      using g = await bos.a.resv.lock();
      held.put(g);
    });
    await vm.deferredCleanup();
    expect(vm.pairs()).toEqual([]);
    vm.close();
  });

  it('with a synchronous backend an uncontended request is done when map() returns; the promise only reports', async () => {
    const vm = newVm();
    const a = new Bo(0x10000, { name: 'a' });
    const mapped = vm.map({ addr: 0x1000, range: 0x2000, bo: a });
    expect(vm.mappings().map((v) => [v.addr, v.range])).toEqual([[0x1000n, 0x2000n]]);
    expect(vm.requestsInFlight).toBe(0);
    expect(a.resv.owner).toBeNull();
    expect(vm.vaLock.idle).toBe(true);
    await mapped;
    const unmapped = vm.unmap(0x1000, 0x1000);
    expect(vm.mappings().map((v) => [v.addr, v.range])).toEqual([[0x2000n, 0x1000n]]);
    await unmapped;
    expect(vmInvariantViolations(vm)).toEqual([]);
  });

  it('a request on an idle VM locks its range widened to the mappings it splits, as a busy VM\'s lookups would', async () => {
    const seen: Array<[bigint, bigint]> = [];
    const inner = new TrackOnlyBackend();
    let vm: Vm;
    const backend: GpuVmBackend = {
      name: 'probe',
      commit(gpuvm, ops) {
        const hold = vm.vaLock.held[0]!;
        seen.push([hold.start, hold.end]);
        inner.commit(gpuvm, ops);
      },
    };
    vm = newVm({ backend });
    const a = new Bo(0x10000, { name: 'a' });
    await vm.map({ addr: 0x1000, range: 0x4000, bo: a });
    await vm.map({ addr: 0x8000, range: 0x2000, bo: a });
    await vm.unmap(0x2000, 0x7000); // splits [0x1000, 0x5000) and [0x8000, 0xa000)
    await vm.map({ addr: 0x1800, range: 0x100, bo: null }); // inside [0x1000, 0x2000): widened to it
    expect(seen).toEqual([[0x1000n, 0x5000n], [0x8000n, 0xa000n], [0x1000n, 0xa000n], [0x1000n, 0x2000n]]);
  });

  it('overlapping concurrent requests are serialised: the second commits after the first applied', async () => {
    const events: string[] = [];
    const inner = new TrackOnlyBackend();
    const backend: GpuVmBackend = {
      name: 'slow',
      async commit(vm, ops) {
        events.push(`commit ${ops.length} ops at gen ${vm.generation}`);
        await tick();
        inner.commit(vm, ops);
      },
    };
    const vm = newVm({ backend });
    const a = new Bo(0x10000, { name: 'a' });
    const b = new Bo(0x10000, { name: 'b' });
    await Promise.all([vm.map({ addr: 0, range: 0x4000, bo: a }), vm.map({ addr: 0x2000, range: 0x4000, bo: b })]);
    expect(events).toEqual(['commit 1 ops at gen 0', 'commit 2 ops at gen 1']);
    expect(vmInvariantViolations(vm)).toEqual([]);
  });

  it('disjoint requests on one VM interleave', async () => {
    const events: string[] = [];
    const inner = new TrackOnlyBackend();
    const backend: GpuVmBackend = {
      name: 'slow',
      async commit(vm, ops) {
        const at = ops.ops[0]!.type === 'map' ? (ops.ops[0] as { addr: bigint }).addr : -1n;
        events.push(`start ${at}`);
        await tick();
        inner.commit(vm, ops);
        events.push(`end ${at}`);
      },
    };
    const vm = newVm({ backend });
    const x = new Bo(0x10000, { name: 'x' });
    const y = new Bo(0x10000, { name: 'y' });
    await Promise.all([vm.map({ addr: 0, range: 0x1000, bo: x }), vm.map({ addr: 0x8000, range: 0x1000, bo: y })]);
    expect(events).toEqual(['start 0', 'start 32768', 'end 0', 'end 32768']);
    expect(vmInvariantViolations(vm)).toEqual([]);
  });

  it('requests touching one mapping from both ends are serialised by their widened footprints', async () => {
    const events: string[] = [];
    const inner = new TrackOnlyBackend();
    const backend: GpuVmBackend = {
      name: 'slow',
      async commit(vm, ops) {
        events.push(`start ${ops.length}`);
        await tick();
        inner.commit(vm, ops);
        events.push(`end ${ops.length}`);
      },
    };
    const vm = newVm({ backend });
    const a = new Bo(0x10000, { name: 'a' });
    await vm.map({ addr: 0, range: 0x4000, bo: a });
    events.length = 0;
    await Promise.all([vm.unmap(0, 0x1000), vm.unmap(0x3000, 0x1000)]);
    expect(events).toEqual(['start 1', 'end 1', 'start 1', 'end 1']);
    expect(vm.mappings().map((v) => [v.addr, v.range, v.offset])).toEqual([[0x1000n, 0x2000n, 0x1000n]]);
    expect(vmInvariantViolations(vm)).toEqual([]);
  });

  it('requests on two VMs sharing a BO interleave, meeting only on the BO reservation', async () => {
    const events: string[] = [];
    const slow = (tag: string): GpuVmBackend => {
      const inner = new TrackOnlyBackend();
      return { name: tag, async commit(vm, ops) { events.push(`${tag} start`); await tick(); await tick(); inner.commit(vm, ops); events.push(`${tag} end`); } };
    };
    const vm1 = new Vm({ policy, name: 'vm1', start: 0, range: 0x100000, backend: slow('vm1') });
    const vm2 = new Vm({ policy, name: 'vm2', start: 0, range: 0x100000, backend: slow('vm2') });
    const shared = new Bo(0x10000, { name: 'shared' });
    const own1 = new Bo(0x10000, { name: 'own1' });
    const own2 = new Bo(0x10000, { name: 'own2' });
    await Promise.all([vm1.map({ addr: 0, range: 0x1000, bo: own1 }), vm2.map({ addr: 0, range: 0x1000, bo: own2 })]);
    expect(events.slice(0, 2)).toEqual(['vm1 start', 'vm2 start']);
    events.length = 0;
    await Promise.all([vm1.map({ addr: 0x1000, range: 0x1000, bo: shared }), vm2.map({ addr: 0x1000, range: 0x1000, bo: shared })]);
    expect(events).toEqual(['vm1 start', 'vm1 end', 'vm2 start', 'vm2 end']);
  });

  it('an extobj joins the extobj list when mapped; a VM-private BO does not', async () => {
    const vm = newVm();
    const ext = new Bo(0x1000, { name: 'ext' });
    const priv = new Bo(0x1000, { name: 'priv', resv: vm.resv });
    await vm.map({ addr: 0, range: 0x1000, bo: ext });
    await vm.map({ addr: 0x1000, range: 0x1000, bo: priv });
    await runTask('t', async () => {
      expect(vm.extobjList.entries().map((p) => p.obj.name)).toEqual(['ext']);
    });
  });

  it('evict puts pairs on the evict list; validate in an execLock makes them valid again', async () => {
    const validated: string[] = [];
    const vm = newVm({ validate: (vmBo) => { validated.push(vmBo.obj.name); } });
    const ext = new Bo(0x1000, { name: 'ext' });
    await vm.map({ addr: 0, range: 0x1000, bo: ext });
    await runTask('ttm', async () => {
      using g = await ext.resv.lock();
      ext.evict(g);
    });
    await runTask('submit', async () => {
      using exec = await vm.execLock();
      expect(exec.objects).toEqual([vm.resv, ext.resv]);
      expect(vm.evictList.entries().map((p) => p.obj.name)).toEqual(['ext']);
      await vm.validate(exec);
      expect(vm.evictList.entries()).toEqual([]);
    });
    expect(validated).toEqual(['ext']);
    expect(vmInvariantViolations(vm)).toEqual([]);
  });

  it('with RESV_PROTECTED an extobj eviction only marks the pair; prepareObjects moves it to the evict list', async () => {
    const vm = newVm({ resvProtected: true, validate: () => {} });
    const ext = new Bo(0x1000, { name: 'ext' });
    await vm.map({ addr: 0, range: 0x1000, bo: ext });
    await runTask('ttm', async () => {
      using g = await ext.resv.lock();
      ext.evict(g);
    });
    expect(vm.evictList.rawEntries()).toEqual([]);
    await runTask('submit', async () => {
      using exec = await vm.execLock();
      expect(vm.evictList.entries().map((p) => p.obj.name)).toEqual(['ext']);
      await vm.validate(exec);
      expect(vm.evictList.entries()).toEqual([]);
    });
  });

  it('a pair evicted after execLock ran stays on the evict list for the next validate', async () => {
    const validated: string[] = [];
    const vm = newVm({ validate: (vmBo) => { validated.push(vmBo.obj.name); } });
    const late = new Bo(0x1000, { name: 'late' });
    await runTask('submit', async () => {
      using exec = await vm.execLock();
      await runTask('binder', async () => {
        await vm.map({ addr: 0, range: 0x1000, bo: late });
        using g = await late.resv.lock();
        late.evict(g);
      });
      await vm.validate(exec);
      expect(validated).toEqual([]);
      expect(vm.evictList.entries().map((p) => p.obj.name)).toEqual(['late']);
    });
    await runTask('next-submit', async () => {
      using exec = await vm.execLock();
      await vm.validate(exec);
    });
    expect(validated).toEqual(['late']);
  });

  it('read and write need a backend that shows the VA space to the CPU: track-only refuses them', async () => {
    const vm = newVm();
    await vm.map({ addr: 0, range: 0x1000, bo: new Bo(0x1000, { name: 'a' }) });
    await expect(vm.read(0, 0x10)).rejects.toMatchObject({ code: 'ERR_VM_NO_VA_ACCESS' });
    await expect(vm.write(0, new Uint8Array(1))).rejects.toMatchObject({ code: 'ERR_VM_NO_VA_ACCESS' });
  });

  it('validate without a callback is ERR_VM_NO_VALIDATE_CALLBACK (the kernel\'s EOPNOTSUPP)', async () => {
    const vm = newVm();
    await runTask('submit', async () => {
      using exec = await vm.execLock();
      await expect(vm.validate(exec)).rejects.toMatchObject({ code: 'ERR_VM_NO_VALIDATE_CALLBACK', kernelError: 'EOPNOTSUPP' });
    });
  });

  it('execLockRange locks the BOs mapped in the range only; execLockArray adds the given BOs', async () => {
    const vm = newVm();
    const a = new Bo(0x1000, { name: 'a' });
    const b = new Bo(0x1000, { name: 'b' });
    const c = new Bo(0x1000, { name: 'c' });
    await vm.map({ addr: 0, range: 0x1000, bo: a });
    await vm.map({ addr: 0x1000, range: 0x1000, bo: b });
    await runTask('t', async () => {
      {
        using exec = await vm.execLockRange(0x1000, 0x1000);
        expect(exec.objects).toEqual([b.resv]);
      }
      using exec = await vm.execLockArray([c]);
      expect(exec.objects).toEqual([vm.resv, a.resv, b.resv, c.resv]);
    });
  });

  it('smMapExecLock locks the request BO and every BO the request would remap or unmap', async () => {
    const vm = newVm();
    const a = new Bo(0x10000, { name: 'a' });
    const b = new Bo(0x10000, { name: 'b' });
    const c = new Bo(0x10000, { name: 'c' });
    const d = new Bo(0x10000, { name: 'd' });
    await vm.map({ addr: 0, range: 0x2000, bo: a });
    await vm.map({ addr: 0x2000, range: 0x2000, bo: b });
    await vm.map({ addr: 0x8000, range: 0x1000, bo: d });
    await runTask('t', async () => {
      using exec = new DrmExec({ ignoreDuplicates: true });
      await exec.untilAllLocked((e) => vm.smMapExecLock(e, { addr: 0x1000, range: 0x2000, bo: c }));
      expect(exec.objects).toEqual([a.resv, b.resv, c.resv]);
    });
  });
});

describe('policy independence', () => {
  it.each<VmBoPolicy>(['resv', 'gpuva-lock', 'deferred'])('one BO cannot serve VMs of different modes (%s first)', async (first) => {
    const other: VmBoPolicy = first === 'resv' ? 'deferred' : 'resv';
    const vm1 = new Vm({ policy: first, start: 0, range: 0x10000 });
    const vm2 = new Vm({ policy: other, start: 0, range: 0x10000 });
    const bo = new Bo(0x1000, { name: 'bo' });
    await vm1.map({ addr: 0, range: 0x1000, bo });
    await expect(vm2.map({ addr: 0, range: 0x1000, bo })).rejects.toMatchObject({ code: 'ERR_VM_BO_MODE' });
    expect(vm2.mappings()).toEqual([]);
  });
});

describe('bad input', () => {
  it.each<[string, () => unknown]>([
    ['Vm without options', () => new Vm(undefined as never)],
    ['Vm with a non-function validate', () => new Vm({ policy: 'resv', start: 0, range: 0x1000, validate: 1 as never })],
    ['Bo with null options', () => new Bo(0x1000, null as never)],
    ['Bo with a resv that is not a DmaResv', () => new Bo(0x1000, { resv: {} as never })],
    ['obtain of something that is not a Bo', () => new Vm({ policy: 'deferred', start: 0, range: 0x1000 }).obtain({} as never)],
  ])('%s is a TypeError with code ERR_INVALID_ARG_TYPE', (_, call) => {
    expect(call).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('Vm with an unknown policy is a TypeError with code ERR_INVALID_ARG_VALUE', () => {
    expect(() => new Vm({ policy: 'spinlock' as never, start: 0, range: 0x1000 }))
      .toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('a bad request rejects (never throws synchronously) and changes nothing', async () => {
    const vm = new Vm({ policy: 'resv', start: 0, range: 0x10000 });
    const before = snapshot(vm);
    await expect(vm.map(null as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(vm.map({ addr: 0, range: 0x1000, bo: {} as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(vm.commit([] as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(vm.unmap(0n, 2n ** 64n)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(snapshot(vm)).toEqual(before);
  });
});
