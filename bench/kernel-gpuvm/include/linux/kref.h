/* SPDX-License-Identifier: MIT */
/* Everything this build needs from <linux/kref.h> is in shim-kernel.h. */
#ifndef SHIM_LINUX_KREF_H
#define SHIM_LINUX_KREF_H
#include "../shim-kernel.h"
#endif
