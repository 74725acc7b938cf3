// SPDX-License-Identifier: MIT
// Module initialisation: per-environment data, then each concern registers its functions.
#include <napi.h>

#include "addon.h"
#include "driver_bind.h"
#include "entry.h"
#include "result.h"
#include "va_window.h"

namespace drm_gpuvm {

AddonData::AddonData() : mappings(std::make_shared<MappingTable>()) {}

AddonData::~AddonData() {
  CloseAllWaits(*this);
  ReleaseAllWindows(*this);
  ReleaseAllMappings(*this);
  CloseOwnedFds(*this);
}

AddonData& Data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

namespace {

// Environment teardown: waits hold libuv handles on this environment's loop, and their close callbacks are
// this module's code, which Node may unload once the environment is gone (a worker that alone loaded it).
// So the handles are closed here, and the teardown is held (an async cleanup hook) until the last close
// callback has run; OnHandleClosed in fd_wait.cc removes the hook.
void OnTeardown(napi_async_cleanup_hook_handle handle, void* arg) {
  AddonData& data = *static_cast<AddonData*>(arg);
  CloseAllWaits(data);
  if (data.closing_handles == 0) {
    napi_remove_async_cleanup_hook(handle);
  } else {
    data.teardown = handle;
  }
}

// nativeRecords() -> how many native records this environment holds: live mappings, pending waits, VA
// windows, tracked views, the fds windows map from, and owned fds. For leak checks: each must come back to
// where it was.
Napi::Value NativeRecords(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData& data = Data(env);
  auto count = [&](size_t n) { return Napi::Number::New(env, static_cast<double>(n)); };
  return DataObject(env, {{"mappings", count(data.mappings->size())},
                          {"waits", count(data.waits.size())},
                          {"windows", count(data.va_windows.size())},
                          {"views", count(LiveViews(data))},
                          {"windowSources", count(WindowSources(data))},
                          {"fds", count(data.owned_fds.size())}});
}

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData(data);
  NAPI_THROW_IF_FAILED(env, napi_add_async_cleanup_hook(env, OnTeardown, data, nullptr), exports);
  exports.Set("sourceDigest", Napi::String::New(env, DRM_GPUVM_SOURCE_DIGEST));
  InitFd(env, exports);
  InitDevice(env, exports);
  InitGem(env, exports);
  InitPrime(env, exports);
  InitMapping(env, exports);
  InitDmaBuf(env, exports);
  InitSyncFile(env, exports);
  InitFdWait(env, exports);
  InitVgem(env, exports);
  InitSyncobj(env, exports);
  InitMemfd(env, exports);
  InitUdmabuf(env, exports);
  InitVaWindow(env, exports);
  InitDriverBind(env, exports);
  Export<NativeRecords>(env, exports, "nativeRecords");
  return exports;
}

}  // namespace
}  // namespace drm_gpuvm

// NODE_API_MODULE pastes the function's name into an identifier, so it needs an unqualified one.
static Napi::Object Init(Napi::Env env, Napi::Object exports) { return drm_gpuvm::InitAddon(env, exports); }

NODE_API_MODULE(drm_gpuvm, Init)
