// SPDX-License-Identifier: MIT
// Anonymous shared memory for the software device: memfd_create(2) with the size fixed by seals
// (fcntl(2) "File Sealing"), so no mapping of it can ever reach past its end.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "addon.h"
#include "args.h"
#include "entry.h"
#include "errors.h"
#include "fd.h"
#include "ioctl.h"

namespace drm_gpuvm {
namespace {

// memfdCreate(name, size) -> fd of `size` zeroed bytes, sealed against shrinking and growing.
Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgString(info, 0, "name");
  uint64_t size = ArgU64(info, 1, "size");
  if (size > static_cast<uint64_t>(INT64_MAX)) {
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE", "a memfd size must be below 2^63");
  }
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw SyscallError(env, errno, "memfd_create");
  if (RetryOnEintr([&] { return ftruncate(fd, static_cast<off_t>(size)); }) != 0) {
    int err = errno;
    close(fd);
    throw SyscallError(env, err, "ftruncate");
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    int err = errno;
    close(fd);
    throw SyscallError(env, err, "fcntl");
  }
  return Napi::Number::New(env, AdoptFd(env, fd));
}

}  // namespace

void InitMemfd(Napi::Env env, Napi::Object exports) { Export<MemfdCreate>(env, exports, "memfdCreate"); }

}  // namespace drm_gpuvm
