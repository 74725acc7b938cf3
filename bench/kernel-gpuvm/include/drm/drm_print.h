/* SPDX-License-Identifier: MIT */
/* Device warnings (<drm/drm_print.h>): the plain WARNs of shim-kernel.h, which abort. */
#ifndef SHIM_DRM_DRM_PRINT_H
#define SHIM_DRM_DRM_PRINT_H
#include "drm_device.h"

#define drm_WARN(drm, cond, ...) ({ (void)(drm); WARN(cond, __VA_ARGS__); })
#define drm_WARN_ON(drm, cond) ({ (void)(drm); WARN_ON(cond); })
#define drm_WARN_ONCE(drm, cond, ...) drm_WARN(drm, cond, __VA_ARGS__)
#define drm_WARN_ON_ONCE(drm, cond) drm_WARN_ON(drm, cond)

#endif
