// SPDX-License-Identifier: MIT
// Generic marshalling for the kernel VM_BIND backends (lib/backends): the TypeScript encoders build each
// driver ioctl as bytes plus user arrays; this issues it after checking the driver name.
#ifndef DRM_GPUVM_NATIVE_DRIVER_BIND_H_
#define DRM_GPUVM_NATIVE_DRIVER_BIND_H_

#include <napi.h>

namespace drm_gpuvm {

/** Registers driverIoctl(fd, driver, name, request, buffers, pointers) and driverIoctlRules(). */
void InitDriverBind(Napi::Env env, Napi::Object exports);

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_DRIVER_BIND_H_
