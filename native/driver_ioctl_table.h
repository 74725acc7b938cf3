// SPDX-License-Identifier: MIT
// Every driver-private ioctl driverIoctl may issue, with every user pointer the kernel follows from its
// argument: where the pointer lies, which field counts its elements, how big an element is, and whether the
// kernel reads or writes through it. Facts from the uAPI headers (drm/xe_drm.h, nouveau_drm.h,
// panthor_drm.h, msm_drm.h, amdgpu_drm.h, kmod/vgpuvm/vgpuvm_drm.h); the offsets are those the ABI test pins
// for lib/backends.
#ifndef DRM_GPUVM_NATIVE_DRIVER_IOCTL_TABLE_H_
#define DRM_GPUVM_NATIVE_DRIVER_IOCTL_TABLE_H_

#include <cstddef>
#include <cstdint>

namespace drm_gpuvm {

/** What the kernel does with the memory behind a user pointer. */
enum class UserAccess { kRead, kWrite };

/** How the pointer field relates to its count. */
enum class PointerKind {
  /** Always a user pointer; null only with a zero count. */
  kArray,
  /** A union with one element stored inline: a pointer only when the count is above 1. */
  kArrayUnlessSingle,
  /** A u64 that is a scalar value when the count is 0 and a user pointer otherwise. */
  kScalarUnlessCounted,
};

struct StructRule;

/** An element layout chosen by the value of a u32 field of the struct holding the pointer. */
struct ElementChoice {
  uint32_t selector_value;
  const StructRule* element;
};

/** A u64 user pointer field and the fields that bound what the kernel touches through it. */
struct ArrayRule {
  const char* field;
  uint32_t pointer_offset;
  uint32_t count_offset;
  /** Width of the count field in bytes (2 or 4). */
  uint32_t count_bytes;
  /** Offset of the u32 stride field, or kNoStride when elements are packed at the element's size. */
  uint32_t stride_offset;
  PointerKind kind;
  UserAccess access;
  /** The element layout; its size is the smallest stride accepted. Null when `choices` decides. */
  const StructRule* element;
  /** With `element` null: the u32 at `selector_offset` picks the element among these. */
  uint32_t selector_offset;
  const ElementChoice* choices;
  size_t choice_count;
};

/** A u32 field whose values are limited, because some values make the kernel follow an address of ours. */
struct ValueRule {
  const char* field;
  uint32_t offset;
  /** Bits that must be clear (0 for none). */
  uint32_t forbidden_bits;
  /** Allowed values when `allowed_count` > 0. */
  const uint32_t* allowed;
  size_t allowed_count;
};

/** A struct the kernel reads from user memory, and everything in it that can reach more user memory. */
struct StructRule {
  const char* name;
  uint32_t size;
  /** u64 user pointer fields this package never fills (extension chains): they must be zero. */
  const uint32_t* null_pointers;
  size_t null_pointer_count;
  const ArrayRule* arrays;
  size_t array_count;
  const ValueRule* values;
  size_t value_count;
};

/** One ioctl: the exact request number and the argument's layout. */
struct IoctlRule {
  const char* driver;
  const char* name;
  uint32_t request;
  const StructRule* argument;
};

constexpr uint32_t kNoStride = 0xffffffffu;

/** The rule for `request` on `driver`, or null when driverIoctl must not issue it. */
const IoctlRule* FindIoctlRule(const char* driver, uint32_t request);

/** All rules, for tests of the table itself. */
const IoctlRule* IoctlRules(size_t* count);

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_DRIVER_IOCTL_TABLE_H_
