/* SPDX-License-Identifier: MIT */
/* Everything this build needs from <linux/err.h> is in shim-kernel.h. */
#ifndef SHIM_LINUX_ERR_H
#define SHIM_LINUX_ERR_H
#include "../shim-kernel.h"
#endif
