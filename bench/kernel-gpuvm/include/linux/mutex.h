/* SPDX-License-Identifier: MIT */
/* Everything this build needs from <linux/mutex.h> is in shim-kernel.h. */
#ifndef SHIM_LINUX_MUTEX_H
#define SHIM_LINUX_MUTEX_H
#include "../shim-kernel.h"
#endif
