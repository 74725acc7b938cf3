// SPDX-License-Identifier: MIT
/*
 * Bring-up test of the vgpuvm module, run inside the sid VM as a static program:
 *   1. the split/merge cases of drm_gpuvm (the worked examples of split-merge-examples.test.ts),
 *      through VM_BIND, in both VM modes, comparing the ops VM_QUERY returns with the expected ones;
 *   2. the rejected requests (zero range, overflow, outside the space, reserved node, BO bounds, bad fields,
 *      unknown handle, bad pointers), each checked to change nothing;
 *   3. a seeded fuzz of random (mostly valid, partly garbage) requests on several VMs sharing BOs;
 *   4. several processes binding at once on BOs they share through PRIME, in both modes;
 *   5. that every VM, vm_bo, mapping, BO, queue and job is freed once closed (the module's STATS counters);
 *   6. the software GPU: EXEC jobs (fill, copy, checksum through the VA, faults), asynchronous binds,
 *      binary and timeline syncobjs, ordering against a vgem fence, teardown with jobs in flight, and four
 *      processes running jobs at once on a BO they share through PRIME.
 * Prints one line per failure and a summary `vgpuvm-smoke: N passed, M failed`; exits 1 on any failure.
 * Usage: smoke [RENDER_NODE] [FUZZ_REQUESTS] [SEED]
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm/vgem_drm.h>
#include <linux/dma-buf.h>

#include "vgpuvm_drm.h"

static int passed, failed;

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* ioctl, retried on EINTR; returns 0 or the errno. */
static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do
		ret = ioctl(fd, req, arg);
	while (ret == -1 && errno == EINTR);
	return ret == -1 ? errno : 0;
}

static int open_vgpuvm(const char *path)
{
	char name[32] = { 0 };
	struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("vgpuvm-smoke: cannot open %s: %s\n", path, strerror(errno));
		exit(2);
	}
	if (xioctl(fd, DRM_IOCTL_VERSION, &v) || strcmp(name, DRM_VGPUVM_DRIVER_NAME)) {
		printf("vgpuvm-smoke: %s is driver '%s', not vgpuvm\n", path, name);
		exit(2);
	}
	return fd;
}

/* --- BOs: names A..D for the case tables ----------------------------------------------------------------- */

#define NBOS 4
static uint32_t bo_handle[NBOS];
static uint64_t bo_id[NBOS];

static void create_bos(int fd)
{
	for (int i = 0; i < NBOS; i++) {
		struct drm_vgpuvm_bo_create c = { .size = 0x100000 };

		check(xioctl(fd, DRM_IOCTL_VGPUVM_BO_CREATE, &c) == 0, "BO_CREATE %d", i);
		bo_handle[i] = c.handle;
		bo_id[i] = c.bo_id;
	}
}

static const char *bo_name(uint64_t id)
{
	static char other[32];

	if (id == 0)
		return "sparse";
	for (int i = 0; i < NBOS; i++)
		if (bo_id[i] == id)
			return (const char *[]){ "A", "B", "C", "D" }[i];
	snprintf(other, sizeof(other), "bo%" PRIu64, id);
	return other;
}

/* --- VM helpers ---------------------------------------------------------------------------------------------- */

static uint32_t vm_create(int fd, uint64_t start, uint64_t range, uint64_t rstart, uint64_t rrange, uint32_t flags)
{
	struct drm_vgpuvm_vm_create c = {
		.va_start = start, .va_range = range, .reserve_start = rstart, .reserve_range = rrange, .flags = flags,
	};
	int err = xioctl(fd, DRM_IOCTL_VGPUVM_VM_CREATE, &c);

	check(err == 0, "VM_CREATE: %s", strerror(err));
	return c.vm_id;
}

static void vm_destroy(int fd, uint32_t id)
{
	struct drm_vgpuvm_vm_destroy d = { .vm_id = id };

	check(xioctl(fd, DRM_IOCTL_VGPUVM_VM_DESTROY, &d) == 0, "VM_DESTROY");
}

static struct drm_vgpuvm_bind_op map_op(uint64_t addr, uint64_t range, int bo, uint64_t offset)
{
	struct drm_vgpuvm_bind_op op = { .op = DRM_VGPUVM_BIND_OP_MAP, .addr = addr, .range = range };

	if (bo < 0) {
		op.flags = DRM_VGPUVM_BIND_SPARSE;
	} else {
		op.handle = bo_handle[bo];
		op.bo_offset = offset;
	}
	return op;
}

static struct drm_vgpuvm_bind_op unmap_op(uint64_t addr, uint64_t range)
{
	return (struct drm_vgpuvm_bind_op){ .op = DRM_VGPUVM_BIND_OP_UNMAP, .addr = addr, .range = range };
}

static int bind(int fd, uint32_t vm, const struct drm_vgpuvm_bind_op *ops, uint32_t count, uint32_t *failed_op)
{
	struct drm_vgpuvm_vm_bind b = {
		.vm_id = vm, .count = count, .ops = (uintptr_t)ops, .stride = sizeof(*ops),
	};
	int err = xioctl(fd, DRM_IOCTL_VGPUVM_VM_BIND, &b);

	if (failed_op)
		*failed_op = b.failed_op;
	return err;
}

static void format_va(char *out, size_t n, const struct drm_vgpuvm_va *va)
{
	snprintf(out, n, "[0x%" PRIx64 ",0x%" PRIx64 ") %s@0x%" PRIx64, (uint64_t)va->addr,
		 (uint64_t)(va->addr + va->range), bo_name(va->bo_id), (uint64_t)va->bo_offset);
}

/* Up to `capacity` records of a VM_QUERY into `recs`; returns how many arrived, or -1 if the query failed. */
static int query(int fd, uint32_t vm, uint32_t what, void *recs, uint32_t capacity)
{
	struct drm_vgpuvm_vm_query q = { .vm_id = vm, .what = what, .capacity = capacity, .records = (uintptr_t)recs };

	if (xioctl(fd, DRM_IOCTL_VGPUVM_VM_QUERY, &q))
		return -1;
	return (int)(q.count < capacity ? q.count : capacity);
}

/* The ops of the last bind as one line, in the notation of gpuvm-semantics.md §2.4 (keep as T/F). */
static void query_ops(int fd, uint32_t vm, char *out, size_t n)
{
	struct drm_vgpuvm_op recs[64];
	int count = query(fd, vm, DRM_VGPUVM_QUERY_OPS, recs, 64);
	size_t len = 0;

	snprintf(out, n, "%s", count < 0 ? "query failed" : "");
	for (int i = 0; i < count && len < n; i++) {
		char a[96], p[96] = "-", x[96] = "-";
		const struct drm_vgpuvm_op *r = &recs[i];

		format_va(a, sizeof(a), &r->va);
		if (r->prev.range)
			format_va(p, sizeof(p), &r->prev);
		if (r->next.range)
			format_va(x, sizeof(x), &r->next);
		if (r->kind == DRM_VGPUVM_OP_MAP)
			len += snprintf(out + len, n - len, "%sMAP(%s)", i ? "; " : "", a);
		else if (r->kind == DRM_VGPUVM_OP_UNMAP)
			len += snprintf(out + len, n - len, "%sUNMAP(%s,%c)", i ? "; " : "", a, r->keep ? 'T' : 'F');
		else if (r->kind == DRM_VGPUVM_OP_PREFETCH)
			len += snprintf(out + len, n - len, "%sPREFETCH(%s)", i ? "; " : "", a);
		else
			len += snprintf(out + len, n - len, "%sREMAP(%s,%c; p=%s; n=%s)", i ? "; " : "", a,
					r->keep ? 'T' : 'F', p, x);
	}
}

/* The VM's mappings as one line. */
static void query_tree(int fd, uint32_t vm, char *out, size_t n)
{
	struct drm_vgpuvm_va recs[64];
	int count = query(fd, vm, DRM_VGPUVM_QUERY_TREE, recs, 64);
	size_t len = 0;

	snprintf(out, n, "%s", count < 0 ? "query failed" : "");
	for (int i = 0; i < count && len < n; i++) {
		char a[96];

		format_va(a, sizeof(a), &recs[i]);
		len += snprintf(out + len, n - len, "%s%s", i ? " " : "", a);
	}
}

/* --- 1. split/merge cases ------------------------------------------------------------------------------------- */

enum { A, B, C, D, S = -1 };
#define MAXSETUP 3

struct sm_case {
	const char *name;
	struct drm_vgpuvm_bind_op setup[MAXSETUP];
	struct drm_vgpuvm_bind_op request;
	const char *expected;
};

#define M(a, r, bo, o) { .op = DRM_VGPUVM_BIND_OP_MAP, .addr = (a), .range = (r), .handle = (bo) + 1, .bo_offset = (o) }
#define SP(a, r) { .op = DRM_VGPUVM_BIND_OP_MAP, .flags = DRM_VGPUVM_BIND_SPARSE, .addr = (a), .range = (r) }
#define U(a, r) { .op = DRM_VGPUVM_BIND_OP_UNMAP, .addr = (a), .range = (r) }
#define PF(a, r) { .op = DRM_VGPUVM_BIND_OP_PREFETCH, .addr = (a), .range = (r) }
#define MA(a, r) { .op = DRM_VGPUVM_BIND_OP_MADVISE, .addr = (a), .range = (r) }

/* handle holds (BO index + 1) in the table; resolve() turns it into the real handle. Sparse offsets are the
 * kernel's own (it extrapolates them like a BO's), so they appear as computed. */
static const struct sm_case sm_cases[] = {
	{ "M1", {}, M(0x1000, 0x2000, A, 0), "MAP([0x1000,0x3000) A@0x0)" },
	{ "M2", { M(0, 0x1000, A, 0) }, M(0, 0x1000, A, 0), "UNMAP([0x0,0x1000) A@0x0,T); MAP([0x0,0x1000) A@0x0)" },
	{ "M3", { M(0, 0x1000, A, 0) }, M(0, 0x1000, A, 0x2000), "UNMAP([0x0,0x1000) A@0x0,F); MAP([0x0,0x1000) A@0x2000)" },
	{ "M4", { M(0, 0x1000, A, 0) }, M(0, 0x1000, B, 0), "UNMAP([0x0,0x1000) A@0x0,F); MAP([0x0,0x1000) B@0x0)" },
	{ "M5", { M(0, 0x1000, A, 0) }, M(0, 0x2000, A, 0), "UNMAP([0x0,0x1000) A@0x0,T); MAP([0x0,0x2000) A@0x0)" },
	{ "M6", { M(0, 0x2000, A, 0) }, M(0, 0x1000, B, 0),
	  "REMAP([0x0,0x2000) A@0x0,F; p=-; n=[0x1000,0x2000) A@0x1000); MAP([0x0,0x1000) B@0x0)" },
	{ "M7", { M(0, 0x2000, A, 0) }, M(0, 0x1000, A, 0),
	  "REMAP([0x0,0x2000) A@0x0,T; p=-; n=[0x1000,0x2000) A@0x1000); MAP([0x0,0x1000) A@0x0)" },
	{ "M8", { M(0, 0x2000, A, 0) }, M(0x1000, 0x1000, B, 0),
	  "REMAP([0x0,0x2000) A@0x0,F; p=[0x0,0x1000) A@0x0; n=-); MAP([0x1000,0x2000) B@0x0)" },
	{ "M9", { M(0, 0x2000, A, 0) }, M(0x1000, 0x1000, A, 0x1000),
	  "REMAP([0x0,0x2000) A@0x0,T; p=[0x0,0x1000) A@0x0; n=-); MAP([0x1000,0x2000) A@0x1000)" },
	{ "M10", { M(0, 0x2000, A, 0) }, M(0x1000, 0x2000, B, 0),
	  "REMAP([0x0,0x2000) A@0x0,F; p=[0x0,0x1000) A@0x0; n=-); MAP([0x1000,0x3000) B@0x0)" },
	{ "M11", { M(0, 0x3000, A, 0) }, M(0x1000, 0x1000, B, 0x5000),
	  "REMAP([0x0,0x3000) A@0x0,F; p=[0x0,0x1000) A@0x0; n=[0x2000,0x3000) A@0x2000); MAP([0x1000,0x2000) B@0x5000)" },
	{ "M12", { M(0, 0x3000, A, 0) }, M(0x1000, 0x1000, A, 0x1000),
	  "REMAP([0x0,0x3000) A@0x0,T; p=[0x0,0x1000) A@0x0; n=[0x2000,0x3000) A@0x2000); MAP([0x1000,0x2000) A@0x1000)" },
	{ "M13", { M(0x1000, 0x1000, A, 0x1000) }, M(0, 0x3000, A, 0),
	  "UNMAP([0x1000,0x2000) A@0x1000,T); MAP([0x0,0x3000) A@0x0)" },
	{ "M14", { M(0x1000, 0x2000, A, 0) }, M(0, 0x2000, B, 0),
	  "REMAP([0x1000,0x3000) A@0x0,F; p=-; n=[0x2000,0x3000) A@0x1000); MAP([0x0,0x2000) B@0x0)" },
	{ "M15", { M(0, 0x2000, A, 0), M(0x2000, 0x1000, B, 0), M(0x3000, 0x2000, C, 0) }, M(0x1000, 0x3000, D, 0),
	  "REMAP([0x0,0x2000) A@0x0,F; p=[0x0,0x1000) A@0x0; n=-); UNMAP([0x2000,0x3000) B@0x0,F); "
	  "REMAP([0x3000,0x5000) C@0x0,F; p=-; n=[0x4000,0x5000) C@0x1000); MAP([0x1000,0x4000) D@0x0)" },
	{ "M16", { M(0, 0x1000, A, 0), M(0x1000, 0x1000, A, 0x1000) }, M(0, 0x2000, A, 0),
	  "UNMAP([0x0,0x1000) A@0x0,T); UNMAP([0x1000,0x2000) A@0x1000,T); MAP([0x0,0x2000) A@0x0)" },
	{ "M17", { M(0, 0x1000, A, 0), M(0x2000, 0x1000, A, 0x2000) }, M(0x1000, 0x1000, A, 0x1000),
	  "MAP([0x1000,0x2000) A@0x1000)" },
	{ "M18", { SP(0, 0x3000) }, SP(0x1000, 0x1000),
	  "REMAP([0x0,0x3000) sparse@0x0,F; p=[0x0,0x1000) sparse@0x0; n=[0x2000,0x3000) sparse@0x2000); "
	  "MAP([0x1000,0x2000) sparse@0x0)" },
	{ "M19", { M(0, 0x2000, A, 0) }, SP(0, 0x2000), "UNMAP([0x0,0x2000) A@0x0,F); MAP([0x0,0x2000) sparse@0x0)" },
	{ "M20", { SP(0, 0x2000) }, M(0, 0x2000, A, 0), "UNMAP([0x0,0x2000) sparse@0x0,F); MAP([0x0,0x2000) A@0x0)" },
	{ "U1", { M(0, 0x3000, A, 0) }, U(0x1000, 0x1000),
	  "REMAP([0x0,0x3000) A@0x0,F; p=[0x0,0x1000) A@0x0; n=[0x2000,0x3000) A@0x2000)" },
	{ "U2", { M(0, 0x2000, A, 0), M(0x2000, 0x2000, B, 0x10) }, U(0x1000, 0x2000),
	  "REMAP([0x0,0x2000) A@0x0,F; p=[0x0,0x1000) A@0x0; n=-); REMAP([0x2000,0x4000) B@0x10,F; p=-; n=[0x3000,0x4000) B@0x1010)" },
	{ "U3", { M(0, 0x1000, A, 0) }, U(0, 0x1000), "UNMAP([0x0,0x1000) A@0x0,F)" },
	{ "U4", { M(0, 0x1000, A, 0), M(0x2000, 0x1000, B, 0), M(0x3000, 0x1000, C, 0) }, U(0, 0x4000),
	  "UNMAP([0x0,0x1000) A@0x0,F); UNMAP([0x2000,0x3000) B@0x0,F); UNMAP([0x3000,0x4000) C@0x0,F)" },
	{ "U5", { M(0, 0x1000, A, 0) }, U(0x4000, 0x1000), "" },
	{ "U6", { SP(0, 0x3000) }, U(0, 0x1000), "REMAP([0x0,0x3000) sparse@0x0,F; p=-; n=[0x1000,0x3000) sparse@0x1000)" },
	{ "D1", { SP(0, 0x4000) }, MA(0x1000, 0x1000),
	  "REMAP([0x0,0x4000) sparse@0x0,F; p=[0x0,0x1000) sparse@0x0; n=[0x2000,0x4000) sparse@0x2000); "
	  "MAP([0x1000,0x2000) sparse@0x0)" },
	{ "D2", { SP(0, 0x2000), SP(0x2000, 0x1000), SP(0x3000, 0x2000) }, MA(0x1000, 0x3000),
	  "REMAP([0x0,0x2000) sparse@0x0,F; p=[0x0,0x1000) sparse@0x0; n=-); MAP([0x1000,0x2000) sparse@0x0); "
	  "REMAP([0x3000,0x5000) sparse@0x0,F; p=-; n=[0x4000,0x5000) sparse@0x1000); MAP([0x3000,0x4000) sparse@0x0)" },
	{ "D3", { M(0, 0x4000, A, 0) }, MA(0x1000, 0x1000), "" },
	{ "P1", { M(0, 0x1000, A, 0), SP(0x2000, 0x1000) }, PF(0, 0x4000),
	  "PREFETCH([0x0,0x1000) A@0x0); PREFETCH([0x2000,0x3000) sparse@0x0)" },
	{ "P2", { M(0, 0x1000, A, 0) }, PF(0x2000, 0x1000), "" },
};

static struct drm_vgpuvm_bind_op resolve(struct drm_vgpuvm_bind_op op)
{
	if (op.op == DRM_VGPUVM_BIND_OP_MAP && !(op.flags & DRM_VGPUVM_BIND_SPARSE))
		op.handle = bo_handle[op.handle - 1];
	return op;
}

/* The VmBo lifetime design a VM_CREATE flag set names (vgpuvm_drm.h). */
static const char *design_name(uint32_t flags)
{
	if (!(flags & DRM_VGPUVM_VM_CREATE_IMMEDIATE))
		return "staged";
	return flags & DRM_VGPUVM_VM_CREATE_PUT_LOCKED ? "gpuva-lock" : "deferred";
}

static void run_sm_cases(int fd, uint32_t flags)
{
	const char *mode = design_name(flags);

	for (size_t i = 0; i < sizeof(sm_cases) / sizeof(sm_cases[0]); i++) {
		const struct sm_case *c = &sm_cases[i];
		uint32_t vm = vm_create(fd, 0, 0x100000, 0, 0, flags);
		char got[1024];

		for (int s = 0; s < MAXSETUP && c->setup[s].range; s++) {
			struct drm_vgpuvm_bind_op op = resolve(c->setup[s]);

			check(bind(fd, vm, &op, 1, NULL) == 0, "%s %s: setup bind %d", mode, c->name, s);
		}
		struct drm_vgpuvm_bind_op req = resolve(c->request);
		check(bind(fd, vm, &req, 1, NULL) == 0, "%s %s: request", mode, c->name);
		query_ops(fd, vm, got, sizeof(got));
		check(strcmp(got, c->expected) == 0, "%s %s:\n  expected %s\n  got      %s", mode, c->name, c->expected, got);
		vm_destroy(fd, vm);
	}

	/* M23: two requests in a row, the second against the tree the first left. */
	uint32_t vm = vm_create(fd, 0, 0x100000, 0, 0, flags);
	struct drm_vgpuvm_bind_op ops[] = {
		map_op(0, 0x4000, A, 0), map_op(0x1000, 0x1000, A, 0x1000), map_op(0x2000, 0x1000, A, 0x2000),
	};
	char got[1024];

	check(bind(fd, vm, ops, 2, NULL) == 0, "%s M23 first", mode);
	check(bind(fd, vm, ops + 2, 1, NULL) == 0, "%s M23 second", mode);
	query_ops(fd, vm, got, sizeof(got));
	check(!strcmp(got, "REMAP([0x2000,0x4000) A@0x2000,T; p=-; n=[0x3000,0x4000) A@0x3000); MAP([0x2000,0x3000) A@0x2000)"),
	      "%s M23: got %s", mode, got);
	query_tree(fd, vm, got, sizeof(got));
	check(!strcmp(got, "[0x0,0x1000) A@0x0 [0x1000,0x2000) A@0x1000 [0x2000,0x3000) A@0x2000 [0x3000,0x4000) A@0x3000"),
	      "%s M23 tree: got %s", mode, got);

	/* A multi-op bind records the ops of all its requests, in order. */
	struct drm_vgpuvm_bind_op two[] = { map_op(0x10000, 0x1000, B, 0), unmap_op(0x10000, 0x1000) };
	check(bind(fd, vm, two, 2, NULL) == 0, "%s two-op bind", mode);
	query_ops(fd, vm, got, sizeof(got));
	check(!strcmp(got, "MAP([0x10000,0x11000) B@0x0); UNMAP([0x10000,0x11000) B@0x0,F)"), "%s two-op ops: %s", mode, got);
	vm_destroy(fd, vm);

	/* Madvise leaves its ends as mapping boundaries, sparse, and a prefetch changes nothing. */
	vm = vm_create(fd, 0, 0x100000, 0, 0, flags);
	struct drm_vgpuvm_bind_op split[] = { SP(0, 0x4000), MA(0x1000, 0x2000), PF(0, 0x4000) };
	check(bind(fd, vm, split, 3, NULL) == 0, "%s madvise then prefetch", mode);
	query_tree(fd, vm, got, sizeof(got));
	check(!strcmp(got, "[0x0,0x1000) sparse@0x0 [0x1000,0x3000) sparse@0x0 [0x3000,0x4000) sparse@0x3000"),
	      "%s madvise tree: got %s", mode, got);
	vm_destroy(fd, vm);
}

/* --- 2. rejected requests --------------------------------------------------------------------------------------- */

struct bad_case {
	const char *name;
	struct drm_vgpuvm_bind_op op;
	int err;
};

static void run_bad_cases(int fd, uint32_t flags)
{
	const char *mode = design_name(flags);
	/* VM [0x0, 0x100000000) with the reserved node [0x0, 0x100000), as trace case 12. */
	uint32_t vm = vm_create(fd, 0, 0x100000000ull, 0, 0x100000, flags);
	struct drm_vgpuvm_bind_op base = map_op(0x200000, 0x1000, A, 0);
	const struct bad_case cases[] = {
		{ "touches the reserved node", map_op(0xff000, 0x2000, A, 0), EINVAL },
		{ "unmap over the reserved node", unmap_op(0, 0x200000), EINVAL },
		{ "beyond the VA space", map_op(0xfffff000, 0x2000, A, 0), EINVAL },
		{ "zero range", map_op(0x200000, 0, A, 0), EINVAL },
		{ "zero-range unmap", unmap_op(0x200000, 0), EINVAL },
		{ "overflow", map_op(0xfffffffffffff000ull, 0x2000, S, 0), EINVAL },
		{ "beyond the BO", map_op(0x200000, 0x2000, A, 0xff000), EINVAL },
		{ "BO offset overflow", map_op(0x200000, 0x1000, A, 0xfffffffffffff000ull), EINVAL },
		{ "unknown handle", { .op = 0, .handle = 999, .addr = 0x200000, .range = 0x1000 }, ENOENT },
		{ "handle 0 without SPARSE", { .op = 0, .addr = 0x200000, .range = 0x1000 }, ENOENT },
		{ "sparse with a handle", { .op = 0, .flags = 1, .handle = 1, .addr = 0x200000, .range = 0x1000 }, EINVAL },
		{ "sparse with an offset", { .op = 0, .flags = 1, .bo_offset = 4096, .addr = 0x200000, .range = 0x1000 }, EINVAL },
		{ "unknown op", { .op = 4, .addr = 0x200000, .range = 0x1000 }, EINVAL },
		{ "prefetch with a handle", { .op = 2, .handle = 1, .addr = 0x200000, .range = 0x1000 }, EINVAL },
		{ "madvise with a flag", { .op = 3, .flags = 1, .addr = 0x200000, .range = 0x1000 }, EINVAL },
		{ "zero-range prefetch", { .op = 2, .addr = 0x200000 }, EINVAL },
		{ "madvise over the reserved node", { .op = 3, .addr = 0, .range = 0x200000 }, EINVAL },
		{ "prefetch beyond the VA space", { .op = 2, .addr = 0xfffff000, .range = 0x2000 }, EINVAL },
		{ "unknown flag", { .op = 0, .flags = 2, .addr = 0x200000, .range = 0x1000 }, EINVAL },
		{ "non-zero pad", { .op = 1, .pad = 1, .addr = 0x200000, .range = 0x1000 }, EINVAL },
		{ "unmap with flags", { .op = 1, .flags = 1, .addr = 0x200000, .range = 0x1000 }, EINVAL },
	};
	char before[2048], after[2048];

	check(bind(fd, vm, &base, 1, NULL) == 0, "%s: base mapping", mode);
	query_tree(fd, vm, before, sizeof(before));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* The bad op comes second: the good first op must not be applied either. */
		struct drm_vgpuvm_bind_op ops[2] = { map_op(0x300000, 0x1000, B, 0), cases[i].op };
		uint32_t failed_op;
		int err = bind(fd, vm, ops, 2, &failed_op);

		check(err == cases[i].err, "%s %s: errno %d, expected %d", mode, cases[i].name, err, cases[i].err);
		check(failed_op == 1, "%s %s: failed_op %u", mode, cases[i].name, failed_op);
		query_tree(fd, vm, after, sizeof(after));
		check(!strcmp(before, after), "%s %s: tree changed to %s", mode, cases[i].name, after);
	}

	struct drm_vgpuvm_vm_bind b = { .vm_id = vm, .count = 1, .ops = 8, .stride = sizeof(base) };
	check(xioctl(fd, DRM_IOCTL_VGPUVM_VM_BIND, &b) == EFAULT, "%s: bad ops pointer gives EFAULT", mode);
	b.ops = (uintptr_t)&base;
	b.stride = 8;
	check(xioctl(fd, DRM_IOCTL_VGPUVM_VM_BIND, &b) == EINVAL, "%s: bad stride gives EINVAL", mode);
	b.stride = sizeof(base);
	b.count = DRM_VGPUVM_BIND_MAX_OPS + 1;
	check(xioctl(fd, DRM_IOCTL_VGPUVM_VM_BIND, &b) == EINVAL, "%s: too many ops gives EINVAL", mode);
	b.count = 1;
	b.vm_id = 12345;
	check(xioctl(fd, DRM_IOCTL_VGPUVM_VM_BIND, &b) == ENOENT, "%s: unknown VM gives ENOENT", mode);

	struct drm_vgpuvm_vm_query q = { .vm_id = vm, .what = DRM_VGPUVM_QUERY_TREE, .capacity = 4, .records = 8 };
	check(xioctl(fd, DRM_IOCTL_VGPUVM_VM_QUERY, &q) == EFAULT, "%s: bad query pointer gives EFAULT", mode);
	q.what = 7;
	check(xioctl(fd, DRM_IOCTL_VGPUVM_VM_QUERY, &q) == EINVAL, "%s: unknown query gives EINVAL", mode);
	q.what = DRM_VGPUVM_QUERY_TREE;
	q.capacity = 0;
	check(xioctl(fd, DRM_IOCTL_VGPUVM_VM_QUERY, &q) == 0 && q.count == 1, "%s: a size-only query counts", mode);
	vm_destroy(fd, vm);

	struct drm_vgpuvm_vm_destroy d = { .vm_id = vm };
	check(xioctl(fd, DRM_IOCTL_VGPUVM_VM_DESTROY, &d) == ENOENT, "%s: destroying twice gives ENOENT", mode);
}

static void run_vm_create_checks(int fd)
{
	const struct { const char *name; struct drm_vgpuvm_vm_create c; int err; } cases[] = {
		{ "zero range", { .va_start = 0, .va_range = 0 }, EINVAL },
		{ "space overflows", { .va_start = 1, .va_range = UINT64_MAX }, EINVAL },
		{ "reserve outside", { .va_start = 0x1000, .va_range = 0x1000, .reserve_start = 0, .reserve_range = 0x1000 }, EINVAL },
		{ "reserve overflows", { .va_range = 0x1000, .reserve_start = UINT64_MAX, .reserve_range = 2 }, EINVAL },
		{ "unknown flag", { .va_range = 0x1000, .flags = 2 }, EINVAL },
		{ "the whole u64 space but one", { .va_start = 0, .va_range = UINT64_MAX }, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct drm_vgpuvm_vm_create c = cases[i].c;
		int err = xioctl(fd, DRM_IOCTL_VGPUVM_VM_CREATE, &c);

		check(err == cases[i].err, "VM_CREATE %s: errno %d, expected %d", cases[i].name, err, cases[i].err);
		if (!err)
			vm_destroy(fd, c.vm_id);
	}
}

static void run_bo_checks(int fd)
{
	struct drm_vgpuvm_bo_create c = { .size = 5000 };
	struct drm_vgpuvm_bo_info info = { 0 };

	check(xioctl(fd, DRM_IOCTL_VGPUVM_BO_CREATE, &c) == 0 && c.size == 8192, "BO_CREATE rounds to pages");
	info.handle = c.handle;
	check(xioctl(fd, DRM_IOCTL_VGPUVM_BO_INFO, &info) == 0 && info.bo_id == c.bo_id && info.size == 8192,
	      "BO_INFO reports id and size");
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, info.mmap_offset);
	check(p != MAP_FAILED, "mmap of a BO");
	if (p != MAP_FAILED) {
		p[4096] = 'x';
		check(p[4096] == 'x', "BO memory is writable");
		munmap(p, 8192);
	}
	struct drm_gem_close cl = { .handle = c.handle };
	check(xioctl(fd, DRM_IOCTL_GEM_CLOSE, &cl) == 0, "GEM_CLOSE");
	c = (struct drm_vgpuvm_bo_create){ .size = 0 };
	check(xioctl(fd, DRM_IOCTL_VGPUVM_BO_CREATE, &c) == EINVAL, "BO_CREATE of 0 bytes gives EINVAL");
	c = (struct drm_vgpuvm_bo_create){ .size = UINT64_MAX };
	check(xioctl(fd, DRM_IOCTL_VGPUVM_BO_CREATE, &c) == EINVAL, "BO_CREATE of 2^64-1 bytes gives EINVAL");
	info = (struct drm_vgpuvm_bo_info){ .handle = 777 };
	check(xioctl(fd, DRM_IOCTL_VGPUVM_BO_INFO, &info) == ENOENT, "BO_INFO of an unknown handle gives ENOENT");
}

/* A BO takes the mode of the first VM it is bound in (GPUVM needs all VMs of a GEM to agree). */
static void run_mode_mixing(int fd)
{
	struct drm_vgpuvm_bo_create c = { .size = 4096 };
	uint32_t staged = vm_create(fd, 0, 0x100000, 0, 0, 0);
	uint32_t immediate = vm_create(fd, 0, 0x100000, 0, 0, DRM_VGPUVM_VM_CREATE_IMMEDIATE);

	check(xioctl(fd, DRM_IOCTL_VGPUVM_BO_CREATE, &c) == 0, "BO_CREATE for mode mixing");
	struct drm_vgpuvm_bind_op op = { .op = 0, .handle = c.handle, .addr = 0, .range = 4096 };
	check(bind(fd, staged, &op, 1, NULL) == 0, "a BO binds in a staged VM");
	check(bind(fd, immediate, &op, 1, NULL) == EINVAL, "the same BO is refused by an immediate VM");
	vm_destroy(fd, staged);
	vm_destroy(fd, immediate);
	struct drm_gem_close cl = { .handle = c.handle };
	xioctl(fd, DRM_IOCTL_GEM_CLOSE, &cl);
}

/* --- 3. fuzz ------------------------------------------------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: small, seedable, good enough to pick requests. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static uint64_t pick_u64(void)
{
	switch (rnd() % 8) {
	case 0: return 0;
	case 1: return UINT64_MAX - rnd() % 0x3000;
	case 2: return rnd();
	default: return (rnd() % 64) * 0x1000;
	}
}

/*
 * VM_RW: bytes written through the VA land in the BO pages at the mapping's BO offset (seen again through a
 * second mapping of the same BO), sparse pages read as zeros and drop writes, and a range with a hole
 * fails with EFAULT naming its first unbacked byte, having moved nothing. Bad arguments are EINVAL/ENOENT.
 */
static int vm_rw(int fd, uint32_t vm, uint32_t flags, uint64_t addr, void *data, uint32_t size, uint64_t *fault)
{
	struct drm_vgpuvm_vm_rw rw = { .vm_id = vm, .flags = flags, .addr = addr, .data = (uintptr_t)data, .size = size };
	int err = xioctl(fd, DRM_IOCTL_VGPUVM_VM_RW, &rw);

	if (fault)
		*fault = rw.fault_addr;
	return err;
}

static void run_rw_checks(int fd)
{
	static unsigned char pattern[0x4000], seen[0x4000], again[0x1000];
	uint32_t vm = vm_create(fd, 0, 0x100000, 0x80000, 0x1000, DRM_VGPUVM_VM_CREATE_IMMEDIATE);
	/* [0x10000: BO 0 from 0x1000, 2 pages][0x12000: sparse][0x13000: BO 1][hole], and BO 0 again at 0x20000. */
	struct drm_vgpuvm_bind_op ops[] = {
		map_op(0x10000, 0x2000, 0, 0x1000), map_op(0x12000, 0x1000, S, 0), map_op(0x13000, 0x1000, 1, 0),
		map_op(0x20000, 0x3000, 0, 0),
	};
	uint64_t fault = 0;

	check(bind(fd, vm, ops, 4, NULL) == 0, "rw: bind the layout");
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (unsigned char)(i * 7 + 3);
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_WRITE, 0x10000, pattern, sizeof(pattern), &fault) == 0 && fault == ~0ull,
	      "rw: write across two BOs and a sparse page");
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x10000, seen, sizeof(seen), NULL) == 0, "rw: read it back");
	check(!memcmp(seen, pattern, 0x2000) && !memcmp(seen + 0x3000, pattern + 0x3000, 0x1000),
	      "rw: BO pages read back what was written");
	int zeros = 1;
	for (size_t i = 0x2000; i < 0x3000; i++)
		zeros &= seen[i] == 0;
	check(zeros, "rw: the sparse page reads as zeros");
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x21000, again, sizeof(again), NULL) == 0 && !memcmp(again, pattern, 0x1000),
	      "rw: BO 0's page 1, written at 0x10000, is seen at 0x21000 through its other mapping");

	memset(seen, 0xee, sizeof(seen));
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_WRITE, 0x10000, seen, 0x4001, &fault) == EFAULT && fault == 0x14000,
	      "rw: a write running into the hole is EFAULT at 0x14000 (fault 0x%llx)", (unsigned long long)fault);
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x10000, seen, 0x1000, NULL) == 0 && !memcmp(seen, pattern, 0x1000),
	      "rw: the refused write moved nothing");
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x11000, seen, 0x2000, &fault) == 0, "rw: sparse is readable by default");
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ | DRM_VGPUVM_RW_SPARSE_FAULT, 0x11000, seen, 0x2000, &fault) == EFAULT &&
		      fault == 0x12000,
	      "rw: with SPARSE_FAULT the sparse page faults at 0x12000");
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x80000, seen, 1, &fault) == EFAULT && fault == 0x80000,
	      "rw: the kernel-reserved node faults");
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x100000, seen, 1, &fault) == EFAULT && fault == 0x100000,
	      "rw: past the VA space faults");
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x10000, NULL, 16, &fault) == EFAULT && fault == ~0ull,
	      "rw: an unreadable user buffer is EFAULT with fault_addr ~0");

	static const uint32_t bad_flags[] = { 0, DRM_VGPUVM_RW_READ | DRM_VGPUVM_RW_WRITE, DRM_VGPUVM_RW_SPARSE_FAULT, 1u << 3 };
	for (size_t i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++)
		check(vm_rw(fd, vm, bad_flags[i], 0x10000, seen, 16, NULL) == EINVAL, "rw: flags 0x%x are EINVAL", bad_flags[i]);
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x10000, seen, 0, NULL) == EINVAL, "rw: size 0 is EINVAL");
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x10000, seen, DRM_VGPUVM_RW_MAX_SIZE + 1, NULL) == EINVAL,
	      "rw: size past DRM_VGPUVM_RW_MAX_SIZE is EINVAL");
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, ~0ull - 7, seen, 16, NULL) == EINVAL, "rw: addr + size past 2^64 is EINVAL");
	struct drm_vgpuvm_vm_rw padded = { .vm_id = vm, .flags = DRM_VGPUVM_RW_READ, .addr = 0x10000,
					   .data = (uintptr_t)seen, .size = 16, .pad = 1 };
	check(xioctl(fd, DRM_IOCTL_VGPUVM_VM_RW, &padded) == EINVAL, "rw: a non-zero pad is EINVAL");
	check(vm_rw(fd, vm + 1000, DRM_VGPUVM_RW_READ, 0x10000, seen, 16, NULL) == ENOENT, "rw: an unknown VM is ENOENT");
	vm_destroy(fd, vm);
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x10000, seen, 16, NULL) == ENOENT, "rw: a destroyed VM is ENOENT");
}

static void run_fuzz(int fd, unsigned long requests)
{
	uint32_t vms[4];
	unsigned long ok = 0, rejected = 0;

	/* VMs 1 and 3 are immediate, in the deferred and the gpuva-lock design, and share BOs 0 and 1. */
	for (int i = 0; i < 4; i++)
		vms[i] = vm_create(fd, 0, 0x40000, i == 3 ? 0x20000 : 0, i == 3 ? 0x4000 : 0,
				   i == 1 ? DRM_VGPUVM_VM_CREATE_IMMEDIATE :
				   i == 3 ? DRM_VGPUVM_VM_CREATE_IMMEDIATE | DRM_VGPUVM_VM_CREATE_PUT_LOCKED : 0);
	for (unsigned long n = 0; n < requests; n++) {
		struct drm_vgpuvm_bind_op ops[4];
		uint32_t count = 1 + rnd() % 4;
		unsigned int which = rnd() % 4;
		uint32_t vm = vms[which];
		int garbage = rnd() % 16 == 0;

		for (uint32_t i = 0; i < count; i++) {
			uint64_t addr = (rnd() % 64) * 0x1000, range = (1 + rnd() % 16) * 0x1000;
			/* Immediate VMs (odd) and staged VMs (even) get disjoint BOs: 0,1 versus 2,3. */
			int bo = (which % 2 ? 0 : 2) + (int)(rnd() % 2);

			if (garbage) {
				ops[i] = (struct drm_vgpuvm_bind_op){
					.op = rnd() % 5, .flags = rnd() % 3, .handle = rnd() % 8, .pad = rnd() % 16 == 0,
					.addr = pick_u64(), .range = pick_u64(), .bo_offset = pick_u64(),
				};
			} else if (rnd() % 3 == 0) {
				ops[i] = unmap_op(addr, range);
			} else if (rnd() % 8 == 0) {
				ops[i] = (struct drm_vgpuvm_bind_op){
					.op = rnd() % 2 ? DRM_VGPUVM_BIND_OP_PREFETCH : DRM_VGPUVM_BIND_OP_MADVISE,
					.addr = addr, .range = range,
				};
			} else if (rnd() % 4 == 0) {
				ops[i] = map_op(addr, range, S, 0);
			} else {
				ops[i] = map_op(addr, range, bo, (rnd() % 8) * 0x1000);
			}
		}
		if (bind(fd, vm, ops, count, NULL) == 0)
			ok++;
		else
			rejected++;
		/* Eviction and validation between binds, as a memory manager and a submission would. */
		if (rnd() % 32 == 0) {
			struct drm_vgpuvm_bo_evict e = { .handle = bo_handle[rnd() % NBOS], .evict = rnd() % 2 };

			check(xioctl(fd, DRM_IOCTL_VGPUVM_BO_EVICT, &e) == 0, "fuzz: BO_EVICT");
		}
		if (rnd() % 32 == 0) {
			struct drm_vgpuvm_vm_validate v = { .vm_id = vm };

			check(xioctl(fd, DRM_IOCTL_VGPUVM_VM_VALIDATE, &v) == 0, "fuzz: VM_VALIDATE");
		}
		if (rnd() % 64 == 0) {
			char tree[4096];

			query_tree(fd, vm, tree, sizeof(tree));
		}
		/* Reads and writes through whatever the VA holds now: backed, sparse, holes, the reserved node. */
		if (rnd() % 8 == 0) {
			static unsigned char data[0x8000];
			uint32_t flags = rnd() % 2 ? DRM_VGPUVM_RW_READ : DRM_VGPUVM_RW_WRITE;
			uint64_t fault = 0;
			int err;

			if (rnd() % 4 == 0)
				flags |= DRM_VGPUVM_RW_SPARSE_FAULT;
			err = vm_rw(fd, vm, flags, (rnd() % 0x48) * 0x800, data, 1 + rnd() % sizeof(data), &fault);
			check(err == 0 || (err == EFAULT && fault != ~0ull), "fuzz: VM_RW is done or faults at an address (%d)", err);
		}
	}
	/* Random bytes as whole ioctl arguments. */
	for (int n = 0; n < 2000; n++) {
		unsigned char junk[64];
		static const unsigned long nrs[] = {
			DRM_IOCTL_VGPUVM_BO_CREATE, DRM_IOCTL_VGPUVM_BO_INFO, DRM_IOCTL_VGPUVM_VM_BIND,
			DRM_IOCTL_VGPUVM_VM_QUERY, DRM_IOCTL_VGPUVM_VM_DESTROY, DRM_IOCTL_VGPUVM_BO_QUERY,
			DRM_IOCTL_VGPUVM_BO_EVICT, DRM_IOCTL_VGPUVM_VM_VALIDATE, DRM_IOCTL_VGPUVM_VM_RW,
		};
		static unsigned char scratch[0x10000];

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = rnd();
		unsigned long nr = nrs[rnd() % (sizeof(nrs) / sizeof(nrs[0]))];
		if (nr == DRM_IOCTL_VGPUVM_BO_CREATE)
			((struct drm_vgpuvm_bo_create *)junk)->size &= 0xffffff;
		/* VM_RW follows its data pointer: aim it at memory of ours that it may overwrite. */
		if (nr == DRM_IOCTL_VGPUVM_VM_RW) {
			((struct drm_vgpuvm_vm_rw *)junk)->data = (uintptr_t)scratch;
			((struct drm_vgpuvm_vm_rw *)junk)->size &= sizeof(scratch) - 1;
		}
		/* Never destroy the fuzzed VMs by accident: their ids are small. */
		if (nr == DRM_IOCTL_VGPUVM_VM_DESTROY && ((struct drm_vgpuvm_vm_destroy *)junk)->vm_id < 64)
			continue;
		int err = xioctl(fd, nr, junk);
		if (!err && nr == DRM_IOCTL_VGPUVM_BO_CREATE) {
			struct drm_gem_close cl = { .handle = ((struct drm_vgpuvm_bo_create *)junk)->handle };
			xioctl(fd, DRM_IOCTL_GEM_CLOSE, &cl);
		}
	}
	printf("vgpuvm-smoke: fuzz: %lu binds applied, %lu rejected\n", ok, rejected);
	check(ok > 0 && rejected > 0, "fuzz exercised both accepted and rejected binds");
	for (int i = 0; i < 4; i++)
		vm_destroy(fd, vms[i]);
}

/*
 * Several processes, each with its own DRM file and VMs, bind and unbind at random on the same BOs (shared
 * through PRIME), so the GEMs' gpuva lists are changed concurrently under each mode's lock. Each child
 * checks its own tree against the ops it saw; the parent checks that all of them exit cleanly.
 */
static void run_concurrent(const char *node, unsigned int children, unsigned long requests)
{
	int fd = open_vgpuvm(node);
	int prime[NBOS];
	pid_t pids[16];

	create_bos(fd);
	for (int i = 0; i < NBOS; i++) {
		struct drm_prime_handle h = { .handle = bo_handle[i], .flags = DRM_CLOEXEC | DRM_RDWR };

		check(xioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &h) == 0, "PRIME export %d", i);
		prime[i] = h.fd;
	}
	for (unsigned int c = 0; c < children && c < 16; c++) {
		pids[c] = fork();
		if (pids[c] == 0) {
			int cfd = open_vgpuvm(node);
			uint32_t handles[NBOS], vms[2];
			unsigned long bad = 0;

			rng_state = 0x9e3779b97f4a7c15ull * (c + 1);
			for (int i = 0; i < NBOS; i++) {
				struct drm_prime_handle h = { .fd = prime[i] };

				if (xioctl(cfd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &h))
					_exit(3);
				handles[i] = h.handle;
			}
			/* BOs 0,1 are bound only in immediate VMs and 2,3 only in staged ones, in every process. */
			/* Odd processes use the gpuva-lock design, even ones the deferred one, on the same BOs. */
			vms[0] = vm_create(cfd, 0, 0x100000, 0, 0, DRM_VGPUVM_VM_CREATE_IMMEDIATE |
					   (c % 2 ? DRM_VGPUVM_VM_CREATE_PUT_LOCKED : 0));
			vms[1] = vm_create(cfd, 0, 0x100000, 0, 0, 0);
			for (unsigned long n = 0; n < requests; n++) {
				unsigned int which = rnd() % 2;
				struct drm_vgpuvm_bind_op op;
				uint64_t addr = (rnd() % 128) * 0x1000, range = (1 + rnd() % 16) * 0x1000;

				if (rnd() % 3 == 0)
					op = unmap_op(addr, range);
				else
					op = (struct drm_vgpuvm_bind_op){
						.op = DRM_VGPUVM_BIND_OP_MAP, .handle = handles[(which ? 2 : 0) + rnd() % 2],
						.addr = addr, .range = range, .bo_offset = (rnd() % 16) * 0x1000,
					};
				if (bind(cfd, vms[which], &op, 1, NULL))
					bad++;
			}
			_exit(bad ? 4 : failed ? 5 : 0);
		}
	}
	for (unsigned int c = 0; c < children && c < 16; c++) {
		int status = 0;

		waitpid(pids[c], &status, 0);
		check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "concurrent binder %u: status 0x%x", c, status);
	}
	for (int i = 0; i < NBOS; i++)
		close(prime[i]);
	close(fd);
}

/* --- 6. the software GPU: queues, asynchronous binds, EXEC jobs, syncobjs ------------------------------------- */

static uint32_t queue_create(int fd, uint32_t vm)
{
	struct drm_vgpuvm_queue_create c = { .vm_id = vm };
	int err = xioctl(fd, DRM_IOCTL_VGPUVM_QUEUE_CREATE, &c);

	check(err == 0, "QUEUE_CREATE: %s", strerror(err));
	return c.queue_id;
}

static uint32_t syncobj_create(int fd)
{
	struct drm_syncobj_create c = { 0 };

	check(xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &c) == 0, "SYNCOBJ_CREATE");
	return c.handle;
}

/* Waits up to @ms for a syncobj (point 0: binary); returns 0, ETIME, or another errno. */
static int syncobj_wait(int fd, uint32_t handle, uint64_t point, int ms)
{
	struct timespec now;
	struct drm_syncobj_timeline_wait w = {
		.handles = (uintptr_t)&handle, .points = (uintptr_t)&point, .count_handles = 1,
		.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
	};

	clock_gettime(CLOCK_MONOTONIC, &now);
	w.timeout_nsec = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + (int64_t)ms * 1000000;
	return xioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
}

static struct drm_vgpuvm_cmd cmd_fill(uint64_t dst, uint64_t size, uint64_t value)
{
	return (struct drm_vgpuvm_cmd){ .op = DRM_VGPUVM_CMD_FILL, .dst = dst, .size = size, .value = value };
}

static struct drm_vgpuvm_cmd cmd_copy(uint64_t src, uint64_t dst, uint64_t size)
{
	return (struct drm_vgpuvm_cmd){ .op = DRM_VGPUVM_CMD_COPY, .src = src, .dst = dst, .size = size };
}

static struct drm_vgpuvm_cmd cmd_checksum(uint64_t src, uint64_t size, uint64_t dst)
{
	return (struct drm_vgpuvm_cmd){ .op = DRM_VGPUVM_CMD_CHECKSUM, .src = src, .dst = dst, .size = size };
}

/* EXEC of @count commands with at most one in-sync and one out-sync (handle 0: none); returns the errno. */
static int exec_job(int fd, uint32_t queue, const struct drm_vgpuvm_cmd *cmds, uint32_t count,
		    const struct drm_vgpuvm_sync *in, const struct drm_vgpuvm_sync *out, uint64_t *job_id)
{
	struct drm_vgpuvm_exec e = {
		.queue_id = queue, .count = count, .cmds = (uintptr_t)cmds, .stride = sizeof(*cmds),
		.num_in_syncs = in ? 1 : 0, .in_syncs = (uintptr_t)in,
		.num_out_syncs = out ? 1 : 0, .out_syncs = (uintptr_t)out,
	};
	int err = xioctl(fd, DRM_IOCTL_VGPUVM_EXEC, &e);

	if (job_id)
		*job_id = e.job_id;
	return err;
}

static int bind_async(int fd, uint32_t vm, uint32_t queue, const struct drm_vgpuvm_bind_op *ops, uint32_t count,
		      const struct drm_vgpuvm_sync *in, const struct drm_vgpuvm_sync *out, uint64_t *job_id)
{
	struct drm_vgpuvm_vm_bind b = {
		.vm_id = vm, .count = count, .ops = (uintptr_t)ops, .stride = sizeof(*ops), .queue_id = queue,
		.num_in_syncs = in ? 1 : 0, .in_syncs = (uintptr_t)in,
		.num_out_syncs = out ? 1 : 0, .out_syncs = (uintptr_t)out,
	};
	int err = xioctl(fd, DRM_IOCTL_VGPUVM_VM_BIND, &b);

	if (job_id)
		*job_id = b.job_id;
	return err;
}

static struct drm_vgpuvm_job_query job_query(int fd, uint32_t queue, uint64_t job)
{
	struct drm_vgpuvm_job_query q = { .queue_id = queue, .job_id = job };

	if (xioctl(fd, DRM_IOCTL_VGPUVM_JOB_QUERY, &q))
		q.state = ~0u;
	return q;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* How many records a VM_QUERY has (~0 if it failed). */
static uint32_t query_count(int fd, uint32_t vm, uint32_t what)
{
	struct drm_vgpuvm_vm_query q = { .vm_id = vm, .what = what };

	return xioctl(fd, DRM_IOCTL_VGPUVM_VM_QUERY, &q) ? ~0u : q.count;
}

static uint32_t tree_count(int fd, uint32_t vm)
{
	return query_count(fd, vm, DRM_VGPUVM_QUERY_TREE);
}

/*
 * A fence user space signals when it likes: a vgem fence on a vgem BO, taken out of the BO's dma-buf as a
 * sync_file and put into a syncobj of the vgpuvm file. vgem signals it by itself after 10 s at the latest.
 */
struct gate {
	int vgem;
	uint32_t fence;
	uint32_t syncobj;
};

static int open_vgem(void)
{
	for (int i = 0; i < 16; i++) {
		char path[32], name[32] = { 0 };
		struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!xioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -1;
}

static int gate_open(int fd, int vgem, struct gate *g)
{
	struct drm_mode_create_dumb dumb = { .width = 1024, .height = 1, .bpp = 32 };
	struct drm_vgem_fence_attach attach = { .flags = VGEM_FENCE_WRITE };
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct dma_buf_export_sync_file sync = { .flags = DMA_BUF_SYNC_WRITE };
	struct drm_syncobj_handle import = { .flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE };
	struct drm_gem_close close_bo = { 0 };
	int err;

	g->vgem = vgem;
	if ((err = xioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &dumb)))
		return err;
	attach.handle = prime.handle = close_bo.handle = dumb.handle;
	if ((err = xioctl(vgem, DRM_IOCTL_VGEM_FENCE_ATTACH, &attach)) ||
	    (err = xioctl(vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime)))
		return err;
	g->fence = attach.out_fence;
	err = xioctl(prime.fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &sync);
	close(prime.fd);
	xioctl(vgem, DRM_IOCTL_GEM_CLOSE, &close_bo);
	if (err)
		return err;
	g->syncobj = syncobj_create(fd);
	import.handle = g->syncobj;
	import.fd = sync.fd;
	err = xioctl(fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &import);
	close(sync.fd);
	return err;
}

static void gate_release(struct gate *g)
{
	struct drm_vgem_fence_signal s = { .fence = g->fence };

	check(xioctl(g->vgem, DRM_IOCTL_VGEM_FENCE_SIGNAL, &s) == 0, "VGEM_FENCE_SIGNAL");
}

static void run_exec_checks(int fd, uint32_t flags)
{
	static unsigned char seen[0x4000], want[0x4000];
	const char *design = design_name(flags);
	uint32_t vm = vm_create(fd, 0, 0x1000000, 0x800000, 0x1000, flags);
	uint32_t queue = queue_create(fd, vm);
	uint32_t done = syncobj_create(fd);
	struct drm_vgpuvm_sync out = { .handle = done };
	struct drm_vgpuvm_bind_op layout[] = {
		map_op(0x10000, 0x4000, 0, 0), map_op(0x20000, 0x2000, 1, 0x1000), map_op(0x40000, 0x1000, S, 0),
	};
	struct drm_vgpuvm_cmd cmds[3];
	struct drm_vgpuvm_job_query q;
	uint64_t job = 0, hash = 0;

	check(bind(fd, vm, layout, 3, NULL) == 0, "exec %s: bind the layout", design);
	/* FILL, then COPY between two BOs, then a CHECKSUM written back into a BO, in one job. */
	cmds[0] = cmd_fill(0x10000, 0x4000, 0x0807060504030201ull);
	cmds[1] = cmd_copy(0x10ff8, 0x20000, 0x2000);
	cmds[2] = cmd_checksum(0x20000, 0x2000, 0x13ff8);
	check(exec_job(fd, queue, cmds, 3, NULL, &out, &job) == 0 && job == 1, "exec %s: submit (job %llu)", design,
	      (unsigned long long)job);
	check(syncobj_wait(fd, done, 0, 5000) == 0, "exec %s: the out-sync signals", design);
	q = job_query(fd, queue, job);
	check(q.state == DRM_VGPUVM_JOB_DONE && q.error == 0 && q.fault_cmd == ~0u, "exec %s: done, no error (%d)",
	      design, q.error);
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (unsigned char)(i % 8 + 1);
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x20000, seen, 0x2000, NULL) == 0 && !memcmp(seen, want + 0xff8, 0x2000),
	      "exec %s: COPY moved the filled bytes into the other BO", design);
	hash = fnv1a(want + 0xff8, 0x2000);
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x13ff8, seen, 8, NULL) == 0 && !memcmp(seen, &hash, 8),
	      "exec %s: CHECKSUM wrote the FNV-1a of the copied bytes", design);

	/* A fault: command 1 reads past the mapping; command 0 stays done, 2 never runs, 1 wrote nothing. */
	cmds[0] = cmd_fill(0x20000, 0x100, 0xaaaaaaaaaaaaaaaaull);
	cmds[1] = cmd_copy(0x13000, 0x20100, 0x1001);
	cmds[2] = cmd_fill(0x20200, 0x10, 0xbbbbbbbbbbbbbbbbull);
	check(exec_job(fd, queue, cmds, 3, NULL, &out, &job) == 0 && job == 2, "exec %s: submit the faulting job", design);
	check(syncobj_wait(fd, done, 0, 5000) == 0, "exec %s: a faulting job signals too", design);
	q = job_query(fd, queue, job);
	check(q.state == DRM_VGPUVM_JOB_DONE && q.error == -EFAULT && q.fault_cmd == 1 && q.fault_addr == 0x14000,
	      "exec %s: the fault is reported (error %d, cmd %u, addr 0x%llx)", design, q.error, q.fault_cmd,
	      (unsigned long long)q.fault_addr);
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x20000, seen, 0x210, NULL) == 0 && seen[0] == 0xaa && seen[0xff] == 0xaa &&
		      !memcmp(seen + 0x100, want + 0x10f8, 0x110),
	      "exec %s: the commands before the fault ran, the rest wrote nothing", design);
	cmds[0] = cmd_fill(0x40000, 4, 1);
	check(exec_job(fd, queue, cmds, 1, NULL, NULL, &job) == 0, "exec %s: submit a write to a sparse page", design);
	cmds[0] = cmd_checksum(0x10000, 0x10, 0x80000);
	check(exec_job(fd, queue, cmds, 1, NULL, &out, &job) == 0, "exec %s: submit a write to a hole", design);
	check(syncobj_wait(fd, done, 0, 5000) == 0, "exec %s: both signal", design);
	q = job_query(fd, queue, job - 1);
	check(q.error == -EFAULT && q.fault_addr == 0x40000, "exec %s: a sparse page faults for a job", design);
	q = job_query(fd, queue, job);
	check(q.error == -EFAULT && q.fault_addr == 0x80000, "exec %s: a hole faults", design);

	/* Validation: an evicted BO is validated by the next EXEC (drm_gpuvm_validate in the submission). */
	struct drm_vgpuvm_bo_evict ev = { .handle = bo_handle[1], .evict = 1 };
	check(xioctl(fd, DRM_IOCTL_VGPUVM_BO_EVICT, &ev) == 0 && query_count(fd, vm, DRM_VGPUVM_QUERY_EVICT) == 1,
	      "exec %s: the evicted BO is on the evict list", design);
	cmds[0] = cmd_fill(0x20000, 8, 5);
	check(exec_job(fd, queue, cmds, 1, NULL, &out, &job) == 0 && syncobj_wait(fd, done, 0, 5000) == 0,
	      "exec %s: a job after the eviction", design);
	check(query_count(fd, vm, DRM_VGPUVM_QUERY_EVICT) == 0, "exec %s: the submission validated it", design);

	/* Timeline points: out at point 3, then a job waiting for point 3. */
	uint32_t timeline = syncobj_create(fd);
	struct drm_vgpuvm_sync point3 = { .handle = timeline, .flags = DRM_VGPUVM_SYNC_TIMELINE, .point = 3 };
	struct drm_vgpuvm_sync point4 = { .handle = timeline, .flags = DRM_VGPUVM_SYNC_TIMELINE, .point = 4 };
	cmds[0] = cmd_fill(0x10000, 8, 0x11);
	check(exec_job(fd, queue, cmds, 1, NULL, &point3, NULL) == 0, "exec %s: out to timeline point 3", design);
	cmds[0] = cmd_fill(0x10008, 8, 0x22);
	check(exec_job(fd, queue, cmds, 1, &point3, &point4, NULL) == 0, "exec %s: in from point 3, out to 4", design);
	check(syncobj_wait(fd, timeline, 4, 5000) == 0, "exec %s: timeline point 4 signals", design);
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x10000, seen, 16, NULL) == 0 && seen[0] == 0x11 && seen[8] == 0x22,
	      "exec %s: both timeline jobs ran", design);

	/* Bad input: EINVAL or ENOENT, nothing queued. */
	struct drm_vgpuvm_exec e = { .queue_id = queue, .count = 1, .cmds = (uintptr_t)cmds, .stride = sizeof(cmds[0]) };
	static const struct { const char *what; struct drm_vgpuvm_cmd cmd; int err; } bad[] = {
		{ "an unknown op", { .op = 3, .dst = 0x10000, .size = 8 }, EINVAL },
		{ "a non-zero pad", { .op = DRM_VGPUVM_CMD_FILL, .pad = 1, .dst = 0x10000, .size = 8 }, EINVAL },
		{ "size 0", { .op = DRM_VGPUVM_CMD_FILL, .dst = 0x10000 }, EINVAL },
		{ "size past the limit", { .op = DRM_VGPUVM_CMD_FILL, .dst = 0x10000, .size = DRM_VGPUVM_CMD_MAX_SIZE + 1ull }, EINVAL },
		{ "a value on a COPY", { .op = DRM_VGPUVM_CMD_COPY, .src = 0x10000, .dst = 0x10100, .size = 8, .value = 1 }, EINVAL },
		{ "a src on a FILL", { .op = DRM_VGPUVM_CMD_FILL, .src = 1, .dst = 0x10000, .size = 8 }, EINVAL },
		{ "dst + size past 2^64", { .op = DRM_VGPUVM_CMD_FILL, .dst = ~0ull - 3, .size = 8 }, EINVAL },
		{ "a checksum target past 2^64", { .op = DRM_VGPUVM_CMD_CHECKSUM, .src = 0x10000, .dst = ~0ull - 3, .size = 1 }, EINVAL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct drm_vgpuvm_cmd two[2] = { cmd_fill(0x10000, 8, 0), bad[i].cmd };

		e.cmds = (uintptr_t)two;
		e.count = 2;
		check(xioctl(fd, DRM_IOCTL_VGPUVM_EXEC, &e) == bad[i].err && e.failed_cmd == 1 && e.job_id == 0,
		      "exec %s: %s is refused at command 1", design, bad[i].what);
	}
	e.cmds = (uintptr_t)cmds;
	e.count = 0;
	check(xioctl(fd, DRM_IOCTL_VGPUVM_EXEC, &e) == EINVAL, "exec %s: count 0 is EINVAL", design);
	e.count = DRM_VGPUVM_EXEC_MAX_CMDS + 1;
	check(xioctl(fd, DRM_IOCTL_VGPUVM_EXEC, &e) == EINVAL, "exec %s: too many commands is EINVAL", design);
	e.count = 1;
	e.stride = 8;
	check(xioctl(fd, DRM_IOCTL_VGPUVM_EXEC, &e) == EINVAL, "exec %s: a wrong stride is EINVAL", design);
	e.stride = sizeof(cmds[0]);
	e.cmds = 8;
	check(xioctl(fd, DRM_IOCTL_VGPUVM_EXEC, &e) == EFAULT, "exec %s: an unreadable command array is EFAULT", design);
	e.cmds = (uintptr_t)cmds;
	e.queue_id = queue + 100;
	check(xioctl(fd, DRM_IOCTL_VGPUVM_EXEC, &e) == ENOENT, "exec %s: an unknown queue is ENOENT", design);
	e.queue_id = queue;
	struct drm_vgpuvm_sync bad_syncs[] = {
		{ .handle = done + 1000 }, { .handle = done, .flags = 2 }, { .handle = done, .point = 1 },
		{ .handle = timeline, .flags = DRM_VGPUVM_SYNC_TIMELINE },
	};
	static const int bad_sync_err[] = { ENOENT, EINVAL, EINVAL, EINVAL };
	for (size_t i = 0; i < 4; i++) {
		check(exec_job(fd, queue, cmds, 1, &bad_syncs[i], NULL, NULL) == bad_sync_err[i],
		      "exec %s: bad in-sync %zu is %s", design, i, strerror(bad_sync_err[i]));
		check(exec_job(fd, queue, cmds, 1, NULL, &bad_syncs[i], NULL) == bad_sync_err[i],
		      "exec %s: bad out-sync %zu is %s", design, i, strerror(bad_sync_err[i]));
	}
	uint32_t empty = syncobj_create(fd);
	struct drm_vgpuvm_sync never = { .handle = empty };
	check(exec_job(fd, queue, cmds, 1, &never, NULL, NULL) == ENOENT, "exec %s: an in-sync with no fence is ENOENT",
	      design);
	e.num_in_syncs = DRM_VGPUVM_MAX_SYNCS + 1;
	check(xioctl(fd, DRM_IOCTL_VGPUVM_EXEC, &e) == EINVAL, "exec %s: too many in-syncs is EINVAL", design);
	q = job_query(fd, queue, 999);
	check(q.state == ~0u, "exec %s: an unknown job id is ENOENT", design);
	struct drm_vgpuvm_job_query padded = { .queue_id = queue, .job_id = 1, .pad = 1 };
	check(xioctl(fd, DRM_IOCTL_VGPUVM_JOB_QUERY, &padded) == EINVAL, "exec %s: JOB_QUERY with a pad is EINVAL", design);

	/* Asynchronous binds: refused on a staged VM, queued on an immediate one. */
	struct drm_vgpuvm_bind_op extra = map_op(0x30000, 0x1000, 0, 0);
	if (!(flags & DRM_VGPUVM_VM_CREATE_IMMEDIATE)) {
		check(bind_async(fd, vm, queue, &extra, 1, NULL, NULL, NULL) == EINVAL,
		      "exec %s: an asynchronous bind on a staged VM is EINVAL", design);
	} else {
		uint32_t before = tree_count(fd, vm);
		char ops_before[512], ops_after[512];

		query_ops(fd, vm, ops_before, sizeof(ops_before));
		check(bind_async(fd, vm, queue, &extra, 1, NULL, &out, &job) == 0 && job > 0,
		      "exec %s: an asynchronous bind is queued", design);
		check(syncobj_wait(fd, done, 0, 5000) == 0, "exec %s: its out-sync signals", design);
		q = job_query(fd, queue, job);
		check(q.state == DRM_VGPUVM_JOB_DONE && q.error == 0 && tree_count(fd, vm) == before + 1,
		      "exec %s: the asynchronous bind mapped (error %d)", design, q.error);
		query_ops(fd, vm, ops_after, sizeof(ops_after));
		check(!strcmp(ops_before, ops_after), "exec %s: QUERY_OPS still shows the last synchronous bind", design);
		struct drm_vgpuvm_bind_op listed[] = { PF(0x30000, 0x1000), MA(0x30000, 0x1000) };
		for (unsigned int i = 0; i < 2; i++)
			check(bind_async(fd, vm, queue, &listed[i], 1, NULL, NULL, NULL) == EINVAL,
			      "exec %s: a queued %s is EINVAL", design, i ? "madvise" : "prefetch");
		check(bind_async(fd, vm, queue + 100, &extra, 1, NULL, NULL, NULL) == ENOENT,
		      "exec %s: an asynchronous bind on an unknown queue is ENOENT", design);
		uint32_t other = vm_create(fd, 0, 0x100000, 0, 0, flags);
		check(bind_async(fd, other, queue, &extra, 1, NULL, NULL, NULL) == EINVAL,
		      "exec %s: a queue of another VM is EINVAL", design);
		vm_destroy(fd, other);
	}
	struct drm_vgpuvm_vm_bind b = { .vm_id = vm, .count = 1, .ops = (uintptr_t)&extra, .stride = sizeof(extra),
					.num_out_syncs = 1, .out_syncs = (uintptr_t)&out };
	check(xioctl(fd, DRM_IOCTL_VGPUVM_VM_BIND, &b) == EINVAL, "exec %s: syncs on a synchronous bind are EINVAL", design);
	struct drm_vgpuvm_queue_create qc = { .vm_id = vm, .flags = 1 };
	check(xioctl(fd, DRM_IOCTL_VGPUVM_QUEUE_CREATE, &qc) == EINVAL, "exec %s: QUEUE_CREATE flags are EINVAL", design);
	qc = (struct drm_vgpuvm_queue_create){ .vm_id = vm + 1000 };
	check(xioctl(fd, DRM_IOCTL_VGPUVM_QUEUE_CREATE, &qc) == ENOENT, "exec %s: QUEUE_CREATE on no VM is ENOENT", design);
	struct drm_vgpuvm_queue_destroy qd = { .queue_id = queue + 100 };
	check(xioctl(fd, DRM_IOCTL_VGPUVM_QUEUE_DESTROY, &qd) == ENOENT, "exec %s: QUEUE_DESTROY of no queue is ENOENT",
	      design);
	qd.queue_id = queue;
	check(xioctl(fd, DRM_IOCTL_VGPUVM_QUEUE_DESTROY, &qd) == 0, "exec %s: QUEUE_DESTROY", design);
	check(exec_job(fd, queue, cmds, 1, NULL, NULL, NULL) == ENOENT, "exec %s: a destroyed queue is ENOENT", design);
	vm_destroy(fd, vm);
}

/*
 * Ordering through fences, with a gate (a vgem fence) holding a job back: a bind waiting for the job's
 * out-sync, an asynchronous unbind and a synchronous one of memory the job uses all complete only after it.
 */
static void run_fence_ordering(int fd, int vgem)
{
	uint32_t vm = vm_create(fd, 0, 0x1000000, 0, 0, DRM_VGPUVM_VM_CREATE_IMMEDIATE);
	uint32_t jobs = queue_create(fd, vm), binds = queue_create(fd, vm);
	uint32_t job_done = syncobj_create(fd), bind_done = syncobj_create(fd), unbind_done = syncobj_create(fd);
	struct drm_vgpuvm_sync job_out = { .handle = job_done }, bind_out = { .handle = bind_done };
	struct drm_vgpuvm_sync unbind_out = { .handle = unbind_done };
	struct drm_vgpuvm_bind_op layout[] = { map_op(0x10000, 0x4000, 0, 0), map_op(0x20000, 0x4000, 1, 0) };
	struct drm_vgpuvm_bind_op unmap_a = unmap_op(0x10000, 0x4000), unmap_b = unmap_op(0x20000, 0x4000);
	struct drm_vgpuvm_cmd cmd = cmd_copy(0x10000, 0x20000, 0x4000);
	struct drm_vgpuvm_job_query q;
	unsigned char seen[16];
	uint64_t job = 0, bind_job = 0, unbind_job = 0;
	struct gate gate;
	int err;

	check(bind(fd, vm, layout, 2, NULL) == 0, "ordering: bind the layout");
	err = gate_open(fd, vgem, &gate);
	check(err == 0, "ordering: a vgem fence as the gate: %s", strerror(err));
	if (err)
		return;
	struct drm_vgpuvm_sync gate_in = { .handle = gate.syncobj };
	check(exec_job(fd, jobs, &cmd, 1, &gate_in, &job_out, &job) == 0, "ordering: a job behind the gate");
	/* A bind on another queue that waits for the job's out-sync: it unmaps what the job reads. */
	check(bind_async(fd, vm, binds, &unmap_a, 1, &job_out, &bind_out, &bind_job) == 0,
	      "ordering: an unbind waiting for the job's out-sync");
	/* An unbind with no in-sync of what the job writes: it waits for the job's fence in the VM's resv. */
	check(bind_async(fd, vm, binds, &unmap_b, 1, NULL, &unbind_out, &unbind_job) == 0,
	      "ordering: an unbind of memory the job uses");
	pid_t child = fork();
	if (child == 0) {
		/* A synchronous unbind of the same memory waits too (it is a no-op by then). */
		_exit(bind(fd, vm, &unmap_b, 1, NULL) ? 1 : 0);
	}
	usleep(300000);
	int status = 0;
	check(waitpid(child, &status, WNOHANG) == 0, "ordering: the synchronous unbind is still waiting");
	check(syncobj_wait(fd, bind_done, 0, 0) == ETIME && syncobj_wait(fd, unbind_done, 0, 0) == ETIME,
	      "ordering: both asynchronous binds are still waiting");
	q = job_query(fd, jobs, job);
	check(q.state == DRM_VGPUVM_JOB_PENDING, "ordering: the job is pending behind its gate");
	check(tree_count(fd, vm) == 2, "ordering: nothing was unmapped yet");
	gate_release(&gate);
	check(syncobj_wait(fd, bind_done, 0, 5000) == 0 && syncobj_wait(fd, unbind_done, 0, 5000) == 0,
	      "ordering: the binds complete once the gate opens");
	pid_t waited = waitpid(child, &status, 0);
	check(waited == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "ordering: the synchronous unbind completes (status 0x%x)", status);
	q = job_query(fd, jobs, job);
	check(q.state == DRM_VGPUVM_JOB_DONE && q.error == 0, "ordering: the job ran before the unbinds (error %d)", q.error);
	check(job_query(fd, binds, bind_job).error == 0 && job_query(fd, binds, unbind_job).error == 0 &&
		      tree_count(fd, vm) == 0,
	      "ordering: both unbinds applied");
	check(vm_rw(fd, vm, DRM_VGPUVM_RW_READ, 0x10000, seen, 1, NULL) == EFAULT, "ordering: the range is unmapped now");
	vm_destroy(fd, vm);
}

/*
 * Teardown with jobs in flight: a child queues jobs behind a gate and exits without opening it; its killed
 * jobs are freed once the gate opens, and then nothing of it is left.
 */
static void run_teardown_in_flight(const char *node, int vgem)
{
	struct drm_vgpuvm_stats s = { 0 };
	uint32_t fence = 0;
	int pipefd[2];
	pid_t child;

	int probe = open_vgpuvm(node);
	check(xioctl(probe, DRM_IOCTL_VGPUVM_STATS, &s) == 0, "teardown: STATS");
	close(probe);
	uint64_t bos_before = s.bos;
	check(pipe(pipefd) == 0, "teardown: pipe");
	child = fork();
	if (child == 0) {
		int cfd;

		failed = 0;
		cfd = open_vgpuvm(node);
		uint32_t vm = vm_create(cfd, 0, 0x100000, 0, 0, DRM_VGPUVM_VM_CREATE_IMMEDIATE);
		uint32_t queue = queue_create(cfd, vm);
		struct drm_vgpuvm_bo_create c = { .size = 0x4000 };
		struct drm_vgpuvm_bind_op op = { .op = DRM_VGPUVM_BIND_OP_MAP, .addr = 0x10000, .range = 0x4000 };
		struct drm_vgpuvm_cmd cmd = cmd_fill(0x10000, 0x4000, 7);
		struct gate gate;

		if (xioctl(cfd, DRM_IOCTL_VGPUVM_BO_CREATE, &c) || (op.handle = c.handle, bind(cfd, vm, &op, 1, NULL)) ||
		    gate_open(cfd, vgem, &gate))
			_exit(3);
		struct drm_vgpuvm_sync in = { .handle = gate.syncobj };
		for (int i = 0; i < 8; i++)
			if (exec_job(cfd, queue, &cmd, 1, &in, NULL, NULL))
				_exit(4);
		if (bind_async(cfd, vm, queue, &op, 1, &in, NULL, NULL))
			_exit(5);
		if (write(pipefd[1], &gate.fence, sizeof(gate.fence)) != sizeof(gate.fence))
			_exit(6);
		_exit(failed ? 7 : 0);
	}
	close(pipefd[1]);
	check(read(pipefd[0], &fence, sizeof(fence)) == sizeof(fence), "teardown: the child queued its jobs");
	close(pipefd[0]);
	int status = 0;
	pid_t waited = waitpid(child, &status, 0);
	check(waited == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "teardown: the child exited with jobs in flight (status 0x%x)", status);
	int fd = open_vgpuvm(node);
	int err = xioctl(fd, DRM_IOCTL_VGPUVM_STATS, &s);
	/* The killed jobs wait for their gate; the bind job still holds its 3 spare VAs and its pair. */
	check(!err && s.jobs == 9 && s.queues == 1 && s.vms == 1 && s.vas == 3 && s.vm_bos == 1,
	      "teardown: the 9 killed jobs wait for their gate, holding their queue and VM (jobs %llu queues %llu "
	      "vms %llu vas %llu vm_bos %llu)", (unsigned long long)s.jobs, (unsigned long long)s.queues,
	      (unsigned long long)s.vms, (unsigned long long)s.vas, (unsigned long long)s.vm_bos);
	struct drm_vgem_fence_signal sig = { .fence = fence };
	check(xioctl(vgem, DRM_IOCTL_VGEM_FENCE_SIGNAL, &sig) == 0, "teardown: open the gate");
	for (int tries = 0; tries < 200; tries++) {
		if (xioctl(fd, DRM_IOCTL_VGPUVM_STATS, &s) == 0 && !s.jobs && !s.queues && !s.vms && s.bos == bos_before)
			break;
		usleep(25000);
	}
	check(!s.jobs && !s.queues && !s.vms && !s.vm_bos && !s.vas && s.bos == bos_before,
	      "teardown: nothing left (jobs %llu queues %llu vms %llu bos %llu)", (unsigned long long)s.jobs,
	      (unsigned long long)s.queues, (unsigned long long)s.vms, (unsigned long long)s.bos);
	close(fd);
}

/*
 * A process exits while its job runs: its queue is torn down with the job on the scheduler's pending list
 * (drm_sched_fini frees it through cancel_job), and once it has run nothing is left.
 */
static void run_teardown_running(const char *node)
{
	struct drm_vgpuvm_stats s = { 0 };
	int fd = open_vgpuvm(node);

	check(xioctl(fd, DRM_IOCTL_VGPUVM_STATS, &s) == 0, "running: STATS");
	uint64_t bos_before = s.bos;
	pid_t child = fork();
	if (child == 0) {
		int cfd = (failed = 0, open_vgpuvm(node));
		uint32_t vm = vm_create(cfd, 0, 0x10000000, 0, 0, DRM_VGPUVM_VM_CREATE_IMMEDIATE);
		uint32_t queue = queue_create(cfd, vm);
		struct drm_vgpuvm_bo_create c = { .size = DRM_VGPUVM_CMD_MAX_SIZE };
		struct drm_vgpuvm_bind_op op = { .op = DRM_VGPUVM_BIND_OP_MAP, .addr = 0x1000000, .range = c.size };
		struct drm_vgpuvm_cmd cmds[16];

		if (xioctl(cfd, DRM_IOCTL_VGPUVM_BO_CREATE, &c) || (op.handle = c.handle, bind(cfd, vm, &op, 1, NULL)))
			_exit(3);
		for (int i = 0; i < 16; i++)
			cmds[i] = cmd_fill(0x1000000, c.size, i);
		/* A gigabyte of fills: still running when the process exits a moment later. */
		if (exec_job(cfd, queue, cmds, 16, NULL, NULL, NULL))
			_exit(4);
		usleep(20000);
		_exit(failed ? 5 : 0);
	}
	int status = 0;
	check(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "running: the child exited while its job ran (status 0x%x)", status);
	for (int tries = 0; tries < 1200; tries++) {
		if (xioctl(fd, DRM_IOCTL_VGPUVM_STATS, &s) == 0 && !s.jobs && !s.queues && !s.vms && s.bos == bos_before)
			break;
		usleep(25000);
	}
	check(!s.jobs && !s.queues && !s.vms && !s.vm_bos && !s.vas && s.bos == bos_before,
	      "running: nothing left once the job ran (jobs %llu queues %llu vms %llu bos %llu)",
	      (unsigned long long)s.jobs, (unsigned long long)s.queues, (unsigned long long)s.vms,
	      (unsigned long long)s.bos);
	close(fd);
}

/*
 * Four processes share BOs through PRIME and run jobs and asynchronous binds on their own queues at once:
 * each fills its own stretch of the shared BOs through its VM and checks the bytes and the checksums.
 */
static void run_concurrent_jobs(const char *node, unsigned long rounds)
{
	int fd = open_vgpuvm(node);
	struct drm_vgpuvm_bo_create c = { .size = 0x40000 };
	struct drm_prime_handle h = { .flags = DRM_CLOEXEC | DRM_RDWR };
	pid_t pids[4];

	check(xioctl(fd, DRM_IOCTL_VGPUVM_BO_CREATE, &c) == 0, "jobs: BO_CREATE");
	h.handle = c.handle;
	check(xioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &h) == 0, "jobs: PRIME export");
	for (unsigned int p = 0; p < 4; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			int cfd = (failed = 0, open_vgpuvm(node));
			struct drm_prime_handle imp = { .fd = h.fd };
			unsigned char buf[0x1000], got[8];
			uint64_t base = 0x100000, mine = p * 0x10000, hash;

			if (xioctl(cfd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &imp))
				_exit(3);
			uint32_t vm = vm_create(cfd, 0, 0x1000000, 0, 0, DRM_VGPUVM_VM_CREATE_IMMEDIATE |
						(p % 2 ? DRM_VGPUVM_VM_CREATE_PUT_LOCKED : 0));
			uint32_t queue = queue_create(cfd, vm), done = syncobj_create(cfd);
			struct drm_vgpuvm_sync out = { .handle = done };
			for (unsigned long r = 0; r < rounds; r++) {
				struct drm_vgpuvm_bind_op op = { .op = DRM_VGPUVM_BIND_OP_MAP, .handle = imp.handle,
								 .addr = base, .range = 0x10000, .bo_offset = mine };
				struct drm_vgpuvm_bind_op un = unmap_op(base, 0x10000);
				struct drm_vgpuvm_cmd cmds[2] = {
					cmd_fill(base + (r % 16) * 0x1000, 0x1000, 0x0101010101010101ull * (p * 16 + r % 16)),
					cmd_checksum(base + (r % 16) * 0x1000, 0x1000, base + 0xfff8),
				};
				if (bind_async(cfd, vm, queue, &op, 1, NULL, NULL, NULL) ||
				    exec_job(cfd, queue, cmds, 2, NULL, &out, NULL) || syncobj_wait(cfd, done, 0, 5000))
					_exit(4);
				/* The job after the bind sees the mapping; read back through this VM. */
				if (vm_rw(cfd, vm, DRM_VGPUVM_RW_READ, base + 0xfff8, got, 8, NULL) ||
				    vm_rw(cfd, vm, DRM_VGPUVM_RW_READ, base + (r % 16) * 0x1000, buf, 0x1000, NULL))
					_exit(5);
				hash = fnv1a(buf, 0x1000);
				if (buf[0] != p * 16 + r % 16 || (r % 16 != 15 && memcmp(got, &hash, 8)))
					_exit(6);
				if (bind_async(cfd, vm, queue, &un, 1, NULL, &out, NULL) || syncobj_wait(cfd, done, 0, 5000))
					_exit(7);
			}
			_exit(failed ? 8 : 0);
		}
	}
	for (unsigned int p = 0; p < 4; p++) {
		int status = 0;

		waitpid(pids[p], &status, 0);
		check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "jobs: process %u sharing the BO: status 0x%x", p, status);
	}
	close(h.fd);
	close(fd);
}

/* --- 5. nothing leaks ----------------------------------------------------------------------------------------------- */

static void check_stats(int fd, const char *when, uint64_t bos)
{
	struct drm_vgpuvm_stats s;

	check(xioctl(fd, DRM_IOCTL_VGPUVM_STATS, &s) == 0, "STATS");
	check(s.vms == 0 && s.vm_bos == 0 && s.vas == 0 && s.bos == bos && s.queues == 0 && s.jobs == 0,
	      "%s: live vms=%llu vm_bos=%llu vas=%llu bos=%llu queues=%llu jobs=%llu (expected bos=%llu)", when,
	      (unsigned long long)s.vms, (unsigned long long)s.vm_bos, (unsigned long long)s.vas,
	      (unsigned long long)s.bos, (unsigned long long)s.queues, (unsigned long long)s.jobs,
	      (unsigned long long)bos);
}

int main(int argc, char **argv)
{
	const char *node = argc > 1 ? argv[1] : "/dev/dri/renderD128";
	unsigned long requests = argc > 2 ? strtoul(argv[2], NULL, 0) : 20000;
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
	int fd = open_vgpuvm(node);

	rng_state = seed ? seed : 1;
	check_stats(fd, "at start", 0);
	create_bos(fd);
	run_bo_checks(fd);
	run_vm_create_checks(fd);
	run_sm_cases(fd, 0);
	run_bad_cases(fd, 0);
	/* The case tables use BOs A..D in staged VMs; immediate VMs need BOs of their own. */
	create_bos(fd);
	run_sm_cases(fd, DRM_VGPUVM_VM_CREATE_IMMEDIATE);
	run_bad_cases(fd, DRM_VGPUVM_VM_CREATE_IMMEDIATE);
	/* The gpuva-lock design is immediate too: the same BOs serve it. */
	run_sm_cases(fd, DRM_VGPUVM_VM_CREATE_IMMEDIATE | DRM_VGPUVM_VM_CREATE_PUT_LOCKED);
	run_bad_cases(fd, DRM_VGPUVM_VM_CREATE_IMMEDIATE | DRM_VGPUVM_VM_CREATE_PUT_LOCKED);
	run_mode_mixing(fd);
	check_stats(fd, "after the case tables", 2 * NBOS);

	/* The fuzz: BOs 0,1 for immediate VMs, 2,3 for staged ones (fresh, so no mode is set yet). */
	create_bos(fd);
	run_rw_checks(fd);
	run_fuzz(fd, requests);
	check_stats(fd, "after the fuzz", 3 * NBOS);

	/* Leave VMs with mappings behind and close the file: postclose must free everything. */
	for (int i = 0; i < 3; i++) {
		uint32_t vm = vm_create(fd, 0, 0x100000, 0, 0, i % 2 ? DRM_VGPUVM_VM_CREATE_IMMEDIATE : 0);
		struct drm_vgpuvm_bind_op op = map_op(0x1000 * i, 0x3000, i % 2 ? 0 : 2, 0);
		check(bind(fd, vm, &op, 1, NULL) == 0, "bind before close");
	}
	close(fd);
	fd = open_vgpuvm(node);
	check_stats(fd, "after close", 0);
	close(fd);

	run_concurrent(node, 4, requests / 4);
	fd = open_vgpuvm(node);
	check_stats(fd, "after the concurrent binders", 0);

	/* The software GPU, in the three designs, on fresh BOs 0 (immediate VMs) and 1 (staged ones). */
	int vgem = open_vgem();
	check(vgem >= 0, "a vgem card for the fence gates");
	create_bos(fd);
	run_exec_checks(fd, 0);
	create_bos(fd);
	run_exec_checks(fd, DRM_VGPUVM_VM_CREATE_IMMEDIATE);
	run_exec_checks(fd, DRM_VGPUVM_VM_CREATE_IMMEDIATE | DRM_VGPUVM_VM_CREATE_PUT_LOCKED);
	if (vgem >= 0) {
		run_fence_ordering(fd, vgem);
		run_teardown_in_flight(node, vgem);
	}
	run_teardown_running(node);
	run_concurrent_jobs(node, requests / 100 + 1);
	close(fd);
	fd = open_vgpuvm(node);
	check_stats(fd, "after the software GPU", 0);
	close(fd);
	if (vgem >= 0)
		close(vgem);

	printf("vgpuvm-smoke: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
