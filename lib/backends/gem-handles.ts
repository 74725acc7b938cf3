// SPDX-License-Identifier: MIT
// A GPUVM GemObject is an identity; the device knows the buffer by its GEM handle on one DRM file. Each
// kernel backend's VM description says which handle stands for which object.
import type { GemObject } from '../gpuvm/gem.js';

/** What every kernel backend's VM description gives the translation: the GEM handle of each object. */
export interface GemHandles {
  /** The handle of `obj` on the DRM file the VM belongs to. */
  handleOf(obj: GemObject): number;
}
