// SPDX-License-Identifier: MIT
// The one thing lib/vm asks of a backend: make an op list real, all of it or none of it. lib/vm calls
// commit() with the locks of the request held and applies the ops to its tree only after the commit
// succeeded, so a failed commit leaves the tree, the pairs and the refcounts exactly as they were. A backend
// whose work is done when commit() returns (no device to wait for) returns nothing, and the request then
// finishes in the same synchronous stretch; one that waits for a device returns a promise.
import type { Fence } from '../fence/fence.js';
import type { GpuVm } from '../gpuvm/gpuvm.js';
import type { GpuVaOps } from '../gpuvm/ops.js';
import { outOfRange } from '../arg-errors.js';
import { toU64, type U64Like } from '../u64.js';

/**
 * The fences of the bind a commit makes real (Vm.map's waitFor and outFence), for a backend that can hand
 * them to its device: a driver whose bind ioctl takes syncobjs gets them as in- and out-syncobjs.
 */
export interface CommitFences {
  /** The bind's in-fences. Every one has signalled by now: the VM waited for them before the transaction. */
  readonly waitFor: readonly Fence[];
  /** The bind's out-fence; the VM signals it once the commit settles, so a backend need not. */
  readonly outFence: { signal(error?: Error): void } | null;
}

/** How a VM's split/merge ops reach a device (kernel VM_BIND, a CPU-visible VA window, or nothing). */
export interface GpuVmBackend {
  /** Short name for messages and benchmark tables. */
  readonly name: string;
  /**
   * Makes `ops` (computed against `vm`'s current tree, not yet applied to it) take effect on the device.
   * Returns undefined once they have, or a promise that resolves once they have. Throws (or rejects) when
   * they have not, leaving the device as it was before the call. `fences` are the bind's, where it has any.
   */
  commit(vm: GpuVm, ops: GpuVaOps, fences?: CommitFences | null): void | Promise<void>;
}

/** A backend whose GPU VA space the CPU can read and write as the GPU would (the VA window). */
export interface GpuVaAccess {
  /** The bytes at `[addr, addr+length)`: BO memory where mapped, zeros where sparse; throws where unmapped. */
  read(addr: bigint, length: bigint): Uint8Array;
  /** Writes `bytes` at `addr` into the BO memory behind it (dropped where sparse); throws where unmapped. */
  write(addr: bigint, bytes: Uint8Array): void;
}

/** The most bytes one GpuVaAccess read or write moves (one ArrayBuffer's worth, well under Node's limit). */
export const MAX_VA_ACCESS = 1n << 30n;

/**
 * The range `[start, end)` of a read or write of `length` bytes at `addr`: both u64, at most MAX_VA_ACCESS
 * bytes, and ending at or below 2^64 (ERR_OUT_OF_RANGE otherwise, before anything is touched).
 */
export function vaAccessRange(addr: U64Like, length: U64Like): { start: bigint; end: bigint } {
  const start = toU64(addr, 'addr');
  const bytes = toU64(length, 'length');
  if (bytes > MAX_VA_ACCESS) throw outOfRange('length', `at most ${MAX_VA_ACCESS} bytes`, bytes);
  if (start + bytes > 1n << 64n) throw outOfRange('length', 'a length that keeps addr + length <= 2^64', `0x${bytes.toString(16)} at 0x${start.toString(16)}`);
  return { start, end: start + bytes };
}

/** Whether `backend` offers CPU access to the VA space it backs. */
export function hasVaAccess(backend: GpuVmBackend): backend is GpuVmBackend & GpuVaAccess {
  const b = backend as Partial<GpuVaAccess>;
  return typeof b.read === 'function' && typeof b.write === 'function';
}
