// SPDX-License-Identifier: MIT
// Core DRM device queries: DRM_IOCTL_VERSION, SET_VERSION, GET_CAP, SET_CLIENT_CAP (include/uapi/drm/drm.h).
#include <algorithm>
#include <string>
#include <vector>

#include "addon.h"
#include "args.h"
#include "drm_uapi.h"
#include "entry.h"
#include "ioctl.h"
#include "result.h"

namespace drm_gpuvm {
namespace {

// version(fd) -> { major, minor, patchlevel, name, date, desc }. The strings are not NUL-terminated
// and their lengths are unknown up front: ask once with empty buffers for the lengths, then fetch.
Napi::Value Version(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmVersion version{};
  CheckedIoctl(env, fd, uapi::kIoctlVersion, &version, "DRM_IOCTL_VERSION");
  std::vector<char> name(version.name_len), date(version.date_len), desc(version.desc_len);
  version.name = name.data();
  version.date = date.data();
  version.desc = desc.data();
  CheckedIoctl(env, fd, uapi::kIoctlVersion, &version, "DRM_IOCTL_VERSION");
  // The kernel reports the full lengths again; a string can only be as long as its buffer.
  auto text = [](const std::vector<char>& buffer, uint64_t reported) {
    return std::string(buffer.data(), std::min<uint64_t>(buffer.size(), reported));
  };
  return DataObject(env, {{"major", Napi::Number::New(env, version.version_major)},
                          {"minor", Napi::Number::New(env, version.version_minor)},
                          {"patchlevel", Napi::Number::New(env, version.version_patchlevel)},
                          {"name", Napi::String::New(env, text(name, version.name_len))},
                          {"date", Napi::String::New(env, text(date, version.date_len))},
                          {"desc", Napi::String::New(env, text(desc, version.desc_len))}});
}

// setVersion(fd, interfaceMajor, interfaceMinor, driverMajor, driverMinor) -> the versions the kernel
// writes back: its highest DRM interface version and the driver's major.minor. -1 as a major means
// "no request" for that pair. The kernel's checks (master only, which versions it accepts) stay its own.
Napi::Value SetVersion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmSetVersion request{};
  request.drm_di_major = ArgI32(info, 1, "interfaceMajor");
  request.drm_di_minor = ArgI32(info, 2, "interfaceMinor");
  request.drm_dd_major = ArgI32(info, 3, "driverMajor");
  request.drm_dd_minor = ArgI32(info, 4, "driverMinor");
  CheckedIoctl(env, fd, uapi::kIoctlSetVersion, &request, "DRM_IOCTL_SET_VERSION");
  return DataObject(env, {{"interfaceMajor", Napi::Number::New(env, request.drm_di_major)},
                          {"interfaceMinor", Napi::Number::New(env, request.drm_di_minor)},
                          {"driverMajor", Napi::Number::New(env, request.drm_dd_major)},
                          {"driverMinor", Napi::Number::New(env, request.drm_dd_minor)}});
}

// getCap(fd, capability) -> bigint value.
Napi::Value GetCap(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmGetCap cap{};
  cap.capability = ArgU64(info, 1, "capability");
  CheckedIoctl(info.Env(), fd, uapi::kIoctlGetCap, &cap, "DRM_IOCTL_GET_CAP");
  return Napi::BigInt::New(info.Env(), cap.value);
}

// setClientCap(fd, capability, value).
Napi::Value SetClientCap(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmSetClientCap cap{};
  cap.capability = ArgU64(info, 1, "capability");
  cap.value = ArgU64(info, 2, "value");
  CheckedIoctl(info.Env(), fd, uapi::kIoctlSetClientCap, &cap, "DRM_IOCTL_SET_CLIENT_CAP");
  return info.Env().Undefined();
}

}  // namespace

void InitDevice(Napi::Env env, Napi::Object exports) {
  Export<Version>(env, exports, "version");
  Export<SetVersion>(env, exports, "setVersion");
  Export<GetCap>(env, exports, "getCap");
  Export<SetClientCap>(env, exports, "setClientCap");
}

}  // namespace drm_gpuvm
