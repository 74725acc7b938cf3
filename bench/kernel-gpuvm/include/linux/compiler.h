/* SPDX-License-Identifier: MIT */
/* Everything this build needs from <linux/compiler.h> is in shim-kernel.h. */
#ifndef SHIM_LINUX_COMPILER_H
#define SHIM_LINUX_COMPILER_H
#include "../shim-kernel.h"
#endif
