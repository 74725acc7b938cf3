// SPDX-License-Identifier: MIT
// One GPU end to end: device -> backend chosen by driver name -> VMs and BOs.
export { openGpu, GPU_DRIVERS } from './open-gpu.js';
export { Gpu, type GpuResources, type ImportBoOptions, type StartJobOptions } from './gpu.js';
export { DeviceVm, type DeviceVmOptions, type ExecOptions } from './device-vm.js';
export { ExecJob, type GpuCommand, type GpuJobFault } from './exec-job.js';
export { DeviceBo, type DeviceBoOptions } from './device-bo.js';
export { GpuError, type GpuErrorCode } from './errors.js';
export type { GpuDescription, GpuFeature, GpuRefusal } from './description.js';
export type { GpuJob } from './driver-support.js';
