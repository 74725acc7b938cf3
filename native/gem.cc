// SPDX-License-Identifier: MIT
// GEM buffer objects: dumb create and map, GEM_CLOSE, FLINK/OPEN (include/uapi/drm/drm.h, drm_mode.h).
#include "addon.h"
#include "args.h"
#include "drm_uapi.h"
#include "entry.h"
#include "ioctl.h"
#include "result.h"

namespace drm_gpuvm {
namespace {

// createDumb(fd, width, height, bpp, out) -> bigint size; writes the handle to out[0], the pitch to
// out[1]. A fresh { handle, pitch, size } object per call cost more than the ioctl's own overhead over C
// (Object::New and three named Sets; bench/native-ioctl.mjs), so the caller lends a Uint32Array instead.
Napi::Value CreateDumb(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmModeCreateDumb create{};
  create.width = ArgU32(info, 1, "width");
  create.height = ArgU32(info, 2, "height");
  create.bpp = ArgU32(info, 3, "bpp");
  uint32_t* out = ArgU32Array(info, 4, "out", 2, "a Uint32Array of at least 2 elements");
  CheckedIoctl(env, fd, uapi::kIoctlModeCreateDumb, &create, "DRM_IOCTL_MODE_CREATE_DUMB");
  out[0] = create.handle;
  out[1] = create.pitch;
  return Napi::BigInt::New(env, create.size);
}

// mapDumb(fd, handle) -> bigint fake mmap offset on this fd.
Napi::Value MapDumb(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmModeMapDumb map{};
  map.handle = ArgU32(info, 1, "handle");
  CheckedIoctl(info.Env(), fd, uapi::kIoctlModeMapDumb, &map, "DRM_IOCTL_MODE_MAP_DUMB");
  return Napi::BigInt::New(info.Env(), map.offset);
}

// gemClose(fd, handle).
Napi::Value GemClose(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmGemClose close{};
  close.handle = ArgU32(info, 1, "handle");
  CheckedIoctl(info.Env(), fd, uapi::kIoctlGemClose, &close, "DRM_IOCTL_GEM_CLOSE");
  return info.Env().Undefined();
}

// gemFlink(fd, handle) -> global name.
Napi::Value GemFlink(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmGemFlink flink{};
  flink.handle = ArgU32(info, 1, "handle");
  CheckedIoctl(info.Env(), fd, uapi::kIoctlGemFlink, &flink, "DRM_IOCTL_GEM_FLINK");
  return Napi::Number::New(info.Env(), flink.name);
}

// gemOpen(fd, name) -> { handle, size }.
Napi::Value GemOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "fd");
  uapi::DrmGemOpen open{};
  open.name = ArgU32(info, 1, "name");
  CheckedIoctl(env, fd, uapi::kIoctlGemOpen, &open, "DRM_IOCTL_GEM_OPEN");
  return DataObject(env,
                    {{"handle", Napi::Number::New(env, open.handle)}, {"size", Napi::BigInt::New(env, open.size)}});
}

}  // namespace

void InitGem(Napi::Env env, Napi::Object exports) {
  Export<CreateDumb>(env, exports, "createDumb");
  Export<MapDumb>(env, exports, "mapDumb");
  Export<GemClose>(env, exports, "gemClose");
  Export<GemFlink>(env, exports, "gemFlink");
  Export<GemOpen>(env, exports, "gemOpen");
}

}  // namespace drm_gpuvm
