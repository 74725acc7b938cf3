// SPDX-License-Identifier: MIT
// mmap(2) into JS memory, and the checks that keep JS from ever touching a page that can fault.
//
// A MAP_SHARED mapping of a regular file raises SIGBUS on access past the end of the file, which would
// kill the process. So a regular file (memfd) is mapped only inside its current size and only when it is
// sealed against shrinking (F_SEAL_SHRINK, see memfd_create(2), fcntl(2) "File Sealing"). DRM nodes and
// dma-bufs check the range against the object themselves (drm_gem_mmap_obj, dma_buf_mmap_internal).
// Any other kind of fd is refused. Mappings are always PROT_READ|PROT_WRITE: JS cannot be stopped from
// writing to an ArrayBuffer, and a write to a read-only page would be a SIGSEGV.
#include "mapping.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "args.h"
#include "drm_uapi.h"
#include "entry.h"
#include "errors.h"
#include "fd.h"
#include "ioctl.h"

namespace drm_gpuvm {
namespace {

void FinalizeMapping(Napi::Env, void*, std::shared_ptr<MappingRecord>* hint) {
  std::shared_ptr<MappingRecord> record = *hint;
  delete hint;
  record->finalized = true;
  if (record->unmapped) return;
  munmap(record->address, record->length);
  record->unmapped = true;
  if (auto table = record->table.lock()) {
    auto it = table->find(record->address);
    if (it != table->end() && it->second == record) table->erase(it);
  }
}

// map(fd, offset, length) -> ArrayBuffer over a MAP_SHARED read/write mapping.
Napi::Value Map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "fd");
  uint64_t offset = ArgU64(info, 1, "offset");
  uint64_t length = ArgU64(info, 2, "length");
  long page = sysconf(_SC_PAGESIZE);
  if (length == 0) throw CodedRangeError(env, "ERR_OUT_OF_RANGE", "a mapping must be at least one byte long");
  if (offset % static_cast<uint64_t>(page) != 0) {
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE",
                          "the offset must be a multiple of the page size (" + std::to_string(page) + ")");
  }
  // off_t is signed: an offset past 2^63-1 cannot be passed to mmap at all.
  if (offset > static_cast<uint64_t>(INT64_MAX) || length > static_cast<uint64_t>(INT64_MAX)) {
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE", "offset and length must be below 2^63");
  }
  CheckMappable(env, fd, offset, length);
  // Everything that allocates comes before the mmap, so nothing can fail between it and its record.
  auto record = std::make_shared<MappingRecord>();
  auto hint = std::make_unique<std::shared_ptr<MappingRecord>>(record);
  AddonData& data = Data(env);
  record->table = data.mappings;
  data.mappings->reserve(data.mappings->size() + 1);
  void* address = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(offset));
  if (address == MAP_FAILED) throw SyscallError(env, errno, "mmap");
  record->address = address;
  record->length = length;
  (*data.mappings)[address] = record;
  napi_value buffer = nullptr;
  napi_status status = napi_create_external_arraybuffer(
      env, address, length,
      [](napi_env env, void* data, void* hint) {
        FinalizeMapping(env, data, static_cast<std::shared_ptr<MappingRecord>*>(hint));
      },
      hint.get(), &buffer);
  if (status != napi_ok) {
    // Node runs the finalizer itself when it refuses a length (past its ArrayBuffer limit), and that has
    // unmapped and unlisted the memory already; otherwise nothing else knows of this mapping.
    if (record->finalized) {
      (void)hint.release();
    } else {
      data.mappings->erase(address);
      munmap(address, length);
    }
    Napi::Error refused = Napi::Error::New(env);
    throw CodedRangeError(env, "ERR_OUT_OF_RANGE",
                          "cannot map " + std::to_string(length) + " bytes as one ArrayBuffer: " + refused.Message());
  }
  (void)hint.release();  // owned by the finalizer now
  return Napi::Value(env, buffer);
}

// unmap(arrayBuffer): detaches the ArrayBuffer (its views now have length 0), then munmaps.
Napi::Value Unmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) {
    throw CodedTypeError(env, "ERR_INVALID_ARG_TYPE", "The \"mapping\" argument must be an ArrayBuffer");
  }
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  if (buffer.IsDetached()) throw CodedError(env, "ERR_DRM_NOT_MAPPED", "this mapping is already unmapped");
  MappingTable& table = *Data(env).mappings;
  auto it = table.find(buffer.Data());
  if (it == table.end() || it->second->unmapped || it->second->length != buffer.ByteLength()) {
    throw CodedError(env, "ERR_DRM_NOT_MAPPED", "this ArrayBuffer is not a mapping made by this module");
  }
  std::shared_ptr<MappingRecord> record = it->second;
  table.erase(it);
  // Marked first: should detaching run the finalizer at once, it must not unmap a second time.
  record->unmapped = true;
  buffer.Detach();
  munmap(record->address, record->length);
  return env.Undefined();
}

// liveMappings() -> number of mappings not yet unmapped (for leak tests).
Napi::Value LiveMappings(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Data(info.Env()).mappings->size()));
}

}  // namespace

uint64_t MappableSize(Napi::Env env, int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) throw SyscallError(env, errno, "fstat");
  if (S_ISREG(st.st_mode)) {
    int seals = RetryOnEintr([&] { return fcntl(fd, F_GET_SEALS); });
    if (seals < 0 || (seals & F_SEAL_SHRINK) == 0) {
      throw CodedError(env, "ERR_DRM_UNSAFE_MAPPING",
                       "refusing to map a file that is not sealed against shrinking (F_SEAL_SHRINK): "
                       "truncating it would make reads through the mapping kill the process with SIGBUS");
    }
    return static_cast<uint64_t>(st.st_size);
  }
  if (S_ISCHR(st.st_mode) && major(st.st_rdev) == uapi::kDrmMajor) return UINT64_MAX;
  if (IsDmaBuf(fd)) return UINT64_MAX;
  throw CodedError(env, "ERR_DRM_UNSAFE_MAPPING", "only DRM nodes, dma-bufs and sealed memfds can be mapped");
}

void CheckInsideFile(Napi::Env env, uint64_t size, uint64_t offset, uint64_t length) {
  if (offset > size || length > size - offset) {
    throw CodedRangeError(
        env, "ERR_OUT_OF_RANGE",
        "the range [offset, offset + length) must lie inside the file's " + std::to_string(size) + " bytes");
  }
}

void CheckMappable(Napi::Env env, int fd, uint64_t offset, uint64_t length) {
  CheckInsideFile(env, MappableSize(env, fd), offset, length);
}

void ReleaseAllMappings(AddonData& data) {
  for (auto& entry : *data.mappings) {
    if (!entry.second->unmapped) munmap(entry.second->address, entry.second->length);
    entry.second->unmapped = true;
  }
  data.mappings->clear();
}

void InitMapping(Napi::Env env, Napi::Object exports) {
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(sysconf(_SC_PAGESIZE))));
  Export<Map>(env, exports, "map");
  Export<Unmap>(env, exports, "unmap");
  Export<LiveMappings>(env, exports, "liveMappings");
}

}  // namespace drm_gpuvm
