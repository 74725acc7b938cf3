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
import { VaWalk } from './va-walk.js';

/** Receives ops in kernel order. */
export interface SplitMergeSink {
  /** True when each op is applied before the sink returns (the step forms), so the tree changes mid-walk. */
  readonly steps: boolean;
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

// Moves the walk on past the current VA. A step-mode sink applies its op before returning and may do more,
// so the walk resumes at the VA it saw next before the step (`next`), which must still be in the tree.
function goOn(vm: GpuVm, sink: SplitMergeSink, walk: VaWalk, next: GpuVa | null): void {
  if (!sink.steps) {
    walk.advance();
    return;
  }
  if (next !== null && next.vm !== vm) {
    throw new GpuVmStateError('ERR_GPUVM_STALE_OP', 'a split/merge step removed a VA the walk had not reached yet');
  }
  walk.moveTo(next);
}

// A step-mode sink runs callbacks mid-walk, which may start walks of their own: it gets a cursor of its own.
function startWalk(vm: GpuVm, sink: SplitMergeSink, addr: bigint, end: bigint): VaWalk {
  return (sink.steps ? new VaWalk(vm.vaTree) : vm.listWalk).start(addr, end);
}

/** __drm_gpuvm_sm_map: ops for a map request (madvise=false) or an madvise request (madvise=true). */
export function splitMergeMap(vm: GpuVm, req: CheckedMapRequest, sink: SplitMergeSink, madvise: boolean): void {
  const { addr, range, obj, offset } = req;
  const reqEnd = addr + range;
  let needsMap = !madvise;
  const walk = startWalk(vm, sink, addr, reqEnd);
  for (let va = walk.va; va !== null; va = walk.va) {
    const vObj = va.obj;
    if (madvise && vObj !== null) {
      walk.advance();
      continue;
    }
    const atStart = walk.startVsAddr();
    const atEnd = walk.endVsEnd();
    // In every case the walk goes on only past a VA that ends before the request does.
    const next = atEnd < 0 && sink.steps ? walk.peek() : null;
    const vAddr = va.addr;
    const vOffset = va.offset;
    let keep = vObj !== null;
    if (atStart === 0) {
      keep = keep && vObj === obj && vOffset === offset;
      if (atEnd <= 0) {
        if (!madvise) sink.unmap(new OpUnmap(va, keep));
        if (atEnd === 0) break;
      } else {
        sink.remap(new OpRemap(null, new OpMap(reqEnd, vAddr + va.range - reqEnd, vObj, u64(vOffset + range)), new OpUnmap(va, keep)));
        needsMap = true;
        break;
      }
    } else if (atStart < 0) {
      const left = addr - vAddr;
      keep = keep && vObj === obj && u64(vOffset + left) === offset;
      const prev = new OpMap(vAddr, left, vObj, vOffset);
      if (atEnd > 0) {
        sink.remap(new OpRemap(prev, new OpMap(reqEnd, vAddr + va.range - reqEnd, vObj, u64(vOffset + left + range)), new OpUnmap(va, keep)));
        needsMap = true;
        break;
      }
      sink.remap(new OpRemap(prev, null, new OpUnmap(va, keep)));
      if (atEnd === 0) {
        needsMap = true;
        break;
      }
      if (madvise) sink.map(new OpMap(addr, vAddr + va.range - addr, null, 0n));
    } else {
      const into = vAddr - addr;
      keep = keep && vObj === obj && vOffset === u64(offset + into);
      if (atEnd <= 0) {
        if (!madvise) sink.unmap(new OpUnmap(va, keep));
        if (atEnd === 0) break;
      } else {
        sink.remap(new OpRemap(null, new OpMap(reqEnd, vAddr + va.range - reqEnd, vObj, u64(vOffset + (reqEnd - vAddr))), new OpUnmap(va, keep)));
        if (madvise) {
          sink.map(new OpMap(vAddr, reqEnd - vAddr, null, 0n));
          return;
        }
        break;
      }
    }
    goOn(vm, sink, walk, next);
  }
  if (needsMap) sink.map(new OpMap(addr, range, obj, offset));
}

/** __drm_gpuvm_sm_unmap: ops for unmapping [addr, addr+range); keep is always false. */
export function splitMergeUnmap(vm: GpuVm, addr: bigint, range: bigint, sink: SplitMergeSink): void {
  const reqEnd = addr + range;
  const walk = startWalk(vm, sink, addr, reqEnd);
  for (let va = walk.va; va !== null; va = walk.va) {
    const atStart = walk.startVsAddr();
    const atEnd = walk.endVsEnd();
    const next = atEnd < 0 && sink.steps ? walk.peek() : null;
    if (atStart < 0 || atEnd > 0) {
      const vAddr = va.addr;
      const prev = atStart < 0 ? new OpMap(vAddr, addr - vAddr, va.obj, va.offset) : null;
      const after = atEnd > 0 ? new OpMap(reqEnd, vAddr + va.range - reqEnd, va.obj, u64(va.offset + (reqEnd - vAddr))) : null;
      sink.remap(new OpRemap(prev, after, new OpUnmap(va, false)));
    } else {
      sink.unmap(new OpUnmap(va, false));
    }
    if (atEnd >= 0) break;
    goOn(vm, sink, walk, next);
  }
}
