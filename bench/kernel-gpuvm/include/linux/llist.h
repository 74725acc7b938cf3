/* SPDX-License-Identifier: MIT */
/* Singly linked push/take-all lists under the kernel's names (<linux/llist.h>); not lock-free: one thread. */
#ifndef SHIM_LINUX_LLIST_H
#define SHIM_LINUX_LLIST_H
#include "../shim-kernel.h"

struct llist_node {
	struct llist_node *next;
};

struct llist_head {
	struct llist_node *first;
};

static inline void init_llist_head(struct llist_head *list) { list->first = NULL; }
/* A node that is on no list points at itself, as in the kernel. */
static inline void init_llist_node(struct llist_node *node) { node->next = node; }
static inline bool llist_empty(const struct llist_head *head) { return READ_ONCE(head->first) == NULL; }

static inline bool llist_add(struct llist_node *node, struct llist_head *head)
{
	node->next = head->first;
	head->first = node;
	return node->next == NULL;
}

static inline struct llist_node *llist_del_all(struct llist_head *head)
{
	struct llist_node *all = head->first;
	head->first = NULL;
	return all;
}

#define llist_entry(ptr, type, member) container_of(ptr, type, member)
#define member_address_is_nonnull(ptr, member) ((uintptr_t)(ptr) + offsetof(__typeof__(*(ptr)), member) != 0)
#define llist_for_each_entry(pos, node, member) \
	for (pos = llist_entry(node, __typeof__(*pos), member); member_address_is_nonnull(pos, member); \
	     pos = llist_entry(pos->member.next, __typeof__(*pos), member))
#define llist_for_each_entry_safe(pos, n, node, member) \
	for (pos = llist_entry(node, __typeof__(*pos), member); \
	     member_address_is_nonnull(pos, member) && (n = llist_entry(pos->member.next, __typeof__(*n), member), true); \
	     pos = n)

#endif
