// SPDX-License-Identifier: MIT
// A userspace driver for the kernel's own drm_gpuvm.c: it replays a GPUVM trace (the format `drm-gpuvm
// trace` reads) through the kernel code, compiled unmodified, and prints the same text, so the two can be
// diffed byte for byte and timed side by side. Each map/unmap request is validated with the trace format's
// error words, its ops are created with drm_gpuvm_sm_{map,unmap}_ops_create and then applied the way the
// project's GpuVm.apply applies them: new VAs inserted with drm_gpuva_map/remap and linked to the GEM's
// vm_bo (drm_gpuvm_bo_obtain_locked), removed VAs unlinked and freed after the whole list.
//
// Usage: trace-driver [--time] [--memory] [FILE]   (standard input when FILE is absent or '-')
//   --time    prints one line instead of the ops, in the format of `drm-gpuvm trace --time`: only runs of
//             map/unmap requests are timed (CLOCK_MONOTONIC), parsing is not.
//   --memory  then prints `memory: mappings=M malloc_bytes=B bytes_per_mapping=X`: the growth of malloc's
//             in-use bytes from before the first request to the end, over the mappings left.
// A malformed trace: a message on standard error and exit status 2.
#define _GNU_SOURCE
#include <drm/drm_gpuvm.h>

#include <ctype.h>
#include <inttypes.h>
#include <malloc.h>
#include <time.h>

struct trace_bo {
	struct drm_gem_object base;
	char name[64];
};

enum command_kind { CMD_BO, CMD_MAP, CMD_UNMAP, CMD_DUMP };

struct command {
	enum command_kind kind;
	u64 addr, range, offset;
	struct trace_bo *bo; // NULL: a sparse map; for CMD_BO the BO it declares
};

struct trace {
	u64 start, range, reserve_start, reserve_range;
	struct command *commands;
	size_t count, capacity;
	struct trace_bo **bos;
	size_t bo_count, bo_capacity;
};

static void *grow(void *array, size_t *capacity, size_t need, size_t size)
{
	if (need <= *capacity)
		return array;
	size_t cap = *capacity ? *capacity * 2 : 256;
	while (cap < need)
		cap *= 2;
	void *bigger = realloc(array, cap * size);
	if (!bigger) {
		fprintf(stderr, "trace-driver: out of memory\n");
		exit(1);
	}
	*capacity = cap;
	return bigger;
}

static void __attribute__((noreturn)) syntax(size_t line, const char *what)
{
	fprintf(stderr, "trace-driver: line %zu: %s\n", line, what);
	exit(2);
}

static u64 parse_number(const char *word, size_t line)
{
	if (!word || word[0] != '0' || word[1] != 'x' || !word[2])
		syntax(line, "expected a hexadecimal number like 0x1000");
	u64 value = 0;
	for (const char *p = word + 2; *p; p++) {
		if (!isxdigit((unsigned char)*p))
			syntax(line, "expected a hexadecimal number like 0x1000");
		if (value >> 60)
			syntax(line, "a number does not fit in 64 bits");
		value = value << 4 | (u64)(isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10));
	}
	return value;
}

static bool valid_name(const char *word)
{
	if (!*word)
		return false;
	for (const char *p = word; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

static struct trace_bo *find_bo(const struct trace *t, const char *name)
{
	for (size_t i = 0; i < t->bo_count; i++)
		if (!strcmp(t->bos[i]->name, name))
			return t->bos[i];
	return NULL;
}

static void free_bo(struct drm_gem_object *obj)
{
	drm_gem_object_release(obj);
	free(container_of(obj, struct trace_bo, base));
}

static const struct drm_gem_object_funcs bo_funcs = { .free = free_bo };

static void push(struct trace *t, struct command c)
{
	t->commands = grow(t->commands, &t->capacity, t->count + 1, sizeof(*t->commands));
	t->commands[t->count++] = c;
}

// Parses the whole trace; BO names are resolved here, so a replayed request only follows pointers.
static void parse(FILE *in, struct trace *t)
{
	char *text = NULL;
	size_t cap = 0;
	ssize_t len;
	size_t line = 0;
	bool have_vm = false;
	while ((len = getline(&text, &cap, in)) >= 0) {
		line++;
		char *hash = strchr(text, '#');
		if (hash)
			*hash = '\0';
		char *words[8];
		int n = 0;
		for (char *w = strtok(text, " \t\r\n"); w; w = strtok(NULL, " \t\r\n")) {
			if (n == 8)
				syntax(line, "too many words");
			words[n++] = w;
		}
		if (n == 0)
			continue;
		const char *verb = words[0];
		if (strcmp(verb, "vm") && !have_vm)
			syntax(line, "the first command must create the VM");
		if (!strcmp(verb, "vm")) {
			if (have_vm)
				syntax(line, "a second vm");
			if (n != 3 && !(n == 6 && !strcmp(words[3], "reserve")))
				syntax(line, "usage: vm <start> <range> [reserve <rstart> <rrange>]");
			t->start = parse_number(words[1], line);
			t->range = parse_number(words[2], line);
			t->reserve_start = n == 6 ? parse_number(words[4], line) : 0;
			t->reserve_range = n == 6 ? parse_number(words[5], line) : 0;
			u64 end, reserve_end;
			if (check_add_overflow(t->start, t->range, &end))
				syntax(line, "invalid VM: start + range passes 2^64-1");
			if (t->reserve_range &&
			    (check_add_overflow(t->reserve_start, t->reserve_range, &reserve_end) || t->reserve_start < t->start || reserve_end > end))
				syntax(line, "invalid VM: the reserved node is not inside it");
			have_vm = true;
		} else if (!strcmp(verb, "bo")) {
			if (n != 3 || !valid_name(words[1]) || strlen(words[1]) >= sizeof(((struct trace_bo *)0)->name))
				syntax(line, "usage: bo <name> <size>");
			if (find_bo(t, words[1]))
				syntax(line, "a BO is declared twice");
			struct trace_bo *bo = calloc(1, sizeof(*bo));
			bo->base.funcs = &bo_funcs;
			drm_gem_private_object_init(NULL, &bo->base, parse_number(words[2], line));
			strcpy(bo->name, words[1]);
			t->bos = grow(t->bos, &t->bo_capacity, t->bo_count + 1, sizeof(*t->bos));
			t->bos[t->bo_count++] = bo;
			push(t, (struct command){ .kind = CMD_BO, .bo = bo });
		} else if (!strcmp(verb, "map")) {
			struct command c = { .kind = CMD_MAP };
			if (n == 4 && !strcmp(words[3], "sparse")) {
				c.bo = NULL;
			} else if (n == 5 && valid_name(words[3])) {
				c.bo = find_bo(t, words[3]);
				if (!c.bo)
					syntax(line, "unknown BO");
				c.offset = parse_number(words[4], line);
			} else {
				syntax(line, "usage: map <addr> <range> <bo> <offset> | map <addr> <range> sparse");
			}
			c.addr = parse_number(words[1], line);
			c.range = parse_number(words[2], line);
			push(t, c);
		} else if (!strcmp(verb, "unmap")) {
			if (n != 3)
				syntax(line, "usage: unmap <addr> <range>");
			push(t, (struct command){ .kind = CMD_UNMAP, .addr = parse_number(words[1], line),
						  .range = parse_number(words[2], line) });
		} else if (!strcmp(verb, "dump")) {
			if (n != 1)
				syntax(line, "usage: dump");
			push(t, (struct command){ .kind = CMD_DUMP });
		} else {
			syntax(line, "unknown command (expected vm, bo, map, unmap or dump)");
		}
	}
	free(text);
	if (!have_vm)
		syntax(line + 1, "no vm command");
}

struct replay {
	struct drm_gpuvm vm;
	struct drm_device dev;
	FILE *out; // NULL: replay silently (--time)
	u64 requests, maps, remaps, unmaps;
	struct drm_gpuva **removed;
	size_t removed_capacity;
};

static void vm_free(struct drm_gpuvm *vm)
{
	(void)vm;
}

static const struct drm_gpuvm_ops vm_ops = { .vm_free = vm_free };

static const char *bo_name(const struct drm_gem_object *obj)
{
	return container_of(obj, struct trace_bo, base)->name;
}

// One `addr:range:bo:offset` piece; a sparse piece prints offset 0x0 whatever the kernel computed.
static void print_piece(FILE *out, u64 addr, u64 range, const struct drm_gem_object *obj, u64 offset)
{
	if (obj)
		fprintf(out, "0x%" PRIx64 ":0x%" PRIx64 ":%s:0x%" PRIx64, addr, range, bo_name(obj), offset);
	else
		fprintf(out, "0x%" PRIx64 ":0x%" PRIx64 ":sparse:0x0", addr, range);
}

static void print_words(FILE *out, u64 addr, u64 range, const struct drm_gem_object *obj, u64 offset)
{
	if (obj)
		fprintf(out, "0x%" PRIx64 " 0x%" PRIx64 " %s 0x%" PRIx64, addr, range, bo_name(obj), offset);
	else
		fprintf(out, "0x%" PRIx64 " 0x%" PRIx64 " sparse 0x0", addr, range);
}

static void print_map_piece(FILE *out, const struct drm_gpuva_op_map *m)
{
	if (m)
		print_piece(out, m->va.addr, m->va.range, m->gem.obj, m->gem.offset);
	else
		fputc('-', out);
}

static void print_op(FILE *out, const struct drm_gpuva_op *op)
{
	switch (op->op) {
	case DRM_GPUVA_OP_MAP:
		fputs("map ", out);
		print_words(out, op->map.va.addr, op->map.va.range, op->map.gem.obj, op->map.gem.offset);
		break;
	case DRM_GPUVA_OP_UNMAP: {
		const struct drm_gpuva *va = op->unmap.va;
		fputs("unmap ", out);
		print_words(out, va->va.addr, va->va.range, va->gem.obj, va->gem.offset);
		fprintf(out, " keep=%d", op->unmap.keep ? 1 : 0);
		break;
	}
	case DRM_GPUVA_OP_REMAP: {
		const struct drm_gpuva *va = op->remap.unmap->va;
		fputs("remap unmap=", out);
		print_piece(out, va->va.addr, va->va.range, va->gem.obj, va->gem.offset);
		fprintf(out, " keep=%d prev=", op->remap.unmap->keep ? 1 : 0);
		print_map_piece(out, op->remap.prev);
		fputs(" next=", out);
		print_map_piece(out, op->remap.next);
		break;
	}
	default:
		fprintf(stderr, "trace-driver: unexpected op %d\n", op->op);
		abort();
	}
	fputc('\n', out);
}

static struct drm_gpuva *new_va(void)
{
	struct drm_gpuva *va = kzalloc(sizeof(*va), GFP_KERNEL);
	if (!va) {
		fprintf(stderr, "trace-driver: out of memory\n");
		exit(1);
	}
	return va;
}

static void link_to(struct drm_gpuva *va, struct drm_gpuvm_bo *vm_bo)
{
	if (vm_bo && va->gem.obj)
		drm_gpuva_link(va, vm_bo);
}

static void remember_removed(struct replay *r, size_t *count, struct drm_gpuva *va)
{
	r->removed = grow(r->removed, &r->removed_capacity, *count + 1, sizeof(*r->removed));
	r->removed[(*count)++] = va;
}

// Applies an op list as GpuVm.apply does: inserts and links in op order, unlinks and frees removed VAs last.
static void apply(struct replay *r, struct drm_gpuva_ops *ops)
{
	struct drm_gpuva_op *op;
	size_t removed = 0;
	drm_gpuva_for_each_op(op, ops) {
		switch (op->op) {
		case DRM_GPUVA_OP_MAP: {
			struct drm_gpuva *va = new_va();
			drm_gpuva_map(&r->vm, va, &op->map);
			if (op->map.gem.obj) {
				struct drm_gpuvm_bo *vm_bo = drm_gpuvm_bo_obtain_locked(&r->vm, op->map.gem.obj);
				if (IS_ERR(vm_bo)) {
					fprintf(stderr, "trace-driver: drm_gpuvm_bo_obtain_locked failed\n");
					exit(1);
				}
				drm_gpuva_link(va, vm_bo);
				drm_gpuvm_bo_put(vm_bo);
			}
			r->maps++;
			break;
		}
		case DRM_GPUVA_OP_REMAP: {
			struct drm_gpuva *old = op->remap.unmap->va;
			struct drm_gpuva *prev = op->remap.prev ? new_va() : NULL;
			struct drm_gpuva *next = op->remap.next ? new_va() : NULL;
			drm_gpuva_remap(prev, next, &op->remap);
			if (prev)
				link_to(prev, old->vm_bo);
			if (next)
				link_to(next, old->vm_bo);
			remember_removed(r, &removed, old);
			r->remaps++;
			break;
		}
		case DRM_GPUVA_OP_UNMAP:
			drm_gpuva_unmap(&op->unmap);
			remember_removed(r, &removed, op->unmap.va);
			r->unmaps++;
			break;
		default:
			abort();
		}
	}
	for (size_t i = 0; i < removed; i++) {
		drm_gpuva_unlink(r->removed[i]);
		kfree(r->removed[i]);
	}
}

// The trace format's error word for a request, checked in its order; NULL when the request is valid.
static const char *request_error(const struct replay *r, const struct command *c)
{
	u64 end;
	if (c->range == 0)
		return "zero_range";
	if (check_add_overflow(c->addr, c->range, &end))
		return "overflow";
	if (c->addr < r->vm.mm_start || end > r->vm.mm_start + r->vm.mm_range)
		return "out_of_range";
	const struct drm_gpuva *node = &r->vm.kernel_alloc_node;
	if (node->va.range && c->addr < node->va.addr + node->va.range && node->va.addr < end)
		return "reserved";
	if (c->kind == CMD_MAP && c->bo) {
		u64 bo_end;
		if (check_add_overflow(c->offset, c->range, &bo_end) || bo_end > c->bo->base.size)
			return "bo_bounds";
	}
	return NULL;
}

static void request(struct replay *r, const struct command *c)
{
	r->requests++;
	const char *error = request_error(r, c);
	if (error) {
		if (r->out)
			fprintf(r->out, "error %s\nend\n", error);
		return;
	}
	struct drm_gpuva_ops *ops;
	if (c->kind == CMD_MAP) {
		struct drm_gpuvm_map_req req = {
			.map.va.addr = c->addr,
			.map.va.range = c->range,
			.map.gem.obj = c->bo ? &c->bo->base : NULL,
			.map.gem.offset = c->bo ? c->offset : 0,
		};
		ops = drm_gpuvm_sm_map_ops_create(&r->vm, &req);
	} else {
		ops = drm_gpuvm_sm_unmap_ops_create(&r->vm, c->addr, c->range);
	}
	if (IS_ERR(ops)) {
		fprintf(stderr, "trace-driver: the kernel refused a request the trace format accepts (%ld)\n", PTR_ERR(ops));
		exit(1);
	}
	if (r->out) {
		struct drm_gpuva_op *op;
		drm_gpuva_for_each_op(op, ops)
			print_op(r->out, op);
	}
	apply(r, ops);
	drm_gpuva_ops_free(&r->vm, ops);
	if (r->out)
		fputs("end\n", r->out);
}

static void dump(struct replay *r)
{
	if (!r->out)
		return;
	struct drm_gpuva *va;
	drm_gpuvm_for_each_va(va, &r->vm) {
		if (va == &r->vm.kernel_alloc_node)
			continue;
		fputs("va ", r->out);
		print_words(r->out, va->va.addr, va->va.range, va->gem.obj, va->gem.offset);
		fputc('\n', r->out);
	}
	fputs("end\n", r->out);
}

static void execute(struct replay *r, const struct command *c)
{
	switch (c->kind) {
	case CMD_BO:
		break;
	case CMD_MAP:
	case CMD_UNMAP:
		request(r, c);
		break;
	case CMD_DUMP:
		dump(r);
		break;
	}
}

static u64 now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000u + (u64)ts.tv_nsec;
}

static bool is_request(const struct command *c)
{
	return c->kind == CMD_MAP || c->kind == CMD_UNMAP;
}

int main(int argc, char **argv)
{
	bool time = false, memory = false;
	const char *file = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--time"))
			time = true;
		else if (!strcmp(argv[i], "--memory"))
			memory = true;
		else if (argv[i][0] == '-' && strcmp(argv[i], "-")) {
			fprintf(stderr, "usage: trace-driver [--time] [--memory] [FILE]\n");
			return 2;
		} else if (!file)
			file = argv[i];
		else {
			fprintf(stderr, "trace-driver: more than one FILE\n");
			return 2;
		}
	}
	FILE *in = !file || !strcmp(file, "-") ? stdin : fopen(file, "r");
	if (!in) {
		perror(file);
		return 2;
	}
	static struct trace t;
	parse(in, &t);

	static struct replay r;
	r.out = time ? NULL : stdout;
	struct drm_gem_object *r_obj = drm_gpuvm_resv_object_alloc(&r.dev);
	drm_gpuvm_init(&r.vm, "trace", 0, &r.dev, r_obj, t.start, t.range, t.reserve_start, t.reserve_range, &vm_ops);
	drm_gem_object_put(r_obj); // the VM holds its own reference

	struct mallinfo2 before = mallinfo2();
	u64 ns = 0;
	for (size_t i = 0; i < t.count;) {
		if (!time || !is_request(&t.commands[i])) {
			execute(&r, &t.commands[i++]);
			continue;
		}
		size_t j = i;
		while (j < t.count && is_request(&t.commands[j]))
			j++;
		u64 t0 = now_ns();
		for (; i < j; i++)
			request(&r, &t.commands[i]);
		ns += now_ns() - t0;
	}
	struct mallinfo2 after = mallinfo2();

	size_t mappings = 0;
	struct drm_gpuva *va;
	drm_gpuvm_for_each_va(va, &r.vm)
		mappings += va != &r.vm.kernel_alloc_node;
	if (time)
		printf("time: requests=%" PRIu64 " total_ms=%.3f ns_per_request=%.1f ops(map=%" PRIu64 " remap=%" PRIu64
		       " unmap=%" PRIu64 ") final_mappings=%zu\n",
		       r.requests, ns / 1e6, r.requests ? (double)ns / r.requests : 0.0, r.maps, r.remaps, r.unmaps, mappings);
	if (memory) {
		long long grown = (long long)after.uordblks - (long long)before.uordblks;
		printf("memory: mappings=%zu malloc_bytes=%lld bytes_per_mapping=%.1f\n", mappings, grown,
		       mappings ? (double)grown / mappings : 0.0);
	}
	return fflush(stdout) ? 1 : 0;
}
