// SPDX-License-Identifier: MIT
/*
 * Replays a GPUVM trace (docs/trace-format.md) through the vgpuvm module and prints, in the trace
 * output format, the ops the kernel's drm_gpuvm generated and the mappings it holds, so the output can be
 * compared byte for byte with `drm-gpuvm trace` (the TypeScript model).
 *
 * The kernel only says that a request was refused (EINVAL); the word after `error` is then derived here
 * from the request with the spec's checks, in the spec's order. A refusal none of them explains prints
 * `error unexplained`, and an accepted request that one of them would refuse prints the kernel's ops, so
 * either disagreement shows up in a comparison. Sparse mappings print offset 0x0, as the spec says (the
 * kernel extrapolates their offsets like a BO's).
 *
 * With --check-va, every BO page starts with a tag when the BO is made, and at each `dump` up to eight of
 * the kernel's mappings are read back through VM_RW (the GPU's view of memory): each must show its BO's tags
 * at its BO offset, or zeros where sparse, and the first byte of each gap before them must fault there; a
 * difference ends the replay with status 1, and stderr ends with the number of reads checked.
 *
 * Usage: replay [--design resv|gpuva-lock|deferred | --immediate] [--check-va] [--node PATH] [FILE]
 *        (standard input without FILE; --immediate is the deferred design)
 *        replay --probe PATH                           (exit 0 if PATH is a vgpuvm node)
 * Exit status: 0, 1 on an unexpected ioctl failure, 2 on a malformed trace, 3 if the node is not vgpuvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vgpuvm_drm.h"

#define MAX_BOS 64

struct trace_bo {
	char name[64];
	uint64_t size;
	uint32_t handle;
	uint64_t id;
};

static struct trace_bo bos[MAX_BOS];
static int nbos;
static int fd = -1;
static uint32_t vm_id;
static int have_vm;
static uint64_t vm_start, vm_range, res_start, res_range;
static unsigned long line_no;
static uint32_t vm_flags;
static int check_va;
static unsigned long va_reads;

static int xioctl(unsigned long req, void *arg)
{
	int ret;

	do
		ret = ioctl(fd, req, arg);
	while (ret == -1 && errno == EINTR);
	return ret == -1 ? errno : 0;
}

static void die(int status, const char *what, int err)
{
	fprintf(stderr, "replay: line %lu: %s%s%s\n", line_no, what, err ? ": " : "", err ? strerror(err) : "");
	exit(status);
}

static int open_node(const char *path)
{
	char name[32] = { 0 };
	struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (xioctl(DRM_IOCTL_VERSION, &v) || strcmp(name, DRM_VGPUVM_DRIVER_NAME)) {
		close(fd);
		return 0;
	}
	return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (strncmp(s, "0x", 2) || !s[2])
		return 0;
	errno = 0;
	*out = strtoull(s + 2, &end, 16);
	return !errno && !*end;
}

static const char *bo_name_of(uint64_t id)
{
	for (int i = 0; i < nbos; i++)
		if (bos[i].id == id)
			return bos[i].name;
	return "?";
}

static struct trace_bo *bo_by_name(const char *name)
{
	for (int i = 0; i < nbos; i++)
		if (!strcmp(bos[i].name, name))
			return &bos[i];
	return NULL;
}

/* `addr:range:bo:offset` (or with sparse), as remap fields print a mapping. */
static void print_piece(const struct drm_vgpuvm_va *va)
{
	if (va->bo_id)
		printf("0x%" PRIx64 ":0x%" PRIx64 ":%s:0x%" PRIx64, (uint64_t)va->addr, (uint64_t)va->range,
		       bo_name_of(va->bo_id), (uint64_t)va->bo_offset);
	else
		printf("0x%" PRIx64 ":0x%" PRIx64 ":sparse:0x0", (uint64_t)va->addr, (uint64_t)va->range);
}

static void print_spaced(const char *kind, const struct drm_vgpuvm_va *va)
{
	if (va->bo_id)
		printf("%s 0x%" PRIx64 " 0x%" PRIx64 " %s 0x%" PRIx64, kind, (uint64_t)va->addr, (uint64_t)va->range,
		       bo_name_of(va->bo_id), (uint64_t)va->bo_offset);
	else
		printf("%s 0x%" PRIx64 " 0x%" PRIx64 " sparse 0x0", kind, (uint64_t)va->addr, (uint64_t)va->range);
}

/* Runs a VM_QUERY into a buffer grown to fit; returns the record count. */
static uint32_t query(uint32_t what, void **buf, uint32_t *capacity, size_t record)
{
	for (;;) {
		struct drm_vgpuvm_vm_query q = {
			.vm_id = vm_id, .what = what, .capacity = *capacity, .records = (uintptr_t)*buf,
		};
		int err = xioctl(DRM_IOCTL_VGPUVM_VM_QUERY, &q);

		if (err)
			die(1, "VM_QUERY", err);
		if (q.count <= *capacity)
			return q.count;
		*capacity = q.count * 2;
		*buf = realloc(*buf, (size_t)*capacity * record);
		if (!*buf)
			die(1, "out of memory", 0);
	}
}

static void print_last_ops(void)
{
	static void *buf;
	static uint32_t capacity;
	uint32_t n = query(DRM_VGPUVM_QUERY_OPS, &buf, &capacity, sizeof(struct drm_vgpuvm_op));
	const struct drm_vgpuvm_op *ops = buf;

	for (uint32_t i = 0; i < n; i++) {
		const struct drm_vgpuvm_op *op = &ops[i];

		if (op->kind == DRM_VGPUVM_OP_MAP) {
			print_spaced("map", &op->va);
		} else if (op->kind == DRM_VGPUVM_OP_UNMAP) {
			print_spaced("unmap", &op->va);
			printf(" keep=%u", op->keep ? 1 : 0);
		} else {
			printf("remap unmap=");
			print_piece(&op->va);
			printf(" keep=%u prev=", op->keep ? 1 : 0);
			if (op->prev.range)
				print_piece(&op->prev);
			else
				printf("-");
			printf(" next=");
			if (op->next.range)
				print_piece(&op->next);
			else
				printf("-");
		}
		printf("\n");
	}
}

/* --- --check-va ------------------------------------------------------------------------------------------- */

/* The tag --check-va puts at the start of page @page of the BO with id @bo_id. */
static uint64_t page_tag(uint64_t bo_id, uint64_t page)
{
	return 0x5a00000000000000ull ^ (bo_id << 32) ^ (page + 1);
}

static void tag_pages(const struct trace_bo *bo)
{
	struct drm_vgpuvm_bo_info info = { .handle = bo->handle };
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	unsigned char *cpu;
	int err = xioctl(DRM_IOCTL_VGPUVM_BO_INFO, &info);

	if (err)
		die(1, "BO_INFO", err);
	cpu = mmap(NULL, bo->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)info.mmap_offset);
	if (cpu == MAP_FAILED)
		die(1, "mmap of a BO", errno);
	for (uint64_t p = 0; p < bo->size / page; p++) {
		uint64_t tag = page_tag(bo->id, p);

		memcpy(cpu + p * page, &tag, sizeof(tag));
	}
	munmap(cpu, bo->size);
}

/* VM_RW READ of @size bytes at @addr; returns 0 or the errno, with the fault address in *@fault. */
static int va_read(uint64_t addr, void *data, uint32_t size, uint64_t *fault)
{
	struct drm_vgpuvm_vm_rw rw = {
		.vm_id = vm_id, .flags = DRM_VGPUVM_RW_READ, .addr = addr, .data = (uintptr_t)data, .size = size,
	};
	int err = xioctl(DRM_IOCTL_VGPUVM_VM_RW, &rw);

	va_reads++;
	*fault = rw.fault_addr;
	return err;
}

static void va_mismatch(const char *what, uint64_t addr)
{
	char message[160];

	snprintf(message, sizeof(message), "--check-va: %s at GPU address 0x%" PRIx64, what, addr);
	die(1, message, 0);
}

/* Page @page_index of the BO behind @va, read through the VA where its tag lies inside the mapping. */
static void check_tag(const struct drm_vgpuvm_va *va, uint64_t page_index)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), at = page_index * page, seen, fault;

	if (at < va->bo_offset || at - va->bo_offset + sizeof(seen) > va->range)
		return;
	if (va_read(va->addr + (at - va->bo_offset), &seen, sizeof(seen), &fault))
		va_mismatch("a mapped byte faulted", va->addr + (at - va->bo_offset));
	if (seen != page_tag(va->bo_id, page_index))
		va_mismatch("a BO page shows another page's tag", va->addr + (at - va->bo_offset));
}

static void check_mapping(const struct drm_vgpuvm_va *va, uint64_t gap_start)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), fault;
	unsigned char bytes[8];

	if (gap_start < va->addr) {
		if (va_read(gap_start, bytes, 1, &fault) != EFAULT || fault != gap_start)
			va_mismatch("an unmapped byte did not fault there", gap_start);
	}
	if (!va->bo_id) {
		uint32_t n = va->range < sizeof(bytes) ? (uint32_t)va->range : sizeof(bytes);

		if (va_read(va->addr, bytes, n, &fault))
			va_mismatch("a sparse byte faulted", va->addr);
		for (uint32_t i = 0; i < n; i++)
			if (bytes[i])
				va_mismatch("a sparse byte is not zero", va->addr + i);
		return;
	}
	check_tag(va, (va->bo_offset + page - 1) / page);
	check_tag(va, (va->bo_offset + va->range - 1) / page);
}

static void check_tree(const struct drm_vgpuvm_va *vas, uint32_t n)
{
	uint32_t step = n > 8 ? n / 8 : 1;

	for (uint32_t i = 0; i < n; i += step)
		check_mapping(&vas[i], i ? vas[i - 1].addr + vas[i - 1].range : vas[i].addr);
}

static void dump(void)
{
	static void *buf;
	static uint32_t capacity;
	uint32_t n = query(DRM_VGPUVM_QUERY_TREE, &buf, &capacity, sizeof(struct drm_vgpuvm_va));
	const struct drm_vgpuvm_va *vas = buf;

	for (uint32_t i = 0; i < n; i++) {
		print_spaced("va", &vas[i]);
		printf("\n");
	}
	printf("end\n");
	if (check_va)
		check_tree(vas, n);
}

/* The spec's reason for refusing a request, checked in its order; NULL if none applies. */
static const char *refusal_reason(uint64_t addr, uint64_t range, const struct trace_bo *bo, uint64_t offset)
{
	uint64_t end, bo_end;

	if (range == 0)
		return "zero_range";
	if (__builtin_add_overflow(addr, range, &end))
		return "overflow";
	if (addr < vm_start || end > vm_start + vm_range)
		return "out_of_range";
	if (res_range && addr < res_start + res_range && res_start < end)
		return "reserved";
	if (bo && (__builtin_add_overflow(offset, range, &bo_end) || bo_end > bo->size))
		return "bo_bounds";
	return NULL;
}

static void request(int is_map, uint64_t addr, uint64_t range, const struct trace_bo *bo, uint64_t offset)
{
	struct drm_vgpuvm_bind_op op = { .addr = addr, .range = range };
	struct drm_vgpuvm_vm_bind b = { .vm_id = vm_id, .count = 1, .ops = (uintptr_t)&op, .stride = sizeof(op) };
	int err;

	if (is_map) {
		op.op = DRM_VGPUVM_BIND_OP_MAP;
		if (bo) {
			op.handle = bo->handle;
			op.bo_offset = offset;
		} else {
			op.flags = DRM_VGPUVM_BIND_SPARSE;
		}
	} else {
		op.op = DRM_VGPUVM_BIND_OP_UNMAP;
	}
	err = xioctl(DRM_IOCTL_VGPUVM_VM_BIND, &b);
	if (err == EINVAL) {
		const char *reason = refusal_reason(addr, range, bo, offset);

		printf("error %s\nend\n", reason ? reason : "unexplained");
		return;
	}
	if (err)
		die(1, "VM_BIND", err);
	print_last_ops();
	printf("end\n");
}

static void create_vm(void)
{
	struct drm_vgpuvm_vm_create c = {
		.va_start = vm_start, .va_range = vm_range, .reserve_start = res_start, .reserve_range = res_range,
		.flags = vm_flags,
	};
	int err = xioctl(DRM_IOCTL_VGPUVM_VM_CREATE, &c);

	if (err)
		die(1, "VM_CREATE", err);
	vm_id = c.vm_id;
	have_vm = 1;
}

static void create_bo(const char *name, uint64_t size)
{
	struct drm_vgpuvm_bo_create c = { .size = size };
	int err;

	if (nbos == MAX_BOS || strlen(name) >= sizeof(bos[0].name))
		die(2, "too many BOs or name too long", 0);
	err = xioctl(DRM_IOCTL_VGPUVM_BO_CREATE, &c);
	if (err)
		die(1, "BO_CREATE", err);
	/* The kernel rounds BO sizes to pages; bo_bounds must use the trace's size, so refuse the difference. */
	if (c.size != size)
		die(2, "BO size is not a multiple of the page size", 0);
	snprintf(bos[nbos].name, sizeof(bos[nbos].name), "%s", name);
	bos[nbos].size = size;
	bos[nbos].handle = c.handle;
	bos[nbos].id = c.bo_id;
	if (check_va)
		tag_pages(&bos[nbos]);
	nbos++;
}

static void replay_line(char *line)
{
	char *argv[8];
	int argc = 0;
	uint64_t a, r, o, s;

	line[strcspn(line, "#\n")] = 0;
	for (char *tok = strtok(line, " \t"); tok && argc < 8; tok = strtok(NULL, " \t"))
		argv[argc++] = tok;
	if (argc == 0)
		return;
	if (!strcmp(argv[0], "vm")) {
		if (have_vm || !(argc == 3 || (argc == 6 && !strcmp(argv[3], "reserve"))) ||
		    !parse_u64(argv[1], &vm_start) || !parse_u64(argv[2], &vm_range) ||
		    (argc == 6 && (!parse_u64(argv[4], &res_start) || !parse_u64(argv[5], &res_range))))
			die(2, "malformed vm line", 0);
		create_vm();
		return;
	}
	if (!have_vm)
		die(2, "a command before vm", 0);
	if (!strcmp(argv[0], "bo") && argc == 3 && parse_u64(argv[2], &s)) {
		create_bo(argv[1], s);
	} else if (!strcmp(argv[0], "map") && argc == 4 && !strcmp(argv[3], "sparse") &&
		   parse_u64(argv[1], &a) && parse_u64(argv[2], &r)) {
		request(1, a, r, NULL, 0);
	} else if (!strcmp(argv[0], "map") && argc == 5 && parse_u64(argv[1], &a) && parse_u64(argv[2], &r) &&
		   parse_u64(argv[4], &o)) {
		const struct trace_bo *bo = bo_by_name(argv[3]);

		if (!bo)
			die(2, "unknown BO", 0);
		request(1, a, r, bo, o);
	} else if (!strcmp(argv[0], "unmap") && argc == 3 && parse_u64(argv[1], &a) && parse_u64(argv[2], &r)) {
		request(0, a, r, NULL, 0);
	} else if (!strcmp(argv[0], "dump") && argc == 1) {
		dump();
	} else {
		die(2, "malformed line", 0);
	}
}

int main(int argc, char **argv)
{
	const char *node = "/dev/dri/renderD128";
	const char *file = NULL;
	char line[512];
	FILE *in;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--probe") && i + 1 < argc)
			return open_node(argv[i + 1]) ? 0 : 3;
		if (!strcmp(argv[i], "--immediate"))
			vm_flags = DRM_VGPUVM_VM_CREATE_IMMEDIATE;
		else if (!strcmp(argv[i], "--design") && i + 1 < argc && !strcmp(argv[i + 1], "resv") && ++i)
			vm_flags = 0;
		else if (!strcmp(argv[i], "--design") && i + 1 < argc && !strcmp(argv[i + 1], "deferred") && ++i)
			vm_flags = DRM_VGPUVM_VM_CREATE_IMMEDIATE;
		else if (!strcmp(argv[i], "--design") && i + 1 < argc && !strcmp(argv[i + 1], "gpuva-lock") && ++i)
			vm_flags = DRM_VGPUVM_VM_CREATE_IMMEDIATE | DRM_VGPUVM_VM_CREATE_PUT_LOCKED;
		else if (!strcmp(argv[i], "--check-va"))
			check_va = 1;
		else if (!strcmp(argv[i], "--node") && i + 1 < argc)
			node = argv[++i];
		else if (!file)
			file = argv[i];
		else
			die(2, "usage: replay [--design resv|gpuva-lock|deferred | --immediate] [--check-va] [--node PATH] [FILE]", 0);
	}
	if (!open_node(node)) {
		fprintf(stderr, "replay: %s is not a vgpuvm render node\n", node);
		return 3;
	}
	in = file && strcmp(file, "-") ? fopen(file, "r") : stdin;
	if (!in)
		die(2, "cannot open the trace", errno);
	while (fgets(line, sizeof(line), in)) {
		line_no++;
		replay_line(line);
	}
	fflush(stdout);
	if (check_va)
		fprintf(stderr, "replay: %lu VA reads checked\n", va_reads);
	close(fd);
	return 0;
}
