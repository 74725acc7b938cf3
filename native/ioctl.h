// SPDX-License-Identifier: MIT
// The one place where system calls are restarted: DRM and dma-buf ioctls return EINTR when a signal
// arrives and EAGAIN when the kernel asks for a retry with the same arguments (libdrm's drmIoctl does
// the same). See ioctl(2), drm_ioctl() in drivers/gpu/drm/drm_ioctl.c.
#ifndef DRM_GPUVM_NATIVE_IOCTL_H_
#define DRM_GPUVM_NATIVE_IOCTL_H_

#include <napi.h>

#include <cerrno>

namespace drm_gpuvm {

/** ioctl(fd, request, arg) retried on EINTR/EAGAIN; returns the result, or -errno. */
int RetryIoctl(int fd, unsigned long request, void* arg);

/** RetryIoctl that throws SyscallError("ioctl", name) on failure; returns the non-negative result. */
int CheckedIoctl(Napi::Env env, int fd, unsigned long request, void* arg, const char* name);

/** Runs `call` (a syscall wrapper returning -1 and setting errno) until it stops failing with EINTR. */
template <typename Call>
auto RetryOnEintr(Call call) -> decltype(call()) {
  for (;;) {
    auto result = call();
    if (result != -1 || errno != EINTR) return result;
  }
}

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_IOCTL_H_
