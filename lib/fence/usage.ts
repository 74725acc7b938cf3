// SPDX-License-Identifier: MIT
// enum dma_resv_usage (include/linux/dma-resv.h): how a fence in a reservation is used, ordered from the
// strongest to the weakest. A query for one usage yields the fences of that usage and every stronger one,
// as dma_resv_iter does (its usage >= the fence's): asking for 'read' gives kernel, write and read fences.
import { invalidArgValue } from '../arg-errors.js';

/**
 * - `kernel`: kernel-internal work (memory moves, clears) that everyone must wait for.
 * - `write`: implicit-sync writers.
 * - `read`: implicit-sync readers.
 * - `bookkeep`: tracked for the buffer's lifetime only (VM_BIND jobs, page-table updates); implicit sync
 *   ignores them, eviction and unbinding wait for them.
 */
export type DmaResvUsage = 'kernel' | 'write' | 'read' | 'bookkeep';

/** The usages, strongest first (the kernel enum's order, DMA_RESV_USAGE_KERNEL = 0). */
export const DMA_RESV_USAGES: readonly DmaResvUsage[] = Object.freeze(['kernel', 'write', 'read', 'bookkeep']);

const RANK: Readonly<Record<DmaResvUsage, number>> = { kernel: 0, write: 1, read: 2, bookkeep: 3 };

/** The kernel enum's value of `usage`. */
export function usageRank(usage: DmaResvUsage): number {
  return RANK[usage];
}

/** True when a query for `query` yields a fence added with `fenceUsage` (it is as strong or stronger). */
export function usageIncludes(query: DmaResvUsage, fenceUsage: DmaResvUsage): boolean {
  return RANK[fenceUsage] <= RANK[query];
}

/**
 * dma_resv_usage_rw: what an access must wait for. A write waits for readers and writers ('read'), a read
 * only for writers ('write').
 */
export function usageForAccess(write: boolean): DmaResvUsage {
  return write ? 'read' : 'write';
}

/** Checks that `value` is a usage; `name` names the argument in the error. */
export function checkUsage(value: unknown, name: string): DmaResvUsage {
  if (typeof value === 'string' && Object.hasOwn(RANK, value)) return value as DmaResvUsage;
  throw invalidArgValue(name, value, "must be one of 'kernel', 'write', 'read' or 'bookkeep'");
}
