// SPDX-License-Identifier: MIT
// The device layer's public API.
export { DrmCap, DrmClientCap, DrmPrimeCap } from './caps.js';
export type { Buffer, Device } from './device.js';
export { type Access, DmaBuf, type IdleWaitOptions, type MapOptions } from './dma-buf.js';
export { describeDevice, type DrmNode, type DrmNodeDescription, listDevices } from './discovery.js';
export { type DriverVersion, DrmDevice, type DumbOptions, type NodeType } from './drm-device.js';
export { DrmError } from './errors.js';
export { FdWait, type WaitOptions } from './fd-wait.js';
export { type ExportOptions, GemBuffer } from './gem-buffer.js';
export { Mapping } from './mapping.js';
export { pageSize } from './page-size.js';
export { openDevice } from './open.js';
export type { DrmSetVersion } from './set-version.js';
export { SoftwareBuffer, SoftwareDevice } from './software-device.js';
export { type FenceInfo, type FenceStatus, SyncFile, type SyncFileInfo } from './sync-file.js';
export { Syncobj, type SyncobjOptions } from './syncobj.js';
export { createMemfd, createUdmabuf } from './udmabuf.js';
export { VaWindow, type WindowMapOptions, type WindowRange, type WindowSource } from './va-window.js';
export { attachVgemFence, VgemFence, type VgemFenceOptions } from './vgem-fence.js';
export { SyncFileFence } from './sync-file-fence.js';
export { VgemJob, type VgemJobOptions } from './vgem-job.js';
