// SPDX-License-Identifier: MIT
// An mmap handed to JS as an external ArrayBuffer. The memory stays mapped until unmap() (which detaches
// the ArrayBuffer first, so JS can no longer reach it) or until the ArrayBuffer is collected.
#ifndef DRM_GPUVM_NATIVE_MAPPING_H_
#define DRM_GPUVM_NATIVE_MAPPING_H_

#include <cstddef>
#include <memory>

#include "addon.h"

namespace drm_gpuvm {

struct MappingRecord {
  void* address = nullptr;
  size_t length = 0;
  bool unmapped = false;
  /** The table this record is listed in; gone once the environment is. */
  std::weak_ptr<MappingTable> table;
};

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_MAPPING_H_
