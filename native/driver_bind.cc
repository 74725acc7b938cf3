// SPDX-License-Identifier: MIT
// driverIoctl(fd, driver, name, request, buffers, pointers): one driver-private ioctl built in TypeScript
// (lib/backends/ioctl-call.ts). buffers[0] is the ioctl argument; `pointers` is a Uint32Array of
// (buffer, offset, target) triples: the address of buffers[target] is written as a u64 at `offset` in
// buffers[buffer]. The call is synchronous, so the JS buffers stay put while the kernel reads them.
//
// What is checked here, before any ioctl: the request is a DRM driver-private number ('d', 0x40..0x9f)
// whose size field equals buffers[0]'s length, so the kernel copies exactly the argument in and out;
// every pointer slot lies inside its buffer; and the device's driver is the one the payload was built for
// (driver_check.h). Array counts inside the payload are the encoders' to keep consistent with the arrays.
#include "driver_bind.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "driver_check.h"
#include "errors.h"
#include "ioctl.h"

namespace drm_gpuvm {
namespace {

constexpr uint32_t kDrmIoctlType = 0x64;   // 'd'
constexpr uint32_t kDrmCommandBase = 0x40;
constexpr uint32_t kDrmCommandEnd = 0xa0;
constexpr size_t kMaxBuffers = 64;

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& message) {
  throw CodedRangeError(env, "ERR_OUT_OF_RANGE", message);
}

[[noreturn]] void ThrowType(Napi::Env env, const std::string& message) {
  throw CodedTypeError(env, "ERR_INVALID_ARG_TYPE", message);
}

struct Span {
  uint8_t* data;
  size_t length;
};

std::vector<Span> Buffers(Napi::Env env, const Napi::Value& value) {
  if (!value.IsArray()) ThrowType(env, "The \"buffers\" argument must be an array of Uint8Array");
  Napi::Array array = value.As<Napi::Array>();
  if (array.Length() == 0 || array.Length() > kMaxBuffers) {
    ThrowRange(env, "The \"buffers\" array must hold 1 to " + std::to_string(kMaxBuffers) + " buffers");
  }
  std::vector<Span> spans;
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsTypedArray() || item.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      ThrowType(env, "buffers[" + std::to_string(i) + "] must be a Uint8Array");
    }
    Napi::Uint8Array bytes = item.As<Napi::Uint8Array>();
    spans.push_back({bytes.Data(), bytes.ByteLength()});
  }
  return spans;
}

Napi::Value DriverIoctl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "fd");
  std::string driver = ArgString(info, 1, "driver");
  std::string name = ArgString(info, 2, "name");
  uint32_t request = ArgU32(info, 3, "request");
  std::vector<Span> buffers = Buffers(env, info.Length() > 4 ? info[4] : env.Undefined());
  Napi::Value pointerArg = info.Length() > 5 ? info[5] : env.Undefined();
  if (!pointerArg.IsTypedArray() || pointerArg.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    ThrowType(env, "The \"pointers\" argument must be a Uint32Array of (buffer, offset, target) triples");
  }
  Napi::Uint32Array pointers = pointerArg.As<Napi::Uint32Array>();
  if (pointers.ElementLength() % 3 != 0) ThrowRange(env, "The \"pointers\" length must be a multiple of 3");

  uint32_t type = (request >> 8) & 0xff;
  uint32_t nr = request & 0xff;
  size_t size = (request >> 16) & 0x3fff;
  if (type != kDrmIoctlType || nr < kDrmCommandBase || nr >= kDrmCommandEnd) {
    ThrowRange(env, name + ": request is not a DRM driver-private ioctl");
  }
  if (size != buffers[0].length) {
    ThrowRange(env, name + ": the argument is " + std::to_string(buffers[0].length) +
                        " bytes but the request encodes " + std::to_string(size));
  }
  for (size_t i = 0; i < pointers.ElementLength(); i += 3) {
    uint32_t buffer = pointers[i];
    uint32_t offset = pointers[i + 1];
    uint32_t target = pointers[i + 2];
    if (buffer >= buffers.size() || target >= buffers.size() ||
        static_cast<uint64_t>(offset) + sizeof(uint64_t) > buffers[buffer].length) {
      ThrowRange(env, name + ": pointer slot " + std::to_string(i / 3) + " lies outside the buffers");
    }
  }

  RequireDriver(env, fd, driver.c_str(), name.c_str());

  auto write_slots = [&](bool with_addresses) {
    for (size_t i = 0; i < pointers.ElementLength(); i += 3) {
      uint64_t address = with_addresses ? reinterpret_cast<uintptr_t>(buffers[pointers[i + 2]].data) : 0;
      std::memcpy(buffers[pointers[i]].data + pointers[i + 1], &address, sizeof(address));
    }
  };
  write_slots(true);
  int result = RetryIoctl(fd, request, buffers[0].data);
  // The slots go back to zero so JS sees the bytes it encoded plus what the kernel wrote, never addresses.
  write_slots(false);
  if (result < 0) throw SyscallError(env, -result, "ioctl", name.c_str());
  return Napi::Number::New(env, result);
}

}  // namespace

void InitDriverBind(Napi::Env env, Napi::Object exports) {
  exports.Set("driverIoctl", Napi::Function::New(env, DriverIoctl, "driverIoctl"));
}

}  // namespace drm_gpuvm
