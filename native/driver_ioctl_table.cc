// SPDX-License-Identifier: MIT
// The table behind driver_ioctl_table.h. Element sizes are the kernel's sizeof, which is also the smallest
// stride accepted where the uAPI has a stride field: larger strides are the kernel's versioning scheme.
#include "driver_ioctl_table.h"

#include <cstring>
#include <iterator>

namespace drm_gpuvm {
namespace {

constexpr uint32_t kRead = 2;   // _IOC_READ: the kernel writes the argument back
constexpr uint32_t kWrite = 1;  // _IOC_WRITE: the kernel reads the argument

constexpr uint32_t DriverRequest(uint32_t dir, uint32_t size, uint32_t id) {
  return (dir << 30) | (size << 16) | (0x64u << 8) | (0x40u + id);
}

template <typename T, size_t N>
constexpr size_t Count(const T (&)[N]) {
  return N;
}

constexpr StructRule Plain(const char* name, uint32_t size) { return {name, size, nullptr, 0, nullptr, 0, nullptr, 0}; }

constexpr ArrayRule Packed(const char* field, uint32_t pointer, uint32_t count, uint32_t count_bytes, PointerKind kind,
                           UserAccess access, const StructRule* element) {
  return {field, pointer, count, count_bytes, kNoStride, kind, access, element, 0, nullptr, 0};
}

constexpr ArrayRule Strided(const char* field, uint32_t pointer, uint32_t count, uint32_t stride, PointerKind kind,
                            UserAccess access, const StructRule* element) {
  return {field, pointer, count, 4, stride, kind, access, element, 0, nullptr, 0};
}

// The rule tables are laid out by hand, one struct per statement (clang-format would align them in columns).
// clang-format off
// ---- xe: every struct starts with an `extensions` chain pointer; this package never builds a chain.
const uint32_t kExtensionsAtZero[] = {0};

// DRM_XE_SYNC_TYPE_USER_FENCE makes `addr` a user address the kernel writes the fence value to.
const uint32_t kXeSyncTypes[] = {0 /* SYNCOBJ */, 1 /* TIMELINE_SYNCOBJ */};
const ValueRule kXeSyncValues[] = {{"type", 8, 0, kXeSyncTypes, Count(kXeSyncTypes)}};
const StructRule kXeSync = {"struct drm_xe_sync", 48, kExtensionsAtZero, 1, nullptr, 0, kXeSyncValues,
                            Count(kXeSyncValues)};

// MAP_USERPTR (2) makes `obj_offset` a user address mapped into the GPU VM; CPU_ADDR_MIRROR (1 << 5) mirrors
// the process's address space there. Both would give the GPU this process's memory.
const uint32_t kXeBindOps[] = {0 /* MAP */, 1 /* UNMAP */, 3 /* UNMAP_ALL */, 4 /* PREFETCH */};
const ValueRule kXeBindOpValues[] = {
    {"op", 40, 0, kXeBindOps, Count(kXeBindOps)},
    {"flags", 44, 1u << 5, nullptr, 0},
};
const StructRule kXeVmBindOp = {"struct drm_xe_vm_bind_op", 80, kExtensionsAtZero, 1, nullptr, 0, kXeBindOpValues,
                                Count(kXeBindOpValues)};
const ArrayRule kXeVmBindArrays[] = {
    Packed("vector_of_binds", 24, 20, 4, PointerKind::kArrayUnlessSingle, UserAccess::kRead, &kXeVmBindOp),
    Packed("syncs", 112, 108, 4, PointerKind::kArray, UserAccess::kRead, &kXeSync),
};
const StructRule kXeVmBind = {"struct drm_xe_vm_bind", 136, kExtensionsAtZero, 1, kXeVmBindArrays,
                              Count(kXeVmBindArrays), nullptr, 0};
const StructRule kXeVmCreate = {"struct drm_xe_vm_create", 32, kExtensionsAtZero, 1, nullptr, 0, nullptr, 0};
const StructRule kXeGemCreate = {"struct drm_xe_gem_create", 56, kExtensionsAtZero, 1, nullptr, 0, nullptr, 0};
const StructRule kXeVmDestroy = Plain("struct drm_xe_vm_destroy", 24);

// ---- nouveau
const StructRule kNouveauSync = Plain("struct drm_nouveau_sync", 16);
const StructRule kNouveauVmBindOp = Plain("struct drm_nouveau_vm_bind_op", 40);
const ArrayRule kNouveauVmBindArrays[] = {
    Packed("wait_ptr", 16, 8, 4, PointerKind::kArray, UserAccess::kRead, &kNouveauSync),
    Packed("sig_ptr", 24, 12, 4, PointerKind::kArray, UserAccess::kRead, &kNouveauSync),
    Packed("op_ptr", 32, 0, 4, PointerKind::kArray, UserAccess::kRead, &kNouveauVmBindOp),
};
const StructRule kNouveauVmBind = {"struct drm_nouveau_vm_bind", 40, nullptr, 0, kNouveauVmBindArrays,
                                   Count(kNouveauVmBindArrays), nullptr, 0};
const StructRule kNouveauVmInit = Plain("struct drm_nouveau_vm_init", 16);
const StructRule kNouveauGemNew = Plain("struct drm_nouveau_gem_new", 48);

// ---- panthor: arrays are struct drm_panthor_obj_array {stride, count, array}.
const StructRule kPanthorSyncOp = Plain("struct drm_panthor_sync_op", 16);
const ArrayRule kPanthorBindOpArrays[] = {
    Strided("syncs.array", 40, 36, 32, PointerKind::kArray, UserAccess::kRead, &kPanthorSyncOp),
};
const StructRule kPanthorVmBindOp = {"struct drm_panthor_vm_bind_op", 48, nullptr, 0, kPanthorBindOpArrays,
                                     Count(kPanthorBindOpArrays), nullptr, 0};
const ArrayRule kPanthorVmBindArrays[] = {
    Strided("ops.array", 16, 12, 8, PointerKind::kArray, UserAccess::kRead, &kPanthorVmBindOp),
};
const StructRule kPanthorVmBind = {"struct drm_panthor_vm_bind", 24, nullptr, 0, kPanthorVmBindArrays,
                                   Count(kPanthorVmBindArrays), nullptr, 0};
const StructRule kPanthorVmCreate = Plain("struct drm_panthor_vm_create", 16);
const StructRule kPanthorVmDestroy = Plain("struct drm_panthor_vm_destroy", 8);
const StructRule kPanthorBoCreate = Plain("struct drm_panthor_bo_create", 24);

// ---- msm
const StructRule kMsmSyncobj = Plain("struct drm_msm_syncobj", 16);
const StructRule kMsmVmBindOp = Plain("struct drm_msm_vm_bind_op", 40);
const ArrayRule kMsmVmBindArrays[] = {
    Strided("in_syncobjs", 16, 32, 40, PointerKind::kArray, UserAccess::kRead, &kMsmSyncobj),
    Strided("out_syncobjs", 24, 36, 40, PointerKind::kArray, UserAccess::kRead, &kMsmSyncobj),
    Strided("ops", 48, 4, 44, PointerKind::kArrayUnlessSingle, UserAccess::kRead, &kMsmVmBindOp),
};
const StructRule kMsmVmBind = {"struct drm_msm_vm_bind", 88, nullptr, 0, kMsmVmBindArrays, Count(kMsmVmBindArrays),
                               nullptr, 0};
// `value` is a string pointer for MSM_PARAM_COMM / CMDLINE, read for `len` bytes; other params need len 0.
const StructRule kMsmByte = Plain("char", 1);
const ArrayRule kMsmParamArrays[] = {
    Packed("value", 8, 16, 4, PointerKind::kScalarUnlessCounted, UserAccess::kRead, &kMsmByte),
};
const StructRule kMsmParam = {"struct drm_msm_param", 24, nullptr, 0, kMsmParamArrays, Count(kMsmParamArrays),
                              nullptr, 0};
const StructRule kMsmGemNew = Plain("struct drm_msm_gem_new", 16);
const StructRule kMsmSubmitqueue = Plain("struct drm_msm_submitqueue", 12);
const StructRule kMsmQueueId = Plain("__u32", 4);

// ---- amdgpu
const StructRule kAmdgpuSyncobjHandle = Plain("__u32", 4);
const ArrayRule kAmdgpuGemVaArrays[] = {
    Packed("input_fence_syncobj_handles", 56, 52, 4, PointerKind::kArray, UserAccess::kRead, &kAmdgpuSyncobjHandle),
};
const StructRule kAmdgpuGemVa = {"struct drm_amdgpu_gem_va", 64, nullptr, 0, kAmdgpuGemVaArrays,
                                 Count(kAmdgpuGemVaArrays), nullptr, 0};
const StructRule kAmdgpuGemCreate = Plain("union drm_amdgpu_gem_create", 32);

// ---- vgpuvm (kmod/vgpuvm): VM_QUERY writes `capacity` records whose type `what` names; BO_QUERY writes
// `capacity` pair records; VM_RW moves `size` bytes.
const StructRule kVgpuvmBindOp = Plain("struct drm_vgpuvm_bind_op", 40);
const StructRule kVgpuvmSync = Plain("struct drm_vgpuvm_sync", 16);
const ArrayRule kVgpuvmVmBindArrays[] = {
    Strided("ops", 8, 4, 16, PointerKind::kArray, UserAccess::kRead, &kVgpuvmBindOp),
    Packed("in_syncs", 40, 32, 4, PointerKind::kArray, UserAccess::kRead, &kVgpuvmSync),
    Packed("out_syncs", 48, 36, 4, PointerKind::kArray, UserAccess::kRead, &kVgpuvmSync),
};
const StructRule kVgpuvmVmBind = {"struct drm_vgpuvm_vm_bind", 64, nullptr, 0, kVgpuvmVmBindArrays,
                                  Count(kVgpuvmVmBindArrays), nullptr, 0};
const StructRule kVgpuvmCmd = Plain("struct drm_vgpuvm_cmd", 40);
const ArrayRule kVgpuvmExecArrays[] = {
    Strided("cmds", 8, 4, 16, PointerKind::kArray, UserAccess::kRead, &kVgpuvmCmd),
    Packed("in_syncs", 32, 24, 4, PointerKind::kArray, UserAccess::kRead, &kVgpuvmSync),
    Packed("out_syncs", 40, 28, 4, PointerKind::kArray, UserAccess::kRead, &kVgpuvmSync),
};
const StructRule kVgpuvmExec = {"struct drm_vgpuvm_exec", 56, nullptr, 0, kVgpuvmExecArrays, Count(kVgpuvmExecArrays),
                                nullptr, 0};
const StructRule kVgpuvmQueueCreate = Plain("struct drm_vgpuvm_queue_create", 16);
const StructRule kVgpuvmQueueDestroy = Plain("struct drm_vgpuvm_queue_destroy", 8);
const StructRule kVgpuvmJobQuery = Plain("struct drm_vgpuvm_job_query", 40);
const StructRule kVgpuvmVa = Plain("struct drm_vgpuvm_va", 40);
const StructRule kVgpuvmOp = Plain("struct drm_vgpuvm_op", 128);
const StructRule kVgpuvmPair = Plain("struct drm_vgpuvm_pair", 24);
const ElementChoice kVgpuvmRecords[] = {{0 /* QUERY_TREE */, &kVgpuvmVa},
                                        {1 /* QUERY_OPS */, &kVgpuvmOp},
                                        {2 /* QUERY_EXTOBJ */, &kVgpuvmPair},
                                        {3 /* QUERY_EVICT */, &kVgpuvmPair},
                                        {4 /* QUERY_ZOMBIES */, &kVgpuvmPair}};
const ArrayRule kVgpuvmVmQueryArrays[] = {
    {"records", 16, 8, 4, kNoStride, PointerKind::kArray, UserAccess::kWrite, nullptr, 4, kVgpuvmRecords,
     Count(kVgpuvmRecords)},
};
const StructRule kVgpuvmVmQuery = {"struct drm_vgpuvm_vm_query", 24, nullptr, 0, kVgpuvmVmQueryArrays,
                                   Count(kVgpuvmVmQueryArrays), nullptr, 0};
const StructRule kVgpuvmBoCreate = Plain("struct drm_vgpuvm_bo_create", 24);
const StructRule kVgpuvmVmCreate = Plain("struct drm_vgpuvm_vm_create", 40);
const StructRule kVgpuvmVmDestroy = Plain("struct drm_vgpuvm_vm_destroy", 8);
const StructRule kVgpuvmStats = Plain("struct drm_vgpuvm_stats", 48);
const ArrayRule kVgpuvmBoQueryArrays[] = {
    Packed("records", 8, 4, 4, PointerKind::kArray, UserAccess::kWrite, &kVgpuvmPair),
};
const StructRule kVgpuvmBoQuery = {"struct drm_vgpuvm_bo_query", 40, nullptr, 0, kVgpuvmBoQueryArrays,
                                   Count(kVgpuvmBoQueryArrays), nullptr, 0};
const StructRule kVgpuvmBoEvict = Plain("struct drm_vgpuvm_bo_evict", 8);
const StructRule kVgpuvmVmValidate = Plain("struct drm_vgpuvm_vm_validate", 8);
// VM_RW moves `size` bytes through `data`: written by a READ, read by a WRITE (declared written: the kernel
// may write it, and a WRITE's bytes come back unchanged).
const StructRule kVgpuvmByte = Plain("__u8", 1);
const ArrayRule kVgpuvmVmRwArrays[] = {
    Packed("data", 16, 24, 4, PointerKind::kArray, UserAccess::kWrite, &kVgpuvmByte),
};
const StructRule kVgpuvmVmRw = {"struct drm_vgpuvm_vm_rw", 40, nullptr, 0, kVgpuvmVmRwArrays, Count(kVgpuvmVmRwArrays),
                                nullptr, 0};

// clang-format on

constexpr uint32_t kRW = kRead | kWrite;

const IoctlRule kRules[] = {
    {"xe", "DRM_IOCTL_XE_GEM_CREATE", DriverRequest(kRW, 56, 0x01), &kXeGemCreate},
    {"xe", "DRM_IOCTL_XE_VM_CREATE", DriverRequest(kRW, 32, 0x03), &kXeVmCreate},
    {"xe", "DRM_IOCTL_XE_VM_DESTROY", DriverRequest(kWrite, 24, 0x04), &kXeVmDestroy},
    {"xe", "DRM_IOCTL_XE_VM_BIND", DriverRequest(kWrite, 136, 0x05), &kXeVmBind},
    {"nouveau", "DRM_IOCTL_NOUVEAU_VM_INIT", DriverRequest(kRW, 16, 0x10), &kNouveauVmInit},
    {"nouveau", "DRM_IOCTL_NOUVEAU_VM_BIND", DriverRequest(kRW, 40, 0x11), &kNouveauVmBind},
    {"nouveau", "DRM_IOCTL_NOUVEAU_GEM_NEW", DriverRequest(kRW, 48, 0x40), &kNouveauGemNew},
    {"panthor", "DRM_IOCTL_PANTHOR_VM_CREATE", DriverRequest(kRW, 16, 1), &kPanthorVmCreate},
    {"panthor", "DRM_IOCTL_PANTHOR_VM_DESTROY", DriverRequest(kRW, 8, 2), &kPanthorVmDestroy},
    {"panthor", "DRM_IOCTL_PANTHOR_VM_BIND", DriverRequest(kRW, 24, 3), &kPanthorVmBind},
    {"panthor", "DRM_IOCTL_PANTHOR_BO_CREATE", DriverRequest(kRW, 24, 5), &kPanthorBoCreate},
    {"msm", "DRM_IOCTL_MSM_SET_PARAM", DriverRequest(kWrite, 24, 0x01), &kMsmParam},
    {"msm", "DRM_IOCTL_MSM_GEM_NEW", DriverRequest(kRW, 16, 0x02), &kMsmGemNew},
    {"msm", "DRM_IOCTL_MSM_SUBMITQUEUE_NEW", DriverRequest(kRW, 12, 0x0a), &kMsmSubmitqueue},
    {"msm", "DRM_IOCTL_MSM_SUBMITQUEUE_CLOSE", DriverRequest(kWrite, 4, 0x0b), &kMsmQueueId},
    {"msm", "DRM_IOCTL_MSM_VM_BIND", DriverRequest(kRW, 88, 0x0d), &kMsmVmBind},
    {"amdgpu", "DRM_IOCTL_AMDGPU_GEM_CREATE", DriverRequest(kRW, 32, 0x00), &kAmdgpuGemCreate},
    {"amdgpu", "DRM_IOCTL_AMDGPU_GEM_VA", DriverRequest(kWrite, 64, 0x08), &kAmdgpuGemVa},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_BO_CREATE", DriverRequest(kRW, 24, 0x00), &kVgpuvmBoCreate},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_VM_CREATE", DriverRequest(kRW, 40, 0x02), &kVgpuvmVmCreate},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_VM_DESTROY", DriverRequest(kWrite, 8, 0x03), &kVgpuvmVmDestroy},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_VM_BIND", DriverRequest(kRW, 64, 0x04), &kVgpuvmVmBind},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_VM_QUERY", DriverRequest(kRW, 24, 0x05), &kVgpuvmVmQuery},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_STATS", DriverRequest(kRead, 48, 0x06), &kVgpuvmStats},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_BO_QUERY", DriverRequest(kRW, 40, 0x07), &kVgpuvmBoQuery},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_BO_EVICT", DriverRequest(kWrite, 8, 0x08), &kVgpuvmBoEvict},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_VM_VALIDATE", DriverRequest(kRW, 8, 0x09), &kVgpuvmVmValidate},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_VM_RW", DriverRequest(kRW, 40, 0x0a), &kVgpuvmVmRw},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_QUEUE_CREATE", DriverRequest(kRW, 16, 0x0b), &kVgpuvmQueueCreate},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_QUEUE_DESTROY", DriverRequest(kWrite, 8, 0x0c), &kVgpuvmQueueDestroy},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_EXEC", DriverRequest(kRW, 56, 0x0d), &kVgpuvmExec},
    {"vgpuvm", "DRM_IOCTL_VGPUVM_JOB_QUERY", DriverRequest(kRW, 40, 0x0e), &kVgpuvmJobQuery},
};

}  // namespace

const IoctlRule* FindIoctlRule(const char* driver, uint32_t request) {
  for (const IoctlRule& rule : kRules) {
    if (rule.request == request && std::strcmp(rule.driver, driver) == 0) return &rule;
  }
  return nullptr;
}

const IoctlRule* IoctlRules(size_t* count) {
  *count = std::size(kRules);
  return kRules;
}

}  // namespace drm_gpuvm
