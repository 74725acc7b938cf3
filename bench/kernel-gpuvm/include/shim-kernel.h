/* SPDX-License-Identifier: MIT */
/*
 * The few kernel facilities drm_gpuvm.c and the rbtree code use, for a single-threaded userspace build:
 * fixed-width types, compiler hints, error pointers, malloc for the slab allocator, counted references,
 * and locks and lock assertions that do nothing (the trace driver is one thread). Every linux/ and drm/
 * header in this directory includes this file and adds only what its own name promises.
 */
#ifndef SHIM_KERNEL_H
#define SHIM_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
typedef unsigned int gfp_t;

#define GFP_KERNEL 0u
#define __GFP_ZERO 1u

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __maybe_unused __attribute__((unused))
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define __must_check __attribute__((warn_unused_result))
#define __rcu
#define __force
#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) do { *(volatile __typeof__(x) *)&(x) = (v); } while (0)
#define barrier() __asm__ __volatile__("" ::: "memory")
#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define BIT(n) (1UL << (n))

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define container_of_const(ptr, type, member) container_of(ptr, type, member)

/* Exports and module tags mean nothing outside the kernel: everything is linked into one program. */
#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define MODULE_DESCRIPTION(text)
#define MODULE_LICENSE(text)

/* Error pointers, as the kernel encodes them: the last page of the address space. */
#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR(ptr); }
static inline void *ERR_CAST(const void *ptr) { return (void *)ptr; }

/* A warning in the kernel is a bug in the driver here: say where, and stop, so a bench never times one. */
#define WARN(cond, ...) ({ \
	bool __c = !!(cond); \
	if (unlikely(__c)) { fprintf(stderr, "WARN at %s:%d\n", __FILE__, __LINE__); abort(); } \
	__c; })
#define WARN_ON(cond) WARN(cond, "")
#define WARN_ON_ONCE(cond) WARN_ON(cond)
#define BUG_ON(cond) do { if (unlikely(cond)) { fprintf(stderr, "BUG at %s:%d\n", __FILE__, __LINE__); abort(); } } while (0)

/* The slab allocator is malloc. */
static inline void *kmalloc(size_t size, gfp_t flags) { return (flags & __GFP_ZERO) ? calloc(1, size) : malloc(size); }
static inline void *kzalloc(size_t size, gfp_t flags) { (void)flags; return calloc(1, size); }
static inline void *kmemdup(const void *src, size_t size, gfp_t flags)
{
	void *p = kmalloc(size, flags);
	if (p)
		memcpy(p, src, size);
	return p;
}
static inline void kfree(const void *p) { free((void *)p); }
#define kzalloc_obj(obj, ...) ((__typeof__(obj) *)kzalloc(sizeof(obj), GFP_KERNEL))
#define kmalloc_obj(obj, ...) ((__typeof__(obj) *)kmalloc(sizeof(obj), GFP_KERNEL))

static inline void might_sleep(void) {}

/* One thread: locks are never contended and every assertion of one holds. */
typedef struct { int unused; } spinlock_t;
struct mutex { int unused; };
struct lock_class_key { int unused; };
#define spin_lock_init(l) ((void)(l))
#define spin_lock(l) ((void)(l))
#define spin_unlock(l) ((void)(l))
#define mutex_init(m) ((void)(m))
#define mutex_destroy(m) ((void)(m))
#define mutex_lock(m) ((void)(m))
#define mutex_unlock(m) ((void)(m))
#define lockdep_assert_held(l) ((void)(l))
#define lockdep_assert(c) ((void)0)
#define lockdep_assert_none_held_once() ((void)0)

/* Counted references (not atomic: one thread). */
struct kref { unsigned int refcount; };
static inline void kref_init(struct kref *k) { k->refcount = 1; }
static inline unsigned int kref_read(const struct kref *k) { return k->refcount; }
static inline void kref_get(struct kref *k) { k->refcount++; }
static inline bool kref_get_unless_zero(struct kref *k)
{
	if (k->refcount == 0)
		return false;
	k->refcount++;
	return true;
}
static inline int kref_put(struct kref *k, void (*release)(struct kref *))
{
	if (--k->refcount == 0) {
		release(k);
		return 1;
	}
	return 0;
}
static inline int kref_put_mutex(struct kref *k, void (*release)(struct kref *), struct mutex *m)
{
	(void)m;
	return kref_put(k, release);
}

#endif
