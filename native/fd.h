// SPDX-License-Identifier: MIT
// Facts about file descriptors shared by several concerns.
#ifndef DRM_GPUVM_NATIVE_FD_H_
#define DRM_GPUVM_NATIVE_FD_H_

namespace drm_gpuvm {

/** Whether `fd` is a dma-buf: its fdinfo names an exporter (proc(5), "exp_name:"). */
bool IsDmaBuf(int fd);

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_FD_H_
