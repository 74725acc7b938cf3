// SPDX-License-Identifier: MIT
// The part of a GPUVM op (lib/gpuvm's OpMap / OpRemap / OpUnmap / OpPrefetch, the kernel's drm_gpuva_op)
// that a kernel backend reads. Structural, so lib/gpuvm's op lists are accepted as they are; the GEM object
// stays opaque and the backend asks its VM for the object's handle on the DRM file.

/** A span of VA backed by `obj` from `offset`, or sparse when obj is null (a GpuVa, or an OpMap). */
export interface VaSpan {
  readonly addr: bigint;
  readonly range: bigint;
  readonly obj: object | null;
  readonly offset: bigint;
}

/** DRM_GPUVA_OP_MAP. */
export interface MapOp extends VaSpan {
  readonly type: 'map';
}

/** DRM_GPUVA_OP_UNMAP: the VA removed, and whether the MAP that follows keeps its pages. */
export interface UnmapOp {
  readonly type: 'unmap';
  readonly va: VaSpan;
  readonly keep: boolean;
}

/** DRM_GPUVA_OP_REMAP: the VA split, and the pieces of it that remain on either side. */
export interface RemapOp {
  readonly type: 'remap';
  readonly unmap: { readonly va: VaSpan; readonly keep: boolean };
  readonly prev: VaSpan | null;
  readonly next: VaSpan | null;
}

/** DRM_GPUVA_OP_PREFETCH: a residency hint; no kernel backend here sends it. */
export interface PrefetchOp {
  readonly type: 'prefetch';
}

/** One step of a split/merge op list, in the order drm_gpuvm_sm_map / sm_unmap emit them. */
export type GpuvmOp = MapOp | UnmapOp | RemapOp | PrefetchOp;

/** What every kernel backend's VM description gives the translation: the GEM handle of each object. */
export interface GemHandles {
  /** The handle of `obj` on the DRM file the VM belongs to. */
  handleOf(obj: object): number;
}
