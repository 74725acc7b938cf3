// SPDX-License-Identifier: MIT
// An mmap handed to JS as an external ArrayBuffer. The memory stays mapped until unmap() (which detaches
// the ArrayBuffer first, so JS can no longer reach it) or until the ArrayBuffer is collected.
#ifndef DRM_GPUVM_NATIVE_MAPPING_H_
#define DRM_GPUVM_NATIVE_MAPPING_H_

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "addon.h"

namespace drm_gpuvm {

struct MappingRecord {
  void* address = nullptr;
  size_t length = 0;
  bool unmapped = false;
  /** Set by the ArrayBuffer's finalizer: it was collected, or Node refused to make it. */
  bool finalized = false;
  /** The table this record is listed in; gone once the environment is. */
  std::weak_ptr<MappingTable> table;
};

/**
 * Throws unless [offset, offset + length) of `fd` can be mapped without risking a fault that kills the
 * process: a sealed memfd inside its size, a DRM node, or a dma-buf (see mapping.cc).
 */
void CheckMappable(Napi::Env env, int fd, uint64_t offset, uint64_t length);

/**
 * Throws unless `fd` is a kind of file that can be mapped without that risk, and returns how far it may be
 * mapped: a sealed memfd's size now (F_SEAL_SHRINK: it never gets smaller), UINT64_MAX for a DRM node or
 * a dma-buf, whose own mmap refuses a range past the object.
 */
uint64_t MappableSize(Napi::Env env, int fd);

/** Throws ERR_OUT_OF_RANGE unless [offset, offset + length) lies in a file of `size` bytes. */
void CheckInsideFile(Napi::Env env, uint64_t size, uint64_t offset, uint64_t length);

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_MAPPING_H_
