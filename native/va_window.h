// SPDX-License-Identifier: MIT
// A reserved CPU address window (va_window.cc), declared here so AddonData can own its windows.
#ifndef DRM_GPUVM_NATIVE_VA_WINDOW_H_
#define DRM_GPUVM_NATIVE_VA_WINDOW_H_

#include <napi.h>

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>

namespace drm_gpuvm {

/** A live view (an ArrayBuffer over window memory) that must be detached before that memory changes. */
struct ViewRecord {
  uint64_t offset = 0;
  uint64_t length = 0;
  /** Weak; deleted when the record leaves its window's table. */
  napi_ref buffer = nullptr;
  /** Set by the view's finalizer (the ArrayBuffer was collected, or Node refused to make it). */
  bool finalized = false;
};

/**
 * The views of one window. A record is listed here while its ArrayBuffer may still be reachable; its
 * finalizer (which owns it too) takes it out, so a collected view costs nothing once finalized.
 */
using ViewTable = std::unordered_map<ViewRecord*, std::shared_ptr<ViewRecord>>;

/**
 * A reserved window; `mapped` holds the mapped ranges by offset (end offset as value), `lost` the ranges it
 * no longer holds: a failed mmap left a hole there that could not be taken back without replacing another
 * mapping of the process, so they are never mapped, viewed, unmapped or released by the window again.
 */
struct VaWindow {
  uint8_t* base = nullptr;
  uint64_t length = 0;
  std::map<uint64_t, uint64_t> mapped;
  std::map<uint64_t, uint64_t> lost;
  std::shared_ptr<ViewTable> views = std::make_shared<ViewTable>();
};

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_VA_WINDOW_H_
