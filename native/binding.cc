// SPDX-License-Identifier: MIT
// Module initialisation: per-environment data, then each concern registers its functions.
#include <napi.h>

#include "addon.h"
#include "driver_bind.h"
#include "va_window.h"

namespace drm_gpuvm {

AddonData::AddonData() : mappings(std::make_shared<MappingTable>()) {}

AddonData::~AddonData() {
  CloseAllWaits(*this);
  ReleaseAllWindows(*this);
  ReleaseAllMappings(*this);
}

AddonData& Data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

namespace {

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  // Waits hold libuv handles on this environment's loop: close them while the loop still runs.
  env.AddCleanupHook([env]() { CloseAllWaits(Data(env)); });
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
  return exports;
}

}  // namespace
}  // namespace drm_gpuvm

// NODE_API_MODULE pastes the function's name into an identifier, so it needs an unqualified one.
static Napi::Object Init(Napi::Env env, Napi::Object exports) { return drm_gpuvm::InitAddon(env, exports); }

NODE_API_MODULE(drm_gpuvm, Init)
