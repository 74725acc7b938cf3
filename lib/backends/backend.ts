// SPDX-License-Identifier: MIT
// The one thing lib/vm asks of a backend: make an op list real, all of it or none of it. lib/vm calls
// commit() with the locks of the request held and applies the ops to its tree only after commit() resolved,
// so a rejected commit leaves the tree, the pairs and the refcounts exactly as they were.
import type { GpuVm } from '../gpuvm/gpuvm.js';
import type { GpuVaOps } from '../gpuvm/ops.js';

/** How a VM's split/merge ops reach a device (kernel VM_BIND, a CPU-visible VA window, or nothing). */
export interface GpuVmBackend {
  /** Short name for messages and benchmark tables. */
  readonly name: string;
  /**
   * Makes `ops` (computed against `vm`'s current tree, not yet applied to it) take effect on the device.
   * Resolves when they have; rejects when they have not, leaving the device as it was before the call.
   */
  commit(vm: GpuVm, ops: GpuVaOps): Promise<void>;
}

/** A backend whose GPU VA space the CPU can read and write as the GPU would (the VA window). */
export interface GpuVaAccess {
  /** The bytes at `[addr, addr+length)`: BO memory where mapped, zeros where sparse; throws where unmapped. */
  read(addr: bigint, length: bigint): Uint8Array;
  /** Writes `bytes` at `addr` into the BO memory behind it (dropped where sparse); throws where unmapped. */
  write(addr: bigint, bytes: Uint8Array): void;
}

/** Whether `backend` offers CPU access to the VA space it backs. */
export function hasVaAccess(backend: GpuVmBackend): backend is GpuVmBackend & GpuVaAccess {
  const b = backend as Partial<GpuVaAccess>;
  return typeof b.read === 'function' && typeof b.write === 'function';
}
