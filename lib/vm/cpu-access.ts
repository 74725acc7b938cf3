// SPDX-License-Identifier: MIT
// CPU reads and writes of a Vm's VA space, as the GPU would see it, through a backend that gives the CPU a
// view of it (the VA window). An access holds its range in the VM's VA range lock: requests whose footprint
// overlaps it finish first, so the backend's memory and the tree agree while it reads or writes.
import { hasVaAccess, type GpuVaAccess } from '../backends/backend.js';
import { continueTask, currentTask, LockTask } from '../locks/task.js';
import { toU64, U64_MAX, type U64Like } from '../u64.js';
import { VmError } from './errors.js';
import type { Vm } from './vm.js';

/** Runs `access` on [addr, addr+length) of `vm`'s VA space under its VA range lock; `kind` names it in messages. */
export function accessVa<T>(vm: Vm, kind: string, addr: U64Like, length: U64Like, access: (backend: GpuVaAccess, start: bigint, n: bigint) => T): Promise<T> {
  let start: bigint;
  let n: bigint;
  try {
    vm.checkOpen();
    start = toU64(addr, 'addr');
    n = toU64(length, 'length');
    if (!hasVaAccess(vm.backend)) {
      throw new VmError('ERR_VM_NO_VA_ACCESS', `${kind}: the '${vm.backend.name}' backend of VM '${vm.name}' gives the CPU no view of its VA space (use the VA window backend)`);
    }
  } catch (err) {
    return Promise.reject(err);
  }
  const backend = vm.backend;
  // An empty or overflowing range still locks one unit at its start; the backend then refuses it properly.
  const end = n === 0n || start + n > U64_MAX ? start + 1n : start + n;
  const locked = async (): Promise<T> => {
    const guard = await vm.vaLock.lock(start, end);
    try {
      vm.checkOpen();
      return access(backend, start, n);
    } finally {
      guard.release();
    }
  };
  const outer = currentTask();
  return outer !== null ? locked() : continueTask(new LockTask(`${vm.name}.${kind}`), locked);
}
