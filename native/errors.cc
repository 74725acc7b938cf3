// SPDX-License-Identifier: MIT
#include "errors.h"

#include <cstring>
#include <string>

#include "result.h"

namespace drm_gpuvm {

Napi::Error SyscallError(Napi::Env env, int err, const char* syscall, const char* ioctl) {
  std::string message = std::string(syscall) + (ioctl != nullptr ? std::string(" ") + ioctl : "") +
                        " failed: " + std::strerror(err);
  Napi::Error error = Napi::Error::New(env, message);
  DefineData(env, error.Value(),
             {{"errno", Napi::Number::New(env, err)}, {"syscall", Napi::String::New(env, syscall)}});
  if (ioctl != nullptr) DefineData(env, error.Value(), {{"ioctl", Napi::String::New(env, ioctl)}});
  return error;
}

Napi::TypeError CodedTypeError(Napi::Env env, const char* code, const std::string& message) {
  Napi::TypeError error = Napi::TypeError::New(env, message);
  DefineData(env, error.Value(), {{"code", Napi::String::New(env, code)}});
  return error;
}

Napi::RangeError CodedRangeError(Napi::Env env, const char* code, const std::string& message) {
  Napi::RangeError error = Napi::RangeError::New(env, message);
  DefineData(env, error.Value(), {{"code", Napi::String::New(env, code)}});
  return error;
}

Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  DefineData(env, error.Value(), {{"code", Napi::String::New(env, code)}});
  return error;
}

void ThrowCodedStatic(napi_env env, const char* code, const char* message) {
  napi_value code_value = nullptr;
  napi_value message_value = nullptr;
  napi_value error = nullptr;
  // napi_create_error sets `code` itself. Should even that fail, napi_throw_error still names the code.
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value) != napi_ok ||
      napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value) != napi_ok ||
      napi_create_error(env, code_value, message_value, &error) != napi_ok || napi_throw(env, error) != napi_ok) {
    napi_throw_error(env, code, message);
  }
}

}  // namespace drm_gpuvm
