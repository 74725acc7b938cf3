// SPDX-License-Identifier: MIT
// Facts about file descriptors shared by several concerns.
#ifndef DRM_GPUVM_NATIVE_FD_H_
#define DRM_GPUVM_NATIVE_FD_H_

#include <napi.h>

namespace drm_gpuvm {

/**
 * Records `fd`, just made by this module, as owned by this environment: close() accepts it, and it is
 * closed when the environment ends if JS has not closed it. Returns `fd`.
 */
int AdoptFd(Napi::Env env, int fd);

/** Whether `fd` is a dma-buf: its fdinfo names an exporter (proc(5), "exp_name:"). */
bool IsDmaBuf(int fd);

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_FD_H_
