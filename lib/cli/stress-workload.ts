// SPDX-License-Identifier: MIT
// The stress workload: N tasks share a few BOs between two VMs and, with random awaits between
// steps, map, unmap, obtain, put, evict, validate and clean up, while a few deliberate misuses are injected.
// After every step the invariants are checked. It ends (no deadlock) with every pair freed and both VMs
// closed, or reports what went wrong.
import type { GpuVmBackend } from '../backends/backend.js';
import { TrackOnlyBackend } from '../backends/track-only.js';
import type { GpuVm } from '../gpuvm/gpuvm.js';
import type { GpuVaOps } from '../gpuvm/ops.js';
import type { VmBo } from '../gpuvm/vm-bo.js';
import { formatLockDump } from '../locks/dump.js';
import { LockError } from '../locks/errors.js';
import { DrmExec } from '../locks/exec.js';
import { lockStats, resetLockStats, type LockStats } from '../locks/stats.js';
import { runTask } from '../locks/task.js';
import { mulberry32 } from '../mulberry32.js';
import { Bo } from '../vm/bo.js';
import { vmInvariantViolations } from '../vm/invariants.js';
import type { VmBoPolicy } from '../vm/policy.js';
import { Vm } from '../vm/vm.js';
import type { VmBoRef } from '../vm/vm-bo-ref.js';

/** Parameters of {@link runStress}. */
export interface StressOptions {
  policy: VmBoPolicy;
  /** Concurrent tasks. */
  tasks: number;
  /** Steps per task. */
  ops: number;
  /** PRNG seed; the same seed gives the same choices (interleavings also depend on timing). */
  seed: number;
  /** Shared BOs (default 8). */
  bos?: number;
  /** Guard the extobj/evict lists with the VM reservation (default false). */
  resvProtected?: boolean;
  /** Check every invariant after every step (default true; a benchmark may turn it off). */
  checkInvariants?: boolean;
  /** Inject deliberate misuses (default true). */
  injectMisuse?: boolean;
  /** Give up and count the tasks still running as deadlocked after this long without progress (default 5000 ms). */
  stallMs?: number;
}

/** What {@link runStress} measured. */
export interface StressResult {
  policy: VmBoPolicy;
  tasks: number;
  ops: number;
  /** Tasks that never finished. */
  deadlocks: number;
  /** Broken invariants and unexpected errors. */
  violations: number;
  /** The first few of them, as sentences. */
  violationMessages: string[];
  /** Misuses refused with the right error and no state change. */
  misuseDetected: number;
  /** Deliberate misuses the run made; misuseDetected counts those refused as they should be. */
  misuseInjected: number;
  /** Steps per second of wall time. */
  opsPerSecond: number;
  /** Wall time. */
  elapsedMs: number;
  /** Lock counters over the run (contention, wait time, back-offs). */
  locks: LockStats;
}

const PAGE = 0x1000;
const VA_PAGES = 48;
const BO_PAGES = 16;

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Track-only, with random awaits inside the commit, so requests really overlap in time. */
function jitteryBackend(random: () => number): GpuVmBackend {
  const inner = new TrackOnlyBackend();
  return {
    name: 'track-only+jitter',
    async commit(vm: GpuVm, ops: GpuVaOps) {
      for (let i = Math.floor(random() * 3); i > 0; i--) await tick();
      inner.commit(vm, ops);
    },
  };
}

/** Runs the workload and reports; never throws for what it finds, only for bad options. */
export async function runStress(options: StressOptions): Promise<StressResult> {
  const { policy, tasks, ops, seed } = options;
  const checkInvariants = options.checkInvariants ?? true;
  const injectMisuse = options.injectMisuse ?? true;
  const stallMs = options.stallMs ?? 5000;
  const vms = [0, 1].map((i) => new Vm({
    policy, name: `vm${i}`, start: 0, range: VA_PAGES * PAGE, resvProtected: options.resvProtected === true,
    backend: jitteryBackend(mulberry32(seed * 31 + i)), validate: async () => { await tick(); },
  }));
  const bos = Array.from({ length: options.bos ?? 8 }, (_, i) => new Bo(BO_PAGES * PAGE, { name: `bo${i}` }));
  const held = new Map<VmBo, number>();
  const violations: string[] = [];
  let misuseDetected = 0;
  let misuseInjected = 0;
  let progress = 0;
  let steps = 0;

  const violation = (msg: string): void => {
    violations.push(msg);
  };
  const check = (): void => {
    if (!checkInvariants) return;
    for (const vm of vms) {
      for (const v of vmInvariantViolations(vm)) violation(`${vm.name}: ${v}`);
      if (vm.requestsInFlight > 0) continue; // a request in flight holds a reference of its own
      for (const pair of vm.pairs()) {
        if (vm.refsHeld(pair) !== (held.get(pair) ?? 0)) violation(`${vm.name}: pair of ${pair.obj.name} counts ${vm.refsHeld(pair)} references, tasks hold ${held.get(pair) ?? 0}`);
      }
    }
  };
  const noteRef = (pair: VmBo, delta: number): void => {
    const n = (held.get(pair) ?? 0) + delta;
    if (n === 0) held.delete(pair);
    else held.set(pair, n);
  };

  async function putRef(ref: VmBoRef): Promise<void> {
    const pair = ref.vmBo;
    const vm = vms.find((v) => v.gpuvm === pair.vm)!;
    if (policy === 'resv') {
      const resv = bos.find((b) => b.gem === pair.obj)!.resv;
      // With RESV_PROTECTED lists the final put edits them, so it needs the VM reservation as well.
      using exec = new DrmExec();
      await exec.untilAllLocked(async (e) => {
        if (vm.resvProtected) await vm.prepareVm(e);
        await e.lock(resv);
      });
      ref.put(exec.guardOf(resv));
    } else if (policy === 'gpuva-lock' && vm.resvProtected) {
      // With RESV_PROTECTED lists a final put edits them, so it needs the VM reservation even here.
      using _vmResv = await vm.resv.lock();
      ref.put();
    } else {
      ref.put();
    }
    noteRef(pair, -1);
  }

  async function obtainRef(vm: Vm, bo: Bo): Promise<VmBoRef> {
    let ref: VmBoRef;
    if (policy === 'resv') {
      using g = await bo.resv.lock();
      ref = vm.obtain(bo, g);
    } else {
      ref = vm.obtain(bo);
    }
    noteRef(ref.vmBo, 1);
    return ref;
  }

  // One deliberate misuse; counts as detected only if refused with the expected code.
  async function misuse(r: () => number): Promise<void> {
    const vm = vms[Math.floor(r() * vms.length)]!;
    const bo = bos[Math.floor(r() * bos.length)]!;
    const expectCode = async (code: string, attempt: () => unknown): Promise<void> => {
      misuseInjected++;
      try {
        await attempt();
        violation(`misuse not detected: expected ${code}`);
      } catch (err) {
        if ((err as { code?: string }).code === code) misuseDetected++;
        else violation(`misuse gave ${(err as Error).message} instead of ${code}`);
      }
    };
    const kind = Math.floor(r() * 5);
    if (kind === 0) {
      using _g = await bo.resv.lock();
      await expectCode('ERR_LOCK_RECURSIVE', () => bo.resv.lock());
    } else if (kind === 1) {
      using g = await bo.resv.lock();
      await runTask('intruder', () => expectCode('ERR_LOCK_NOT_OWNER', () => g.release()));
    } else if (kind === 2) {
      using _g = await bo.resv.lock();
      await expectCode('ERR_LOCK_ORDER', () => vm.map({ addr: 0, range: PAGE, bo }));
    } else if (kind === 3) {
      const stale = vm.gpuvm.smUnmapOps(0, PAGE);
      await vm.map({ addr: 0, range: PAGE });
      await expectCode('ERR_GPUVM_STALE_OPS', () => vm.commit(stale));
    } else if (policy === 'resv') {
      const ref = await obtainRef(vm, bo);
      if (ref.vmBo.refcount === 1) await expectCode('ERR_LOCK_NOT_HELD', () => ref.put());
      await putRef(ref);
    } else if (policy === 'deferred') {
      const ref = await obtainRef(vm, bo);
      const pair = ref.vmBo;
      await putRef(ref);
      if (pair.zombie) await expectCode('ERR_GPUVM_REFCOUNT', () => pair.get());
    } else if (vm.mappings().length > 0) {
      await expectCode('ERR_VM_BUSY', () => vm.close());
    }
  }

  async function task(index: number): Promise<void> {
    const r = mulberry32(seed ^ Math.imul(index + 1, 0x9e3779b1));
    const refs: VmBoRef[] = [];
    for (let step = 0; step < ops; step++) {
      for (let i = Math.floor(r() * 3); i > 0; i--) await tick();
      const vm = vms[Math.floor(r() * vms.length)]!;
      const bo = bos[Math.floor(r() * bos.length)]!;
      const choice = r();
      try {
        if (injectMisuse && choice < 0.02) await misuse(r);
        else if (choice < 0.35) {
          const pages = 1 + Math.floor(r() * 4);
          const addr = Math.floor(r() * (VA_PAGES - pages + 1)) * PAGE;
          const sparse = r() < 0.1;
          const offset = Math.floor(r() * (BO_PAGES - pages + 1)) * PAGE;
          await vm.map(sparse ? { addr, range: pages * PAGE } : { addr, range: pages * PAGE, bo, offset });
        } else if (choice < 0.55) {
          const pages = 1 + Math.floor(r() * 8);
          await vm.unmap(Math.floor(r() * (VA_PAGES - pages + 1)) * PAGE, pages * PAGE);
        } else if (choice < 0.67) {
          refs.push(await obtainRef(vm, bo));
        } else if (choice < 0.79) {
          const ref = refs.splice(Math.floor(r() * refs.length), 1)[0];
          if (ref !== undefined) await putRef(ref);
        } else if (choice < 0.89) {
          using g = await bo.resv.lock();
          bo.evict(g, r() < 0.7);
        } else if (choice < 0.95) {
          using exec = await vm.execLock();
          await vm.validate(exec);
        } else {
          await vm.deferredCleanup();
        }
      } catch (err) {
        violation(`task ${index} step ${step}: unexpected ${err instanceof LockError ? err.code : (err as Error).name}: ${(err as Error).message}`);
      }
      steps++;
      progress++;
      check();
    }
    for (const ref of refs) await putRef(ref);
  }

  // One request per VM first, so the lock order graph learns "VA range before dma_resv" from correct use
  // before any injected inversion can be seen.
  await runTask('warm-up', async () => {
    for (const vm of vms) {
      await vm.map({ addr: 0, range: PAGE, bo: bos[0]! });
      await vm.unmap(0, PAGE);
      await vm.deferredCleanup();
    }
  });
  resetLockStats();
  const started = performance.now();
  let finished = 0;
  const running = Array.from({ length: tasks }, (_, i) => runTask(`task${i}`, () => task(i)).finally(() => { finished++; }));
  let stalled = false;
  await new Promise<void>((resolve) => {
    let seen = -1;
    let quietSince = performance.now();
    const timer = setInterval(() => {
      if (finished === tasks) { clearInterval(timer); resolve(); return; }
      if (progress !== seen) { seen = progress; quietSince = performance.now(); return; }
      if (performance.now() - quietSince > stallMs) {
        stalled = true;
        violation(`no progress for ${stallMs} ms; locks:\n${formatLockDump()}`);
        clearInterval(timer);
        resolve();
      }
    }, 20);
    void Promise.allSettled(running).then(() => { clearInterval(timer); resolve(); });
  });
  const elapsedMs = performance.now() - started;
  const locks = lockStats();
  const deadlocks = tasks - finished;

  if (!stalled) {
    // Tear down: everything must be freeable, and both VMs must close.
    await runTask('teardown', async () => {
      for (const vm of vms) {
        await vm.unmap(0, VA_PAGES * PAGE);
        await vm.deferredCleanup();
        if (vm.pairs().length > 0) violation(`${vm.name}: ${vm.pairs().length} pair(s) left after every reference was put: lost references`);
        try {
          vm.close();
        } catch (err) {
          violation(`${vm.name}: ${(err as Error).message}`);
        }
      }
    });
    check();
  }
  return {
    policy, tasks, ops, deadlocks,
    violations: violations.length, violationMessages: violations.slice(0, 5),
    misuseDetected, misuseInjected,
    opsPerSecond: steps / (elapsedMs / 1000), elapsedMs, locks,
  };
}
