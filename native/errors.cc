// SPDX-License-Identifier: MIT
#include "errors.h"

#include <cstring>
#include <string>

namespace drm_gpuvm {

Napi::Error SyscallError(Napi::Env env, int err, const char* syscall, const char* ioctl) {
  std::string message = std::string(syscall) + (ioctl != nullptr ? std::string(" ") + ioctl : "") +
                        " failed: " + std::strerror(err);
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (ioctl != nullptr) error.Set("ioctl", Napi::String::New(env, ioctl));
  return error;
}

Napi::TypeError CodedTypeError(Napi::Env env, const char* code, const std::string& message) {
  Napi::TypeError error = Napi::TypeError::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

Napi::RangeError CodedRangeError(Napi::Env env, const char* code, const std::string& message) {
  Napi::RangeError error = Napi::RangeError::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

}  // namespace drm_gpuvm
