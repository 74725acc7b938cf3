/* SPDX-License-Identifier: MIT */
/* Everything this build needs from <linux/stddef.h> is in shim-kernel.h. */
#ifndef SHIM_LINUX_STDDEF_H
#define SHIM_LINUX_STDDEF_H
#include "../shim-kernel.h"
#endif
