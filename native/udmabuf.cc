// SPDX-License-Identifier: MIT
// udmabuf (Linux 4.20+, CONFIG_UDMABUF): turns a range of a sealed memfd into a dma-buf, which any DRM
// driver can import as a real GEM object. The VA window backend uses it on vgem, whose own mmap path
// ignores the page offset of sub-range mappings, while a memfd maps any page-aligned range correctly.
// include/uapi/linux/udmabuf.h; the memfd must carry F_SEAL_SHRINK and must not carry F_SEAL_WRITE.
#include <fcntl.h>
#include <linux/udmabuf.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "addon.h"
#include "args.h"
#include "entry.h"
#include "errors.h"
#include "fd.h"
#include "ioctl.h"

namespace drm_gpuvm {
namespace {

// udmabufCreate(memfd, offset, size) -> dma-buf fd (close-on-exec) over [offset, offset + size) of the memfd.
Napi::Value UdmabufCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int memfd = ArgFd(info, 0, "memfd");
  uint64_t offset = ArgU64(info, 1, "offset");
  uint64_t size = ArgU64(info, 2, "size");
  int node = RetryOnEintr([] { return open("/dev/udmabuf", O_RDWR | O_CLOEXEC); });
  if (node < 0) {
    int err = errno;
    throw SyscallError(env, err, "open");
  }
  udmabuf_create create{};
  create.memfd = static_cast<uint32_t>(memfd);
  create.flags = UDMABUF_FLAGS_CLOEXEC;
  create.offset = offset;
  create.size = size;
  int fd = RetryOnEintr([&] { return ioctl(node, UDMABUF_CREATE, &create); });
  int err = errno;
  close(node);
  if (fd < 0) throw SyscallError(env, err, "ioctl", "UDMABUF_CREATE");
  return Napi::Number::New(env, AdoptFd(env, fd));
}

}  // namespace

void InitUdmabuf(Napi::Env env, Napi::Object exports) { Export<UdmabufCreate>(env, exports, "udmabufCreate"); }

}  // namespace drm_gpuvm
