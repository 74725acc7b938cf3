// SPDX-License-Identifier: GPL-2.0
/*
 * vgpuvm: a test-only DRM render driver whose VM_BIND runs the kernel's own drm_gpuvm.
 *
 * There is no GPU behind it: a "VM" is only a struct drm_gpuvm, a bind only updates GPUVM's bookkeeping
 * (VA tree, vm_bos, GEM gpuva lists), and every op GPUVM generates is recorded so user space can read it
 * back with VM_QUERY and compare it with its own model. VM_RW is the GPU's view of memory: it resolves GPU
 * addresses through that same tree to the pages of the BOs mapped there. The driver follows the two locking schemes GPUVM
 * offers (see vgpuvm_drm.h, DRM_VGPUVM_VM_CREATE_IMMEDIATE), so both are exercised by real code paths.
 *
 * Sources relied on: include/drm/drm_gpuvm.h and include/drm/drm_exec.h of the running kernel (their
 * kernel-doc states the locking each call asserts), and the DRM GPUVM section of
 * Documentation/gpu/drm-mm.rst.
 */
#include <linux/device/faux.h>
#include <linux/idr.h>
#include <linux/iosys-map.h>
#include <linux/llist.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include <drm/drm_drv.h>
#include <drm/drm_exec.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_gpuvm.h>
#include <drm/drm_ioctl.h>

#include "vgpuvm_drm.h"

/* Module-wide counts of live objects; STATS reports them so tests can check that everything was freed. */
static atomic64_t live_vms, live_bos, live_vm_bos, live_vas;
static atomic64_t next_bo_id;
/* VM ids are module-wide, so a BO query can name the VM of each pair whichever file made it. */
static DEFINE_IDA(vm_ids);

enum vgpuvm_bo_mode { VGPUVM_BO_UNBOUND, VGPUVM_BO_STAGED, VGPUVM_BO_IMMEDIATE };

struct vgpuvm_bo {
	struct drm_gem_shmem_object shmem;
	u64 id;
	/* enum vgpuvm_bo_mode, set once by the first bind (cmpxchg): all VMs of a GEM must share one mode. */
	atomic_t mode;
	/*
	 * A VM-private BO: the resv object of the one VM it may be bound in, with a reference. The BO shares
	 * that VM's reservation (obj->resv points into it), so GPUVM never treats it as an external object.
	 */
	struct drm_gem_object *vm_root;
};

struct vgpuvm_va {
	struct drm_gpuva base;
	/* Links VAs removed during a bind; they are freed once the bind has left its locked section. */
	struct list_head removed_link;
};

/*
 * Who may drop the last reference to a (VM, BO) pair, and under which lock (DRM_VGPUVM_VM_CREATE_*):
 * RESV: staged mode, the GEM's pair list is guarded by its dma_resv, held through drm_exec around the walk;
 * GPUVA_LOCK: immediate mode, drm_gpuva_unlink and drm_gpuvm_bo_put under the GEM's gpuva mutex;
 * DEFERRED: immediate mode, drm_gpuva_unlink_defer / drm_gpuvm_bo_put_deferred, freed later by
 * drm_gpuvm_bo_deferred_cleanup.
 */
enum vgpuvm_design { VGPUVM_DESIGN_RESV, VGPUVM_DESIGN_GPUVA_LOCK, VGPUVM_DESIGN_DEFERRED };

struct vgpuvm_vm {
	struct drm_gpuvm base;
	u32 id;
	enum vgpuvm_design design;
	/* Serialises binds, queries, validation and destruction: GPUVM's tree has no lock of its own. */
	struct mutex lock;
	/* Pairs the running VM_VALIDATE took off the evict list. */
	u32 validated;
	bool destroyed;
	/* The ops of the last VM_BIND, grown before each bind op so the step callbacks never allocate. */
	struct drm_vgpuvm_op *log;
	u32 log_len;
	u32 log_capacity;
};

struct vgpuvm_file {
	struct xarray vms;
};

static struct faux_device *vgpuvm_faux;

static const struct drm_gem_object_funcs vgpuvm_bo_funcs;

static struct vgpuvm_bo *to_vgpuvm_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct vgpuvm_bo, shmem.base);
}

static struct vgpuvm_vm *to_vgpuvm_vm(struct drm_gpuvm *gpuvm)
{
	return container_of(gpuvm, struct vgpuvm_vm, base);
}

static struct vgpuvm_va *to_vgpuvm_va(struct drm_gpuva *va)
{
	return container_of(va, struct vgpuvm_va, base);
}

/* The VM with this id in this file, with a GPUVM reference, or NULL. */
static struct vgpuvm_vm *vgpuvm_vm_lookup(struct vgpuvm_file *vfile, u32 id)
{
	struct vgpuvm_vm *vm;

	xa_lock(&vfile->vms);
	vm = xa_load(&vfile->vms, id);
	if (vm)
		drm_gpuvm_get(&vm->base);
	xa_unlock(&vfile->vms);
	return vm;
}

/* --- GEM objects ---------------------------------------------------------------------------------------- */

static void vgpuvm_bo_free(struct drm_gem_object *obj)
{
	struct vgpuvm_bo *bo = to_vgpuvm_bo(obj);
	struct drm_gem_object *vm_root = bo->vm_root;

	drm_gem_shmem_release(&bo->shmem);
	kfree(bo);
	/* The shared reservation lives in the root object: release it only once the BO is gone. */
	if (vm_root)
		drm_gem_object_put(vm_root);
	atomic64_dec(&live_bos);
}

/* A VM-private BO shares its VM's reservation and so cannot leave the device (as xe and panthor refuse). */
static struct dma_buf *vgpuvm_bo_export(struct drm_gem_object *obj, int flags)
{
	if (to_vgpuvm_bo(obj)->vm_root)
		return ERR_PTR(-EINVAL);
	return drm_gem_prime_export(obj, flags);
}

static const struct drm_gem_object_funcs vgpuvm_bo_funcs = {
	.free = vgpuvm_bo_free,
	.export = vgpuvm_bo_export,
	.print_info = drm_gem_shmem_object_print_info,
	.pin = drm_gem_shmem_object_pin,
	.unpin = drm_gem_shmem_object_unpin,
	.get_sg_table = drm_gem_shmem_object_get_sg_table,
	.vmap = drm_gem_shmem_object_vmap,
	.vunmap = drm_gem_shmem_object_vunmap,
	.mmap = drm_gem_shmem_object_mmap,
	.vm_ops = &drm_gem_shmem_vm_ops,
};

/*
 * Every shmem object of this device is a struct vgpuvm_bo: the ones BO_CREATE makes and the ones PRIME
 * import makes from another driver's dma-buf (drm_gem_shmem_prime_import_no_map allocates through here).
 */
static struct drm_gem_object *vgpuvm_gem_create_object(struct drm_device *drm, size_t size)
{
	struct vgpuvm_bo *bo = kzalloc(sizeof(*bo), GFP_KERNEL);

	if (!bo)
		return ERR_PTR(-ENOMEM);
	bo->shmem.base.funcs = &vgpuvm_bo_funcs;
	drm_gem_gpuva_init(&bo->shmem.base);
	bo->id = atomic64_inc_return(&next_bo_id);
	atomic_set(&bo->mode, VGPUVM_BO_UNBOUND);
	atomic64_inc(&live_bos);
	return &bo->shmem.base;
}

/* A handle's object, with a reference, if it is one of ours. */
static struct vgpuvm_bo *vgpuvm_bo_lookup(struct drm_file *file, u32 handle)
{
	struct drm_gem_object *obj = drm_gem_object_lookup(file, handle);

	if (!obj)
		return NULL;
	if (obj->funcs != &vgpuvm_bo_funcs) {
		drm_gem_object_put(obj);
		return NULL;
	}
	return to_vgpuvm_bo(obj);
}

static int vgpuvm_ioctl_bo_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_bo_create *args = data;
	struct drm_gem_shmem_object *shmem;
	struct vgpuvm_vm *vm = NULL;
	struct vgpuvm_bo *bo;
	u64 size;
	int ret;

	if (args->size == 0 || args->size > MAX_LFS_FILESIZE - PAGE_SIZE)
		return -EINVAL;
	size = PAGE_ALIGN(args->size);
	if (args->vm_id) {
		vm = vgpuvm_vm_lookup(file->driver_priv, args->vm_id);
		if (!vm)
			return -ENOENT;
	}

	shmem = drm_gem_shmem_create(drm, size);
	if (IS_ERR(shmem)) {
		ret = PTR_ERR(shmem);
		goto put_vm;
	}
	bo = to_vgpuvm_bo(&shmem->base);
	if (vm) {
		/* Before the handle exists nobody else can see the object, so its resv may still change. */
		bo->vm_root = drm_gpuvm_resv_obj(&vm->base);
		drm_gem_object_get(bo->vm_root);
		shmem->base.resv = drm_gpuvm_resv(&vm->base);
	}

	ret = drm_gem_handle_create(file, &shmem->base, &args->handle);
	/* The handle holds the object now; on failure this drops the last reference and frees it. */
	drm_gem_object_put(&shmem->base);
	if (ret)
		goto put_vm;
	args->size = size;
	args->bo_id = bo->id;
put_vm:
	if (vm)
		drm_gpuvm_put(&vm->base);
	return ret;
}

static int vgpuvm_ioctl_bo_info(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_bo_info *args = data;
	struct vgpuvm_bo *bo;
	int ret;

	if (args->pad)
		return -EINVAL;
	bo = vgpuvm_bo_lookup(file, args->handle);
	if (!bo)
		return -ENOENT;
	ret = drm_gem_create_mmap_offset(&bo->shmem.base);
	if (!ret) {
		args->bo_id = bo->id;
		args->size = bo->shmem.base.size;
		args->mmap_offset = drm_vma_node_offset_addr(&bo->shmem.base.vma_node);
	}
	drm_gem_object_put(&bo->shmem.base);
	return ret;
}

/* --- GPUVM callbacks: allocation and the split/merge steps ------------------------------------------------ */

static void vgpuvm_vm_free(struct drm_gpuvm *gpuvm)
{
	struct vgpuvm_vm *vm = to_vgpuvm_vm(gpuvm);

	mutex_destroy(&vm->lock);
	kvfree(vm->log);
	if (vm->id)
		ida_free(&vm_ids, vm->id);
	kfree(vm);
	atomic64_dec(&live_vms);
}

static struct drm_gpuvm_bo *vgpuvm_vm_bo_alloc(void)
{
	struct drm_gpuvm_bo *vm_bo = kzalloc(sizeof(*vm_bo), GFP_KERNEL);

	if (vm_bo)
		atomic64_inc(&live_vm_bos);
	return vm_bo;
}

static void vgpuvm_vm_bo_free(struct drm_gpuvm_bo *vm_bo)
{
	kfree(vm_bo);
	atomic64_dec(&live_vm_bos);
}

static struct vgpuvm_va *vgpuvm_va_alloc(void)
{
	struct vgpuvm_va *va = kzalloc(sizeof(*va), GFP_KERNEL);

	if (va) {
		INIT_LIST_HEAD(&va->removed_link);
		atomic64_inc(&live_vas);
	}
	return va;
}

static void vgpuvm_va_free(struct vgpuvm_va *va)
{
	kfree(va);
	atomic64_dec(&live_vas);
}

/*
 * What one bind op needs inside the split/merge walk, prepared before it: the mapping structures (a MAP
 * uses one, and at most two remaps, the first and the last VA visited, add a prev and a next piece), the
 * vm_bo of the mapped BO and the VA flags of the new mapping.
 */
struct vgpuvm_step_ctx {
	struct vgpuvm_vm *vm;
	struct vgpuvm_va *spare[3];
	struct drm_gpuvm_bo *vm_bo;
	u32 map_flags;
	struct list_head removed;
};

static struct vgpuvm_va *vgpuvm_take_spare(struct vgpuvm_step_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ctx->spare); i++) {
		struct vgpuvm_va *va = ctx->spare[i];

		if (va) {
			ctx->spare[i] = NULL;
			return va;
		}
	}
	return NULL;
}

static u64 vgpuvm_obj_id(struct drm_gem_object *obj)
{
	return obj ? to_vgpuvm_bo(obj)->id : 0;
}

static void vgpuvm_record_va(struct drm_vgpuvm_va *out, const struct drm_gpuva *va)
{
	out->addr = va->va.addr;
	out->range = va->va.range;
	out->bo_offset = va->gem.offset;
	out->bo_id = vgpuvm_obj_id(va->gem.obj);
	out->flags = va->flags;
}

static void vgpuvm_record_piece(struct drm_vgpuvm_va *out, const struct drm_gpuva_op_map *piece, u32 flags)
{
	if (!piece)
		return;
	out->addr = piece->va.addr;
	out->range = piece->va.range;
	out->bo_offset = piece->gem.offset;
	out->bo_id = vgpuvm_obj_id(piece->gem.obj);
	out->flags = flags;
}

/* The next log slot; capacity was reserved before the walk (see vgpuvm_reserve_log). */
static struct drm_vgpuvm_op *vgpuvm_log_slot(struct vgpuvm_vm *vm, u32 kind)
{
	struct drm_vgpuvm_op *rec;

	if (WARN_ON_ONCE(vm->log_len >= vm->log_capacity))
		return NULL;
	rec = &vm->log[vm->log_len++];
	memset(rec, 0, sizeof(*rec));
	rec->kind = kind;
	return rec;
}

/* Links a new mapping to its vm_bo under the lock the VM's mode names (the resv is held by drm_exec). */
static void vgpuvm_link(struct vgpuvm_step_ctx *ctx, struct drm_gpuva *va, struct drm_gpuvm_bo *vm_bo)
{
	struct drm_gem_object *obj = va->gem.obj;

	if (!obj)
		return;
	if (ctx->vm->design != VGPUVM_DESIGN_RESV) {
		mutex_lock(&obj->gpuva.lock);
		drm_gpuva_link(va, vm_bo);
		mutex_unlock(&obj->gpuva.lock);
	} else {
		drm_gpuva_link(va, vm_bo);
	}
}

/*
 * Drops a vm_bo reference in the GPUVA_LOCK design: drm_gpuvm_bo_put under the GEM's gpuva mutex. The last
 * put frees the vm_bo and with it the vm_bo's GEM reference, so the caller's own reference keeps the GEM
 * (and the mutex inside it) alive until the mutex is released.
 */
static void vgpuvm_put_under_gpuva_lock(struct drm_gpuvm_bo *vm_bo)
{
	struct drm_gem_object *obj = vm_bo->obj;

	drm_gem_object_get(obj);
	mutex_lock(&obj->gpuva.lock);
	drm_gpuvm_bo_put(vm_bo);
	mutex_unlock(&obj->gpuva.lock);
	drm_gem_object_put(obj);
}

/* Drops the vm_bo reference a bind obtained, as the VM's design says. */
static void vgpuvm_put_vm_bo(struct vgpuvm_vm *vm, struct drm_gpuvm_bo *vm_bo)
{
	switch (vm->design) {
	case VGPUVM_DESIGN_RESV:
		drm_gpuvm_bo_put(vm_bo);
		break;
	case VGPUVM_DESIGN_GPUVA_LOCK:
		vgpuvm_put_under_gpuva_lock(vm_bo);
		break;
	case VGPUVM_DESIGN_DEFERRED:
		drm_gpuvm_bo_put_deferred(vm_bo);
		break;
	}
}

/*
 * Unlinks a removed mapping, as the VM's design says: staged mode holds the resv (drm_exec); GPUVA_LOCK
 * takes the gpuva mutex around drm_gpuva_unlink (whose put may free the vm_bo there and then); DEFERRED
 * uses the deferred variant, which takes the mutex itself and leaves the freeing of a last vm_bo to
 * drm_gpuvm_bo_deferred_cleanup().
 */
static void vgpuvm_unlink(struct vgpuvm_step_ctx *ctx, struct drm_gpuva *va)
{
	struct drm_gem_object *obj = va->gem.obj;

	if (obj) {
		switch (ctx->vm->design) {
		case VGPUVM_DESIGN_RESV:
			drm_gpuva_unlink(va);
			break;
		case VGPUVM_DESIGN_GPUVA_LOCK:
			drm_gem_object_get(obj);
			mutex_lock(&obj->gpuva.lock);
			drm_gpuva_unlink(va);
			mutex_unlock(&obj->gpuva.lock);
			drm_gem_object_put(obj);
			break;
		case VGPUVM_DESIGN_DEFERRED:
			drm_gpuva_unlink_defer(va);
			break;
		}
	}
	list_add_tail(&to_vgpuvm_va(va)->removed_link, &ctx->removed);
}

static int vgpuvm_step_map(struct drm_gpuva_op *op, void *priv)
{
	struct vgpuvm_step_ctx *ctx = priv;
	struct drm_vgpuvm_op *rec = vgpuvm_log_slot(ctx->vm, DRM_VGPUVM_OP_MAP);
	struct vgpuvm_va *va = vgpuvm_take_spare(ctx);

	if (WARN_ON_ONCE(!va))
		return -ENOMEM;
	va->base.flags = ctx->map_flags;
	drm_gpuva_map(&ctx->vm->base, &va->base, &op->map);
	vgpuvm_link(ctx, &va->base, ctx->vm_bo);
	if (rec)
		vgpuvm_record_va(&rec->va, &va->base);
	return 0;
}

static int vgpuvm_step_remap(struct drm_gpuva_op *op, void *priv)
{
	struct vgpuvm_step_ctx *ctx = priv;
	struct drm_gpuva *old = op->remap.unmap->va;
	struct drm_vgpuvm_op *rec = vgpuvm_log_slot(ctx->vm, DRM_VGPUVM_OP_REMAP);
	struct vgpuvm_va *prev = NULL, *next = NULL;

	if (rec) {
		rec->keep = op->remap.unmap->keep;
		vgpuvm_record_va(&rec->va, old);
		vgpuvm_record_piece(&rec->prev, op->remap.prev, old->flags);
		vgpuvm_record_piece(&rec->next, op->remap.next, old->flags);
	}
	if (op->remap.prev)
		prev = vgpuvm_take_spare(ctx);
	if (op->remap.next)
		next = vgpuvm_take_spare(ctx);
	if (WARN_ON_ONCE((op->remap.prev && !prev) || (op->remap.next && !next))) {
		if (prev)
			vgpuvm_va_free(prev);
		if (next)
			vgpuvm_va_free(next);
		return -ENOMEM;
	}

	/* GPUVM does not carry VA flags into the pieces; a sparse mapping's pieces stay sparse. */
	if (prev)
		prev->base.flags = old->flags;
	if (next)
		next->base.flags = old->flags;
	drm_gpuva_remap(prev ? &prev->base : NULL, next ? &next->base : NULL, &op->remap);
	/* Link the pieces before unlinking the old VA so the shared vm_bo never drops to zero in between. */
	if (prev)
		vgpuvm_link(ctx, &prev->base, old->vm_bo);
	if (next)
		vgpuvm_link(ctx, &next->base, old->vm_bo);
	vgpuvm_unlink(ctx, old);
	return 0;
}

static int vgpuvm_step_unmap(struct drm_gpuva_op *op, void *priv)
{
	struct vgpuvm_step_ctx *ctx = priv;
	struct drm_gpuva *old = op->unmap.va;
	struct drm_vgpuvm_op *rec = vgpuvm_log_slot(ctx->vm, DRM_VGPUVM_OP_UNMAP);

	if (rec) {
		rec->keep = op->unmap.keep;
		vgpuvm_record_va(&rec->va, old);
	}
	drm_gpuva_unmap(&op->unmap);
	vgpuvm_unlink(ctx, old);
	return 0;
}

/*
 * Called by drm_gpuvm_validate() for each pair on the evict list, with the BO's resv held (drm_exec). There
 * is no memory to move back: validating only takes the pair off the list, as a driver does once its pages
 * are in place again.
 */
static int vgpuvm_vm_bo_validate(struct drm_gpuvm_bo *vm_bo, struct drm_exec *exec)
{
	drm_gpuvm_bo_evict(vm_bo, false);
	to_vgpuvm_vm(vm_bo->vm)->validated++;
	return 0;
}

static const struct drm_gpuvm_ops vgpuvm_gpuvm_ops = {
	.vm_free = vgpuvm_vm_free,
	.vm_bo_validate = vgpuvm_vm_bo_validate,
	.vm_bo_alloc = vgpuvm_vm_bo_alloc,
	.vm_bo_free = vgpuvm_vm_bo_free,
	.sm_step_map = vgpuvm_step_map,
	.sm_step_remap = vgpuvm_step_remap,
	.sm_step_unmap = vgpuvm_step_unmap,
};

/* --- VMs ----------------------------------------------------------------------------------------------------- */

static int vgpuvm_ioctl_vm_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_vm_create *args = data;
	struct vgpuvm_file *vfile = file->driver_priv;
	struct drm_gem_object *r_obj;
	struct vgpuvm_vm *vm;
	u64 end, reserve_end;
	int ret;

	if (args->flags & ~(DRM_VGPUVM_VM_CREATE_IMMEDIATE | DRM_VGPUVM_VM_CREATE_PUT_LOCKED))
		return -EINVAL;
	if ((args->flags & DRM_VGPUVM_VM_CREATE_PUT_LOCKED) && !(args->flags & DRM_VGPUVM_VM_CREATE_IMMEDIATE))
		return -EINVAL;
	/* drm_gpuvm_init() WARNs on an overflowing space, and a reserved node must lie inside it. */
	if (args->va_range == 0 || check_add_overflow(args->va_start, args->va_range, &end))
		return -EINVAL;
	if (args->reserve_range &&
	    (check_add_overflow(args->reserve_start, args->reserve_range, &reserve_end) ||
	     args->reserve_start < args->va_start || reserve_end > end))
		return -EINVAL;
	if (!args->reserve_range && args->reserve_start)
		return -EINVAL;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return -ENOMEM;
	r_obj = drm_gpuvm_resv_object_alloc(drm);
	if (!r_obj) {
		kfree(vm);
		return -ENOMEM;
	}
	mutex_init(&vm->lock);
	if (!(args->flags & DRM_VGPUVM_VM_CREATE_IMMEDIATE))
		vm->design = VGPUVM_DESIGN_RESV;
	else if (args->flags & DRM_VGPUVM_VM_CREATE_PUT_LOCKED)
		vm->design = VGPUVM_DESIGN_GPUVA_LOCK;
	else
		vm->design = VGPUVM_DESIGN_DEFERRED;
	atomic64_inc(&live_vms);
	drm_gpuvm_init(&vm->base, "vgpuvm",
		       (args->flags & DRM_VGPUVM_VM_CREATE_IMMEDIATE) ? DRM_GPUVM_IMMEDIATE_MODE : 0,
		       drm, r_obj, args->va_start, args->va_range,
		       args->reserve_start, args->reserve_range, &vgpuvm_gpuvm_ops);
	/* The VM holds its own reference to the resv object from here on. */
	drm_gem_object_put(r_obj);

	ret = ida_alloc_range(&vm_ids, 1, INT_MAX, GFP_KERNEL);
	if (ret < 0) {
		drm_gpuvm_put(&vm->base);
		return ret;
	}
	vm->id = ret;
	ret = xa_insert(&vfile->vms, vm->id, vm, GFP_KERNEL);
	if (ret) {
		drm_gpuvm_put(&vm->base);
		return ret;
	}
	args->vm_id = vm->id;
	return 0;
}

/* --- VM_BIND --------------------------------------------------------------------------------------------------- */

/* A checked bind op: the request plus the BO it maps, with a reference. */
struct vgpuvm_checked_op {
	struct drm_vgpuvm_bind_op req;
	struct vgpuvm_bo *bo;
};

static int vgpuvm_check_op(struct vgpuvm_vm *vm, struct drm_file *file, struct vgpuvm_checked_op *op)
{
	const struct drm_vgpuvm_bind_op *req = &op->req;
	bool immediate = drm_gpuvm_immediate_mode(&vm->base);
	int want = immediate ? VGPUVM_BO_IMMEDIATE : VGPUVM_BO_STAGED;
	u64 end;
	int mode;

	if (req->pad)
		return -EINVAL;
	if (req->op == DRM_VGPUVM_BIND_OP_UNMAP) {
		if (req->flags || req->handle || req->bo_offset)
			return -EINVAL;
	} else if (req->op == DRM_VGPUVM_BIND_OP_MAP) {
		if (req->flags & ~DRM_VGPUVM_BIND_SPARSE)
			return -EINVAL;
		if ((req->flags & DRM_VGPUVM_BIND_SPARSE) && (req->handle || req->bo_offset))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	/* GPUVM checks neither a zero range nor (in drm_gpuva_map) a failed insert: refuse both up front. */
	if (req->range == 0 || check_add_overflow(req->addr, req->range, &end))
		return -EINVAL;
	if (!drm_gpuvm_range_valid(&vm->base, req->addr, req->range))
		return -EINVAL;
	if (req->op != DRM_VGPUVM_BIND_OP_MAP || (req->flags & DRM_VGPUVM_BIND_SPARSE))
		return 0;

	op->bo = vgpuvm_bo_lookup(file, req->handle);
	if (!op->bo)
		return -ENOENT;
	/* A VM-private BO maps only in the VM whose reservation it shares. */
	if (op->bo->vm_root && op->bo->vm_root != drm_gpuvm_resv_obj(&vm->base))
		return -EINVAL;
	if (check_add_overflow(req->bo_offset, req->range, &end) || end > op->bo->shmem.base.size)
		return -EINVAL;
	mode = atomic_cmpxchg(&op->bo->mode, VGPUVM_BO_UNBOUND, want);
	if (mode != VGPUVM_BO_UNBOUND && mode != want)
		return -EINVAL;
	return 0;
}

/*
 * Makes room in the op log for one more bind op: GPUVM emits one op per existing VA the request overlaps,
 * plus the MAP, so counting the overlapping VAs (the reserved node counts too, harmlessly) bounds it.
 */
static int vgpuvm_reserve_log(struct vgpuvm_vm *vm, u64 addr, u64 range)
{
	struct drm_gpuva *va;
	u64 needed = 1;
	struct drm_vgpuvm_op *log;

	drm_gpuvm_for_each_va_range(va, &vm->base, addr, addr + range)
		needed++;
	needed += vm->log_len;
	if (needed <= vm->log_capacity)
		return 0;
	if (needed > U32_MAX / 2)
		return -ENOMEM;
	needed = max_t(u64, needed, 2 * (u64)vm->log_capacity);
	log = kvmalloc_array(needed, sizeof(*log), GFP_KERNEL);
	if (!log)
		return -ENOMEM;
	if (vm->log_len)
		memcpy(log, vm->log, vm->log_len * sizeof(*log));
	kvfree(vm->log);
	vm->log = log;
	vm->log_capacity = needed;
	return 0;
}

static void vgpuvm_ctx_release(struct vgpuvm_step_ctx *ctx)
{
	struct vgpuvm_va *va, *tmp;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ctx->spare); i++)
		if (ctx->spare[i])
			vgpuvm_va_free(ctx->spare[i]);
	list_for_each_entry_safe(va, tmp, &ctx->removed, removed_link) {
		list_del(&va->removed_link);
		vgpuvm_va_free(va);
	}
}

/* Staged mode: the resv of every GEM the op touches is held through drm_exec while GPUVM walks. */
static int vgpuvm_run_staged(struct vgpuvm_step_ctx *ctx, const struct vgpuvm_checked_op *op,
			     struct drm_gpuvm_map_req *map_req, bool interruptible)
{
	struct drm_gpuvm *gpuvm = &ctx->vm->base;
	const struct drm_vgpuvm_bind_op *req = &op->req;
	struct drm_exec exec;
	int ret;

	drm_exec_init(&exec, (interruptible ? DRM_EXEC_INTERRUPTIBLE_WAIT : 0) | DRM_EXEC_IGNORE_DUPLICATES, 0);
	drm_exec_until_all_locked(&exec) {
		if (map_req)
			/* It reserves this many fence slots on the mapped BO, and reserving none is a WARN. */
			ret = drm_gpuvm_sm_map_exec_lock(gpuvm, &exec, 1, map_req);
		else
			ret = drm_gpuvm_sm_unmap_exec_lock(gpuvm, &exec, req->addr, req->range);
		drm_exec_retry_on_contention(&exec);
		if (ret)
			goto out;
	}
	if (op->bo) {
		ctx->vm_bo = drm_gpuvm_bo_obtain_locked(gpuvm, &op->bo->shmem.base);
		if (IS_ERR(ctx->vm_bo)) {
			ret = PTR_ERR(ctx->vm_bo);
			ctx->vm_bo = NULL;
			goto out;
		}
		/* A BO with its own reservation (not VM-private: created alone, or imported) is an extobj. */
		drm_gpuvm_bo_extobj_add(ctx->vm_bo);
	}
	if (map_req)
		ret = drm_gpuvm_sm_map(gpuvm, ctx, map_req);
	else
		ret = drm_gpuvm_sm_unmap(gpuvm, ctx, req->addr, req->range);
	if (ctx->vm_bo)
		vgpuvm_put_vm_bo(ctx->vm, ctx->vm_bo);
out:
	drm_exec_fini(&exec);
	return ret;
}

/*
 * Immediate mode: everything is allocated before the walk (the vm_bo through obtain_prealloc, which takes
 * the gpuva mutex itself), the walk takes only the GEMs' gpuva mutexes. In the DEFERRED design a vm_bo
 * whose last mapping went away is freed afterwards by drm_gpuvm_bo_deferred_cleanup(), outside what would
 * be a driver's fence-signalling path; in the GPUVA_LOCK design it was freed under the mutex already.
 */
static int vgpuvm_run_immediate(struct vgpuvm_step_ctx *ctx, const struct vgpuvm_checked_op *op,
				struct drm_gpuvm_map_req *map_req)
{
	struct drm_gpuvm *gpuvm = &ctx->vm->base;
	struct drm_gpuvm_bo *vm_bo;
	int ret;

	if (op->bo) {
		vm_bo = drm_gpuvm_bo_create(gpuvm, &op->bo->shmem.base);
		if (!vm_bo)
			return -ENOMEM;
		ctx->vm_bo = drm_gpuvm_bo_obtain_prealloc(vm_bo);
		drm_gpuvm_bo_extobj_add(ctx->vm_bo);
	}
	if (map_req)
		ret = drm_gpuvm_sm_map(gpuvm, ctx, map_req);
	else
		ret = drm_gpuvm_sm_unmap(gpuvm, ctx, op->req.addr, op->req.range);
	if (ctx->vm_bo)
		vgpuvm_put_vm_bo(ctx->vm, ctx->vm_bo);
	if (ctx->vm->design == VGPUVM_DESIGN_DEFERRED)
		drm_gpuvm_bo_deferred_cleanup(gpuvm);
	return ret;
}

/* Runs one checked op on a VM whose lock is held. On failure nothing changed. */
static int vgpuvm_run_op(struct vgpuvm_vm *vm, const struct vgpuvm_checked_op *op, bool interruptible)
{
	const struct drm_vgpuvm_bind_op *req = &op->req;
	bool is_map = req->op == DRM_VGPUVM_BIND_OP_MAP;
	struct drm_gpuvm_map_req map_req = {};
	struct vgpuvm_step_ctx ctx = {
		.vm = vm,
		.map_flags = (is_map && !op->bo) ? DRM_GPUVA_SPARSE : 0,
	};
	unsigned int i;
	int ret;

	INIT_LIST_HEAD(&ctx.removed);
	ret = vgpuvm_reserve_log(vm, req->addr, req->range);
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(ctx.spare); i++) {
		ctx.spare[i] = vgpuvm_va_alloc();
		if (!ctx.spare[i]) {
			vgpuvm_ctx_release(&ctx);
			return -ENOMEM;
		}
	}
	if (is_map) {
		map_req.map.va.addr = req->addr;
		map_req.map.va.range = req->range;
		map_req.map.gem.obj = op->bo ? &op->bo->shmem.base : NULL;
		map_req.map.gem.offset = req->bo_offset;
	}
	if (vm->design != VGPUVM_DESIGN_RESV)
		ret = vgpuvm_run_immediate(&ctx, op, is_map ? &map_req : NULL);
	else
		ret = vgpuvm_run_staged(&ctx, op, is_map ? &map_req : NULL, interruptible);
	vgpuvm_ctx_release(&ctx);
	return ret;
}

static void vgpuvm_put_checked(struct vgpuvm_checked_op *ops, u32 count)
{
	u32 i;

	for (i = 0; i < count; i++)
		if (ops[i].bo)
			drm_gem_object_put(&ops[i].bo->shmem.base);
}

static int vgpuvm_ioctl_vm_bind(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_vm_bind *args = data;
	struct vgpuvm_checked_op *ops;
	struct vgpuvm_vm *vm;
	u32 i;
	int ret = 0;

	args->done = 0;
	args->failed_op = ~0u;
	if (args->pad || args->stride != sizeof(struct drm_vgpuvm_bind_op) ||
	    args->count > DRM_VGPUVM_BIND_MAX_OPS)
		return -EINVAL;
	vm = vgpuvm_vm_lookup(file->driver_priv, args->vm_id);
	if (!vm)
		return -ENOENT;

	ops = kvcalloc(max_t(u32, args->count, 1), sizeof(*ops), GFP_KERNEL);
	if (!ops) {
		ret = -ENOMEM;
		goto put_vm;
	}
	for (i = 0; i < args->count; i++) {
		if (copy_from_user(&ops[i].req, u64_to_user_ptr(args->ops + (u64)i * args->stride),
				   sizeof(ops[i].req))) {
			ret = -EFAULT;
			break;
		}
		ret = vgpuvm_check_op(vm, file, &ops[i]);
		if (ret)
			break;
	}
	if (ret) {
		args->failed_op = i;
		goto put_ops;
	}

	mutex_lock(&vm->lock);
	if (vm->destroyed) {
		ret = -ENOENT;
	} else {
		vm->log_len = 0;
		for (i = 0; i < args->count; i++) {
			ret = vgpuvm_run_op(vm, &ops[i], true);
			if (ret)
				break;
			args->done = i + 1;
		}
	}
	mutex_unlock(&vm->lock);
	/* A restarted ioctl would run the applied ops again: once any op ran, report the signal instead. */
	if (ret == -ERESTARTSYS && args->done)
		ret = -EINTR;
put_ops:
	vgpuvm_put_checked(ops, args->count);
	kvfree(ops);
put_vm:
	drm_gpuvm_put(&vm->base);
	return ret;
}

/* --- VM_QUERY, BO_QUERY, BO_EVICT, VM_VALIDATE, STATS ---------------------------------------------------- */

/* A pair as the debug queries report it; the caller holds what keeps @vm_bo's lists still. */
static void vgpuvm_record_pair(struct drm_vgpuvm_pair *out, struct drm_gpuvm_bo *vm_bo)
{
	struct drm_gpuvm *gpuvm = vm_bo->vm;

	memset(out, 0, sizeof(*out));
	out->bo_id = to_vgpuvm_bo(vm_bo->obj)->id;
	out->vm_id = to_vgpuvm_vm(gpuvm)->id;
	out->refcount = kref_read(&vm_bo->kref);
	out->vas = list_count_nodes(&vm_bo->list.gpuva);
	if (vm_bo->evicted)
		out->flags |= DRM_VGPUVM_PAIR_EVICTED;
	spin_lock(&gpuvm->extobj.lock);
	if (!list_empty(&vm_bo->list.entry.extobj))
		out->flags |= DRM_VGPUVM_PAIR_EXTOBJ;
	spin_unlock(&gpuvm->extobj.lock);
	spin_lock(&gpuvm->evict.lock);
	if (!list_empty(&vm_bo->list.entry.evict))
		out->flags |= DRM_VGPUVM_PAIR_EVICT_LISTED;
	spin_unlock(&gpuvm->evict.lock);
}

/*
 * The pairs on one of the VM's lists, in list order, into @recs (room for @room): the extobj or the evict
 * list (each under its spinlock; the VM lock keeps the pairs alive) or the zombies of the deferred design
 * (bo_defer, which only this driver's binds, under the VM lock, push to or drain). Returns how many there
 * are; records beyond @room are counted, not written.
 */
static u32 vgpuvm_list_pairs(struct vgpuvm_vm *vm, u32 what, struct drm_vgpuvm_pair *recs, u32 room)
{
	struct drm_gpuvm *gpuvm = &vm->base;
	struct drm_gpuvm_bo *vm_bo, *listed[64];
	struct llist_node *node;
	u32 n = 0, i, batch;

	if (what == DRM_VGPUVM_QUERY_ZOMBIES) {
		llist_for_each(node, gpuvm->bo_defer.first) {
			vm_bo = llist_entry(node, struct drm_gpuvm_bo, list.entry.bo_defer);
			if (n < room)
				vgpuvm_record_pair(&recs[n], vm_bo);
			n++;
		}
		return n;
	}
	/*
	 * vgpuvm_record_pair takes the list spinlocks itself, so the pairs are gathered in batches under the
	 * lock and recorded outside it. No reference is needed to keep them: only binds, validation and
	 * teardown free pairs, and all of them hold the VM lock, as the caller does. BO_EVICT may move a pair
	 * on or off the evict list meanwhile; the query is then a snapshot of one moment or the other.
	 */
	for (;;) {
		spinlock_t *lock = what == DRM_VGPUVM_QUERY_EXTOBJ ? &gpuvm->extobj.lock : &gpuvm->evict.lock;
		struct list_head *head = what == DRM_VGPUVM_QUERY_EXTOBJ ? &gpuvm->extobj.list : &gpuvm->evict.list;
		u32 index = 0;

		batch = 0;
		spin_lock(lock);
		if (what == DRM_VGPUVM_QUERY_EXTOBJ) {
			list_for_each_entry(vm_bo, head, list.entry.extobj) {
				if (index++ < n)
					continue;
				if (batch == ARRAY_SIZE(listed))
					break;
				listed[batch++] = vm_bo;
			}
		} else {
			list_for_each_entry(vm_bo, head, list.entry.evict) {
				if (index++ < n)
					continue;
				if (batch == ARRAY_SIZE(listed))
					break;
				listed[batch++] = vm_bo;
			}
		}
		spin_unlock(lock);
		for (i = 0; i < batch && n + i < room; i++)
			vgpuvm_record_pair(&recs[n + i], listed[i]);
		n += batch;
		if (batch < ARRAY_SIZE(listed))
			return n;
	}
}

static int vgpuvm_ioctl_vm_query(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_vm_query *args = data;
	void __user *out = u64_to_user_ptr(args->records);
	struct drm_vgpuvm_pair *pairs = NULL;
	struct drm_vgpuvm_va rec;
	struct drm_gpuva *va;
	struct vgpuvm_vm *vm;
	u32 n = 0, room;
	int ret = 0;

	if (args->what > DRM_VGPUVM_QUERY_ZOMBIES)
		return -EINVAL;
	vm = vgpuvm_vm_lookup(file->driver_priv, args->vm_id);
	if (!vm)
		return -ENOENT;

	mutex_lock(&vm->lock);
	if (args->what == DRM_VGPUVM_QUERY_OPS) {
		n = vm->log_len;
		if (copy_to_user(out, vm->log, (size_t)min(n, args->capacity) * sizeof(*vm->log)))
			ret = -EFAULT;
	} else if (args->what == DRM_VGPUVM_QUERY_TREE) {
		drm_gpuvm_for_each_va(va, &vm->base) {
			if (va == &vm->base.kernel_alloc_node)
				continue;
			if (n < args->capacity) {
				memset(&rec, 0, sizeof(rec));
				vgpuvm_record_va(&rec, va);
				if (copy_to_user(out + (size_t)n * sizeof(rec), &rec, sizeof(rec))) {
					ret = -EFAULT;
					break;
				}
			}
			n++;
		}
	} else {
		n = vgpuvm_list_pairs(vm, args->what, NULL, 0);
		room = min(n, args->capacity);
		if (room) {
			pairs = kvcalloc(room, sizeof(*pairs), GFP_KERNEL);
			if (!pairs)
				ret = -ENOMEM;
		}
		if (!ret) {
			/* The VM lock holds the lists still, so the second walk finds the same pairs. */
			n = vgpuvm_list_pairs(vm, args->what, pairs, room);
			if (copy_to_user(out, pairs, (size_t)min(n, room) * sizeof(*pairs)))
				ret = -EFAULT;
		}
	}
	mutex_unlock(&vm->lock);
	kvfree(pairs);
	drm_gpuvm_put(&vm->base);
	if (!ret)
		args->count = n;
	return ret;
}

/*
 * BO_QUERY: the BO's pairs in the order of its GEM list, under both locks that may guard that list (the
 * resv for staged VMs, the gpuva mutex for immediate ones), so the walk is safe whichever mode the BO has.
 */
static int vgpuvm_ioctl_bo_query(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_bo_query *args = data;
	struct drm_vgpuvm_pair *pairs = NULL;
	struct drm_gpuvm_bo *vm_bo;
	struct drm_gem_object *obj;
	struct vgpuvm_bo *bo;
	u32 n = 0, room;
	int ret;

	bo = vgpuvm_bo_lookup(file, args->handle);
	if (!bo)
		return -ENOENT;
	obj = &bo->shmem.base;
	room = min_t(u32, args->capacity, DRM_VGPUVM_BIND_MAX_OPS);
	if (room) {
		pairs = kvcalloc(room, sizeof(*pairs), GFP_KERNEL);
		if (!pairs) {
			ret = -ENOMEM;
			goto put;
		}
	}
	ret = dma_resv_lock_interruptible(obj->resv, NULL);
	if (ret)
		goto put;
	mutex_lock(&obj->gpuva.lock);
	drm_gem_for_each_gpuvm_bo(vm_bo, obj) {
		if (n < room)
			vgpuvm_record_pair(&pairs[n], vm_bo);
		n++;
	}
	mutex_unlock(&obj->gpuva.lock);
	dma_resv_unlock(obj->resv);
	if (copy_to_user(u64_to_user_ptr(args->records), pairs, (size_t)min(n, room) * sizeof(*pairs))) {
		ret = -EFAULT;
		goto put;
	}
	args->count = n;
	args->bo_id = bo->id;
	args->flags = (bo->vm_root ? DRM_VGPUVM_BO_PRIVATE : 0) | (drm_gem_is_imported(obj) ? DRM_VGPUVM_BO_IMPORTED : 0);
	args->size = obj->size;
put:
	kvfree(pairs);
	drm_gem_object_put(obj);
	return ret;
}

/*
 * BO_EVICT: marks the BO evicted (or resident again) in every VM it is bound in, as a driver's memory
 * manager does when it moves the pages: drm_gpuvm_bo_gem_evict with the BO's resv held, and the gpuva
 * mutex too, which guards the GEM's pair list in immediate mode.
 */
static int vgpuvm_ioctl_bo_evict(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_bo_evict *args = data;
	struct drm_gem_object *obj;
	struct vgpuvm_bo *bo;
	int ret;

	if (args->evict > 1)
		return -EINVAL;
	bo = vgpuvm_bo_lookup(file, args->handle);
	if (!bo)
		return -ENOENT;
	obj = &bo->shmem.base;
	ret = dma_resv_lock_interruptible(obj->resv, NULL);
	if (!ret) {
		mutex_lock(&obj->gpuva.lock);
		drm_gpuvm_bo_gem_evict(obj, args->evict);
		mutex_unlock(&obj->gpuva.lock);
		dma_resv_unlock(obj->resv);
	}
	drm_gem_object_put(obj);
	return ret;
}

/*
 * VM_VALIDATE: what a submission does before it runs: lock the VM's resv and every extobj's
 * (drm_gpuvm_exec_lock), then drm_gpuvm_validate, which hands each evicted pair to vm_bo_validate.
 */
static int vgpuvm_ioctl_vm_validate(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_vm_validate *args = data;
	struct drm_gpuvm_exec vm_exec = { .flags = DRM_EXEC_INTERRUPTIBLE_WAIT, .num_fences = 0 };
	struct vgpuvm_vm *vm;
	int ret;

	vm = vgpuvm_vm_lookup(file->driver_priv, args->vm_id);
	if (!vm)
		return -ENOENT;
	vm_exec.vm = &vm->base;
	mutex_lock(&vm->lock);
	vm->validated = 0;
	ret = drm_gpuvm_exec_lock(&vm_exec);
	if (!ret) {
		ret = drm_gpuvm_validate(&vm->base, &vm_exec.exec);
		drm_gpuvm_exec_unlock(&vm_exec);
	}
	args->validated = vm->validated;
	mutex_unlock(&vm->lock);
	drm_gpuvm_put(&vm->base);
	return ret;
}

static int vgpuvm_ioctl_stats(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_stats *args = data;

	args->vms = atomic64_read(&live_vms);
	args->bos = atomic64_read(&live_bos);
	args->vm_bos = atomic64_read(&live_vm_bos);
	args->vas = atomic64_read(&live_vas);
	return 0;
}

/* --- VM_RW: the CPU's view of the VA space, through the kernel's tree --------------------------------------- */

/* One stretch of a VM_RW range: a sparse mapping (obj NULL) or @len bytes of a BO at @bo_offset. */
struct vgpuvm_rw_piece {
	struct drm_gem_object *obj;
	struct iosys_map map;
	u64 bo_offset;
	u32 len;
};

/*
 * Resolves [addr, addr + size) against the VM's tree (its lock held): the stretches in address order into
 * @pieces (room for @room; NULL to count them), returned as their number, or -EFAULT with *@fault the first
 * byte no BO backs (a hole, the reserved node, outside the VA space, or sparse with @sparse_faults).
 */
static int vgpuvm_rw_resolve(struct vgpuvm_vm *vm, u64 addr, u32 size, bool sparse_faults,
			     struct vgpuvm_rw_piece *pieces, u32 room, u64 *fault)
{
	u64 cursor = addr, end = addr + size;
	struct drm_gpuva *va;
	u32 n = 0;

	drm_gpuvm_for_each_va_range(va, &vm->base, addr, end) {
		u64 va_end = va->va.addr + va->va.range;
		u64 stop = min(va_end, end);

		if (va->va.addr > cursor || va == &vm->base.kernel_alloc_node)
			break;
		if (!va->gem.obj && sparse_faults)
			break;
		if (pieces && n < room) {
			pieces[n].obj = va->gem.obj;
			pieces[n].bo_offset = va->gem.obj ? va->gem.offset + (cursor - va->va.addr) : 0;
			pieces[n].len = stop - cursor;
		}
		n++;
		cursor = stop;
		if (cursor == end)
			return n;
	}
	*fault = cursor;
	return -EFAULT;
}

/* Maps the BOs of @pieces for the CPU (drm_gem_vmap takes each one's resv); all of them, or none. */
static int vgpuvm_rw_vmap(struct vgpuvm_rw_piece *pieces, u32 count)
{
	u32 i;
	int ret;

	for (i = 0; i < count; i++) {
		if (!pieces[i].obj)
			continue;
		ret = drm_gem_vmap(pieces[i].obj, &pieces[i].map);
		if (ret)
			goto undo;
	}
	return 0;
undo:
	while (i--)
		if (pieces[i].obj)
			drm_gem_vunmap(pieces[i].obj, &pieces[i].map);
	return ret;
}

static void vgpuvm_rw_vunmap(struct vgpuvm_rw_piece *pieces, u32 count)
{
	u32 i;

	for (i = 0; i < count; i++)
		if (pieces[i].obj)
			drm_gem_vunmap(pieces[i].obj, &pieces[i].map);
}

/* Copies between @bounce and the pieces: reads fill sparse stretches with zeros, writes skip them. */
static void vgpuvm_rw_copy(struct vgpuvm_rw_piece *pieces, u32 count, u8 *bounce, bool write)
{
	u32 i;

	for (i = 0; i < count; i++) {
		struct vgpuvm_rw_piece *p = &pieces[i];

		if (!p->obj) {
			if (!write)
				memset(bounce, 0, p->len);
		} else if (write) {
			iosys_map_memcpy_to(&p->map, p->bo_offset, bounce, p->len);
		} else {
			iosys_map_memcpy_from(bounce, &p->map, p->bo_offset, p->len);
		}
		bounce += p->len;
	}
}

/*
 * VM_RW. User memory is touched only outside every lock, through a kernel bounce buffer: a WRITE takes all
 * of @data first, a READ hands it over last, so a faulting user page can never wait on a resv this holds.
 * Under the VM lock (binds cannot change the tree meanwhile) the range is resolved whole, then every BO of
 * it is mapped, and only then does a byte move.
 */
static int vgpuvm_ioctl_vm_rw(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_vm_rw *args = data;
	u32 dir = args->flags & (DRM_VGPUVM_RW_READ | DRM_VGPUVM_RW_WRITE);
	bool write = dir == DRM_VGPUVM_RW_WRITE;
	bool sparse_faults = args->flags & DRM_VGPUVM_RW_SPARSE_FAULT;
	void __user *user = u64_to_user_ptr(args->data);
	struct vgpuvm_rw_piece *pieces = NULL;
	struct vgpuvm_vm *vm;
	u64 fault = ~0ull, end;
	u8 *bounce;
	int count, ret;

	args->fault_addr = ~0ull;
	if (args->flags & ~(DRM_VGPUVM_RW_READ | DRM_VGPUVM_RW_WRITE | DRM_VGPUVM_RW_SPARSE_FAULT))
		return -EINVAL;
	if ((dir != DRM_VGPUVM_RW_READ && !write) || args->pad)
		return -EINVAL;
	if (args->size == 0 || args->size > DRM_VGPUVM_RW_MAX_SIZE || check_add_overflow(args->addr, (u64)args->size, &end))
		return -EINVAL;
	vm = vgpuvm_vm_lookup(file->driver_priv, args->vm_id);
	if (!vm)
		return -ENOENT;

	bounce = kvmalloc(args->size, GFP_KERNEL);
	if (!bounce) {
		ret = -ENOMEM;
		goto put_vm;
	}
	if (write && copy_from_user(bounce, user, args->size)) {
		ret = -EFAULT;
		goto free_bounce;
	}

	ret = mutex_lock_interruptible(&vm->lock);
	if (ret)
		goto free_bounce;
	if (vm->destroyed) {
		ret = -ENOENT;
		goto unlock;
	}
	count = vgpuvm_rw_resolve(vm, args->addr, args->size, sparse_faults, NULL, 0, &fault);
	if (count < 0) {
		ret = count;
		goto unlock;
	}
	pieces = kvcalloc(count, sizeof(*pieces), GFP_KERNEL);
	if (!pieces) {
		ret = -ENOMEM;
		goto unlock;
	}
	/* The lock held the tree still: the second walk finds the same stretches. */
	vgpuvm_rw_resolve(vm, args->addr, args->size, sparse_faults, pieces, count, &fault);
	ret = vgpuvm_rw_vmap(pieces, count);
	if (!ret) {
		vgpuvm_rw_copy(pieces, count, bounce, write);
		vgpuvm_rw_vunmap(pieces, count);
	}
unlock:
	mutex_unlock(&vm->lock);
	if (ret == -EFAULT)
		args->fault_addr = fault;
	if (!ret && !write && copy_to_user(user, bounce, args->size))
		ret = -EFAULT;
	kvfree(pieces);
free_bounce:
	kvfree(bounce);
put_vm:
	drm_gpuvm_put(&vm->base);
	return ret;
}

/* --- VM destruction -------------------------------------------------------------------------------------------- */

/*
 * Unmaps every mapping, one exact-range UNMAP each, and marks the VM destroyed so a bind that raced with
 * the destruction fails with ENOENT. Waits are not interruptible: the file may be closing.
 */
static void vgpuvm_vm_teardown(struct vgpuvm_vm *vm)
{
	struct vgpuvm_checked_op op = { .req = { .op = DRM_VGPUVM_BIND_OP_UNMAP } };
	struct drm_gpuva *va;

	mutex_lock(&vm->lock);
	vm->destroyed = true;
	vm->log_len = 0;
	for (;;) {
		bool found = false;

		drm_gpuvm_for_each_va(va, &vm->base) {
			if (va != &vm->base.kernel_alloc_node) {
				found = true;
				break;
			}
		}
		if (!found)
			break;
		op.req.addr = va->va.addr;
		op.req.range = va->va.range;
		vm->log_len = 0;
		if (vgpuvm_run_op(vm, &op, false)) {
			/* Only an allocation failure gets here; the mappings then stay until the module unloads. */
			pr_err("vgpuvm: out of memory while tearing down a VM; its mappings leak\n");
			break;
		}
	}
	mutex_unlock(&vm->lock);
}

static int vgpuvm_ioctl_vm_destroy(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_vm_destroy *args = data;
	struct vgpuvm_file *vfile = file->driver_priv;
	struct vgpuvm_vm *vm;

	if (args->pad)
		return -EINVAL;
	/* Whoever erases the id owns the file's reference. */
	vm = xa_erase(&vfile->vms, args->vm_id);
	if (!vm)
		return -ENOENT;
	vgpuvm_vm_teardown(vm);
	drm_gpuvm_put(&vm->base);
	return 0;
}

/* --- Files and the device ---------------------------------------------------------------------------------------- */

static int vgpuvm_open(struct drm_device *drm, struct drm_file *file)
{
	struct vgpuvm_file *vfile = kzalloc(sizeof(*vfile), GFP_KERNEL);

	if (!vfile)
		return -ENOMEM;
	xa_init_flags(&vfile->vms, XA_FLAGS_ALLOC1);
	file->driver_priv = vfile;
	return 0;
}

static void vgpuvm_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct vgpuvm_file *vfile = file->driver_priv;
	struct vgpuvm_vm *vm;
	unsigned long id;

	xa_for_each(&vfile->vms, id, vm) {
		xa_erase(&vfile->vms, id);
		vgpuvm_vm_teardown(vm);
		drm_gpuvm_put(&vm->base);
	}
	xa_destroy(&vfile->vms);
	kfree(vfile);
}

static const struct drm_ioctl_desc vgpuvm_ioctls[] = {
	DRM_IOCTL_DEF_DRV(VGPUVM_BO_CREATE, vgpuvm_ioctl_bo_create, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPUVM_BO_INFO, vgpuvm_ioctl_bo_info, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPUVM_VM_CREATE, vgpuvm_ioctl_vm_create, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPUVM_VM_DESTROY, vgpuvm_ioctl_vm_destroy, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPUVM_VM_BIND, vgpuvm_ioctl_vm_bind, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPUVM_VM_QUERY, vgpuvm_ioctl_vm_query, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPUVM_STATS, vgpuvm_ioctl_stats, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPUVM_BO_QUERY, vgpuvm_ioctl_bo_query, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPUVM_BO_EVICT, vgpuvm_ioctl_bo_evict, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPUVM_VM_VALIDATE, vgpuvm_ioctl_vm_validate, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPUVM_VM_RW, vgpuvm_ioctl_vm_rw, DRM_RENDER_ALLOW),
};

DEFINE_DRM_GEM_FOPS(vgpuvm_fops);

static const struct drm_driver vgpuvm_driver = {
	.driver_features = DRIVER_GEM | DRIVER_RENDER | DRIVER_GEM_GPUVA | DRIVER_SYNCOBJ | DRIVER_SYNCOBJ_TIMELINE,
	.open = vgpuvm_open,
	.postclose = vgpuvm_postclose,
	.ioctls = vgpuvm_ioctls,
	.num_ioctls = ARRAY_SIZE(vgpuvm_ioctls),
	.fops = &vgpuvm_fops,
	.gem_create_object = vgpuvm_gem_create_object,
	.gem_prime_import = drm_gem_shmem_prime_import_no_map,
	.name = DRM_VGPUVM_DRIVER_NAME,
	.desc = "drm_gpuvm behind a VM_BIND ioctl, for tests",
	.major = 1,
	.minor = 0,
};

static int vgpuvm_probe(struct faux_device *faux)
{
	struct drm_device *drm;
	int ret;

	drm = drm_dev_alloc(&vgpuvm_driver, &faux->dev);
	if (IS_ERR(drm))
		return PTR_ERR(drm);
	ret = drm_dev_register(drm, 0);
	if (ret) {
		drm_dev_put(drm);
		return ret;
	}
	faux_device_set_drvdata(faux, drm);
	return 0;
}

static void vgpuvm_remove(struct faux_device *faux)
{
	struct drm_device *drm = faux_device_get_drvdata(faux);

	drm_dev_unregister(drm);
	drm_dev_put(drm);
}

static const struct faux_device_ops vgpuvm_faux_ops = {
	.probe = vgpuvm_probe,
	.remove = vgpuvm_remove,
};

static int __init vgpuvm_init(void)
{
	vgpuvm_faux = faux_device_create(DRM_VGPUVM_DRIVER_NAME, NULL, &vgpuvm_faux_ops);
	return vgpuvm_faux ? 0 : -ENODEV;
}

static void __exit vgpuvm_exit(void)
{
	faux_device_destroy(vgpuvm_faux);
	ida_destroy(&vm_ids);
}

module_init(vgpuvm_init);
module_exit(vgpuvm_exit);

MODULE_DESCRIPTION("Test DRM driver: drm_gpuvm behind a VM_BIND ioctl");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("DRM_GPUVM");
