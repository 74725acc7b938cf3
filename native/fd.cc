// SPDX-License-Identifier: MIT
// File descriptors: open a node, close, duplicate, and say what an fd is. See open(2), fcntl(2),
// proc(5) for /proc/self/fd links ("anon_inode:sync_file") and fdinfo ("exp_name:" on dma-bufs).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "addon.h"
#include "args.h"
#include "drm_uapi.h"
#include "entry.h"
#include "errors.h"
#include "fd.h"
#include "ioctl.h"
#include "result.h"

namespace drm_gpuvm {

bool IsDmaBuf(int fd) {
  std::ifstream fdinfo("/proc/self/fdinfo/" + std::to_string(fd));
  std::string line;
  while (std::getline(fdinfo, line)) {
    if (line.rfind("exp_name:", 0) == 0) return true;
  }
  return false;
}

namespace {

FdIdentity IdentityOf(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return {};
  return {st.st_dev, st.st_ino};
}

}  // namespace

int AdoptFd(Napi::Env env, int fd) {
  try {
    Data(env).owned_fds[fd] = IdentityOf(fd);
  } catch (...) {
    close(fd);
    throw;
  }
  return fd;
}

void CloseOwnedFds(AddonData& data) {
  for (const auto& [fd, identity] : data.owned_fds) {
    // JS may have closed the number behind this module's back and the number may be another file by now.
    FdIdentity now = IdentityOf(fd);
    if (now.device == identity.device && now.inode == identity.inode) close(fd);
  }
  data.owned_fds.clear();
}

namespace {

// open(path, readWrite) -> fd, always O_CLOEXEC so children never inherit a GPU node.
Napi::Value Open(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "path");
  bool read_write = ArgBool(info, 1, "readWrite");
  int fd = RetryOnEintr([&] { return open(path.c_str(), (read_write ? O_RDWR : O_RDONLY) | O_CLOEXEC); });
  if (fd < 0) throw SyscallError(info.Env(), errno, "open");
  return Napi::Number::New(info.Env(), AdoptFd(info.Env(), fd));
}

// close(fd) of an fd this module made in this environment; any other number is refused, so no caller can
// close libuv's or another thread's fds through it. EINTR is not retried: on Linux the fd is released even
// then (close(2), NOTES).
Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  auto& owned = Data(info.Env()).owned_fds;
  auto it = owned.find(fd);
  if (it == owned.end()) {
    throw CodedError(info.Env(), "ERR_DRM_NOT_OWNED",
                     "fd " + std::to_string(fd) + " was not made by drm-gpuvm in this thread, or is closed already");
  }
  owned.erase(it);
  if (close(fd) != 0 && errno != EINTR) throw SyscallError(info.Env(), errno, "close");
  return info.Env().Undefined();
}

// dup(fd) -> a new close-on-exec fd for the same file.
Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) throw SyscallError(info.Env(), errno, "fcntl");
  return Napi::Number::New(info.Env(), AdoptFd(info.Env(), copy));
}

// fdKind(fd) -> 'drm' | 'dma-buf' | 'sync-file' | 'memfd' | 'other', plus rdev for DRM nodes.
Napi::Value FdKind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "fd");
  struct stat st;
  if (fstat(fd, &st) != 0) throw SyscallError(env, errno, "fstat");
  const char* kind = "other";
  bool drm = S_ISCHR(st.st_mode) && major(st.st_rdev) == uapi::kDrmMajor;
  if (drm) {
    kind = "drm";
  } else if (IsDmaBuf(fd)) {
    kind = "dma-buf";
  } else {
    char target[256];
    ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), target, sizeof(target) - 1);
    std::string link = n > 0 ? std::string(target, static_cast<size_t>(n)) : "";
    if (link == "anon_inode:sync_file") kind = "sync-file";
    else if (S_ISREG(st.st_mode) && link.rfind("/memfd:", 0) == 0) kind = "memfd";
  }
  Napi::Object result = DataObject(
      env, {{"kind", Napi::String::New(env, kind)},
            {"size", Napi::BigInt::New(env, static_cast<uint64_t>(st.st_size < 0 ? 0 : st.st_size))}});
  if (drm) DefineData(env, result, {{"minor", Napi::Number::New(env, minor(st.st_rdev))}});
  return result;
}

}  // namespace

void InitFd(Napi::Env env, Napi::Object exports) {
  Export<Open>(env, exports, "open");
  Export<Close>(env, exports, "close");
  Export<Dup>(env, exports, "dup");
  Export<FdKind>(env, exports, "fdKind");
}

}  // namespace drm_gpuvm
