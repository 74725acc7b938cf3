/* SPDX-License-Identifier: MIT */
/* Everything this build needs from <linux/spinlock.h> is in shim-kernel.h. */
#ifndef SHIM_LINUX_SPINLOCK_H
#define SHIM_LINUX_SPINLOCK_H
#include "../shim-kernel.h"
#endif
