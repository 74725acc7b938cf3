/* SPDX-License-Identifier: MIT */
/*
 * GEM objects (<drm/drm_gem.h>) as far as GPUVM sees them: a refcount, a reservation object (its own
 * unless shared), the list of this object's vm_bos with its mutex, and a free callback. A trace driver's
 * BO is a drm_gem_object with a size and a name.
 */
#ifndef SHIM_DRM_DRM_GEM_H
#define SHIM_DRM_DRM_GEM_H
#include "../shim-kernel.h"
#include <linux/dma-resv.h>
#include <linux/list.h>
#include "drm_device.h"

struct drm_gem_object;

struct drm_gem_object_funcs {
	void (*free)(struct drm_gem_object *obj);
};

struct drm_gem_object {
	struct kref refcount;
	struct drm_device *dev;
	size_t size;
	struct dma_resv *resv;
	struct dma_resv _resv;
	struct {
		struct list_head list;
		struct mutex lock;
	} gpuva;
	const struct drm_gem_object_funcs *funcs;
};

static inline void drm_gem_private_object_init(struct drm_device *dev, struct drm_gem_object *obj, size_t size)
{
	kref_init(&obj->refcount);
	obj->dev = dev;
	obj->size = size;
	dma_resv_init(&obj->_resv);
	obj->resv = &obj->_resv;
	INIT_LIST_HEAD(&obj->gpuva.list);
	mutex_init(&obj->gpuva.lock);
}

static inline void drm_gem_object_release(struct drm_gem_object *obj)
{
	dma_resv_fini(&obj->_resv);
	mutex_destroy(&obj->gpuva.lock);
}

static inline void drm_gem_object_free_kref(struct kref *kref)
{
	struct drm_gem_object *obj = container_of(kref, struct drm_gem_object, refcount);
	obj->funcs->free(obj);
}

static inline void drm_gem_object_get(struct drm_gem_object *obj) { kref_get(&obj->refcount); }
static inline void drm_gem_object_put(struct drm_gem_object *obj)
{
	if (obj)
		kref_put(&obj->refcount, drm_gem_object_free_kref);
}

/* One thread: the gpuva list's lock (resv or mutex) is always held. */
#define drm_gem_gpuva_assert_lock_held(gpuvm, obj) ((void)(gpuvm), (void)(obj))

#define drm_gem_for_each_gpuvm_bo(entry__, obj__) list_for_each_entry(entry__, &(obj__)->gpuva.list, list.entry.gem)
#define drm_gem_for_each_gpuvm_bo_safe(entry__, next__, obj__) \
	list_for_each_entry_safe(entry__, next__, &(obj__)->gpuva.list, list.entry.gem)

#endif
