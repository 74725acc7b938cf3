// SPDX-License-Identifier: MIT
// Per-environment state and the registration function of each concern.
//
// Threading model: every function here runs on the JS thread of the environment (main thread or a
// worker_threads Worker) that called it; nothing runs on other threads. Each environment gets its own
// AddonData through SetInstanceData, so two Workers never share a mapping table or a wait. State that
// must outlive a JS call (mappings, pending waits) lives here and is torn down when the environment is.
#ifndef DRM_GPUVM_NATIVE_ADDON_H_
#define DRM_GPUVM_NATIVE_ADDON_H_

#include <napi.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>

namespace drm_gpuvm {

struct MappingRecord;
struct FdWait;
struct VaWindow;

/** Live mmaps handed to JS, by start address: unmap() accepts only these. */
using MappingTable = std::unordered_map<void*, std::shared_ptr<MappingRecord>>;

/** What an fd was when this module made it: a number is closed at teardown only if it still is that file. */
struct FdIdentity {
  dev_t device = 0;
  ino_t inode = 0;
};

/** One per Napi::Env. */
struct AddonData {
  AddonData();
  ~AddonData();
  /** Shared with each mapping's finalizer, which may outlive this struct at teardown. */
  std::shared_ptr<MappingTable> mappings;
  /** Pending async fd waits, by id. */
  std::unordered_map<uint32_t, FdWait*> waits;
  uint32_t next_wait_id = 1;
  /** Reserved VA windows, by id. */
  std::unordered_map<uint32_t, std::unique_ptr<VaWindow>> va_windows;
  uint32_t next_window_id = 1;
  /** Fds this module made in this environment and JS has not closed: closed when the environment ends. */
  std::unordered_map<int, FdIdentity> owned_fds;
  /** Set while the environment tears down: the hook to remove once the last wait handle has closed. */
  napi_async_cleanup_hook_handle teardown = nullptr;
  /** libuv handles of finished waits whose close callbacks have not run yet. */
  uint32_t closing_handles = 0;
};

/** The AddonData of `env`. */
AddonData& Data(Napi::Env env);

void InitFd(Napi::Env env, Napi::Object exports);
void InitDevice(Napi::Env env, Napi::Object exports);
void InitGem(Napi::Env env, Napi::Object exports);
void InitPrime(Napi::Env env, Napi::Object exports);
void InitMapping(Napi::Env env, Napi::Object exports);
void InitDmaBuf(Napi::Env env, Napi::Object exports);
void InitSyncFile(Napi::Env env, Napi::Object exports);
void InitFdWait(Napi::Env env, Napi::Object exports);
void InitVgem(Napi::Env env, Napi::Object exports);
void InitSyncobj(Napi::Env env, Napi::Object exports);
void InitMemfd(Napi::Env env, Napi::Object exports);
void InitUdmabuf(Napi::Env env, Napi::Object exports);
void InitVaWindow(Napi::Env env, Napi::Object exports);

/** Releases every pending wait of `data` without calling back into JS (environment teardown). */
void CloseAllWaits(AddonData& data);
/** Closes every fd `data` still owns; only for environment teardown. */
void CloseOwnedFds(AddonData& data);
/** Sources (fds mapped from) all VA windows of `data` hold. */
size_t WindowSources(const AddonData& data);
/** Views of all VA windows of `data` whose ArrayBuffers may still be reachable. */
size_t LiveViews(const AddonData& data);
/** Gives back every VA window of `data`; only for environment teardown. */
void ReleaseAllWindows(AddonData& data);
/** Unmaps every mapping of `data`; only for environment teardown, when no JS can run. */
void ReleaseAllMappings(AddonData& data);

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_ADDON_H_
