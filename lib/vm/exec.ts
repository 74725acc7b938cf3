// SPDX-License-Identifier: MIT
// What a driver does between requests and a submission, for one Vm: lock the VM and its objects in a
// drm_exec (prepare_vm, prepare_objects, prepare_range, exec_lock and its array and range forms, and the
// sm_map/sm_unmap exec_lock helpers), mark pairs evicted (drm_gpuvm_bo_evict) and make them resident again
// (drm_gpuvm_validate) through the VM's vm_bo_validate callback.
import type { GemObject } from '../gpuvm/gem.js';
import { invalidArgType, outOfRange } from '../arg-errors.js';
import type { DmaResv } from '../fence/dma-resv.js';
import type { GpuVaOps } from '../gpuvm/ops.js';
import type { VmBo } from '../gpuvm/vm-bo.js';
import { DrmExec } from '../locks/exec.js';
import { toU64, type U64Like } from '../u64.js';
import { Bo, boOf } from './bo.js';
import { VmError } from './errors.js';
import { touchedBy } from './request.js';
import type { ExecLockOptions, Vm, VmMapRequest } from './vm.js';

/** ops->vm_bo_validate: makes an evicted pair's BO resident again. */
export type VmBoValidate = (vmBo: VmBo, exec: DrmExec) => void | Promise<void>;

/**
 * drm_exec_prepare_obj: locks `resv` in `exec` and reserves `numFences` fence slots in it (again on every
 * retry of the locking step, since a back-off unlocks, which drops what was reserved).
 */
async function prepareObj(exec: DrmExec, resv: DmaResv, numFences: number): Promise<void> {
  await exec.lock(resv);
  if (numFences > 0) resv.reserveFences(numFences);
}

function checkNumFences(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw outOfRange('numFences', 'an integer >= 0', value);
  return value;
}

/** The exec, eviction and validation helpers of one Vm, with the `evicted` mark of its pairs. */
export class VmExecHelpers {
  readonly #vm: Vm;
  readonly #validate: VmBoValidate | undefined;
  // vm_bo->evicted of each pair, kept here since only eviction and validation read it.
  readonly #evicted = new Set<VmBo>();

  constructor(vm: Vm, validate: VmBoValidate | undefined) {
    this.#vm = vm;
    this.#validate = validate;
  }

  /** True when `vmBo` is marked evicted. */
  isEvicted(vmBo: VmBo): boolean {
    return this.#evicted.has(vmBo);
  }

  /** Forgets a freed pair. */
  forget(vmBo: VmBo): void {
    this.#evicted.delete(vmBo);
  }

  /** drm_gpuvm_bo_evict for one pair; the caller holds the BO's resv. */
  evictPair(vmBo: VmBo, evict: boolean): void {
    const vm = this.#vm;
    const bo = boOf(vmBo.obj);
    bo.resv.assertHeld('drm_gpuvm_bo_evict');
    if (evict) this.#evicted.add(vmBo);
    else this.#evicted.delete(vmBo);
    // An extobj's list update waits for prepareObjects, which runs with the VM's reservation held.
    if (vm.isExtobj(bo) && vm.resvProtected) return;
    if (evict) vm.evictList.add(vmBo);
    else vm.evictList.remove(vmBo);
  }

  /** drm_gpuvm_prepare_vm. */
  async prepareVm(exec: DrmExec, numFences?: number): Promise<void> {
    await prepareObj(exec, this.#vm.resv, checkNumFences(numFences));
  }

  /** drm_gpuvm_prepare_objects. */
  async prepareObjects(exec: DrmExec, numFences?: number): Promise<void> {
    const slots = checkNumFences(numFences);
    const vm = this.#vm;
    const extobjs = vm.extobjList.entries();
    for (const vmBo of extobjs) await prepareObj(exec, boOf(vmBo.obj).resv, slots);
    if (vm.resvProtected) for (const vmBo of extobjs) if (this.#evicted.has(vmBo)) vm.evictList.add(vmBo);
  }

  /** drm_gpuvm_prepare_range. */
  async prepareRange(exec: DrmExec, addr: U64Like, range: U64Like, numFences?: number): Promise<void> {
    const slots = checkNumFences(numFences);
    const start = toU64(addr, 'addr');
    const end = start + toU64(range, 'range');
    const gems = new Set<GemObject>();
    for (const va of this.#vm.gpuvm.vasInRange(start, end)) if (va.obj !== null) gems.add(va.obj);
    for (const gem of gems) await prepareObj(exec, boOf(gem).resv, slots);
  }

  /** drm_gpuvm_exec_lock (+ _array with `objects`). */
  async execLock(options: ExecLockOptions): Promise<DrmExec> {
    const numFences = checkNumFences(options.numFences);
    return this.#lockedExec('exec_lock', async (e) => {
      await this.prepareVm(e, numFences);
      await this.prepareObjects(e, numFences);
      for (const bo of options.objects ?? []) await prepareObj(e, bo.resv, numFences);
      await options.extra?.(e);
    });
  }

  /** drm_gpuvm_exec_lock_range. */
  async execLockRange(addr: U64Like, range: U64Like, numFences?: number): Promise<DrmExec> {
    const slots = checkNumFences(numFences);
    return this.#lockedExec('exec_lock_range', (e) => this.prepareRange(e, addr, range, slots));
  }

  async #lockedExec(what: string, step: (exec: DrmExec) => Promise<void>): Promise<DrmExec> {
    const vm = this.#vm;
    vm.checkOpen();
    const exec = new DrmExec({ ignoreDuplicates: true, name: `${vm.name}.${what}` });
    try {
      await exec.untilAllLocked(step);
    } catch (err) {
      exec[Symbol.dispose]();
      throw err;
    }
    return exec;
  }

  /** drm_gpuvm_validate; see {@link Vm.validate}. */
  async validate(exec: DrmExec): Promise<void> {
    const vm = this.#vm;
    const validate = this.#validate;
    if (validate === undefined) {
      throw new VmError('ERR_VM_NO_VALIDATE_CALLBACK', `VM '${vm.name}' was created without a validate callback`, { kernelError: 'EOPNOTSUPP' });
    }
    for (const vmBo of vm.evictList.entries()) {
      const resv = boOf(vmBo.obj).resv;
      if (vm.resvProtected) resv.assertHeld('drm_gpuvm_validate');
      else if (!resv.isHeld()) continue;
      await validate(vmBo, exec);
      if (vmBo.state === 'freed') continue;
      this.#evicted.delete(vmBo);
      vm.evictList.remove(vmBo);
    }
  }

  /** drm_gpuvm_sm_map_exec_lock. */
  async smMapExecLock(exec: DrmExec, req: VmMapRequest): Promise<void> {
    const bo = req.bo ?? null;
    if (bo !== null && !(bo instanceof Bo)) throw invalidArgType('bo', ['Bo', 'null'], bo);
    await this.#lockOpObjects(exec, this.#vm.gpuvm.smMapOps({ addr: req.addr, range: req.range, obj: bo?.gem ?? null, offset: req.offset }));
  }

  /** drm_gpuvm_sm_unmap_exec_lock. */
  async smUnmapExecLock(exec: DrmExec, addr: U64Like, range: U64Like): Promise<void> {
    await this.#lockOpObjects(exec, this.#vm.gpuvm.smUnmapOps(addr, range));
  }

  async #lockOpObjects(exec: DrmExec, ops: GpuVaOps): Promise<void> {
    const vm = this.#vm;
    for (const resv of touchedBy(vm, ops, false, vm.gpuvm.start, vm.gpuvm.start).resvs) await exec.lock(resv);
  }
}
