// SPDX-License-Identifier: MIT
#include "driver_check.h"

#include "drm_uapi.h"
#include "errors.h"
#include "ioctl.h"
#include "result.h"

namespace drm_gpuvm {

std::string DriverName(Napi::Env env, int fd) {
  // Driver names are short ("vgem", "amdgpu"); the kernel copies at most name_len bytes and reports
  // the full length, so a longer name is detected and never confused with a shorter one.
  char name[64];
  uapi::DrmVersion version{};
  version.name = name;
  version.name_len = sizeof(name);
  CheckedIoctl(env, fd, uapi::kIoctlVersion, &version, "DRM_IOCTL_VERSION");
  if (version.name_len > sizeof(name)) return std::string(name, sizeof(name)) + "...";
  return std::string(name, version.name_len);
}

void RequireDriver(Napi::Env env, int fd, const char* driver, const char* ioctl) {
  std::string actual = DriverName(env, fd);
  if (actual != driver) {
    Napi::Error error = CodedError(
        env, "ERR_DRM_WRONG_DRIVER",
        std::string(ioctl) + " is private to the " + driver + " driver; this device's driver is " + actual);
    DefineData(env, error.Value(),
               {{"driver", Napi::String::New(env, actual)}, {"ioctl", Napi::String::New(env, ioctl)}});
    throw error;
  }
}

}  // namespace drm_gpuvm
