// SPDX-License-Identifier: MIT
// A reserved CPU address window (va_window.cc), declared here so AddonData can own its windows.
#ifndef DRM_GPUVM_NATIVE_VA_WINDOW_H_
#define DRM_GPUVM_NATIVE_VA_WINDOW_H_

#include <napi.h>

#include <cstdint>
#include <map>
#include <vector>

namespace drm_gpuvm {

/** A reserved window; `mapped` holds the mapped ranges by offset (end offset as value). */
struct VaWindow {
  uint8_t* base = nullptr;
  uint64_t length = 0;
  std::map<uint64_t, uint64_t> mapped;
  struct View {
    uint64_t offset;
    uint64_t length;
    Napi::Reference<Napi::ArrayBuffer> buffer;  // weak: a collected view needs no detaching
  };
  std::vector<View> views;
};

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_VA_WINDOW_H_
