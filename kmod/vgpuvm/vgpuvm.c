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
#include <linux/dma-fence-chain.h>
#include <linux/dma-resv.h>
#include <linux/idr.h>
#include <linux/iosys-map.h>
#include <linux/llist.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <linux/wait_bit.h>
#include <linux/xarray.h>

#include <drm/drm_drv.h>
#include <drm/drm_exec.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_gpuvm.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_syncobj.h>
#include <drm/gpu_scheduler.h>

#include "vgpuvm_drm.h"

/* Module-wide counts of live objects; STATS reports them so tests can check that everything was freed. */
static atomic64_t live_vms, live_bos, live_vm_bos, live_vas, live_queues, live_jobs;
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
	/* Queues by id; the mutex serialises submissions (a job is armed and pushed under it) and teardown. */
	struct xarray queues;
	struct mutex queues_lock;
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
 * The most mapping structures a MAP or UNMAP can need: a MAP uses one, and at most two remaps (the first
 * and the last VA visited) add a prev and a next piece. An MADVISE can need one more: it splits at most two
 * sparse mappings, each into a piece kept and a piece mapped again.
 */
#define VGPUVM_WALK_SPARES	3
#define VGPUVM_SPARES		4

/*
 * What one bind op needs inside the split/merge walk, prepared before it: the mapping structures, the
 * vm_bo of the mapped BO and the VA flags of the new mapping.
 */
struct vgpuvm_step_ctx {
	struct vgpuvm_vm *vm;
	struct vgpuvm_va *spare[VGPUVM_SPARES];
	struct drm_gpuvm_bo *vm_bo;
	u32 map_flags;
	/* Whether the ops go to the VM's op log (synchronous binds only). */
	bool record;
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

/* The next log slot, or NULL when the bind is not logged; capacity was reserved before the walk. */
static struct drm_vgpuvm_op *vgpuvm_log_slot(struct vgpuvm_step_ctx *ctx, u32 kind)
{
	struct vgpuvm_vm *vm = ctx->vm;
	struct drm_vgpuvm_op *rec;

	if (!ctx->record)
		return NULL;
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
	struct drm_vgpuvm_op *rec = vgpuvm_log_slot(ctx, DRM_VGPUVM_OP_MAP);
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
	struct drm_vgpuvm_op *rec = vgpuvm_log_slot(ctx, DRM_VGPUVM_OP_REMAP);
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
	struct drm_vgpuvm_op *rec = vgpuvm_log_slot(ctx, DRM_VGPUVM_OP_UNMAP);

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

/*
 * Takes the VM lock with no job of the VM unfinished, as a bind or a teardown must before it changes the VA
 * space: it waits for the fences in the VM's reservation without the lock, then checks again under it (EXEC
 * adds its fence only under the lock). Nothing waits for a job's fence with the lock held.
 */
static int vgpuvm_lock_vm_idle(struct vgpuvm_vm *vm, bool interruptible)
{
	struct dma_resv *resv = drm_gpuvm_resv(&vm->base);
	long waited;
	int ret;

	for (;;) {
		waited = dma_resv_wait_timeout(resv, DMA_RESV_USAGE_BOOKKEEP, interruptible, MAX_SCHEDULE_TIMEOUT);
		if (waited < 0)
			return waited;
		if (interruptible) {
			ret = mutex_lock_interruptible(&vm->lock);
			if (ret)
				return ret;
		} else {
			mutex_lock(&vm->lock);
		}
		if (dma_resv_test_signaled(resv, DMA_RESV_USAGE_BOOKKEEP))
			return 0;
		mutex_unlock(&vm->lock);
	}
}

/* --- VM_BIND --------------------------------------------------------------------------------------------------- */

/* A checked bind op: the request plus the BO it maps, with a reference. */
struct vgpuvm_checked_op {
	struct drm_vgpuvm_bind_op req;
	struct vgpuvm_bo *bo;
};

static int vgpuvm_submit_bind(struct drm_file *file, struct vgpuvm_vm *vm, struct drm_vgpuvm_vm_bind *args,
			      struct vgpuvm_checked_op *ops);

static int vgpuvm_check_op(struct vgpuvm_vm *vm, struct drm_file *file, struct vgpuvm_checked_op *op)
{
	const struct drm_vgpuvm_bind_op *req = &op->req;
	bool immediate = drm_gpuvm_immediate_mode(&vm->base);
	int want = immediate ? VGPUVM_BO_IMMEDIATE : VGPUVM_BO_STAGED;
	u64 end;
	int mode;

	if (req->pad)
		return -EINVAL;
	if (req->op == DRM_VGPUVM_BIND_OP_UNMAP || req->op == DRM_VGPUVM_BIND_OP_PREFETCH ||
	    req->op == DRM_VGPUVM_BIND_OP_MADVISE) {
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

/* Makes room in the op log for @count more ops. */
static int vgpuvm_reserve_log_for(struct vgpuvm_vm *vm, u64 count)
{
	u64 needed = vm->log_len + count;
	struct drm_vgpuvm_op *log;

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

/*
 * Makes room in the op log for one more MAP or UNMAP: GPUVM emits one op per existing VA the request
 * overlaps, plus the MAP, so counting the overlapping VAs (the reserved node counts too, harmlessly)
 * bounds it.
 */
static int vgpuvm_reserve_log(struct vgpuvm_vm *vm, u64 addr, u64 range)
{
	struct drm_gpuva *va;
	u64 needed = 1;

	drm_gpuvm_for_each_va_range(va, &vm->base, addr, addr + range)
		needed++;
	return vgpuvm_reserve_log_for(vm, needed);
}

/*
 * What one bind op needs before GPUVM walks, allocated in process context: the mapping structures (a MAP
 * uses one, and at most two remaps, the first and the last VA visited, add a prev and a next piece) and, in
 * the immediate designs, the pair of the mapped BO (drm_gpuvm_bo_create; obtain_prealloc uses or drops it).
 * An asynchronous bind allocates these at submission, so that its job allocates nothing when it runs.
 */
struct vgpuvm_op_res {
	struct vgpuvm_va *spare[VGPUVM_WALK_SPARES];
	struct drm_gpuvm_bo *vm_bo;
};

static void vgpuvm_op_res_free(struct vgpuvm_vm *vm, struct vgpuvm_op_res *res)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(res->spare); i++) {
		if (res->spare[i])
			vgpuvm_va_free(res->spare[i]);
		res->spare[i] = NULL;
	}
	/* A pre-allocated pair no walk used: it is on no list, and dropping it frees it. */
	if (res->vm_bo) {
		vgpuvm_put_vm_bo(vm, res->vm_bo);
		if (vm->design == VGPUVM_DESIGN_DEFERRED)
			drm_gpuvm_bo_deferred_cleanup(&vm->base);
		res->vm_bo = NULL;
	}
}

static int vgpuvm_op_res_alloc(struct vgpuvm_vm *vm, const struct vgpuvm_checked_op *op, struct vgpuvm_op_res *res)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(res->spare); i++) {
		res->spare[i] = vgpuvm_va_alloc();
		if (!res->spare[i])
			goto fail;
	}
	if (op->bo && vm->design != VGPUVM_DESIGN_RESV) {
		res->vm_bo = drm_gpuvm_bo_create(&vm->base, &op->bo->shmem.base);
		if (!res->vm_bo)
			goto fail;
	}
	return 0;
fail:
	vgpuvm_op_res_free(vm, res);
	return -ENOMEM;
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
 * Immediate mode: everything was allocated before (the pair through drm_gpuvm_bo_create; obtain_prealloc
 * takes the gpuva mutex itself), the walk takes only the GEMs' gpuva mutexes. In the DEFERRED design a
 * vm_bo whose last mapping went away is freed afterwards by drm_gpuvm_bo_deferred_cleanup(), outside what
 * would be a driver's fence-signalling path; in the GPUVA_LOCK design it was freed under the mutex already.
 */
static int vgpuvm_run_immediate(struct vgpuvm_step_ctx *ctx, const struct vgpuvm_checked_op *op,
				struct drm_gpuvm_map_req *map_req, struct drm_gpuvm_bo *prealloc)
{
	struct drm_gpuvm *gpuvm = &ctx->vm->base;
	int ret;

	if (prealloc) {
		ctx->vm_bo = drm_gpuvm_bo_obtain_prealloc(prealloc);
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

/*
 * Applies one checked op with its resources (which it takes over: @res is empty afterwards) on a VM whose
 * lock is held. @record logs the ops GPUVM generates (the caller reserved room). On failure nothing changed.
 */
static int vgpuvm_apply_op(struct vgpuvm_vm *vm, const struct vgpuvm_checked_op *op, struct vgpuvm_op_res *res,
			   bool record, bool interruptible)
{
	const struct drm_vgpuvm_bind_op *req = &op->req;
	bool is_map = req->op == DRM_VGPUVM_BIND_OP_MAP;
	struct drm_gpuvm_map_req map_req = {};
	struct drm_gpuvm_bo *prealloc = res->vm_bo;
	struct vgpuvm_step_ctx ctx = {
		.vm = vm,
		.map_flags = (is_map && !op->bo) ? DRM_GPUVA_SPARSE : 0,
		.record = record,
	};
	int ret;

	INIT_LIST_HEAD(&ctx.removed);
	memcpy(ctx.spare, res->spare, sizeof(res->spare));
	memset(res, 0, sizeof(*res));
	if (is_map) {
		map_req.map.va.addr = req->addr;
		map_req.map.va.range = req->range;
		map_req.map.gem.obj = op->bo ? &op->bo->shmem.base : NULL;
		map_req.map.gem.offset = req->bo_offset;
	}
	if (vm->design != VGPUVM_DESIGN_RESV)
		ret = vgpuvm_run_immediate(&ctx, op, is_map ? &map_req : NULL, prealloc);
	else
		ret = vgpuvm_run_staged(&ctx, op, is_map ? &map_req : NULL, interruptible);
	vgpuvm_ctx_release(&ctx);
	return ret;
}

/*
 * PREFETCH and MADVISE on a VM whose lock is held: GPUVM makes the whole op list first, then each op is
 * applied by the steps a MAP's walk uses, and logged. Madvise touches only sparse mappings, so no BO and no
 * BO lock is involved. Everything the list needs is allocated before any op applies: on failure nothing
 * changed.
 */
static int vgpuvm_run_op_list(struct vgpuvm_vm *vm, const struct vgpuvm_checked_op *op)
{
	const struct drm_vgpuvm_bind_op *req = &op->req;
	struct vgpuvm_step_ctx ctx = { .vm = vm, .map_flags = DRM_GPUVA_SPARSE, .record = true };
	struct drm_gpuvm_map_req map_req = {};
	struct drm_vgpuvm_op *rec;
	struct drm_gpuva_ops *ops;
	struct drm_gpuva_op *gop;
	u32 count = 0, pieces = 0, i;
	int ret;

	INIT_LIST_HEAD(&ctx.removed);
	if (req->op == DRM_VGPUVM_BIND_OP_PREFETCH) {
		ops = drm_gpuvm_prefetch_ops_create(&vm->base, req->addr, req->range);
	} else {
		map_req.map.va.addr = req->addr;
		map_req.map.va.range = req->range;
		ops = drm_gpuvm_madvise_ops_create(&vm->base, &map_req);
	}
	if (IS_ERR(ops))
		return PTR_ERR(ops);
	drm_gpuva_for_each_op(gop, ops) {
		count++;
		if (gop->op == DRM_GPUVA_OP_MAP)
			pieces++;
		else if (gop->op == DRM_GPUVA_OP_REMAP)
			pieces += !!gop->remap.prev + !!gop->remap.next;
	}
	ret = WARN_ON_ONCE(pieces > VGPUVM_SPARES) ? -EINVAL : vgpuvm_reserve_log_for(vm, count);
	for (i = 0; !ret && i < pieces; i++) {
		ctx.spare[i] = vgpuvm_va_alloc();
		if (!ctx.spare[i])
			ret = -ENOMEM;
	}
	if (ret)
		goto out;
	drm_gpuva_for_each_op(gop, ops) {
		switch (gop->op) {
		case DRM_GPUVA_OP_MAP:
			ret = vgpuvm_step_map(gop, &ctx);
			break;
		case DRM_GPUVA_OP_REMAP:
			ret = vgpuvm_step_remap(gop, &ctx);
			break;
		case DRM_GPUVA_OP_PREFETCH:
			rec = vgpuvm_log_slot(&ctx, DRM_VGPUVM_OP_PREFETCH);
			if (rec)
				vgpuvm_record_va(&rec->va, gop->prefetch.va);
			break;
		default:
			/* Neither generator emits UNMAP or driver ops. */
			ret = WARN_ON_ONCE(1) ? -EINVAL : 0;
		}
		if (ret)
			break;
	}
out:
	vgpuvm_ctx_release(&ctx);
	drm_gpuva_ops_free(&vm->base, ops);
	return ret;
}

/* Runs one checked op on a VM whose lock is held, logging its ops. On failure nothing changed. */
static int vgpuvm_run_op(struct vgpuvm_vm *vm, const struct vgpuvm_checked_op *op, bool interruptible)
{
	struct vgpuvm_op_res res = {};
	int ret;

	if (op->req.op == DRM_VGPUVM_BIND_OP_PREFETCH || op->req.op == DRM_VGPUVM_BIND_OP_MADVISE)
		return vgpuvm_run_op_list(vm, op);

	ret = vgpuvm_reserve_log(vm, op->req.addr, op->req.range);
	if (ret)
		return ret;
	ret = vgpuvm_op_res_alloc(vm, op, &res);
	if (ret)
		return ret;
	return vgpuvm_apply_op(vm, op, &res, true, interruptible);
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
	args->job_id = 0;
	if (args->stride != sizeof(struct drm_vgpuvm_bind_op) || args->count > DRM_VGPUVM_BIND_MAX_OPS)
		return -EINVAL;
	if (!args->queue_id && (args->num_in_syncs || args->num_out_syncs))
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
		/* A queued bind applies its ops as one walk each when its job runs: maps and unmaps only. */
		if (!ret && args->queue_id && ops[i].req.op != DRM_VGPUVM_BIND_OP_MAP &&
		    ops[i].req.op != DRM_VGPUVM_BIND_OP_UNMAP)
			ret = -EINVAL;
		if (ret)
			break;
	}
	if (ret) {
		args->failed_op = i;
		goto put_ops;
	}

	if (args->queue_id) {
		ret = vgpuvm_submit_bind(file, vm, args, ops);
		/* Queued: the job owns the checked ops now. */
		if (!ret)
			goto put_vm;
		goto put_ops;
	}
	ret = vgpuvm_lock_vm_idle(vm, true);
	if (ret)
		goto put_ops;
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
	args->queues = atomic64_read(&live_queues);
	args->jobs = atomic64_read(&live_jobs);
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

/* Called for each stretch of a walked range, in address order: @obj NULL is a sparse stretch. */
typedef int (*vgpuvm_piece_fn)(void *priv, u32 index, struct drm_gem_object *obj, u64 bo_offset, u32 len);

/*
 * Walks [addr, addr + size) (no wrap past 2^64) through the VM's tree, its lock held: @fn (if any) gets each
 * stretch in turn, and an error it returns ends the walk. Returns the number of stretches, or -EFAULT with
 * *@fault the first byte no BO backs (a hole, the reserved node, outside the VA space, or sparse with
 * @sparse_faults): with @fn NULL, a check of the whole range before anything is done with it.
 */
static int vgpuvm_va_walk(struct vgpuvm_vm *vm, u64 addr, u32 size, bool sparse_faults, vgpuvm_piece_fn fn,
			  void *priv, u64 *fault)
{
	u64 cursor = addr, end = addr + size;
	struct drm_gpuva *va;
	u32 n = 0;
	int ret;

	drm_gpuvm_for_each_va_range(va, &vm->base, addr, end) {
		u64 va_end = va->va.addr + va->va.range;
		u64 stop = min(va_end, end);

		if (va->va.addr > cursor || va == &vm->base.kernel_alloc_node)
			break;
		if (!va->gem.obj && sparse_faults)
			break;
		if (fn) {
			ret = fn(priv, n, va->gem.obj, va->gem.obj ? va->gem.offset + (cursor - va->va.addr) : 0,
				 stop - cursor);
			if (ret)
				return ret;
		}
		n++;
		cursor = stop;
		if (cursor == end)
			return n;
	}
	*fault = cursor;
	return -EFAULT;
}

struct vgpuvm_rw_pieces {
	struct vgpuvm_rw_piece *pieces;
	u32 room;
};

static int vgpuvm_rw_store_piece(void *priv, u32 index, struct drm_gem_object *obj, u64 bo_offset, u32 len)
{
	struct vgpuvm_rw_pieces *out = priv;

	if (index < out->room) {
		out->pieces[index].obj = obj;
		out->pieces[index].bo_offset = bo_offset;
		out->pieces[index].len = len;
	}
	return 0;
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
	struct vgpuvm_rw_pieces stored;
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
	count = vgpuvm_va_walk(vm, args->addr, args->size, sparse_faults, NULL, NULL, &fault);
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
	stored.pieces = pieces;
	stored.room = count;
	vgpuvm_va_walk(vm, args->addr, args->size, sparse_faults, vgpuvm_rw_store_piece, &stored, &fault);
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

/* --- Queues: drm_sched schedulers that run asynchronous binds and EXEC jobs ------------------------------ */

/* The hardware fence of a job: this software GPU runs a job whole in run_job and signals it there. */
struct vgpuvm_fence {
	struct dma_fence base;	/* first: the default release frees the whole struct */
	spinlock_t lock;
};

/* What JOB_QUERY reports of one job; a ring of DRM_VGPUVM_JOB_HISTORY entries, indexed by id. */
struct vgpuvm_job_result {
	u64 id;
	u32 state;
	s32 error;
	u32 fault_cmd;
	u64 fault_addr;
};

struct vgpuvm_queue {
	/* The file's reference and one per job: a killed job may be freed after the queue is destroyed. */
	struct kref ref;
	struct drm_gpu_scheduler sched;
	struct drm_sched_entity entity;
	struct drm_gpu_scheduler *sched_list[1];
	/* With a GPUVM reference, dropped with the last queue reference. */
	struct vgpuvm_vm *vm;
	u32 id;
	u64 fence_context;
	/* The last job id handed out; under the file's queues_lock. */
	u64 last_id;
	spinlock_t results_lock;
	struct vgpuvm_job_result *results;
};

struct vgpuvm_job {
	struct drm_sched_job base;
	struct vgpuvm_queue *queue;	/* with a reference */
	u64 id;
	/* Allocated at submission, initialised and handed to the scheduler by run_job. */
	struct vgpuvm_fence *hw_fence;
	/* An EXEC job: its commands and a buffer as large as the largest one. */
	struct drm_vgpuvm_cmd *cmds;
	u32 num_cmds;
	u8 *bounce;
	/* A bind job: its checked ops and what each needs, allocated at submission. */
	struct vgpuvm_checked_op *ops;
	struct vgpuvm_op_res *res;
	u32 num_ops;
	/* How it ended: a faulting command and address. */
	u32 fault_cmd;
	u64 fault_addr;
};

static struct vgpuvm_job *to_vgpuvm_job(struct drm_sched_job *job)
{
	return container_of(job, struct vgpuvm_job, base);
}

static const char *vgpuvm_fence_driver_name(struct dma_fence *fence)
{
	return DRM_VGPUVM_DRIVER_NAME;
}

static const char *vgpuvm_fence_timeline_name(struct dma_fence *fence)
{
	return "vgpuvm-queue";
}

static const struct dma_fence_ops vgpuvm_fence_ops = {
	.get_driver_name = vgpuvm_fence_driver_name,
	.get_timeline_name = vgpuvm_fence_timeline_name,
};

static void vgpuvm_queue_release(struct kref *ref)
{
	struct vgpuvm_queue *q = container_of(ref, struct vgpuvm_queue, ref);

	drm_gpuvm_put(&q->vm->base);
	kvfree(q->results);
	kfree(q);
	atomic64_dec(&live_queues);
}

static void vgpuvm_queue_put(struct vgpuvm_queue *q)
{
	kref_put(&q->ref, vgpuvm_queue_release);
}

/* Records how a job ended, unless a newer job took its slot in the ring already. */
static void vgpuvm_job_record(struct vgpuvm_job *job, int error)
{
	struct vgpuvm_queue *q = job->queue;
	struct vgpuvm_job_result *r = &q->results[job->id % DRM_VGPUVM_JOB_HISTORY];

	spin_lock(&q->results_lock);
	if (r->id == job->id && r->state == DRM_VGPUVM_JOB_PENDING) {
		r->state = DRM_VGPUVM_JOB_DONE;
		r->error = error;
		r->fault_cmd = job->fault_cmd;
		r->fault_addr = job->fault_addr;
	}
	spin_unlock(&q->results_lock);
}

static void vgpuvm_job_free(struct vgpuvm_job *job)
{
	struct vgpuvm_vm *vm = job->queue->vm;
	u32 i;

	for (i = 0; job->res && i < job->num_ops; i++)
		vgpuvm_op_res_free(vm, &job->res[i]);
	if (job->ops)
		vgpuvm_put_checked(job->ops, job->num_ops);
	kvfree(job->res);
	kvfree(job->ops);
	kvfree(job->cmds);
	kvfree(job->bounce);
	/* Never initialised when run_job did not run: a plain allocation still. */
	kfree(job->hw_fence);
	vgpuvm_queue_put(job->queue);
	kfree(job);
	if (atomic64_dec_and_test(&live_jobs))
		wake_up_var(&live_jobs);
}

/* Copies between a flat buffer and the stretches of a walked range, mapping each BO for the copy. */
struct vgpuvm_xfer {
	u8 *buf;
	bool write;
};

static int vgpuvm_xfer_piece(void *priv, u32 index, struct drm_gem_object *obj, u64 bo_offset, u32 len)
{
	struct vgpuvm_xfer *x = priv;
	struct iosys_map map;
	int ret;

	ret = drm_gem_vmap(obj, &map);
	if (ret)
		return ret;
	if (x->write)
		iosys_map_memcpy_to(&map, bo_offset, x->buf, len);
	else
		iosys_map_memcpy_from(x->buf, &map, bo_offset, len);
	drm_gem_vunmap(obj, &map);
	x->buf += len;
	return 0;
}

static int vgpuvm_xfer(struct vgpuvm_vm *vm, u64 addr, u32 size, u8 *buf, bool write)
{
	struct vgpuvm_xfer x = { .buf = buf, .write = write };
	u64 fault;
	int ret = vgpuvm_va_walk(vm, addr, size, true, vgpuvm_xfer_piece, &x, &fault);

	return ret < 0 ? ret : 0;
}

static u64 vgpuvm_fnv1a(const u8 *data, u32 len)
{
	u64 hash = 0xcbf29ce484222325ull;
	u32 i;

	for (i = 0; i < len; i++) {
		hash ^= data[i];
		hash *= 0x100000001b3ull;
	}
	return hash;
}

/*
 * One command, the VM lock held: both ranges are checked against the tree first, so a fault writes
 * nothing; then the bytes move through the job's buffer.
 */
static int vgpuvm_run_cmd(struct vgpuvm_vm *vm, const struct drm_vgpuvm_cmd *cmd, u8 *bounce, u64 *fault)
{
	u32 size = cmd->size, dst_size = cmd->op == DRM_VGPUVM_CMD_CHECKSUM ? 8 : size;
	u64 hash;
	u32 i;
	int ret;

	if (cmd->op != DRM_VGPUVM_CMD_FILL) {
		ret = vgpuvm_va_walk(vm, cmd->src, size, true, NULL, NULL, fault);
		if (ret < 0)
			return ret;
	}
	ret = vgpuvm_va_walk(vm, cmd->dst, dst_size, true, NULL, NULL, fault);
	if (ret < 0)
		return ret;
	switch (cmd->op) {
	case DRM_VGPUVM_CMD_COPY:
		ret = vgpuvm_xfer(vm, cmd->src, size, bounce, false);
		break;
	case DRM_VGPUVM_CMD_FILL:
		for (i = 0; i < size; i++)
			bounce[i] = cmd->value >> (8 * (i % 8));
		ret = 0;
		break;
	case DRM_VGPUVM_CMD_CHECKSUM:
		ret = vgpuvm_xfer(vm, cmd->src, size, bounce, false);
		if (!ret) {
			hash = vgpuvm_fnv1a(bounce, size);
			put_unaligned_le64(hash, bounce);
		}
		break;
	default:
		ret = -EINVAL;
	}
	if (!ret)
		ret = vgpuvm_xfer(vm, cmd->dst, dst_size, bounce, true);
	return ret;
}

/*
 * The GPU side of EXEC. It runs in the scheduler's workqueue and takes the VM lock and, to map each BO,
 * its reservation: no path of this driver waits for a job's fence while holding either (binds and VM
 * teardown wait before they lock, see vgpuvm_lock_vm_idle), so this cannot deadlock against them.
 */
static int vgpuvm_job_exec(struct vgpuvm_job *job)
{
	struct vgpuvm_vm *vm = job->queue->vm;
	u32 i;
	int ret = 0;

	mutex_lock(&vm->lock);
	if (vm->destroyed)
		ret = -ENOENT;
	for (i = 0; !ret && i < job->num_cmds; i++) {
		ret = vgpuvm_run_cmd(vm, &job->cmds[i], job->bounce, &job->fault_addr);
		if (ret == -EFAULT)
			job->fault_cmd = i;
	}
	mutex_unlock(&vm->lock);
	return ret;
}

/* An asynchronous bind: every op was checked and allocated at submission, so none fails here. */
static int vgpuvm_job_bind(struct vgpuvm_job *job)
{
	struct vgpuvm_vm *vm = job->queue->vm;
	u32 i;
	int ret = 0;

	mutex_lock(&vm->lock);
	if (vm->destroyed)
		ret = -ENOENT;
	for (i = 0; !ret && i < job->num_ops; i++)
		ret = vgpuvm_apply_op(vm, &job->ops[i], &job->res[i], false, false);
	mutex_unlock(&vm->lock);
	return ret;
}

static struct dma_fence *vgpuvm_run_job(struct drm_sched_job *sched_job)
{
	struct vgpuvm_job *job = to_vgpuvm_job(sched_job);
	struct vgpuvm_fence *hw = job->hw_fence;
	int error = sched_job->s_fence->finished.error;

	job->hw_fence = NULL;
	spin_lock_init(&hw->lock);
	dma_fence_init(&hw->base, &vgpuvm_fence_ops, &hw->lock, job->queue->fence_context, job->id);
	if (!error)
		error = job->ops ? vgpuvm_job_bind(job) : vgpuvm_job_exec(job);
	vgpuvm_job_record(job, error);
	if (error)
		dma_fence_set_error(&hw->base, error);
	dma_fence_signal(&hw->base);
	/* The scheduler inherits the reference dma_fence_init made. */
	return &hw->base;
}

/* A job never hangs: run_job signals its fence before it returns. */
static enum drm_gpu_sched_stat vgpuvm_timedout_job(struct drm_sched_job *sched_job)
{
	return DRM_GPU_SCHED_STAT_NO_HANG;
}

static void vgpuvm_free_job(struct drm_sched_job *sched_job)
{
	struct vgpuvm_job *job = to_vgpuvm_job(sched_job);
	int error = sched_job->s_fence->finished.error;

	/* A job killed before it ran ends here with the error its scheduler fence got. */
	vgpuvm_job_record(job, error ? error : -ECANCELED);
	drm_sched_job_cleanup(sched_job);
	vgpuvm_job_free(job);
}

/*
 * drm_sched_fini() calls this for each job still on the scheduler's pending list, then frees it with
 * free_job; without the callback those jobs (and the queue and VM they hold) would leak. That happens when
 * a queue is torn down with a job that ran but whose free_job work had not run yet: the file closed while
 * the job was running, say. Such a job has run, and run_job signals its fence before it returns, so there
 * is nothing left to signal.
 */
static void vgpuvm_cancel_job(struct drm_sched_job *sched_job)
{
}

static const struct drm_sched_backend_ops vgpuvm_sched_ops = {
	.run_job = vgpuvm_run_job,
	.timedout_job = vgpuvm_timedout_job,
	.free_job = vgpuvm_free_job,
	.cancel_job = vgpuvm_cancel_job,
};

static int vgpuvm_ioctl_queue_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_queue_create *args = data;
	struct vgpuvm_file *vfile = file->driver_priv;
	struct drm_sched_init_args sched_args = {
		.ops = &vgpuvm_sched_ops,
		.num_rqs = DRM_SCHED_PRIORITY_COUNT,
		.credit_limit = 1,
		.timeout = MAX_SCHEDULE_TIMEOUT,
		.name = "vgpuvm",
		.dev = drm->dev,
	};
	struct vgpuvm_queue *q;
	struct vgpuvm_vm *vm;
	int ret;

	if (args->flags || args->pad)
		return -EINVAL;
	vm = vgpuvm_vm_lookup(vfile, args->vm_id);
	if (!vm)
		return -ENOENT;
	q = kzalloc(sizeof(*q), GFP_KERNEL);
	if (!q) {
		drm_gpuvm_put(&vm->base);
		return -ENOMEM;
	}
	kref_init(&q->ref);
	q->vm = vm;
	spin_lock_init(&q->results_lock);
	atomic64_inc(&live_queues);
	q->results = kvcalloc(DRM_VGPUVM_JOB_HISTORY, sizeof(*q->results), GFP_KERNEL);
	if (!q->results) {
		ret = -ENOMEM;
		goto put;
	}
	q->fence_context = dma_fence_context_alloc(1);
	ret = drm_sched_init(&q->sched, &sched_args);
	if (ret)
		goto put;
	q->sched_list[0] = &q->sched;
	ret = drm_sched_entity_init(&q->entity, DRM_SCHED_PRIORITY_NORMAL, q->sched_list, 1, NULL);
	if (ret)
		goto fini;
	mutex_lock(&vfile->queues_lock);
	ret = xa_alloc(&vfile->queues, &q->id, q, xa_limit_31b, GFP_KERNEL);
	mutex_unlock(&vfile->queues_lock);
	if (ret)
		goto entity;
	args->queue_id = q->id;
	return 0;
entity:
	drm_sched_entity_destroy(&q->entity);
fini:
	drm_sched_fini(&q->sched);
put:
	vgpuvm_queue_put(q);
	return ret;
}

/* Flushes, kills and frees a queue the file no longer lists. */
static void vgpuvm_queue_teardown(struct vgpuvm_queue *q)
{
	drm_sched_entity_destroy(&q->entity);
	drm_sched_fini(&q->sched);
	vgpuvm_queue_put(q);
}

static int vgpuvm_ioctl_queue_destroy(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_queue_destroy *args = data;
	struct vgpuvm_file *vfile = file->driver_priv;
	struct vgpuvm_queue *q;

	if (args->pad)
		return -EINVAL;
	mutex_lock(&vfile->queues_lock);
	q = xa_erase(&vfile->queues, args->queue_id);
	mutex_unlock(&vfile->queues_lock);
	if (!q)
		return -ENOENT;
	vgpuvm_queue_teardown(q);
	return 0;
}

/* Destroys every queue of @vm (all of them with @vm NULL), as VM_DESTROY and the file's close do. */
static void vgpuvm_destroy_queues(struct vgpuvm_file *vfile, struct vgpuvm_vm *vm)
{
	struct vgpuvm_queue *q;
	unsigned long id;

	mutex_lock(&vfile->queues_lock);
	xa_for_each(&vfile->queues, id, q) {
		if (vm && q->vm != vm)
			continue;
		xa_erase(&vfile->queues, id);
		vgpuvm_queue_teardown(q);
	}
	mutex_unlock(&vfile->queues_lock);
}

/* --- Submission: in-syncs, out-syncs, and pushing a job -------------------------------------------------- */

static int vgpuvm_copy_syncs(u64 user, u32 count, struct drm_vgpuvm_sync **out)
{
	struct drm_vgpuvm_sync *syncs;
	u32 i;

	*out = NULL;
	if (count > DRM_VGPUVM_MAX_SYNCS)
		return -EINVAL;
	if (!count)
		return 0;
	syncs = memdup_array_user(u64_to_user_ptr(user), count, sizeof(*syncs));
	if (IS_ERR(syncs))
		return PTR_ERR(syncs);
	for (i = 0; i < count; i++) {
		bool timeline = syncs[i].flags & DRM_VGPUVM_SYNC_TIMELINE;

		if ((syncs[i].flags & ~DRM_VGPUVM_SYNC_TIMELINE) || timeline != (syncs[i].point != 0)) {
			kfree(syncs);
			return -EINVAL;
		}
	}
	*out = syncs;
	return 0;
}

/* The syncobjs a job signals, found and (for timeline points) given their chain node before the push. */
struct vgpuvm_out_sync {
	struct drm_syncobj *syncobj;
	struct dma_fence_chain *chain;
	u64 point;
};

static void vgpuvm_out_syncs_release(struct vgpuvm_out_sync *outs, u32 count)
{
	u32 i;

	for (i = 0; outs && i < count; i++) {
		if (outs[i].syncobj)
			drm_syncobj_put(outs[i].syncobj);
		dma_fence_chain_free(outs[i].chain);
	}
	kfree(outs);
}

static int vgpuvm_out_syncs_prepare(struct drm_file *file, const struct drm_vgpuvm_sync *syncs, u32 count,
				    struct vgpuvm_out_sync **out)
{
	struct vgpuvm_out_sync *outs;
	u32 i;

	*out = NULL;
	if (!count)
		return 0;
	outs = kcalloc(count, sizeof(*outs), GFP_KERNEL);
	if (!outs)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		outs[i].syncobj = drm_syncobj_find(file, syncs[i].handle);
		if (!outs[i].syncobj)
			goto enoent;
		outs[i].point = syncs[i].point;
		if (syncs[i].point) {
			outs[i].chain = dma_fence_chain_alloc();
			if (!outs[i].chain) {
				vgpuvm_out_syncs_release(outs, count);
				return -ENOMEM;
			}
		}
	}
	*out = outs;
	return 0;
enoent:
	vgpuvm_out_syncs_release(outs, count);
	return -ENOENT;
}

static void vgpuvm_out_syncs_signal(struct vgpuvm_out_sync *outs, u32 count, struct dma_fence *fence)
{
	u32 i;

	for (i = 0; outs && i < count; i++) {
		if (outs[i].chain) {
			drm_syncobj_add_point(outs[i].syncobj, outs[i].chain, fence, outs[i].point);
			outs[i].chain = NULL;
		} else {
			drm_syncobj_replace_fence(outs[i].syncobj, fence);
		}
	}
}

/*
 * A job on @q with its in-syncs as scheduler dependencies; the caller holds the file's queues_lock. The
 * job holds a queue reference from here on; undo with vgpuvm_job_abort until it is armed.
 */
static struct vgpuvm_job *vgpuvm_job_create(struct vgpuvm_queue *q, struct drm_file *file,
					    const struct drm_vgpuvm_sync *in, u32 num_in)
{
	struct vgpuvm_job *job;
	u32 i;
	int ret;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return ERR_PTR(-ENOMEM);
	job->hw_fence = kzalloc(sizeof(*job->hw_fence), GFP_KERNEL);
	if (!job->hw_fence) {
		kfree(job);
		return ERR_PTR(-ENOMEM);
	}
	kref_get(&q->ref);
	job->queue = q;
	job->fault_cmd = ~0u;
	job->fault_addr = ~0ull;
	atomic64_inc(&live_jobs);
	ret = drm_sched_job_init(&job->base, &q->entity, 1, q, file->client_id);
	if (ret) {
		vgpuvm_job_free(job);
		return ERR_PTR(ret);
	}
	for (i = 0; i < num_in; i++) {
		ret = drm_sched_job_add_syncobj_dependency(&job->base, file, in[i].handle, in[i].point);
		if (ret) {
			/* A syncobj that is not there, or has no fence at that point yet: ENOENT, not EINVAL. */
			drm_sched_job_cleanup(&job->base);
			vgpuvm_job_free(job);
			return ERR_PTR(ret == -EINVAL ? -ENOENT : ret);
		}
	}
	return job;
}

static void vgpuvm_job_abort(struct vgpuvm_job *job)
{
	drm_sched_job_cleanup(&job->base);
	vgpuvm_job_free(job);
}

/* Gives the job its id and scheduler fence (returned with a reference); under the file's queues_lock. */
static struct dma_fence *vgpuvm_job_arm(struct vgpuvm_job *job)
{
	struct vgpuvm_queue *q = job->queue;
	struct vgpuvm_job_result *r;

	job->id = ++q->last_id;
	r = &q->results[job->id % DRM_VGPUVM_JOB_HISTORY];
	spin_lock(&q->results_lock);
	r->id = job->id;
	r->state = DRM_VGPUVM_JOB_PENDING;
	r->error = 0;
	r->fault_cmd = ~0u;
	r->fault_addr = ~0ull;
	spin_unlock(&q->results_lock);
	drm_sched_job_arm(&job->base);
	return dma_fence_get(&job->base.s_fence->finished);
}

/* The queue @id of this file; the caller holds queues_lock, which keeps it listed. */
static struct vgpuvm_queue *vgpuvm_queue_find(struct vgpuvm_file *vfile, u32 id)
{
	lockdep_assert_held(&vfile->queues_lock);
	return id ? xa_load(&vfile->queues, id) : NULL;
}

/* An asynchronous VM_BIND of checked ops (which the job takes over) on queue @queue_id of @vm. */
static int vgpuvm_submit_bind(struct drm_file *file, struct vgpuvm_vm *vm, struct drm_vgpuvm_vm_bind *args,
			      struct vgpuvm_checked_op *ops)
{
	struct vgpuvm_file *vfile = file->driver_priv;
	struct drm_vgpuvm_sync *in = NULL, *out = NULL;
	struct dma_resv *resv = drm_gpuvm_resv(&vm->base);
	struct vgpuvm_out_sync *outs = NULL;
	struct vgpuvm_queue *q;
	struct vgpuvm_job *job;
	struct dma_fence *fence;
	u32 i;
	int ret;

	if (vm->design == VGPUVM_DESIGN_RESV)
		return -EINVAL;
	ret = vgpuvm_copy_syncs(args->in_syncs, args->num_in_syncs, &in);
	if (!ret)
		ret = vgpuvm_copy_syncs(args->out_syncs, args->num_out_syncs, &out);
	if (ret)
		goto free_syncs;
	mutex_lock(&vfile->queues_lock);
	q = vgpuvm_queue_find(vfile, args->queue_id);
	if (!q || q->vm != vm) {
		ret = q ? -EINVAL : -ENOENT;
		goto unlock;
	}
	ret = vgpuvm_out_syncs_prepare(file, out, args->num_out_syncs, &outs);
	if (ret)
		goto unlock;
	job = vgpuvm_job_create(q, file, in, args->num_in_syncs);
	if (IS_ERR(job)) {
		ret = PTR_ERR(job);
		goto unlock;
	}
	job->res = kvcalloc(max_t(u32, args->count, 1), sizeof(*job->res), GFP_KERNEL);
	if (!job->res) {
		ret = -ENOMEM;
		goto abort;
	}
	/* Counted now, so that an abort frees what was allocated; the ops stay the caller's until queued. */
	job->num_ops = args->count;
	for (i = 0; i < args->count; i++) {
		ret = vgpuvm_op_res_alloc(vm, &ops[i], &job->res[i]);
		if (ret)
			goto abort;
	}
	/* Every job of the VM submitted so far must be done before this bind changes the VA space. */
	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		goto abort;
	ret = drm_sched_job_add_resv_dependencies(&job->base, resv, DMA_RESV_USAGE_BOOKKEEP);
	dma_resv_unlock(resv);
	if (ret)
		goto abort;
	job->ops = ops;
	fence = vgpuvm_job_arm(job);
	args->job_id = job->id;
	drm_sched_entity_push_job(&job->base);
	vgpuvm_out_syncs_signal(outs, args->num_out_syncs, fence);
	dma_fence_put(fence);
	mutex_unlock(&vfile->queues_lock);
	vgpuvm_out_syncs_release(outs, args->num_out_syncs);
	kfree(in);
	kfree(out);
	return 0;
abort:
	vgpuvm_job_abort(job);
unlock:
	mutex_unlock(&vfile->queues_lock);
	vgpuvm_out_syncs_release(outs, args->num_out_syncs);
free_syncs:
	kfree(in);
	kfree(out);
	return ret;
}

static int vgpuvm_check_cmd(const struct drm_vgpuvm_cmd *cmd)
{
	u64 end;

	if (cmd->pad || cmd->op > DRM_VGPUVM_CMD_CHECKSUM)
		return -EINVAL;
	if (cmd->size == 0 || cmd->size > DRM_VGPUVM_CMD_MAX_SIZE)
		return -EINVAL;
	if (cmd->op != DRM_VGPUVM_CMD_FILL && cmd->value)
		return -EINVAL;
	if (cmd->op == DRM_VGPUVM_CMD_FILL && cmd->src)
		return -EINVAL;
	if (check_add_overflow(cmd->src, cmd->size, &end))
		return -EINVAL;
	if (check_add_overflow(cmd->dst, cmd->op == DRM_VGPUVM_CMD_CHECKSUM ? 8 : cmd->size, &end))
		return -EINVAL;
	return 0;
}

static int vgpuvm_ioctl_exec(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_exec *args = data;
	struct vgpuvm_file *vfile = file->driver_priv;
	struct drm_vgpuvm_sync *in = NULL, *out = NULL;
	struct drm_gpuvm_exec vm_exec = { .flags = DRM_EXEC_INTERRUPTIBLE_WAIT, .num_fences = 1 };
	struct vgpuvm_out_sync *outs = NULL;
	struct drm_vgpuvm_cmd *cmds;
	struct vgpuvm_queue *q;
	struct vgpuvm_job *job;
	struct dma_fence *fence;
	struct vgpuvm_vm *vm;
	u64 largest = 8;
	u32 i;
	int ret;

	args->failed_cmd = ~0u;
	args->job_id = 0;
	if (args->stride != sizeof(struct drm_vgpuvm_cmd) || args->count == 0 ||
	    args->count > DRM_VGPUVM_EXEC_MAX_CMDS)
		return -EINVAL;
	cmds = memdup_array_user(u64_to_user_ptr(args->cmds), args->count, sizeof(*cmds));
	if (IS_ERR(cmds))
		return PTR_ERR(cmds);
	for (i = 0; i < args->count; i++) {
		ret = vgpuvm_check_cmd(&cmds[i]);
		if (ret) {
			args->failed_cmd = i;
			kfree(cmds);
			return ret;
		}
		largest = max(largest, cmds[i].size);
	}
	ret = vgpuvm_copy_syncs(args->in_syncs, args->num_in_syncs, &in);
	if (!ret)
		ret = vgpuvm_copy_syncs(args->out_syncs, args->num_out_syncs, &out);
	if (ret)
		goto free;

	mutex_lock(&vfile->queues_lock);
	q = vgpuvm_queue_find(vfile, args->queue_id);
	if (!q) {
		ret = -ENOENT;
		goto unlock;
	}
	vm = q->vm;
	ret = vgpuvm_out_syncs_prepare(file, out, args->num_out_syncs, &outs);
	if (ret)
		goto unlock;
	job = vgpuvm_job_create(q, file, in, args->num_in_syncs);
	if (IS_ERR(job)) {
		ret = PTR_ERR(job);
		goto unlock;
	}
	job->bounce = kvmalloc(largest, GFP_KERNEL);
	if (!job->bounce) {
		ret = -ENOMEM;
		goto abort;
	}
	job->cmds = cmds;
	job->num_cmds = args->count;
	cmds = NULL;

	/* Under the VM lock, so that a bind checking that the VM is idle cannot miss this job's fence. */
	mutex_lock(&vm->lock);
	if (vm->destroyed) {
		ret = -ENOENT;
		goto unlock_vm;
	}
	vm_exec.vm = &vm->base;
	ret = drm_gpuvm_exec_lock(&vm_exec);
	if (ret)
		goto unlock_vm;
	ret = drm_gpuvm_validate(&vm->base, &vm_exec.exec);
	if (ret) {
		drm_gpuvm_exec_unlock(&vm_exec);
		goto unlock_vm;
	}
	fence = vgpuvm_job_arm(job);
	drm_gpuvm_exec_resv_add_fence(&vm_exec, fence, DMA_RESV_USAGE_BOOKKEEP, DMA_RESV_USAGE_BOOKKEEP);
	drm_gpuvm_exec_unlock(&vm_exec);
	mutex_unlock(&vm->lock);
	args->job_id = job->id;
	drm_sched_entity_push_job(&job->base);
	vgpuvm_out_syncs_signal(outs, args->num_out_syncs, fence);
	dma_fence_put(fence);
	mutex_unlock(&vfile->queues_lock);
	ret = 0;
	goto release;

unlock_vm:
	mutex_unlock(&vm->lock);
abort:
	vgpuvm_job_abort(job);
unlock:
	mutex_unlock(&vfile->queues_lock);
release:
	vgpuvm_out_syncs_release(outs, args->num_out_syncs);
free:
	kfree(in);
	kfree(out);
	kfree(cmds);
	return ret;
}

static int vgpuvm_ioctl_job_query(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vgpuvm_job_query *args = data;
	struct vgpuvm_file *vfile = file->driver_priv;
	struct vgpuvm_job_result *r;
	struct vgpuvm_queue *q;
	int ret = -ENOENT;

	if (args->pad || args->pad2)
		return -EINVAL;
	mutex_lock(&vfile->queues_lock);
	q = vgpuvm_queue_find(vfile, args->queue_id);
	if (q && args->job_id) {
		r = &q->results[args->job_id % DRM_VGPUVM_JOB_HISTORY];
		spin_lock(&q->results_lock);
		if (r->id == args->job_id) {
			args->state = r->state;
			args->error = r->error;
			args->fault_cmd = r->fault_cmd;
			args->fault_addr = r->fault_addr;
			ret = 0;
		}
		spin_unlock(&q->results_lock);
	}
	mutex_unlock(&vfile->queues_lock);
	return ret;
}

/* --- VM destruction -------------------------------------------------------------------------------------------- */

/*
 * Unmaps every mapping, one exact-range UNMAP each, and marks the VM destroyed so a bind that raced with
 * the destruction fails with ENOENT. Waits are not interruptible: the file may be closing. The VM's queues
 * are gone by then (drm_sched_fini lets no job run afterwards), so no job can touch the mappings: killed
 * jobs whose fences still wait for their dependencies are not waited for.
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
	vgpuvm_destroy_queues(vfile, vm);
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
	xa_init_flags(&vfile->queues, XA_FLAGS_ALLOC1);
	mutex_init(&vfile->queues_lock);
	file->driver_priv = vfile;
	return 0;
}

static void vgpuvm_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct vgpuvm_file *vfile = file->driver_priv;
	struct vgpuvm_vm *vm;
	unsigned long id;

	/* Queues first: they hold their VMs, and their jobs must be done or killed before a VM goes. */
	vgpuvm_destroy_queues(vfile, NULL);
	xa_destroy(&vfile->queues);
	mutex_destroy(&vfile->queues_lock);
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
	DRM_IOCTL_DEF_DRV(VGPUVM_QUEUE_CREATE, vgpuvm_ioctl_queue_create, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPUVM_QUEUE_DESTROY, vgpuvm_ioctl_queue_destroy, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPUVM_EXEC, vgpuvm_ioctl_exec, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPUVM_JOB_QUERY, vgpuvm_ioctl_job_query, DRM_RENDER_ALLOW),
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
	/* A killed job is freed from the scheduler's work once its dependencies signal: wait for the last. */
	wait_var_event(&live_jobs, !atomic64_read(&live_jobs));
	ida_destroy(&vm_ids);
}

module_init(vgpuvm_init);
module_exit(vgpuvm_exit);

MODULE_DESCRIPTION("Test DRM driver: drm_gpuvm behind a VM_BIND ioctl");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("DRM_GPUVM");
