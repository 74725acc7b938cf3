// SPDX-License-Identifier: MIT
// Where the VM layer meets fences: a job's fence added to the VM's and its extobjs' reservations
// (drm_gpuvm_resv_add_fence), and the fences a bind waits for before its transaction starts.
//
// A bind waits, holding no lock, for its in-fences and for the fences of the VM's reservation the
// kernel drivers make it wait for: an op that takes memory out of the VA space (unmap, or a map that
// replaces or splits a mapping) waits for the VM's BOOKKEEP fences, the jobs that may still use it
// (xe's wait_vm_bookkeep); a map into free space only for its KERNEL fences. The fences are the ones
// present when the request is made, as a driver takes a job's dependencies at submission. Only once
// every one has signalled does the transaction start, so an aborted or timed-out wait changes nothing.
import { assertOptionsObject, invalidArgType, invalidArgValue } from '../arg-errors.js';
import { DmaResv } from '../fence/dma-resv.js';
import { checkFence, type Fence } from '../fence/fence.js';
import { checkUsage, type DmaResvUsage } from '../fence/usage.js';
import { waitAll } from '../fence/wait-all.js';
import { abortError, readWaitOptions, type CheckedWait } from '../fence/wait-options.js';
import { DrmExec } from '../locks/exec.js';
import { boOf } from './bo.js';
import { VmError } from './errors.js';
import type { Vm } from './vm.js';

/** Options of {@link Vm.addFence}. */
export interface AddFenceOptions {
  /** The usage in the VM's reservation and those of VM-private BOs (private_usage). */
  usage: DmaResvUsage;
  /** The usage in the extobjs' reservations (extobj_usage); default `usage`. */
  extobjUsage?: DmaResvUsage;
  /**
   * Add to every reservation this exec holds (drm_gpuvm_resv_add_fence); without it, to the VM's and
   * every extobj's (what drm_gpuvm_exec_lock locks, drm_gpuvm_exec_resv_add_fence).
   */
  exec?: DrmExec;
}

/** What a bind's out-fence must offer: a way to signal it, with the bind's error if it failed. */
export interface BindOutFence {
  signal(error?: Error): void;
}

/** The fence options of a bind (map, unmap, commit). */
export interface BindFenceOptions {
  /** In-fences: the bind starts once every one has signalled. */
  waitFor?: readonly Fence[];
  /** Aborts the wait for fences (AbortError); nothing changes. Once the bind started, it runs to its end. */
  signal?: AbortSignal;
  /** Gives up waiting for fences after this many milliseconds (ERR_VM_FENCE_TIMEOUT); nothing changes. */
  timeoutMs?: number;
  /** Signalled when the bind settles: without an argument when done, with its error when it failed. */
  outFence?: BindOutFence;
}

/** BindFenceOptions read and checked once, before anything waits. */
export interface CheckedBindFences {
  readonly waitFor: readonly Fence[];
  readonly wait: CheckedWait;
  readonly outFence: BindOutFence | null;
}

/** Reads the fence options of a bind; null when none is given (the common case costs four reads). */
export function readBindFences(options: BindFenceOptions): CheckedBindFences | null {
  const { waitFor, signal, timeoutMs, outFence } = options;
  if (waitFor === undefined && signal === undefined && timeoutMs === undefined && outFence === undefined) return null;
  if (waitFor !== undefined && !Array.isArray(waitFor)) throw invalidArgType('waitFor', 'Array', waitFor);
  const fences = (waitFor ?? []).map((fence, i) => checkFence(fence, `waitFor[${i}]`));
  if (outFence !== undefined) {
    if (typeof outFence !== 'object' || outFence === null || typeof outFence.signal !== 'function') throw invalidArgType('outFence', 'an object with a signal() method', outFence);
    if ((outFence as Partial<Fence>).signaled === true) throw invalidArgValue('outFence', outFence, 'is signalled already');
  }
  return { waitFor: fences, wait: readWaitOptions({ signal, timeoutMs }), outFence: outFence ?? null };
}

/**
 * Runs a bind of `vm`: first waits for its in-fences and the VM's fences (`removes`: whether the bind
 * takes memory out of the VA space), then runs `run`, the transaction; signals the out-fence at the end.
 */
export function gatedBind(vm: Vm, fences: CheckedBindFences | null, removes: () => boolean, run: () => Promise<void>): Promise<void> {
  // Nothing to wait for (signalled fences may still be listed): the request may finish synchronously.
  if (fences === null && (!vm.resv.hasFences || vm.resv.testSignaled('bookkeep'))) return run();
  const outFence = fences?.outFence ?? null;
  const done = waitThenRun(vm, fences, removes, run);
  return outFence === null ? done : done.then(() => outFence.signal(), (err: unknown) => {
    outFence.signal(err instanceof Error ? err : new Error(String(err)));
    throw err;
  });
}

async function waitThenRun(vm: Vm, fences: CheckedBindFences | null, removes: () => boolean, run: () => Promise<void>): Promise<void> {
  const waitFor = fences?.waitFor ?? [];
  const resvFences = vm.resv.hasFences ? vm.resv.fences(removes() ? 'bookkeep' : 'kernel').map((f) => f.fence) : [];
  if (waitFor.length + resvFences.length > 0) {
    const wait = fences?.wait;
    if (!(await waitAll([...waitFor, ...resvFences], { signal: wait?.signal, timeoutMs: wait === undefined || wait.timeoutMs < 0 ? undefined : wait.timeoutMs }))) {
      throw new VmError('ERR_VM_FENCE_TIMEOUT', `a bind of VM '${vm.name}' gave up waiting for its fences after ${wait!.timeoutMs} ms; nothing changed`, { kernelError: 'ETIME' });
    }
    const failed = waitFor.find((fence) => fence.error !== null);
    if (failed !== undefined) {
      throw new VmError('ERR_VM_FENCE_ERROR', `a bind of VM '${vm.name}' waited for fence '${failed.name}', which signalled an error: ${failed.error!.message}; nothing changed`, { cause: failed.error! });
    }
  } else if (fences?.wait.aborted === true) {
    // An abort before anything had to wait still refuses the bind, as a wait would have.
    throw abortError(fences.wait.signal!);
  }
  return run();
}

/**
 * drm_gpuvm_resv_add_fence / drm_gpuvm_exec_resv_add_fence for `vm`; see {@link Vm.addFence}. Every
 * reservation is checked (held by the caller, a slot free) before the fence is added to any.
 */
export function addVmFence(vm: Vm, fence: Fence, options: AddFenceOptions): void {
  checkFence(fence, 'fence');
  assertOptionsObject(options);
  const usage = checkUsage(options.usage, 'options.usage');
  const extobjUsage = options.extobjUsage === undefined ? usage : checkUsage(options.extobjUsage, 'options.extobjUsage');
  const exec = options.exec;
  if (exec !== undefined && !(exec instanceof DrmExec)) throw invalidArgType('options.exec', 'DrmExec', exec);
  vm.checkOpen();
  const targets = new Set<DmaResv>();
  if (exec === undefined) {
    vm.resv.assertHeld(`drm_gpuvm_exec_resv_add_fence on VM '${vm.name}'`);
    targets.add(vm.resv);
    for (const vmBo of vm.extobjList.entries()) targets.add(boOf(vmBo.obj).resv);
  } else {
    for (const resv of exec.objects) {
      if (!(resv instanceof DmaResv)) throw invalidArgValue('options.exec', exec, `holds ${resv.name}, a reservation without fence slots (not a DmaResv)`);
      targets.add(resv);
    }
  }
  const checked = [...targets].map((resv) => {
    const use = resv === vm.resv ? usage : extobjUsage;
    resv.slotFor(fence, use);
    return { resv, use };
  });
  for (const { resv, use } of checked) resv.addFence(fence, use);
}
