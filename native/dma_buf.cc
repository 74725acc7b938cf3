// SPDX-License-Identifier: MIT
// dma-buf ioctls: CPU access brackets and implicit-fence sync_file export/import
// (include/uapi/linux/dma-buf.h, Documentation/driver-api/dma-buf.rst). The sync_file ioctls arrived
// in 6.0; older kernels answer ENOTTY, which reaches JS as such.
// linux/ioctl.h first: the uapi dma-buf.h of older 6.1 headers (the arm64 cross toolchain's) uses _IOW
// without including it.
#include <linux/ioctl.h>

#include <linux/dma-buf.h>

#include "addon.h"
#include "args.h"
#include "entry.h"
#include "fd.h"
#include "ioctl.h"

namespace drm_gpuvm {
namespace {

// dmaBufSync(fd, flags): DMA_BUF_IOCTL_SYNC with START/END and READ/WRITE bits; blocks until the
// fences it waits on signal (interruptible: retried in RetryIoctl).
Napi::Value DmaBufSync(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  dma_buf_sync sync{};
  sync.flags = ArgU64(info, 1, "flags");
  CheckedIoctl(info.Env(), fd, DMA_BUF_IOCTL_SYNC, &sync, "DMA_BUF_IOCTL_SYNC");
  return info.Env().Undefined();
}

// exportSyncFile(fd, flags) -> sync_file fd snapshotting the fences a READ or WRITE access would wait on.
Napi::Value ExportSyncFile(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  dma_buf_export_sync_file request{};
  request.flags = ArgU32(info, 1, "flags");
  request.fd = -1;
  CheckedIoctl(info.Env(), fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &request, "DMA_BUF_IOCTL_EXPORT_SYNC_FILE");
  return Napi::Number::New(info.Env(), AdoptFd(info.Env(), request.fd));
}

// importSyncFile(fd, syncFileFd, flags): adds the sync_file's fence as a READ or WRITE fence.
Napi::Value ImportSyncFile(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "fd");
  dma_buf_import_sync_file request{};
  request.fd = ArgFd(info, 1, "syncFileFd");
  request.flags = ArgU32(info, 2, "flags");
  CheckedIoctl(info.Env(), fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &request, "DMA_BUF_IOCTL_IMPORT_SYNC_FILE");
  return info.Env().Undefined();
}

}  // namespace

void InitDmaBuf(Napi::Env env, Napi::Object exports) {
  Export<DmaBufSync>(env, exports, "dmaBufSync");
  Export<ExportSyncFile>(env, exports, "exportSyncFile");
  Export<ImportSyncFile>(env, exports, "importSyncFile");
}

}  // namespace drm_gpuvm
