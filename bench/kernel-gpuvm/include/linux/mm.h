/* SPDX-License-Identifier: MIT */
/* Everything this build needs from <linux/mm.h> is in shim-kernel.h. */
#ifndef SHIM_LINUX_MM_H
#define SHIM_LINUX_MM_H
#include "../shim-kernel.h"
#endif
