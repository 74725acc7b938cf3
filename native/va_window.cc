// SPDX-License-Identifier: MIT
// A CPU address window for emulating a GPU VA space: reserve a PROT_NONE range, map fd ranges into it at
// fixed offsets (MAP_FIXED), put holes back (PROT_NONE again), and view mapped spans as ArrayBuffers.
// See mmap(2) on MAP_FIXED and MAP_NORESERVE.
//
// MAP_FIXED replaces whatever was at the address, so every address is computed here from a window this
// file reserved, and checked against its bounds; JS only ever names windows by id and offsets. A hole is
// never reachable from JS: views are made only over fully mapped spans, and every view touching a range
// is detached before that range goes back to PROT_NONE or the window is released.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "mapping.h"
#include "va_window.h"

namespace drm_gpuvm {
namespace {

uint64_t Page() { return static_cast<uint64_t>(sysconf(_SC_PAGESIZE)); }

// Looked up after every argument is read, so a bad argument is reported as such whatever the id.
VaWindow& FindWindow(Napi::Env env, uint32_t id) {
  auto& windows = Data(env).va_windows;
  auto it = windows.find(id);
  if (it == windows.end()) throw CodedError(env, "ERR_DRM_NO_SUCH_WINDOW", "no such VA window (released?)");
  return *it->second;
}

// Checks that [offset, offset + length) is a non-empty, page-aligned range inside the window.
void CheckRange(Napi::Env env, const VaWindow& window, uint64_t offset, uint64_t length) {
  uint64_t page = Page();
  if (length == 0 || offset % page != 0 || length % page != 0) {
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE", "window offsets and lengths must be non-zero multiples of the page size");
  }
  if (offset > window.length || length > window.length - offset) {
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE", "the range must lie inside the window's " + std::to_string(window.length) + " bytes");
  }
}

bool Overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end) { return a < b_end && b < a_end; }

// Detaches every live view that overlaps [offset, end) and forgets it.
void DetachViews(VaWindow& window, uint64_t offset, uint64_t end) {
  std::vector<VaWindow::View> kept;
  for (auto& view : window.views) {
    if (!Overlaps(view.offset, view.offset + view.length, offset, end)) {
      kept.push_back(std::move(view));
      continue;
    }
    if (!view.buffer.IsEmpty()) {
      Napi::ArrayBuffer buffer = view.buffer.Value();
      if (!buffer.IsDetached()) buffer.Detach();
    }
  }
  window.views = std::move(kept);
}

void ReleaseWindow(VaWindow& window) {
  for (auto& view : window.views) {
    if (!view.buffer.IsEmpty()) {
      Napi::ArrayBuffer buffer = view.buffer.Value();
      if (!buffer.IsDetached()) buffer.Detach();
    }
  }
  window.views.clear();
  munmap(window.base, window.length);
}

// vaReserve(length) -> window id: `length` bytes of address space, PROT_NONE, backed by nothing.
Napi::Value VaReserve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t length = ArgU64(info, 0, "length");
  if (length == 0 || length % Page() != 0 || length > (1ull << 46)) {
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE", "a window must be a non-zero multiple of the page size, at most 2^46 bytes");
  }
  void* base = mmap(nullptr, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) throw SyscallError(env, errno, "mmap");
  auto window = std::make_unique<VaWindow>();
  window->base = static_cast<uint8_t*>(base);
  window->length = length;
  AddonData& data = Data(env);
  uint32_t id = data.next_window_id++;
  data.va_windows[id] = std::move(window);
  return Napi::Number::New(env, id);
}

// vaMap(window, offset, fd, fileOffset, length): maps the fd range read-write at window + offset. The range
// must be a hole: mapping over a mapped range is refused (unmap it first).
Napi::Value VaMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = ArgU32(info, 0, "window");
  uint64_t offset = ArgU64(info, 1, "offset");
  int fd = ArgFd(info, 2, "fd");
  uint64_t file_offset = ArgU64(info, 3, "fileOffset");
  uint64_t length = ArgU64(info, 4, "length");
  VaWindow& window = FindWindow(env, id);
  CheckRange(env, window, offset, length);
  if (file_offset % Page() != 0 || file_offset > static_cast<uint64_t>(INT64_MAX)) {
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE", "the file offset must be a multiple of the page size below 2^63");
  }
  uint64_t end = offset + length;
  auto next = window.mapped.lower_bound(offset);
  bool busy = (next != window.mapped.end() && next->first < end) ||
              (next != window.mapped.begin() && std::prev(next)->second > offset);
  if (busy) throw CodedError(env, "ERR_DRM_VA_BUSY", "part of this window range is already mapped; unmap it first");
  CheckMappable(env, fd, file_offset, length);
  void* address = mmap(window.base + offset, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
                       static_cast<off_t>(file_offset));
  if (address == MAP_FAILED) {
    int err = errno;
    // A failed MAP_FIXED may have unmapped the range: make it a hole again so the window stays whole.
    mmap(window.base + offset, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    throw SyscallError(env, err, "mmap");
  }
  window.mapped[offset] = end;
  return env.Undefined();
}

// vaUnmap(window, offset, length): makes [offset, offset + length) a hole again, splitting mapped ranges
// at its edges; views over any of it are detached first.
Napi::Value VaUnmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = ArgU32(info, 0, "window");
  uint64_t offset = ArgU64(info, 1, "offset");
  uint64_t length = ArgU64(info, 2, "length");
  VaWindow& window = FindWindow(env, id);
  CheckRange(env, window, offset, length);
  uint64_t end = offset + length;
  DetachViews(window, offset, end);
  void* address = mmap(window.base + offset, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  if (address == MAP_FAILED) throw SyscallError(env, errno, "mmap");
  std::map<uint64_t, uint64_t> kept;
  for (auto [start, stop] : window.mapped) {
    if (!Overlaps(start, stop, offset, end)) {
      kept[start] = stop;
      continue;
    }
    if (start < offset) kept[start] = offset;
    if (stop > end) kept[end] = stop;
  }
  window.mapped = std::move(kept);
  return env.Undefined();
}

// vaView(window, offset, length) -> ArrayBuffer over a span that is mapped end to end.
Napi::Value VaView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = ArgU32(info, 0, "window");
  uint64_t offset = ArgU64(info, 1, "offset");
  uint64_t length = ArgU64(info, 2, "length");
  VaWindow& window = FindWindow(env, id);
  CheckRange(env, window, offset, length);
  uint64_t end = offset + length;
  uint64_t covered = offset;
  auto it = window.mapped.upper_bound(offset);
  if (it != window.mapped.begin()) --it;
  for (; it != window.mapped.end() && it->first <= covered && covered < end; ++it) {
    if (it->second > covered) covered = it->second;
  }
  if (covered < end) throw CodedError(env, "ERR_DRM_VA_HOLE", "the span has unmapped holes: only mapped memory can be viewed");
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, window.base + offset, length);
  window.views.push_back({offset, length, Napi::Weak(buffer)});
  return buffer;
}

// vaMappedRanges(window) -> [offset, end, offset, end, ...] as bigints.
Napi::Value VaMappedRanges(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  VaWindow& window = FindWindow(env, ArgU32(info, 0, "window"));
  Napi::Array result = Napi::Array::New(env);
  uint32_t i = 0;
  for (auto [start, stop] : window.mapped) {
    result.Set(i++, Napi::BigInt::New(env, start));
    result.Set(i++, Napi::BigInt::New(env, stop));
  }
  return result;
}

// vaRelease(window): detaches its views and gives the whole address range back.
Napi::Value VaRelease(const Napi::CallbackInfo& info) {
  uint32_t id = ArgU32(info, 0, "window");
  auto& windows = Data(info.Env()).va_windows;
  auto it = windows.find(id);
  if (it == windows.end()) return Napi::Boolean::New(info.Env(), false);
  ReleaseWindow(*it->second);
  windows.erase(it);
  return Napi::Boolean::New(info.Env(), true);
}

}  // namespace

void ReleaseAllWindows(AddonData& data) {
  for (auto& entry : data.va_windows) {
    // Teardown: the views' references may no longer be usable, and no JS can run; just give the range back.
    entry.second->views.clear();
    munmap(entry.second->base, entry.second->length);
  }
  data.va_windows.clear();
}

void InitVaWindow(Napi::Env env, Napi::Object exports) {
  exports.Set("vaReserve", Napi::Function::New(env, VaReserve, "vaReserve"));
  exports.Set("vaMap", Napi::Function::New(env, VaMap, "vaMap"));
  exports.Set("vaUnmap", Napi::Function::New(env, VaUnmap, "vaUnmap"));
  exports.Set("vaView", Napi::Function::New(env, VaView, "vaView"));
  exports.Set("vaMappedRanges", Napi::Function::New(env, VaMappedRanges, "vaMappedRanges"));
  exports.Set("vaRelease", Napi::Function::New(env, VaRelease, "vaRelease"));
}

}  // namespace drm_gpuvm
