/* SPDX-License-Identifier: MIT */
/* Everything this build needs from <linux/slab.h> is in shim-kernel.h. */
#ifndef SHIM_LINUX_SLAB_H
#define SHIM_LINUX_SLAB_H
#include "../shim-kernel.h"
#endif
