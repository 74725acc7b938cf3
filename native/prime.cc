// SPDX-License-Identifier: MIT
// PRIME: GEM handle <-> dma-buf fd (include/uapi/drm/drm.h, Documentation/gpu/drm-mm.rst "PRIME").
#include "addon.h"
#include "args.h"
#include "drm_uapi.h"
#include "entry.h"
#include "fd.h"
#include "ioctl.h"

namespace drm_gpuvm {
namespace {

// primeHandleToFd(fd, handle, writable) -> dma-buf fd (close-on-exec; DRM_RDWR when writable, which a
// writable mmap of the dma-buf needs).
Napi::Value PrimeHandleToFd(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmPrimeHandle prime{};
  prime.handle = ArgU32(info, 1, "handle");
  prime.flags = uapi::kDrmCloexec | (ArgBool(info, 2, "writable") ? uapi::kDrmRdwr : 0);
  prime.fd = -1;
  CheckedIoctl(info.Env(), fd, uapi::kIoctlPrimeHandleToFd, &prime, "DRM_IOCTL_PRIME_HANDLE_TO_FD");
  return Napi::Number::New(info.Env(), AdoptFd(info.Env(), prime.fd));
}

// primeFdToHandle(fd, dmaBufFd) -> GEM handle (the same handle each time for the same buffer).
Napi::Value PrimeFdToHandle(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmPrimeHandle prime{};
  prime.fd = ArgFd(info, 1, "dmaBufFd");
  CheckedIoctl(info.Env(), fd, uapi::kIoctlPrimeFdToHandle, &prime, "DRM_IOCTL_PRIME_FD_TO_HANDLE");
  return Napi::Number::New(info.Env(), prime.handle);
}

}  // namespace

void InitPrime(Napi::Env env, Napi::Object exports) {
  Export<PrimeHandleToFd>(env, exports, "primeHandleToFd");
  Export<PrimeFdToHandle>(env, exports, "primeFdToHandle");
}

}  // namespace drm_gpuvm
