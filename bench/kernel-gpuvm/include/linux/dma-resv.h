/* SPDX-License-Identifier: MIT */
/*
 * Reservation objects (<linux/dma-resv.h>) reduced to what a one-threaded trace replay needs: an object
 * to point at and compare, locks that always succeed, assertions that always hold, and fences that are
 * never added (the trace driver never calls the exec/fence paths; they are only compiled).
 */
#ifndef SHIM_LINUX_DMA_RESV_H
#define SHIM_LINUX_DMA_RESV_H
#include "../shim-kernel.h"

struct ww_acquire_ctx;
struct dma_fence;

struct dma_resv {
	int unused;
};

enum dma_resv_usage {
	DMA_RESV_USAGE_KERNEL,
	DMA_RESV_USAGE_WRITE,
	DMA_RESV_USAGE_READ,
	DMA_RESV_USAGE_BOOKKEEP,
};

static inline void dma_resv_init(struct dma_resv *obj) { (void)obj; }
static inline void dma_resv_fini(struct dma_resv *obj) { (void)obj; }
static inline int dma_resv_lock(struct dma_resv *obj, struct ww_acquire_ctx *ctx) { (void)obj; (void)ctx; return 0; }
static inline void dma_resv_unlock(struct dma_resv *obj) { (void)obj; }
static inline bool dma_resv_held(struct dma_resv *obj) { (void)obj; return true; }
#define dma_resv_assert_held(obj) ((void)(obj))
static inline void dma_resv_add_fence(struct dma_resv *obj, struct dma_fence *fence, enum dma_resv_usage usage)
{
	(void)obj; (void)fence; (void)usage;
}

#endif
