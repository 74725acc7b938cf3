// SPDX-License-Identifier: MIT
// DRM sync objects (include/uapi/drm/drm.h, Documentation/gpu/drm-mm.rst "DRM Sync Objects"). Only
// drivers with DRIVER_SYNCOBJ have them (GET_CAP(DRM_CAP_SYNCOBJ) = 1); vgem does not, and answers
// EOPNOTSUPP. These are core ioctls, so no driver-name check is needed.
#include <vector>

#include "addon.h"
#include "args.h"
#include "drm_uapi.h"
#include "entry.h"
#include "errors.h"
#include "fd.h"
#include "ioctl.h"

namespace drm_gpuvm {
namespace {

// A u32 handle array from a JS array of numbers; at least one, as the kernel requires.
std::vector<uint32_t> Handles(const Napi::CallbackInfo& info, size_t index) {
  Napi::Env env = info.Env();
  if (index >= info.Length() || !info[index].IsArray()) {
    throw CodedTypeError(env, "ERR_INVALID_ARG_TYPE", "The \"handles\" argument must be an array of numbers");
  }
  Napi::Array array = info[index].As<Napi::Array>();
  if (array.Length() == 0 || array.Length() > 65536) {
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE", "\"handles\" must hold 1 to 65536 handles");
  }
  std::vector<uint32_t> handles;
  handles.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value value = array.Get(i);
    double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
    if (!(number >= 0 && number <= 4294967295.0) || static_cast<double>(static_cast<uint32_t>(number)) != number) {
      throw CodedRangeError(env, "ERR_OUT_OF_RANGE", "each handle must be an integer in [0, 2^32-1]");
    }
    handles.push_back(static_cast<uint32_t>(number));
  }
  return handles;
}

// syncobjCreate(fd, signaled) -> handle.
Napi::Value SyncobjCreate(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmSyncobjCreate create{};
  create.flags = ArgBool(info, 1, "signaled") ? 1 : 0;  // DRM_SYNCOBJ_CREATE_SIGNALED
  CheckedIoctl(info.Env(), fd, uapi::kIoctlSyncobjCreate, &create, "DRM_IOCTL_SYNCOBJ_CREATE");
  return Napi::Number::New(info.Env(), create.handle);
}

// syncobjDestroy(fd, handle).
Napi::Value SyncobjDestroy(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmSyncobjDestroy destroy{};
  destroy.handle = ArgU32(info, 1, "handle");
  CheckedIoctl(info.Env(), fd, uapi::kIoctlSyncobjDestroy, &destroy, "DRM_IOCTL_SYNCOBJ_DESTROY");
  return info.Env().Undefined();
}

// syncobjWait(fd, handles, deadlineNs, waitAll) -> index of the first signalled handle. deadlineNs is
// absolute CLOCK_MONOTONIC; a deadline in the past makes this a non-blocking check (ETIME if unsignalled).
Napi::Value SyncobjWait(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  std::vector<uint32_t> handles = Handles(info, 1);
  uint64_t deadline = ArgU64(info, 2, "deadlineNs");
  if (deadline > static_cast<uint64_t>(INT64_MAX)) {
    throw CodedRangeError(info.Env(), "ERR_OUT_OF_RANGE", "\"deadlineNs\" must be below 2^63");
  }
  uapi::DrmSyncobjWait wait{};
  wait.handles = reinterpret_cast<uintptr_t>(handles.data());
  wait.count_handles = static_cast<uint32_t>(handles.size());
  wait.timeout_nsec = static_cast<int64_t>(deadline);
  wait.flags = ArgBool(info, 3, "waitAll") ? 1 : 0;  // DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL
  CheckedIoctl(info.Env(), fd, uapi::kIoctlSyncobjWait, &wait, "DRM_IOCTL_SYNCOBJ_WAIT");
  return Napi::Number::New(info.Env(), wait.first_signaled);
}

Napi::Value ArrayIoctl(const Napi::CallbackInfo& info, unsigned long request, const char* name) {
  int fd = ArgFd(info, 0, "fd");
  std::vector<uint32_t> handles = Handles(info, 1);
  uapi::DrmSyncobjArray array{};
  array.handles = reinterpret_cast<uintptr_t>(handles.data());
  array.count_handles = static_cast<uint32_t>(handles.size());
  CheckedIoctl(info.Env(), fd, request, &array, name);
  return info.Env().Undefined();
}

// syncobjReset(fd, handles) / syncobjSignal(fd, handles).
Napi::Value SyncobjReset(const Napi::CallbackInfo& info) {
  return ArrayIoctl(info, uapi::kIoctlSyncobjReset, "DRM_IOCTL_SYNCOBJ_RESET");
}
Napi::Value SyncobjSignal(const Napi::CallbackInfo& info) {
  return ArrayIoctl(info, uapi::kIoctlSyncobjSignal, "DRM_IOCTL_SYNCOBJ_SIGNAL");
}

// syncobjHandleToFd(fd, handle, asSyncFile) -> fd: a sync_file of its current fence (owned by this module,
// for a SyncFile), or a syncobj fd, which is the caller's to share and close (Syncobj.exportFd).
Napi::Value SyncobjHandleToFd(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmSyncobjHandle request{};
  request.handle = ArgU32(info, 1, "handle");
  bool as_sync_file = ArgBool(info, 2, "asSyncFile");
  request.flags = as_sync_file ? 1 : 0;  // ..._EXPORT_SYNC_FILE
  request.fd = -1;
  CheckedIoctl(info.Env(), fd, uapi::kIoctlSyncobjHandleToFd, &request, "DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD");
  return Napi::Number::New(info.Env(), as_sync_file ? AdoptFd(info.Env(), request.fd) : request.fd);
}

// syncobjFdToHandle(fd, syncobjFd) -> handle of the imported syncobj.
Napi::Value SyncobjFdToHandle(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmSyncobjHandle request{};
  request.fd = ArgFd(info, 1, "syncobjFd");
  CheckedIoctl(info.Env(), fd, uapi::kIoctlSyncobjFdToHandle, &request, "DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE");
  return Napi::Number::New(info.Env(), request.handle);
}

// syncobjImportSyncFile(fd, handle, syncFileFd): replaces the syncobj's fence with the sync_file's.
Napi::Value SyncobjImportSyncFile(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmSyncobjHandle request{};
  request.handle = ArgU32(info, 1, "handle");
  request.fd = ArgFd(info, 2, "syncFileFd");
  request.flags = 1;  // DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE
  CheckedIoctl(info.Env(), fd, uapi::kIoctlSyncobjFdToHandle, &request, "DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE");
  return info.Env().Undefined();
}

}  // namespace

void InitSyncobj(Napi::Env env, Napi::Object exports) {
  Export<SyncobjCreate>(env, exports, "syncobjCreate");
  Export<SyncobjDestroy>(env, exports, "syncobjDestroy");
  Export<SyncobjWait>(env, exports, "syncobjWait");
  Export<SyncobjReset>(env, exports, "syncobjReset");
  Export<SyncobjSignal>(env, exports, "syncobjSignal");
  Export<SyncobjHandleToFd>(env, exports, "syncobjHandleToFd");
  Export<SyncobjFdToHandle>(env, exports, "syncobjFdToHandle");
  Export<SyncobjImportSyncFile>(env, exports, "syncobjImportSyncFile");
}

}  // namespace drm_gpuvm
