/* SPDX-License-Identifier: MIT */
/* Everything this build needs from <linux/container_of.h> is in shim-kernel.h. */
#ifndef SHIM_LINUX_CONTAINER_OF_H
#define SHIM_LINUX_CONTAINER_OF_H
#include "../shim-kernel.h"
#endif
