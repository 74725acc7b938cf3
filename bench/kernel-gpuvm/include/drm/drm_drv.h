/* SPDX-License-Identifier: MIT */
/* Nothing GPUVM uses from <drm/drm_drv.h> beyond the device itself. */
#ifndef SHIM_DRM_DRM_DRV_H
#define SHIM_DRM_DRM_DRV_H
#include "drm_device.h"
#endif
