// SPDX-License-Identifier: MIT
// DRM_CAP_* and DRM_CLIENT_CAP_* numbers (include/uapi/drm/drm.h).

/** Capabilities for DrmDevice.getCap. */
export const DrmCap = {
  DUMB_BUFFER: 0x1,
  VBLANK_HIGH_CRTC: 0x2,
  DUMB_PREFERRED_DEPTH: 0x3,
  DUMB_PREFER_SHADOW: 0x4,
  PRIME: 0x5,
  TIMESTAMP_MONOTONIC: 0x6,
  ASYNC_PAGE_FLIP: 0x7,
  CURSOR_WIDTH: 0x8,
  CURSOR_HEIGHT: 0x9,
  ADDFB2_MODIFIERS: 0x10,
  PAGE_FLIP_TARGET: 0x11,
  CRTC_IN_VBLANK_EVENT: 0x12,
  SYNCOBJ: 0x13,
  SYNCOBJ_TIMELINE: 0x14,
  ATOMIC_ASYNC_PAGE_FLIP: 0x15,
} as const;

/** Client capabilities for DrmDevice.setClientCap. */
export const DrmClientCap = {
  STEREO_3D: 1,
  UNIVERSAL_PLANES: 2,
  ATOMIC: 3,
  ASPECT_RATIO: 4,
  WRITEBACK_CONNECTORS: 5,
  CURSOR_PLANE_HOTSPOT: 6,
} as const;

/** Bits of the DRM_CAP_PRIME value. */
export const DrmPrimeCap = { IMPORT: 0x1, EXPORT: 0x2 } as const;
