// SPDX-License-Identifier: MIT
// Driver-private ioctl numbers (0x40..0x9f) overlap between drivers: 0x41 is VGEM_FENCE_ATTACH,
// XE_GEM_CREATE and PANTHOR_VM_CREATE at once, and drm_ioctl() dispatches on the number alone. Every
// file that issues a driver-private ioctl calls RequireDriver() first.
#ifndef DRM_GPUVM_NATIVE_DRIVER_CHECK_H_
#define DRM_GPUVM_NATIVE_DRIVER_CHECK_H_

#include <napi.h>

#include <string>

namespace drm_gpuvm {

/** The driver name DRM_IOCTL_VERSION reports for `fd`. */
std::string DriverName(Napi::Env env, int fd);

/** Throws ERR_DRM_WRONG_DRIVER unless `fd` belongs to `driver`; `ioctl` names what was about to run. */
void RequireDriver(Napi::Env env, int fd, const char* driver, const char* ioctl);

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_DRIVER_CHECK_H_
