/* SPDX-License-Identifier: MIT */
/*
 * drm_exec (<drm/drm_exec.h>) only so that GPUVM's locking helpers compile: the trace driver never calls
 * them. Locking an object always succeeds at once and nothing is ever contended, so the retry loop runs
 * its body exactly once.
 */
#ifndef SHIM_DRM_DRM_EXEC_H
#define SHIM_DRM_DRM_EXEC_H
#include "../shim-kernel.h"
#include "drm_gem.h"

#define DRM_EXEC_INTERRUPTIBLE_WAIT BIT(0)
#define DRM_EXEC_IGNORE_DUPLICATES BIT(1)

struct drm_exec {
	u32 flags;
	unsigned int num_objects;
	struct drm_gem_object **objects;
};

static inline void drm_exec_init(struct drm_exec *exec, u32 flags, unsigned int nr)
{
	(void)nr;
	exec->flags = flags;
	exec->num_objects = 0;
	exec->objects = NULL;
}
static inline void drm_exec_fini(struct drm_exec *exec) { (void)exec; }
static inline int drm_exec_lock_obj(struct drm_exec *exec, struct drm_gem_object *obj) { (void)exec; (void)obj; return 0; }
static inline int drm_exec_prepare_obj(struct drm_exec *exec, struct drm_gem_object *obj, unsigned int num_fences)
{
	(void)exec; (void)obj; (void)num_fences;
	return 0;
}
static inline int drm_exec_prepare_array(struct drm_exec *exec, struct drm_gem_object **objects,
					 unsigned int num_objects, unsigned int num_fences)
{
	(void)exec; (void)objects; (void)num_objects; (void)num_fences;
	return 0;
}

#define drm_exec_until_all_locked(exec) for (int drm_exec_once__ = 1; drm_exec_once__; drm_exec_once__ = 0)
#define drm_exec_retry_on_contention(exec) do { (void)(exec); } while (0)
#define drm_exec_for_each_locked_object(exec, obj) \
	for (unsigned long drm_exec_index__ = 0; \
	     drm_exec_index__ < (exec)->num_objects && ((obj) = (exec)->objects[drm_exec_index__], true); \
	     drm_exec_index__++)

#endif
