// SPDX-License-Identifier: MIT
// driverIoctl(fd, driver, name, request, buffers, pointers): one driver-private ioctl built in TypeScript
// (lib/backends/ioctl-call.ts). buffers[0] is the ioctl argument; `pointers` is a Uint32Array of
// (buffer, offset, target) triples: the address of buffers[target] goes as a u64 at `offset` in
// buffers[buffer].
//
// Nothing JS passes may let the kernel touch memory JS does not own. So the (driver, request) pair must be
// in driver_ioctl_table.h, which lists every user pointer the kernel follows from that argument; each one
// must be declared by a triple (a raw non-zero address is refused, zero only goes with a zero count); its
// count times its stride must fit the buffer it points to, and the stride must be at least the kernel's
// element size; values that turn a field into an address (xe userptr, user fences) are refused; and a triple
// that is not one of those pointers is refused. The checks and the ioctl run on native copies of the
// buffers, so JS (another thread with a SharedArrayBuffer included) cannot change a count after it was
// checked; the argument and the arrays the kernel writes are copied back afterwards.
#include "driver_bind.h"

#include <cinttypes>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "args.h"
#include "driver_check.h"
#include "driver_ioctl_table.h"
#include "entry.h"
#include "errors.h"
#include "ioctl.h"
#include "result.h"

namespace drm_gpuvm {
namespace {

constexpr uint32_t kDrmIoctlType = 0x64;  // 'd'
constexpr uint32_t kDrmCommandBase = 0x40;
constexpr uint32_t kDrmCommandEnd = 0xa0;
constexpr size_t kMaxBuffers = 64;
// The copies live on the native heap; more than this in one call is refused rather than risked.
constexpr uint64_t kMaxCopyBytes = 256ull << 20;

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& message) {
  throw CodedRangeError(env, "ERR_OUT_OF_RANGE", message);
}

[[noreturn]] void ThrowType(Napi::Env env, const std::string& message) {
  throw CodedTypeError(env, "ERR_INVALID_ARG_TYPE", message);
}

[[noreturn]] void ThrowValue(Napi::Env env, const std::string& message) {
  throw CodedTypeError(env, "ERR_INVALID_ARG_VALUE", message);
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
  // Reading an element can run JS (an index getter, on the array or its prototype) that detaches or
  // resizes another buffer. So every element is read first, and only then are their memory and lengths
  // taken, with no JS able to run from there until the call returns.
  std::vector<Napi::Value> items;
  items.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) items.push_back(array.Get(i));
  std::vector<Span> spans;
  spans.reserve(items.size());
  for (size_t i = 0; i < items.size(); i++) {
    napi_typedarray_type type = napi_int8_array;
    size_t length = 0;
    void* data = nullptr;
    if (!items[i].IsTypedArray() ||
        napi_get_typedarray_info(env, items[i], &type, &length, &data, nullptr, nullptr) != napi_ok ||
        type != napi_uint8_array) {
      ThrowType(env, "buffers[" + std::to_string(i) + "] must be a Uint8Array");
    }
    spans.push_back({static_cast<uint8_t*>(data), length});
  }
  return spans;
}

/** A (buffer, offset, target) triple, and whether the table's walk found it a pointer field. */
struct Slot {
  uint32_t buffer;
  uint32_t offset;
  uint32_t target;
  bool claimed;
};

std::string Hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof(text), "0x%" PRIx64, value);
  return text;
}

// Walks the argument and every array it reaches with the table's rules, on the native copies.
class PayloadCheck {
 public:
  PayloadCheck(Napi::Env env, const std::string& name, std::vector<std::vector<uint8_t>>& copies,
               std::vector<Slot>& slots, std::vector<bool>& written)
      : env_(env), name_(name), copies_(copies), slots_(slots), written_(written) {}

  void Struct(const StructRule& rule, uint32_t buffer, uint64_t base, const std::string& where) {
    for (size_t i = 0; i < rule.null_pointer_count; i++) {
      uint64_t offset = base + rule.null_pointers[i];
      if (Read(buffer, offset, 8) != 0) {
        ThrowValue(env_, name_ + ": " + where + " (" + rule.name + ") has a non-zero extensions pointer at offset " +
                             std::to_string(rule.null_pointers[i]) + "; extension chains are not issued");
      }
    }
    for (size_t i = 0; i < rule.value_count; i++) Value(rule.values[i], buffer, base, where, rule.name);
    for (size_t i = 0; i < rule.array_count; i++) Array(rule.arrays[i], buffer, base, where, rule);
  }

 private:
  uint64_t Read(uint32_t buffer, uint64_t offset, uint32_t bytes) {
    const std::vector<uint8_t>& copy = copies_[buffer];
    if (offset + bytes > copy.size()) {
      ThrowRange(env_, name_ + ": a field at offset " + std::to_string(offset) + " lies outside buffers[" +
                           std::to_string(buffer) + "]");
    }
    uint64_t value = 0;
    std::memcpy(&value, copy.data() + offset, bytes);  // little endian, as the kernel's struct
    return value;
  }

  void Value(const ValueRule& rule, uint32_t buffer, uint64_t base, const std::string& where, const char* type) {
    uint32_t value = static_cast<uint32_t>(Read(buffer, base + rule.offset, 4));
    bool allowed = (value & rule.forbidden_bits) == 0;
    if (allowed && rule.allowed_count > 0) {
      allowed = false;
      for (size_t i = 0; i < rule.allowed_count; i++) allowed = allowed || rule.allowed[i] == value;
    }
    if (!allowed) {
      ThrowValue(env_, name_ + ": " + where + " (" + type + ")." + rule.field + " = " + Hex(value) +
                           " would make the kernel use an address of this process; it is not issued");
    }
  }

  Slot* Claim(uint32_t buffer, uint64_t offset) {
    for (Slot& slot : slots_) {
      if (slot.buffer == buffer && slot.offset == offset) {
        slot.claimed = true;
        return &slot;
      }
    }
    return nullptr;
  }

  const StructRule& Element(const ArrayRule& rule, uint32_t buffer, uint64_t base, const std::string& label) {
    if (rule.element != nullptr) return *rule.element;
    uint32_t selector = static_cast<uint32_t>(Read(buffer, base + rule.selector_offset, 4));
    for (size_t i = 0; i < rule.choice_count; i++) {
      if (rule.choices[i].selector_value == selector) return *rule.choices[i].element;
    }
    ThrowValue(env_, name_ + ": " + label + " has no known element type for selector " + std::to_string(selector));
  }

  void Array(const ArrayRule& rule, uint32_t buffer, uint64_t base, const std::string& where, const StructRule& owner) {
    std::string label = where + "." + rule.field;
    uint64_t count = Read(buffer, base + rule.count_offset, rule.count_bytes);
    uint64_t pointer_at = base + rule.pointer_offset;
    bool is_pointer = rule.kind == PointerKind::kArray || (rule.kind == PointerKind::kArrayUnlessSingle && count > 1) ||
                      (rule.kind == PointerKind::kScalarUnlessCounted && count > 0);
    if (!is_pointer) {
      // The field is an inline element (count 1) or a scalar: walk what is inline; no triple may claim it.
      if (rule.kind == PointerKind::kArrayUnlessSingle && count == 1) {
        Struct(Element(rule, buffer, base, label), buffer, pointer_at, where + "." + rule.field + "(inline)");
      }
      return;
    }
    const StructRule& element = Element(rule, buffer, base, label);
    uint64_t stride = element.size;
    if (rule.stride_offset != kNoStride) {
      stride = Read(buffer, base + rule.stride_offset, 4);
      if (stride < element.size) {
        ThrowRange(env_, name_ + ": " + label + " has stride " + std::to_string(stride) + ", below sizeof(" +
                             element.name + ") = " + std::to_string(element.size));
      }
    }
    uint64_t raw = Read(buffer, pointer_at, 8);
    if (raw != 0) {
      ThrowValue(env_, name_ + ": " + label + " holds the raw address " + Hex(raw) + " (" + owner.name +
                           "); user pointers are filled in natively from the call's buffers");
    }
    Slot* slot = Claim(buffer, pointer_at);
    if (slot == nullptr) {
      if (count != 0) {
        ThrowRange(env_,
                   name_ + ": " + label + " counts " + std::to_string(count) + " elements but points to no buffer");
      }
      return;
    }
    uint64_t needed = count * stride;  // both below 2^32: no overflow
    uint64_t length = copies_[slot->target].size();
    if (needed > length) {
      const char* verb = rule.access == UserAccess::kWrite ? "write" : "read";
      ThrowRange(env_, name_ + ": " + label + " counts " + std::to_string(count) + " x " + std::to_string(stride) +
                           " bytes but buffers[" + std::to_string(slot->target) + "] holds " + std::to_string(length) +
                           "; the kernel would " + verb + " past it");
    }
    if (rule.access == UserAccess::kWrite) written_[slot->target] = true;
    if (element.null_pointer_count + element.value_count + element.array_count == 0) return;
    for (uint64_t i = 0; i < count; i++) {
      Struct(element, slot->target, i * stride,
             "buffers[" + std::to_string(slot->target) + "][" + std::to_string(i) + "]");
    }
  }

  Napi::Env env_;
  const std::string& name_;
  std::vector<std::vector<uint8_t>>& copies_;
  std::vector<Slot>& slots_;
  std::vector<bool>& written_;
};

std::vector<Slot> Slots(Napi::Env env, const std::string& name, const Napi::Value& value,
                        const std::vector<Span>& buffers) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    ThrowType(env, "The \"pointers\" argument must be a Uint32Array of (buffer, offset, target) triples");
  }
  Napi::Uint32Array pointers = value.As<Napi::Uint32Array>();
  if (pointers.ElementLength() % 3 != 0) ThrowRange(env, "The \"pointers\" length must be a multiple of 3");
  if (pointers.ElementLength() / 3 > kMaxBuffers) {
    ThrowRange(env, "The \"pointers\" array must hold at most " + std::to_string(kMaxBuffers) + " triples");
  }
  std::vector<Slot> slots;
  for (size_t i = 0; i < pointers.ElementLength(); i += 3) {
    Slot slot = {pointers[i], pointers[i + 1], pointers[i + 2], false};
    if (slot.buffer >= buffers.size() || slot.target >= buffers.size() ||
        static_cast<uint64_t>(slot.offset) + sizeof(uint64_t) > buffers[slot.buffer].length) {
      ThrowRange(env, name + ": pointer slot " + std::to_string(i / 3) + " lies outside the buffers");
    }
    // drm_ioctl() copies the argument itself; an address of it would be one the kernel never reads from.
    if (slot.target == 0)
      ThrowValue(env, name + ": pointer slot " + std::to_string(i / 3) + " targets the argument itself");
    for (const Slot& other : slots) {
      if (other.buffer == slot.buffer && other.offset == slot.offset) {
        ThrowValue(env, name + ": pointer slot " + std::to_string(i / 3) + " repeats an earlier slot");
      }
    }
    slots.push_back(slot);
  }
  return slots;
}

void WriteSlots(std::vector<std::vector<uint8_t>>& copies, const std::vector<Slot>& slots, bool with_addresses) {
  for (const Slot& slot : slots) {
    uint64_t address = with_addresses ? reinterpret_cast<uintptr_t>(copies[slot.target].data()) : 0;
    std::memcpy(copies[slot.buffer].data() + slot.offset, &address, sizeof(address));
  }
}

Napi::Value DriverIoctl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "fd");
  std::string driver = ArgString(info, 1, "driver");
  std::string name = ArgString(info, 2, "name");
  uint32_t request = ArgU32(info, 3, "request");
  std::vector<Span> buffers = Buffers(env, info.Length() > 4 ? info[4] : env.Undefined());
  std::vector<Slot> slots = Slots(env, name, info.Length() > 5 ? info[5] : env.Undefined(), buffers);

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
  const IoctlRule* rule = FindIoctlRule(driver.c_str(), request);
  if (rule == nullptr) {
    throw CodedError(env, "ERR_DRM_UNKNOWN_IOCTL",
                     name + ": request " + Hex(request) + " is not in the table of " + driver +
                         " ioctls driverIoctl may issue (native/driver_ioctl_table.cc)");
  }

  uint64_t total = 0;
  for (const Span& span : buffers) total += span.length;
  if (total > kMaxCopyBytes) {
    ThrowRange(env, name + ": the buffers hold " + std::to_string(total) + " bytes, more than the " +
                        std::to_string(kMaxCopyBytes) + " one call may pass");
  }
  std::vector<std::vector<uint8_t>> copies;
  try {
    copies.reserve(buffers.size());
    for (const Span& span : buffers) copies.emplace_back(span.data, span.data + span.length);
  } catch (const std::bad_alloc&) {
    throw CodedError(env, "ERR_MEMORY_ALLOCATION_FAILED", name + ": no memory for copies of the buffers");
  }
  std::vector<bool> written(buffers.size(), false);
  written[0] = true;
  PayloadCheck(env, name, copies, slots, written).Struct(*rule->argument, 0, 0, "argument");
  for (size_t i = 0; i < slots.size(); i++) {
    if (!slots[i].claimed) {
      ThrowValue(env, name + ": pointer slot " + std::to_string(i) + " (buffers[" + std::to_string(slots[i].buffer) +
                          "] offset " + std::to_string(slots[i].offset) + ") is not a user pointer of " +
                          rule->argument->name);
    }
  }

  RequireDriver(env, fd, driver.c_str(), name.c_str());

  WriteSlots(copies, slots, true);
  int result = RetryIoctl(fd, request, copies[0].data());
  // JS gets the bytes it encoded plus what the kernel wrote, never addresses.
  WriteSlots(copies, slots, false);
  for (size_t i = 0; i < buffers.size(); i++) {
    if (written[i] && buffers[i].length > 0) std::memcpy(buffers[i].data, copies[i].data(), buffers[i].length);
  }
  if (result < 0) throw SyscallError(env, -result, "ioctl", name.c_str());
  return Napi::Number::New(env, result);
}

// [{driver, name, request}] of every table entry, so tests can hold the table against the TypeScript encoders.
Napi::Value DriverIoctlRules(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t count = 0;
  const IoctlRule* rules = IoctlRules(&count);
  std::vector<napi_value> entries;
  entries.reserve(count);
  for (size_t i = 0; i < count; i++) {
    entries.push_back(DataObject(env, {{"driver", Napi::String::New(env, rules[i].driver)},
                                       {"name", Napi::String::New(env, rules[i].name)},
                                       {"request", Napi::Number::New(env, rules[i].request)},
                                       {"struct", Napi::String::New(env, rules[i].argument->name)}}));
  }
  return DataArray(env, entries);
}

}  // namespace

void InitDriverBind(Napi::Env env, Napi::Object exports) {
  Export<DriverIoctl>(env, exports, "driverIoctl");
  Export<DriverIoctlRules>(env, exports, "driverIoctlRules");
}

}  // namespace drm_gpuvm
