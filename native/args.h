// SPDX-License-Identifier: MIT
// Argument readers for the native functions. Each one checks the JS type and range itself and throws a
// coded TypeError/RangeError, so no value from JS reaches a syscall unchecked (the TS layer checks
// first with friendlier names; this is the second wall, for the fuzz test and direct callers).
#ifndef DRM_GPUVM_NATIVE_ARGS_H_
#define DRM_GPUVM_NATIVE_ARGS_H_

#include <napi.h>

#include <cstdint>
#include <string>

namespace drm_gpuvm {

/** A file descriptor: an integer Number in [0, INT32_MAX]. */
int ArgFd(const Napi::CallbackInfo& info, size_t index, const char* name);

/** An integer Number in [0, 2^32-1]. */
uint32_t ArgU32(const Napi::CallbackInfo& info, size_t index, const char* name);

/** An integer Number in [-2^31, 2^31-1] (a C int). */
int32_t ArgI32(const Napi::CallbackInfo& info, size_t index, const char* name);

/** An exact u64: a BigInt in [0, 2^64-1] or a safe-integer Number >= 0. */
uint64_t ArgU64(const Napi::CallbackInfo& info, size_t index, const char* name);

/**
 * A Uint32Array of at least `min_length` elements that the call writes its results into; returns its
 * elements. Valid until JS runs again (the caller writes before returning).
 */
uint32_t* ArgU32Array(const Napi::CallbackInfo& info, size_t index, const char* name, size_t min_length,
                      const char* expected_length);

/** A boolean. */
bool ArgBool(const Napi::CallbackInfo& info, size_t index, const char* name);

/** A string without NUL bytes. */
std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* name);

/** A function. */
Napi::Function ArgFunction(const Napi::CallbackInfo& info, size_t index, const char* name);

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_ARGS_H_
