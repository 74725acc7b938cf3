/* SPDX-License-Identifier: MIT */
/* Everything this build needs from <linux/bug.h> is in shim-kernel.h. */
#ifndef SHIM_LINUX_BUG_H
#define SHIM_LINUX_BUG_H
#include "../shim-kernel.h"
#endif
