// SPDX-License-Identifier: MIT
#include "ioctl.h"

#include <sys/ioctl.h>

#include <cerrno>

#include "errors.h"

namespace drm_gpuvm {

int RetryIoctl(int fd, unsigned long request, void* arg) {
  for (;;) {
    int result = ioctl(fd, request, arg);
    if (result >= 0) return result;
    if (errno != EINTR && errno != EAGAIN) return -errno;
  }
}

int CheckedIoctl(Napi::Env env, int fd, unsigned long request, void* arg, const char* name) {
  int result = RetryIoctl(fd, request, arg);
  if (result < 0) throw SyscallError(env, -result, "ioctl", name);
  return result;
}

}  // namespace drm_gpuvm
