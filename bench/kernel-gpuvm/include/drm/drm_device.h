/* SPDX-License-Identifier: MIT */
/* The DRM device (<drm/drm_device.h>): GPUVM holds a reference on it and passes it on to warnings. */
#ifndef SHIM_DRM_DRM_DEVICE_H
#define SHIM_DRM_DRM_DEVICE_H
#include "../shim-kernel.h"

struct drm_device {
	int unused;
};

/* The device outlives every VM of the trace driver: its references count nothing. */
static inline void drm_dev_get(struct drm_device *dev) { (void)dev; }
static inline void drm_dev_put(struct drm_device *dev) { (void)dev; }

#endif
