// SPDX-License-Identifier: MIT
// The fence layer: fences, software fences, and the reservations that hold them with their usages.
export { type Fence, allocFenceContext, checkFence } from './fence.js';
export { SoftwareFence, type SoftwareFenceOptions } from './software-fence.js';
export { DmaResv, type ResvFence } from './dma-resv.js';
export { DMA_RESV_USAGES, type DmaResvUsage, usageForAccess, usageIncludes } from './usage.js';
export { FenceError, type FenceErrorCode } from './errors.js';
export { waitAll } from './wait-all.js';
export { type WaitOptions } from './wait-options.js';
