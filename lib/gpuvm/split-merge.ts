// SPDX-License-Identifier: MIT
// The split/merge walk of drm_gpuvm (__drm_gpuvm_sm_map, __drm_gpuvm_sm_unmap and the madvise variant),
// written from the behaviour of the kernel's drivers/gpu/drm/drm_gpuvm.c (its "Split and Merge" section). Requests are already
// validated by the caller. The walk visits every VA overlapping the request in address order and hands
// each op to a sink as soon as it is known; the next VA (when the walk goes on) is fetched before the
// sink runs, because a step-mode sink applies the op (removing the current VA) before returning.
//
// For a VA `v` overlapping request `r` (addresses grow to the right):
//
//   A: v starts at r     B: v starts before r    C: v starts inside r
//      r  |-------|         r     |-------|         r  |-------|
//      v  |---|  unmap      v  |-----|    remap     v     |--|     unmap
//      v  |-------| unmap   v  |---------| remap    v     |----|   unmap
//      v  |----------|      v  |------------|       v     |------| remap, next = the part past r
//         remap, next          remap, prev (+ next)
//
// keep (the "merge" hint) starts as "v has a GEM" and then requires the same GEM with the offset
// lining up with r's offset at r's start. The map request always ends with MAP(r), even when r equals v.
import { U64_LIMIT } from '../u64.js';
import type { GemObject } from './gem.js';
import type { GpuVa } from './gpuva.js';
import { GpuVmStateError } from './errors.js';
import type { GpuVm } from './gpuvm.js';
import { OpMap, OpRemap, OpUnmap } from './ops.js';

/** Receives ops in kernel order. */
export interface SplitMergeSink {
  /** A new mapping to insert. */
  map(op: OpMap): void;
  /** A mapping the request cuts: removed, and what lies outside the request inserted again. */
  remap(op: OpRemap): void;
  /** An existing mapping to remove whole. */
  unmap(op: OpUnmap): void;
}

/** A validated map request (bigints exact, range non-zero, inside the VM, clear of the kernel node). */
export interface CheckedMapRequest {
  /** Start. */
  addr: bigint;
  /** Length, > 0. */
  range: bigint;
  /** GEM or null for sparse. */
  obj: GemObject | null;
  /** GEM offset. */
  offset: bigint;
}

// GEM offsets are u64 in the kernel and its arithmetic on them wraps; a sparse VA may carry any offset.
function u64(value: bigint): bigint {
  return value < U64_LIMIT ? value : value - U64_LIMIT;
}

// A step-mode sink may do more than apply its own op; the walk must not continue from a VA it removed.
function checkNext(vm: GpuVm, next: GpuVa | null): void {
  if (next !== null && next.vm !== vm) {
    throw new GpuVmStateError('ERR_GPUVM_STALE_OP', 'a split/merge step removed a VA the walk had not reached yet');
  }
}

/** __drm_gpuvm_sm_map: ops for a map request (madvise=false) or an madvise request (madvise=true). */
export function splitMergeMap(vm: GpuVm, req: CheckedMapRequest, sink: SplitMergeSink, madvise: boolean): void {
  const { addr, range, obj, offset } = req;
  const reqEnd = addr + range;
  let needsMap = !madvise;
  let va = vm.vaTree.firstOverlap(addr, reqEnd);
  while (va !== null && va.addr < reqEnd) {
    const vObj = va.obj;
    if (madvise && vObj !== null) {
      va = vm.vaTree.next(va);
      continue;
    }
    const vAddr = va.addr;
    const vEnd = vAddr + va.range;
    const vOffset = va.offset;
    // In every case the walk goes on only past a VA that ends before the request does.
    const next = vEnd < reqEnd ? vm.vaTree.next(va) : null;
    let keep = vObj !== null;
    if (vAddr === addr) {
      keep = keep && vObj === obj && vOffset === offset;
      if (vEnd <= reqEnd) {
        if (!madvise) sink.unmap(new OpUnmap(va, keep));
        if (vEnd === reqEnd) break;
      } else {
        sink.remap(new OpRemap(null, new OpMap(reqEnd, vEnd - reqEnd, vObj, u64(vOffset + range)), new OpUnmap(va, keep)));
        needsMap = true;
        break;
      }
    } else if (vAddr < addr) {
      const left = addr - vAddr;
      keep = keep && vObj === obj && u64(vOffset + left) === offset;
      const prev = new OpMap(vAddr, left, vObj, vOffset);
      if (vEnd > reqEnd) {
        sink.remap(new OpRemap(prev, new OpMap(reqEnd, vEnd - reqEnd, vObj, u64(vOffset + left + range)), new OpUnmap(va, keep)));
        needsMap = true;
        break;
      }
      sink.remap(new OpRemap(prev, null, new OpUnmap(va, keep)));
      if (vEnd === reqEnd) {
        needsMap = true;
        break;
      }
      if (madvise) sink.map(new OpMap(addr, vEnd - addr, null, 0n));
    } else {
      const into = vAddr - addr;
      keep = keep && vObj === obj && vOffset === u64(offset + into);
      if (vEnd <= reqEnd) {
        if (!madvise) sink.unmap(new OpUnmap(va, keep));
        if (vEnd === reqEnd) break;
      } else {
        sink.remap(new OpRemap(null, new OpMap(reqEnd, vEnd - reqEnd, vObj, u64(vOffset + (reqEnd - vAddr))), new OpUnmap(va, keep)));
        if (madvise) {
          sink.map(new OpMap(vAddr, reqEnd - vAddr, null, 0n));
          return;
        }
        break;
      }
    }
    checkNext(vm, next);
    va = next;
  }
  if (needsMap) sink.map(new OpMap(addr, range, obj, offset));
}

/** __drm_gpuvm_sm_unmap: ops for unmapping [addr, addr+range); keep is always false. */
export function splitMergeUnmap(vm: GpuVm, addr: bigint, range: bigint, sink: SplitMergeSink): void {
  const reqEnd = addr + range;
  let va = vm.vaTree.firstOverlap(addr, reqEnd);
  while (va !== null && va.addr < reqEnd) {
    const vAddr = va.addr;
    const vEnd = vAddr + va.range;
    const next = vEnd < reqEnd ? vm.vaTree.next(va) : null;
    const prev = vAddr < addr ? new OpMap(vAddr, addr - vAddr, va.obj, va.offset) : null;
    const after = vEnd > reqEnd ? new OpMap(reqEnd, vEnd - reqEnd, va.obj, u64(va.offset + (reqEnd - vAddr))) : null;
    if (prev !== null || after !== null) sink.remap(new OpRemap(prev, after, new OpUnmap(va, false)));
    else sink.unmap(new OpUnmap(va, false));
    checkNext(vm, next);
    va = next;
  }
}
