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
#include "errors.h"
#include "fd.h"
#include "ioctl.h"

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

// open(path, readWrite) -> fd, always O_CLOEXEC so children never inherit a GPU node.
Napi::Value Open(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "path");
  bool read_write = ArgBool(info, 1, "readWrite");
  int fd = RetryOnEintr([&] { return open(path.c_str(), (read_write ? O_RDWR : O_RDONLY) | O_CLOEXEC); });
  if (fd < 0) throw SyscallError(info.Env(), errno, "open");
  return Napi::Number::New(info.Env(), fd);
}

// close(fd). EINTR is not retried: on Linux the fd is released even then (close(2), NOTES).
Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  if (close(fd) != 0 && errno != EINTR) throw SyscallError(info.Env(), errno, "close");
  return info.Env().Undefined();
}

// dup(fd) -> a new close-on-exec fd for the same file.
Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) throw SyscallError(info.Env(), errno, "fcntl");
  return Napi::Number::New(info.Env(), copy);
}

// fdKind(fd) -> 'drm' | 'dma-buf' | 'sync-file' | 'memfd' | 'other', plus rdev for DRM nodes.
Napi::Value FdKind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "fd");
  struct stat st;
  if (fstat(fd, &st) != 0) throw SyscallError(env, errno, "fstat");
  Napi::Object result = Napi::Object::New(env);
  const char* kind = "other";
  if (S_ISCHR(st.st_mode) && major(st.st_rdev) == uapi::kDrmMajor) {
    kind = "drm";
    result.Set("minor", Napi::Number::New(env, minor(st.st_rdev)));
  } else if (IsDmaBuf(fd)) {
    kind = "dma-buf";
  } else {
    char target[256];
    ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), target, sizeof(target) - 1);
    std::string link = n > 0 ? std::string(target, static_cast<size_t>(n)) : "";
    if (link == "anon_inode:sync_file") kind = "sync-file";
    else if (S_ISREG(st.st_mode) && link.rfind("/memfd:", 0) == 0) kind = "memfd";
  }
  result.Set("kind", Napi::String::New(env, kind));
  result.Set("size", Napi::BigInt::New(env, static_cast<uint64_t>(st.st_size < 0 ? 0 : st.st_size)));
  return result;
}

}  // namespace

void InitFd(Napi::Env env, Napi::Object exports) {
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("dup", Napi::Function::New(env, Dup, "dup"));
  exports.Set("fdKind", Napi::Function::New(env, FdKind, "fdKind"));
}

}  // namespace drm_gpuvm
