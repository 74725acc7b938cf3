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
 * A file a window maps from, checked once when it was added (MappableSize). The window maps through its
 * own duplicate of the caller's fd, which no other code closes or reuses, so the file behind the number
 * is the one that was checked for as long as the source is listed.
 */
struct WindowSource {
  int fd = -1;
  /** How far the file may be mapped: its size when added, which a sealed memfd never goes below (UINT64_MAX: no limit). */
  uint64_t size = 0;
};

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
  /** Files mapped from, by source id (vaAddSource); their fds are closed when they leave or the window goes. */
  std::unordered_map<uint32_t, WindowSource> sources;
  uint32_t next_source_id = 1;
};

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_VA_WINDOW_H_
