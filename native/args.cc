// SPDX-License-Identifier: MIT
#include "args.h"

#include <cmath>

#include "errors.h"

namespace drm_gpuvm {
namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;

Napi::Value Arg(const Napi::CallbackInfo& info, size_t index) {
  return index < info.Length() ? info[index] : info.Env().Undefined();
}

[[noreturn]] void ThrowType(Napi::Env env, const char* name, const char* expected) {
  throw CodedTypeError(env, "ERR_INVALID_ARG_TYPE", std::string("The \"") + name + "\" argument must be " + expected);
}

[[noreturn]] void ThrowRange(Napi::Env env, const char* name, const char* expected) {
  throw CodedRangeError(env, "ERR_OUT_OF_RANGE",
                        std::string("The value of \"") + name + "\" is out of range. It must be " + expected);
}

// An integer Number in [0, max]; NaN, fractions and infinities are refused.
// Reads the value with one Node-API call: the status says when it is not a number, which saves a
// separate typeof on every argument of every call (bench/native-ioctl.mjs measures the call path).
double IntegerNumber(const Napi::CallbackInfo& info, size_t index, const char* name, double max, const char* expected) {
  Napi::Value value = Arg(info, index);
  double number = 0;
  if (napi_get_value_double(info.Env(), value, &number) != napi_ok) ThrowType(info.Env(), name, "a number");
  if (!std::isfinite(number) || std::trunc(number) != number || number < 0 || number > max) {
    ThrowRange(info.Env(), name, expected);
  }
  return number;
}

}  // namespace

int ArgFd(const Napi::CallbackInfo& info, size_t index, const char* name) {
  return static_cast<int>(IntegerNumber(info, index, name, 2147483647.0, "an integer in [0, 2^31-1]"));
}

uint32_t ArgU32(const Napi::CallbackInfo& info, size_t index, const char* name) {
  return static_cast<uint32_t>(IntegerNumber(info, index, name, 4294967295.0, "an integer in [0, 2^32-1]"));
}

int32_t ArgI32(const Napi::CallbackInfo& info, size_t index, const char* name) {
  double number = 0;
  if (napi_get_value_double(info.Env(), Arg(info, index), &number) != napi_ok) ThrowType(info.Env(), name, "a number");
  if (!std::isfinite(number) || std::trunc(number) != number || number < -2147483648.0 || number > 2147483647.0) {
    ThrowRange(info.Env(), name, "an integer in [-2^31, 2^31-1]");
  }
  return static_cast<int32_t>(number);
}

uint64_t ArgU64(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = Arg(info, index);
  uint64_t result = 0;
  bool lossless = false;
  // One call for the common case; napi_bigint_expected sends anything else to the checks below.
  if (napi_get_value_bigint_uint64(info.Env(), value, &result, &lossless) == napi_ok) {
    if (!lossless) ThrowRange(info.Env(), name, "an integer in [0, 2^64-1]");
    return result;
  }
  if (value.IsNumber()) {
    return static_cast<uint64_t>(
        IntegerNumber(info, index, name, kMaxSafeInteger, "a safe integer >= 0 (use a bigint past 2^53-1)"));
  }
  ThrowType(info.Env(), name, "a bigint or a number");
}

uint32_t* ArgU32Array(const Napi::CallbackInfo& info, size_t index, const char* name, size_t min_length,
                      const char* expected_length) {
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  // One Node-API call: its status says whether the value is a typed array at all, and it gives the kind
  // and length too. A detached buffer reads as length 0 and is refused by the length check.
  if (napi_get_typedarray_info(info.Env(), Arg(info, index), &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint32_array) {
    ThrowType(info.Env(), name, "a Uint32Array");
  }
  if (length < min_length) ThrowRange(info.Env(), name, expected_length);
  return static_cast<uint32_t*>(data);
}

bool ArgBool(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = Arg(info, index);
  if (!value.IsBoolean()) ThrowType(info.Env(), name, "a boolean");
  return value.As<Napi::Boolean>().Value();
}

std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = Arg(info, index);
  if (!value.IsString()) ThrowType(info.Env(), name, "a string");
  std::string text = value.As<Napi::String>().Utf8Value();
  if (text.find('\0') != std::string::npos) {
    throw CodedTypeError(info.Env(), "ERR_INVALID_ARG_VALUE",
                         std::string("The \"") + name + "\" argument must not contain NUL bytes");
  }
  return text;
}

Napi::Function ArgFunction(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = Arg(info, index);
  if (!value.IsFunction()) ThrowType(info.Env(), name, "a function");
  return value.As<Napi::Function>();
}

}  // namespace drm_gpuvm
