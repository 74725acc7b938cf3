/* SPDX-License-Identifier: MIT */
/* Everything this build needs from <linux/types.h> is in shim-kernel.h. */
#ifndef SHIM_LINUX_TYPES_H
#define SHIM_LINUX_TYPES_H
#include "../shim-kernel.h"
#endif
