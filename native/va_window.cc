// SPDX-License-Identifier: MIT
// A CPU address window for emulating a GPU VA space: reserve a PROT_NONE range, map fd ranges into it at
// fixed offsets (MAP_FIXED), put holes back (PROT_NONE again), and view mapped spans as ArrayBuffers.
// See mmap(2) on MAP_FIXED and MAP_NORESERVE.
//
// MAP_FIXED replaces whatever was at the address, so every address is computed here from a window this
// file reserved, and checked against its bounds; JS only ever names windows by id and offsets. A hole is
// never reachable from JS: views are made only over fully mapped spans, and every view touching a range
// is detached before that range goes back to PROT_NONE or the window is released. A view that JS drops
// leaves its window's table when it is collected (its finalizer), so dropped views cost nothing, and a
// collected view is simply skipped by an unmap: no garbage-collection timing changes what a window tracks.
//
// A failed MAP_FIXED may have unmapped its range before failing (Linux before 6.12 unmaps, then calls the
// file's mmap): the hole is taken back with MAP_FIXED_NOREPLACE, which replaces nothing, so a mapping that
// another thread made there meanwhile is never clobbered; the range is then lost to the window (a typed
// error, and the window never touches it again).
//
// Some DRM drivers fault a buffer's pages in by their distance from the start of the mapping, ignoring the
// mapping's page offset (the shmem helper vgem uses, Linux 6.1 to 7.2 at least): a mapping that does not
// start at page 0 of its buffer shows page 0 there. Unmapping the start or the middle of a window mapping
// leaves such a piece behind, so vaMap takes `faultIn` for those sources and faults every page in while the
// mapping still starts at page 0; the page tables then stay right through any later split.
//
// Reservations take address space, not memory, and all windows of the process share one budget
// (vaLimits): past it a reservation is refused with ERR_DRM_VA_LIMIT, before the address space of the
// process runs out and an allocation anywhere else fails.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <vector>

#include "addon.h"
#include "args.h"
#include "entry.h"
#include "errors.h"
#include "ioctl.h"
#include "mapping.h"
#include "result.h"
#include "va_window.h"

namespace drm_gpuvm {
namespace {

uint64_t Page() {
  static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return page;
}

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
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE",
                          "window offsets and lengths must be non-zero multiples of the page size");
  }
  if (offset > window.length || length > window.length - offset) {
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE",
                          "the range must lie inside the window's " + std::to_string(window.length) + " bytes");
  }
}

bool Overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end) { return a < b_end && b < a_end; }

// Refuses a range that overlaps one the window lost.
void CheckNotLost(Napi::Env env, const VaWindow& window, uint64_t offset, uint64_t end) {
  auto next = window.lost.lower_bound(offset);
  bool lost = (next != window.lost.end() && next->first < end) ||
              (next != window.lost.begin() && std::prev(next)->second > offset);
  if (lost) {
    throw CodedError(env, "ERR_DRM_VA_LOST",
                     "part of this window range was lost when an mmap failed (another mapping of the process may "
                     "live there now): the window never uses it again; release the window");
  }
}

enum class Retake { kIntact, kRetaken, kLost };

// After a failed MAP_FIXED over [offset, offset + length): whether the range is still wholly mapped (msync
// fails with ENOMEM over a hole), or was a hole and is the window's again, or is lost (recorded as such).
Retake RetakeRange(VaWindow& window, uint64_t offset, uint64_t length) {
  uint8_t* at = window.base + offset;
  if (msync(at, length, MS_ASYNC) == 0) return Retake::kIntact;
  void* again = mmap(at, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (again == at) return Retake::kRetaken;
  // A kernel older than 4.17 ignores the flag and may have placed the mapping elsewhere.
  if (again != MAP_FAILED) munmap(again, length);
  window.lost.emplace(offset, offset + length);
  return Retake::kLost;
}

// Turns [offset, offset + length) back into a hole (PROT_NONE); on failure `err` is the mmap's errno and
// the result says whether the range is as it was, a hole anyway, or lost.
Retake MakeHole(VaWindow& window, uint64_t offset, uint64_t length, int& err) {
  void* address = mmap(window.base + offset, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                       -1, 0);
  if (address != MAP_FAILED) return Retake::kRetaken;
  err = errno;
  return RetakeRange(window, offset, length);
}

// Faults every page of [address, address + length) in by copying its first byte into a pipe, 1,024 pages a
// call: the kernel's copy reports a page that cannot be faulted in as EFAULT, where a load would be SIGBUS.
// Returns 0 or an errno.
int FaultIn(uint8_t* address, uint64_t length) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) return errno;
  constexpr size_t kBatch = 1024;  // under PIPE_BUF bytes a write, and IOV_MAX iovecs
  static_assert(kBatch <= PIPE_BUF && kBatch <= IOV_MAX);
  uint64_t page = Page();
  uint64_t pages = length / page;
  iovec batch[kBatch];
  char sink[kBatch];
  int err = 0;
  for (uint64_t first = 0; first < pages && err == 0;) {
    size_t count = static_cast<size_t>(std::min<uint64_t>(kBatch, pages - first));
    for (size_t i = 0; i < count; i++) batch[i] = iovec{address + (first + i) * page, 1};
    ssize_t written = RetryOnEintr([&] { return writev(pipe_fds[1], batch, static_cast<int>(count)); });
    if (written < 0) {
      err = errno;
      break;
    }
    if (written == 0) {
      err = EFAULT;
      break;
    }
    // A short write stops at the first page the copy could not fault in; the next batch starts there.
    first += static_cast<uint64_t>(written);
    if (RetryOnEintr([&] { return read(pipe_fds[0], sink, static_cast<size_t>(written)); }) != written) err = EIO;
  }
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  return err;
}

Napi::Error LostError(Napi::Env env, int err, uint64_t offset, uint64_t length) {
  return CodedError(env, "ERR_DRM_VA_LOST",
                    "mmap failed (" + std::string(std::strerror(err)) + ") after unmapping window range [" +
                        std::to_string(offset) + ", " + std::to_string(offset + length) +
                        "), and another mapping of the process took it meanwhile: the window never uses that "
                        "range again; release the window");
}

// Gives the window's address space back, except the ranges it lost (another mapping may live there).
void UnmapWindow(const VaWindow& window) {
  uint64_t from = 0;
  for (auto [start, stop] : window.lost) {
    if (start > from) munmap(window.base + from, start - from);
    from = stop;
  }
  if (window.length > from) munmap(window.base + from, window.length - from);
}

// All windows of the process: what they hold and what they may hold together.
std::atomic<uint64_t> reserved_bytes{0};
std::atomic<uint64_t> reserve_limit{1ull << 46};

// What a view's finalizer needs: the record, and the table it may still be listed in.
struct ViewHint {
  std::shared_ptr<ViewRecord> record;
  std::weak_ptr<ViewTable> table;
};

void FinalizeView(napi_env env, void*, void* hint_data) {
  std::unique_ptr<ViewHint> hint(static_cast<ViewHint*>(hint_data));
  hint->record->finalized = true;
  std::shared_ptr<ViewTable> table = hint->table.lock();
  if (table == nullptr) return;
  auto it = table->find(hint->record.get());
  if (it == table->end()) return;
  if (hint->record->buffer != nullptr) napi_delete_reference(env, hint->record->buffer);
  hint->record->buffer = nullptr;
  table->erase(it);
}

// Detaches the view's ArrayBuffer if it is still reachable (a collected one needs nothing) and drops the
// weak reference. Plain Node-API calls: nothing here throws or runs JS.
void DetachView(napi_env env, ViewRecord& record) {
  if (record.buffer == nullptr) return;
  napi_value buffer = nullptr;
  if (napi_get_reference_value(env, record.buffer, &buffer) == napi_ok && buffer != nullptr) {
    bool detached = false;
    if (napi_is_detached_arraybuffer(env, buffer, &detached) == napi_ok && !detached)
      napi_detach_arraybuffer(env, buffer);
  }
  napi_delete_reference(env, record.buffer);
  record.buffer = nullptr;
}

// Detaches every view that overlaps [offset, end) and takes it out of the table.
void DetachViews(napi_env env, VaWindow& window, uint64_t offset, uint64_t end) {
  ViewTable& table = *window.views;
  for (auto it = table.begin(); it != table.end();) {
    ViewRecord& record = *it->second;
    if (Overlaps(record.offset, record.offset + record.length, offset, end)) {
      DetachView(env, record);
      it = table.erase(it);
    } else {
      ++it;
    }
  }
}

void CloseSources(VaWindow& window) {
  for (auto& entry : window.sources) close(entry.second.fd);
  window.sources.clear();
}

void ReleaseWindow(napi_env env, VaWindow& window) {
  for (auto& entry : *window.views) DetachView(env, *entry.second);
  window.views->clear();
  CloseSources(window);
  UnmapWindow(window);
  reserved_bytes -= window.length;
}

// vaReserve(length) -> window id: `length` bytes of address space, PROT_NONE, backed by nothing.
Napi::Value VaReserve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t length = ArgU64(info, 0, "length");
  if (length == 0 || length % Page() != 0 || length > (1ull << 46)) {
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE",
                          "a window must be a non-zero multiple of the page size, at most 2^46 bytes");
  }
  AddonData& data = Data(env);
  auto window = std::make_unique<VaWindow>();
  data.va_windows.reserve(data.va_windows.size() + 1);
  uint64_t before = reserved_bytes.load();
  do {
    uint64_t limit = reserve_limit.load();
    if (length > limit || before > limit - length) {
      Napi::Error error = CodedError(env, "ERR_DRM_VA_LIMIT",
                                     "reserving " + std::to_string(length) +
                                         " more bytes of address space would pass the " + std::to_string(limit) +
                                         " bytes all VA windows of this process may hold (" + std::to_string(before) +
                                         " reserved); release windows or raise the limit");
      DefineData(env, error.Value(),
                 {{"limit", Napi::BigInt::New(env, limit)}, {"reserved", Napi::BigInt::New(env, before)}});
      throw error;
    }
  } while (!reserved_bytes.compare_exchange_weak(before, before + length));
  void* base = mmap(nullptr, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    int err = errno;
    reserved_bytes -= length;
    throw SyscallError(env, err, "mmap");
  }
  window->base = static_cast<uint8_t*>(base);
  window->length = length;
  uint32_t id = data.next_window_id++;
  if (data.next_window_id == 0) data.next_window_id = 1;
  data.va_windows[id] = std::move(window);  // no allocation: reserved above
  return Napi::Number::New(env, id);
}

// vaAddSource(window, fd) -> source id: checks once that `fd` may be mapped (a sealed memfd, a DRM node
// or a dma-buf) and keeps a duplicate of it, through which vaMap maps without checking the file again.
Napi::Value VaAddSource(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = ArgU32(info, 0, "window");
  int fd = ArgFd(info, 1, "fd");
  VaWindow& window = FindWindow(env, id);
  uint64_t size = MappableSize(env, fd);
  window.sources.reserve(window.sources.size() + 1);
  int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) throw SyscallError(env, errno, "fcntl");
  uint32_t source = window.next_source_id++;
  if (window.next_source_id == 0) window.next_source_id = 1;
  window.sources[source] = WindowSource{own, size};  // no allocation: reserved above
  return Napi::Number::New(env, source);
}

// vaRemoveSource(window, source) -> whether it was listed: closes the window's fd of it. What is mapped
// from it stays mapped (a mapping holds its own reference to the file).
Napi::Value VaRemoveSource(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = ArgU32(info, 0, "window");
  uint32_t source = ArgU32(info, 1, "source");
  auto& windows = Data(env).va_windows;
  auto window = windows.find(id);
  if (window == windows.end()) return Napi::Boolean::New(env, false);
  auto it = window->second->sources.find(source);
  if (it == window->second->sources.end()) return Napi::Boolean::New(env, false);
  close(it->second.fd);
  window->second->sources.erase(it);
  return Napi::Boolean::New(env, true);
}

// vaMap(window, offset, source, fileOffset, length, faultIn): maps the range of a source (vaAddSource)
// read-write at window + offset. The range must be a hole: mapping over a mapped range is refused (unmap
// it first). With `faultIn` every page is faulted in before it returns (a page that cannot be is EFAULT,
// and the range a hole again).
Napi::Value VaMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = ArgU32(info, 0, "window");
  uint64_t offset = ArgU64(info, 1, "offset");
  uint32_t source_id = ArgU32(info, 2, "source");
  uint64_t file_offset = ArgU64(info, 3, "fileOffset");
  uint64_t length = ArgU64(info, 4, "length");
  bool fault_in = ArgBool(info, 5, "faultIn");
  VaWindow& window = FindWindow(env, id);
  auto source = window.sources.find(source_id);
  if (source == window.sources.end())
    throw CodedError(env, "ERR_DRM_NO_SUCH_SOURCE", "no such window source (removed?)");
  CheckRange(env, window, offset, length);
  if (file_offset % Page() != 0 || file_offset > static_cast<uint64_t>(INT64_MAX)) {
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE", "the file offset must be a multiple of the page size below 2^63");
  }
  uint64_t end = offset + length;
  CheckNotLost(env, window, offset, end);
  auto next = window.mapped.lower_bound(offset);
  bool busy = (next != window.mapped.end() && next->first < end) ||
              (next != window.mapped.begin() && std::prev(next)->second > offset);
  if (busy) throw CodedError(env, "ERR_DRM_VA_BUSY", "part of this window range is already mapped; unmap it first");
  const WindowSource& from = source->second;
  CheckInsideFile(env, from.size, file_offset, length);
  // Listed first, so that nothing can fail between the mmap and the record of it.
  auto listed = window.mapped.emplace(offset, end).first;
  void* address = mmap(window.base + offset, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, from.fd,
                       static_cast<off_t>(file_offset));
  if (address == MAP_FAILED) {
    int err = errno;
    window.mapped.erase(listed);
    if (RetakeRange(window, offset, length) == Retake::kLost) throw LostError(env, err, offset, length);
    throw SyscallError(env, err, "mmap");
  }
  int fault_err = fault_in ? FaultIn(window.base + offset, length) : 0;
  if (fault_err != 0) {
    // No view can be over the new mapping yet: making it a hole again is all there is to undo.
    int err = 0;
    Retake retake = MakeHole(window, offset, length, err);
    if (retake != Retake::kIntact) window.mapped.erase(listed);
    if (retake == Retake::kLost) throw LostError(env, err, offset, length);
    // Retaken: nothing changed. Intact (the hole could not be made): the mapping stays, and stays listed.
    throw SyscallError(env, fault_err, "fault in");
  }
  return env.Undefined();
}

// vaUnmap(window, offset, length): makes [offset, offset + length) a hole again, cutting mapped ranges at
// its edges; views over any of it are detached once the memory under them is gone (no JS runs between),
// so a refused unmap leaves them as they were. Only the ranges the hole touches are edited, so an unmap
// costs the same in a window of one mapping as in one of thousands.
Napi::Value VaUnmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = ArgU32(info, 0, "window");
  uint64_t offset = ArgU64(info, 1, "offset");
  uint64_t length = ArgU64(info, 2, "length");
  VaWindow& window = FindWindow(env, id);
  CheckRange(env, window, offset, length);
  uint64_t end = offset + length;
  CheckNotLost(env, window, offset, end);
  // The touched ranges: from the first that ends past `offset` up to the first that starts at or past `end`.
  auto first = window.mapped.upper_bound(offset);
  if (first != window.mapped.begin() && std::prev(first)->second > offset) --first;
  auto last = window.mapped.lower_bound(end);
  // A range running past `end` keeps its tail as a new entry. It is made before anything changes, since
  // allocating it is the only step that can fail; after the hole it moves into `mapped` without allocating.
  std::map<uint64_t, uint64_t> tail;
  if (first != last && std::prev(last)->second > end) tail.emplace(end, std::prev(last)->second);
  int err = 0;
  // A hole either way unless the failed mmap left the range intact or lost it.
  Retake retake = MakeHole(window, offset, length, err);
  // Refused before anything was unmapped (ENOMEM past vm.max_map_count, say): nothing changed.
  if (retake == Retake::kIntact) throw SyscallError(env, err, "mmap");
  // The range is a hole now (or lost): nothing of it is mapped any more.
  DetachViews(env, window, offset, end);
  if (first != last && first->first < offset) {
    first->second = offset;  // a range starting before the hole keeps its head
    ++first;
  }
  window.mapped.erase(first, last);
  if (!tail.empty()) window.mapped.insert(tail.extract(tail.begin()));
  if (retake == Retake::kLost) throw LostError(env, err, offset, length);
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
  if (covered < end)
    throw CodedError(env, "ERR_DRM_VA_HOLE", "the span has unmapped holes: only mapped memory can be viewed");

  auto record = std::make_shared<ViewRecord>();
  record->offset = offset;
  record->length = length;
  ViewTable& table = *window.views;
  table.reserve(table.size() + 1);
  auto hint = std::make_unique<ViewHint>(ViewHint{record, window.views});
  napi_value buffer = nullptr;
  napi_status status = napi_create_external_arraybuffer(env, window.base + offset, length, FinalizeView, hint.get(),
                                                        &buffer);
  if (status != napi_ok) {
    // Node may have run the finalizer already (it does for a length past its ArrayBuffer limit).
    if (record->finalized) (void)hint.release();
    Napi::Error refused = Napi::Error::New(env);
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE",
                          "cannot view " + std::to_string(length) + " bytes as one ArrayBuffer: " + refused.Message());
  }
  (void)hint.release();  // owned by the finalizer now
  if (napi_create_reference(env, buffer, 0, &record->buffer) != napi_ok) {
    // Untracked, the view could outlive the memory under it: it must not be handed out.
    napi_detach_arraybuffer(env, buffer);
    throw CodedError(env, "ERR_MEMORY_ALLOCATION_FAILED", "no memory to track a new view");
  }
  table.emplace(record.get(), record);  // no allocation of buckets: reserved above
  return Napi::Value(env, buffer);
}

// vaMappedRanges(window) -> BigUint64Array [offset, end, offset, end, ...]. A typed array: filling it runs
// no setter JS may have put on Array.prototype.
Napi::Value VaMappedRanges(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  VaWindow& window = FindWindow(env, ArgU32(info, 0, "window"));
  auto result = Napi::TypedArrayOf<uint64_t>::New(env, window.mapped.size() * 2, napi_biguint64_array);
  uint64_t* out = result.Data();
  for (auto [start, stop] : window.mapped) {
    *out++ = start;
    *out++ = stop;
  }
  return result;
}

// vaRelease(window): detaches its views and gives the whole address range back.
Napi::Value VaRelease(const Napi::CallbackInfo& info) {
  uint32_t id = ArgU32(info, 0, "window");
  auto& windows = Data(info.Env()).va_windows;
  auto it = windows.find(id);
  if (it == windows.end()) return Napi::Boolean::New(info.Env(), false);
  ReleaseWindow(info.Env(), *it->second);
  windows.erase(it);
  return Napi::Boolean::New(info.Env(), true);
}

// vaLimits(limit?) -> { limit, reserved } as bigints: the address-space budget of all windows of the process
// and what they hold now. With an argument, sets the budget first (for new reservations; a window already
// reserved is never taken back).
Napi::Value VaLimits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() > 0 && !info[0].IsUndefined()) reserve_limit = ArgU64(info, 0, "limit");
  return DataObject(env, {{"limit", Napi::BigInt::New(env, reserve_limit.load())},
                          {"reserved", Napi::BigInt::New(env, reserved_bytes.load())}});
}

}  // namespace

size_t WindowSources(const AddonData& data) {
  size_t sources = 0;
  for (const auto& entry : data.va_windows) sources += entry.second->sources.size();
  return sources;
}

size_t LiveViews(const AddonData& data) {
  size_t views = 0;
  for (const auto& entry : data.va_windows) views += entry.second->views->size();
  return views;
}

void ReleaseAllWindows(AddonData& data) {
  for (auto& entry : data.va_windows) {
    // Teardown: no JS can run any more; detaching is moot, the weak references go with the environment.
    entry.second->views->clear();
    CloseSources(*entry.second);
    UnmapWindow(*entry.second);
    reserved_bytes -= entry.second->length;
  }
  data.va_windows.clear();
}

void InitVaWindow(Napi::Env env, Napi::Object exports) {
  Export<VaReserve>(env, exports, "vaReserve");
  Export<VaAddSource>(env, exports, "vaAddSource");
  Export<VaRemoveSource>(env, exports, "vaRemoveSource");
  Export<VaMap>(env, exports, "vaMap");
  Export<VaUnmap>(env, exports, "vaUnmap");
  Export<VaView>(env, exports, "vaView");
  Export<VaMappedRanges>(env, exports, "vaMappedRanges");
  Export<VaRelease>(env, exports, "vaRelease");
  Export<VaLimits>(env, exports, "vaLimits");
}

}  // namespace drm_gpuvm
