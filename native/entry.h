// SPDX-License-Identifier: MIT
// Every native function is registered through Export, so that no C++ exception ever reaches the runtime
// (node-addon-api turns only Napi::Error into a JS exception; anything else would terminate the process).
// Out of memory becomes ERR_MEMORY_ALLOCATION_FAILED and any other C++ exception ERR_DRM_NATIVE_EXCEPTION;
// both are thrown with plain Node-API calls, since building a C++ string could fail again for want of memory.
#ifndef DRM_GPUVM_NATIVE_ENTRY_H_
#define DRM_GPUVM_NATIVE_ENTRY_H_

#include <napi.h>

#include <new>

namespace drm_gpuvm {

/** Throws a JS Error with `code` and `message` without allocating on the C++ heap. */
void ThrowCodedStatic(napi_env env, const char* code, const char* message);

template <Napi::Value (*Function)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  try {
    return Function(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    ThrowCodedStatic(info.Env(), "ERR_MEMORY_ALLOCATION_FAILED",
                     "a native call ran out of memory; nothing was changed");
  } catch (...) {
    ThrowCodedStatic(info.Env(), "ERR_DRM_NATIVE_EXCEPTION", "a native call failed with an unexpected C++ exception");
  }
  return Napi::Value();
}

/** Sets exports[name] to Function, guarded. */
template <Napi::Value (*Function)(const Napi::CallbackInfo&)>
void Export(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New(env, Guarded<Function>, name));
}

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_ENTRY_H_
