// SPDX-License-Identifier: MIT
// The three answers to "who may drop the last reference to a (VM, BO) pair, and under which lock", from the
// 2025 dri-devel discussion of the Rust GPUVM abstraction (June 2025, "rust: drm: Add GPUVM abstraction" v2),
// chosen per VM.

/**
 * - `resv`: the staged default. The BO's reservation guards its pair list; the final put must prove it holds
 *   that reservation with a guard. An automatic drop cannot prove it, so it fails loudly.
 * - `gpuva-lock`: a dedicated per-BO GPU-VA lock that nobody else takes (immediate mode); put takes it
 *   itself, whatever the caller holds, and frees at once.
 * - `deferred`: the v6.19 answer. put never needs a lock the caller could hold; at zero the pair becomes a
 *   zombie, unlinked under the GPU-VA lock, and `deferredCleanup()` frees it later under the right locks.
 */
export type VmBoPolicy = 'resv' | 'gpuva-lock' | 'deferred';

/** The policies, in the order tables list them. */
export const VM_BO_POLICIES: readonly VmBoPolicy[] = ['resv', 'gpuva-lock', 'deferred'];

/** True when the policy runs GPUVM in immediate mode (the GEM's gpuva lock guards its pair list). */
export function policyIsImmediate(policy: VmBoPolicy): boolean {
  return policy !== 'resv';
}
