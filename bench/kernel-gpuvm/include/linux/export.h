/* SPDX-License-Identifier: MIT */
/* Everything this build needs from <linux/export.h> is in shim-kernel.h. */
#ifndef SHIM_LINUX_EXPORT_H
#define SHIM_LINUX_EXPORT_H
#include "../shim-kernel.h"
#endif
