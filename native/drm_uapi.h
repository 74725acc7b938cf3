// SPDX-License-Identifier: MIT
// The DRM uapi structures and ioctl numbers this addon issues, written from the kernel's
// include/uapi/drm/drm.h, drm_mode.h and vgem_drm.h (x86-64 and other LP64 layouts).
// Why not include <drm/drm.h>: Debian ships it only with libdrm-dev, and a source build must need
// nothing beyond g++ and linux-libc-dev. Sizes and offsets are pinned by static_asserts below;
// the kernel dispatches by ioctl number and copies min(user, kernel) bytes, so these 6.1-era sizes
// work on every later kernel.
#ifndef DRM_GPUVM_NATIVE_DRM_UAPI_H_
#define DRM_GPUVM_NATIVE_DRM_UAPI_H_

#include <linux/ioctl.h>

#include <cstddef>
#include <cstdint>

namespace drm_gpuvm::uapi {

constexpr unsigned kDrmMajor = 226;
constexpr char kDrmIoctlBase = 'd';
constexpr unsigned kDrmCommandBase = 0x40;

struct DrmVersion {
  int32_t version_major;
  int32_t version_minor;
  int32_t version_patchlevel;
  uint64_t name_len;
  char* name;
  uint64_t date_len;
  char* date;
  uint64_t desc_len;
  char* desc;
};

struct DrmSetVersion {
  int32_t drm_di_major;
  int32_t drm_di_minor;
  int32_t drm_dd_major;
  int32_t drm_dd_minor;
};

struct DrmGetCap {
  uint64_t capability;
  uint64_t value;
};

struct DrmSetClientCap {
  uint64_t capability;
  uint64_t value;
};

struct DrmGemClose {
  uint32_t handle;
  uint32_t pad;
};

struct DrmGemFlink {
  uint32_t handle;
  uint32_t name;
};

struct DrmGemOpen {
  uint32_t name;
  uint32_t handle;
  uint64_t size;
};

struct DrmPrimeHandle {
  uint32_t handle;
  uint32_t flags;
  int32_t fd;
};

struct DrmModeCreateDumb {
  uint32_t height;
  uint32_t width;
  uint32_t bpp;
  uint32_t flags;
  uint32_t handle;
  uint32_t pitch;
  uint64_t size;
};

struct DrmModeMapDumb {
  uint32_t handle;
  uint32_t pad;
  uint64_t offset;
};

struct DrmSyncobjCreate {
  uint32_t handle;
  uint32_t flags;
};

struct DrmSyncobjDestroy {
  uint32_t handle;
  uint32_t pad;
};

// The 16-byte layout of 6.1; newer kernels append a u64 point that stays zero here.
struct DrmSyncobjHandle {
  uint32_t handle;
  uint32_t flags;
  int32_t fd;
  uint32_t pad;
};

// The 32-byte layout of 6.1; newer kernels append deadline_nsec, zero-filled for us.
struct DrmSyncobjWait {
  uint64_t handles;
  int64_t timeout_nsec;
  uint32_t count_handles;
  uint32_t flags;
  uint32_t first_signaled;
  uint32_t pad;
};

struct DrmSyncobjArray {
  uint64_t handles;
  uint32_t count_handles;
  uint32_t pad;
};

struct DrmVgemFenceAttach {
  uint32_t handle;
  uint32_t flags;
  uint32_t out_fence;
  uint32_t pad;
};

struct DrmVgemFenceSignal {
  uint32_t fence;
  uint32_t flags;
};

static_assert(sizeof(DrmVersion) == 64 && offsetof(DrmVersion, name_len) == 16 && offsetof(DrmVersion, desc) == 56);
static_assert(sizeof(DrmSetVersion) == 16 && offsetof(DrmSetVersion, drm_dd_minor) == 12);
static_assert(sizeof(DrmGetCap) == 16 && sizeof(DrmSetClientCap) == 16);
static_assert(sizeof(DrmGemClose) == 8 && sizeof(DrmGemFlink) == 8 && sizeof(DrmGemOpen) == 16);
static_assert(sizeof(DrmPrimeHandle) == 12);
static_assert(sizeof(DrmModeCreateDumb) == 32 && offsetof(DrmModeCreateDumb, size) == 24);
static_assert(sizeof(DrmModeMapDumb) == 16);
static_assert(sizeof(DrmSyncobjCreate) == 8 && sizeof(DrmSyncobjDestroy) == 8);
static_assert(sizeof(DrmSyncobjHandle) == 16 && sizeof(DrmSyncobjWait) == 32 && sizeof(DrmSyncobjArray) == 16);
static_assert(sizeof(DrmVgemFenceAttach) == 16 && sizeof(DrmVgemFenceSignal) == 8);

// Core ioctls.
constexpr unsigned long kIoctlVersion = _IOWR(kDrmIoctlBase, 0x00, DrmVersion);
constexpr unsigned long kIoctlSetVersion = _IOWR(kDrmIoctlBase, 0x07, DrmSetVersion);
constexpr unsigned long kIoctlGemClose = _IOW(kDrmIoctlBase, 0x09, DrmGemClose);
constexpr unsigned long kIoctlGemFlink = _IOWR(kDrmIoctlBase, 0x0a, DrmGemFlink);
constexpr unsigned long kIoctlGemOpen = _IOWR(kDrmIoctlBase, 0x0b, DrmGemOpen);
constexpr unsigned long kIoctlGetCap = _IOWR(kDrmIoctlBase, 0x0c, DrmGetCap);
constexpr unsigned long kIoctlSetClientCap = _IOW(kDrmIoctlBase, 0x0d, DrmSetClientCap);
constexpr unsigned long kIoctlPrimeHandleToFd = _IOWR(kDrmIoctlBase, 0x2d, DrmPrimeHandle);
constexpr unsigned long kIoctlPrimeFdToHandle = _IOWR(kDrmIoctlBase, 0x2e, DrmPrimeHandle);
constexpr unsigned long kIoctlModeCreateDumb = _IOWR(kDrmIoctlBase, 0xb2, DrmModeCreateDumb);
constexpr unsigned long kIoctlModeMapDumb = _IOWR(kDrmIoctlBase, 0xb3, DrmModeMapDumb);
constexpr unsigned long kIoctlSyncobjCreate = _IOWR(kDrmIoctlBase, 0xbf, DrmSyncobjCreate);
constexpr unsigned long kIoctlSyncobjDestroy = _IOWR(kDrmIoctlBase, 0xc0, DrmSyncobjDestroy);
constexpr unsigned long kIoctlSyncobjHandleToFd = _IOWR(kDrmIoctlBase, 0xc1, DrmSyncobjHandle);
constexpr unsigned long kIoctlSyncobjFdToHandle = _IOWR(kDrmIoctlBase, 0xc2, DrmSyncobjHandle);
constexpr unsigned long kIoctlSyncobjWait = _IOWR(kDrmIoctlBase, 0xc3, DrmSyncobjWait);
constexpr unsigned long kIoctlSyncobjReset = _IOWR(kDrmIoctlBase, 0xc4, DrmSyncobjArray);
constexpr unsigned long kIoctlSyncobjSignal = _IOWR(kDrmIoctlBase, 0xc5, DrmSyncobjArray);

// vgem's private ioctls (numbers shared with other drivers: gate them on the driver name).
constexpr unsigned long kIoctlVgemFenceAttach = _IOWR(kDrmIoctlBase, kDrmCommandBase + 0x1, DrmVgemFenceAttach);
constexpr unsigned long kIoctlVgemFenceSignal = _IOW(kDrmIoctlBase, kDrmCommandBase + 0x2, DrmVgemFenceSignal);

static_assert(kIoctlVersion == 0xC0406400 && kIoctlGetCap == 0xC010640C && kIoctlSetVersion == 0xC0106407);
static_assert(kIoctlModeCreateDumb == 0xC02064B2 && kIoctlPrimeHandleToFd == 0xC00C642D);
static_assert(kIoctlVgemFenceAttach == 0xC0106441 && kIoctlVgemFenceSignal == 0x40086442);
static_assert(kIoctlSyncobjWait == 0xC02064C3 && kIoctlSyncobjSignal == 0xC01064C5);

// Flags.
constexpr uint32_t kDrmCloexec = 02000000;
constexpr uint32_t kDrmRdwr = 02;
constexpr uint32_t kVgemFenceWrite = 0x1;

}  // namespace drm_gpuvm::uapi

#endif  // DRM_GPUVM_NATIVE_DRM_UAPI_H_
