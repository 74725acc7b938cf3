// SPDX-License-Identifier: MIT
// sync_file: fence information and merging (include/uapi/linux/sync_file.h,
// Documentation/driver-api/sync_file.rst).
#include <linux/sync_file.h>

#include <cstring>
#include <string>
#include <vector>

#include "addon.h"
#include "args.h"
#include "entry.h"
#include "fd.h"
#include "ioctl.h"
#include "result.h"

namespace drm_gpuvm {
namespace {

std::string FixedString(const char* text, size_t capacity) { return std::string(text, strnlen(text, capacity)); }

// syncFileInfo(fd) -> { name, status, fences: [{ timeline, driver, status, flags, timestampNs }] }.
// Asked twice: num_fences = 0 returns the count, then the kernel fills an array of that size.
Napi::Value SyncFileInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "fd");
  sync_file_info file{};
  CheckedIoctl(env, fd, SYNC_IOC_FILE_INFO, &file, "SYNC_IOC_FILE_INFO");
  std::vector<sync_fence_info> fences(file.num_fences);
  if (!fences.empty()) {
    file.sync_fence_info = reinterpret_cast<uintptr_t>(fences.data());
    CheckedIoctl(env, fd, SYNC_IOC_FILE_INFO, &file, "SYNC_IOC_FILE_INFO");
  }
  std::vector<napi_value> list;
  list.reserve(fences.size());
  for (const sync_fence_info& fence : fences) {
    list.push_back(
        DataObject(env, {{"timeline", Napi::String::New(env, FixedString(fence.obj_name, sizeof(fence.obj_name)))},
                         {"driver", Napi::String::New(env, FixedString(fence.driver_name, sizeof(fence.driver_name)))},
                         {"status", Napi::Number::New(env, fence.status)},
                         {"flags", Napi::Number::New(env, fence.flags)},
                         {"timestampNs", Napi::BigInt::New(env, static_cast<uint64_t>(fence.timestamp_ns))}}));
  }
  return DataObject(env, {{"name", Napi::String::New(env, FixedString(file.name, sizeof(file.name)))},
                          {"status", Napi::Number::New(env, file.status)},
                          {"fences", DataArray(env, list)}});
}

// syncFileMerge(fd, otherFd, name) -> a new sync_file fd that signals when both have.
Napi::Value SyncFileMerge(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  sync_merge_data merge{};
  merge.fd2 = ArgFd(info, 1, "otherFd");
  std::string name = ArgString(info, 2, "name");
  std::strncpy(merge.name, name.c_str(), sizeof(merge.name) - 1);
  merge.fence = -1;
  CheckedIoctl(info.Env(), fd, SYNC_IOC_MERGE, &merge, "SYNC_IOC_MERGE");
  return Napi::Number::New(info.Env(), AdoptFd(info.Env(), merge.fence));
}

}  // namespace

void InitSyncFile(Napi::Env env, Napi::Object exports) {
  Export<SyncFileInfo>(env, exports, "syncFileInfo");
  Export<SyncFileMerge>(env, exports, "syncFileMerge");
}

}  // namespace drm_gpuvm
