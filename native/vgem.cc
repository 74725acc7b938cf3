// SPDX-License-Identifier: MIT
// vgem's fence ioctls (include/uapi/drm/vgem_drm.h): the only uapi that lets userspace put a fence of
// its choosing on a buffer's dma_resv, which makes implicit sync testable without a GPU. Both are
// driver-private, so the driver name is checked first (driver_check.h).
#include "addon.h"
#include "args.h"
#include "driver_check.h"
#include "drm_uapi.h"
#include "entry.h"
#include "ioctl.h"

namespace drm_gpuvm {
namespace {

// vgemFenceAttach(fd, handle, write) -> fence id. Force-signalled by the kernel after 10 s.
Napi::Value VgemFenceAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmVgemFenceAttach attach{};
  attach.handle = ArgU32(info, 1, "handle");
  attach.flags = ArgBool(info, 2, "write") ? uapi::kVgemFenceWrite : 0;
  RequireDriver(env, fd, "vgem", "DRM_IOCTL_VGEM_FENCE_ATTACH");
  CheckedIoctl(env, fd, uapi::kIoctlVgemFenceAttach, &attach, "DRM_IOCTL_VGEM_FENCE_ATTACH");
  return Napi::Number::New(env, attach.out_fence);
}

// vgemFenceSignal(fd, fence).
Napi::Value VgemFenceSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmVgemFenceSignal signal{};
  signal.fence = ArgU32(info, 1, "fence");
  RequireDriver(env, fd, "vgem", "DRM_IOCTL_VGEM_FENCE_SIGNAL");
  CheckedIoctl(env, fd, uapi::kIoctlVgemFenceSignal, &signal, "DRM_IOCTL_VGEM_FENCE_SIGNAL");
  return env.Undefined();
}

}  // namespace

void InitVgem(Napi::Env env, Napi::Object exports) {
  Export<VgemFenceAttach>(env, exports, "vgemFenceAttach");
  Export<VgemFenceSignal>(env, exports, "vgemFenceSignal");
}

}  // namespace drm_gpuvm
