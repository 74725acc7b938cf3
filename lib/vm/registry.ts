// SPDX-License-Identifier: MIT
// From a model GpuVm back to the transactional Vm that owns it, for calls that start at a BO and reach
// every VM it is mapped in (drm_gpuvm_bo_gem_evict).
import { GpuVmStateError } from '../gpuvm/errors.js';
import type { GpuVm } from '../gpuvm/gpuvm.js';
import type { VmBo } from '../gpuvm/vm-bo.js';

/** What a BO-side call needs from each VM of the BO. */
export interface PairEvictor {
  /** drm_gpuvm_bo_evict for one pair of this VM. */
  evictPair(vmBo: VmBo, evict: boolean): void;
}

const owners = new WeakMap<GpuVm, PairEvictor>();

/** Records the owner of `gpuvm`; called once by the Vm that creates it. */
export function registerVm(gpuvm: GpuVm, owner: PairEvictor): void {
  owners.set(gpuvm, owner);
}

/** The Vm that registered `gpuvm`; ERR_GPUVM_WRONG_VM for a GpuVm no Vm manages. */
export function ownerOf(gpuvm: GpuVm): PairEvictor {
  const owner = owners.get(gpuvm);
  if (owner === undefined) throw new GpuVmStateError('ERR_GPUVM_WRONG_VM', `GPU VM '${gpuvm.name}' is not managed by a Vm: a Bo's GEM is used only through Vms`);
  return owner;
}
