// SPDX-License-Identifier: MIT
// How a failed system call becomes a JS exception. Native code reports only facts (the positive errno,
// the syscall and, for ioctls, the request's name); lib/drm/errors.ts turns them into Node-shaped
// errors with `code`, a negative `errno`, `path` and advice.
#ifndef DRM_GPUVM_NATIVE_ERRORS_H_
#define DRM_GPUVM_NATIVE_ERRORS_H_

#include <napi.h>

namespace drm_gpuvm {

/** Builds the Error for `err` from `syscall` ("ioctl", "mmap", ...); `ioctl` names the request or is null. */
Napi::Error SyscallError(Napi::Env env, int err, const char* syscall, const char* ioctl = nullptr);

/** A TypeError with a Node-style `code` (ERR_INVALID_ARG_TYPE and friends). */
Napi::TypeError CodedTypeError(Napi::Env env, const char* code, const std::string& message);

/** A RangeError with a Node-style `code`. */
Napi::RangeError CodedRangeError(Napi::Env env, const char* code, const std::string& message);

/** A plain Error with a Node-style `code`, for refusals that are not a syscall's errno. */
Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message);

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_ERRORS_H_
