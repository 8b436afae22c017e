/* A bump allocator in one shared anonymous mapping, for data that is written once and then
 * only read, by the process and by the children it forks.
 *
 * Why shared: fork() copies the page-table entries of every private mapping that holds
 * anonymous pages, and tears them down again when the child exits, page by page. A shared
 * mapping has no anonymous pages, so fork() copies none of its entries (vma_needs_copy() in
 * mm/memory.c) and the child faults in only the pages it reads. The runner keeps its expanded
 * plan in one, so that a case's fork costs the same whether the plan holds 40 cases or 4000;
 * under emulation, where each entry is slow to copy, that was most of the suite's time. */
#ifndef SOCKREUSE_ARENA_H
#define SOCKREUSE_ARENA_H
#include <stddef.h>

struct arena {
	char *base;
	size_t len, used;
	int frozen;
};

/* Maps len bytes (rounded up to pages). 0, or -1 with errno set. */
int arena_init(struct arena *a, size_t len);
/* n bytes, 16-byte aligned and zeroed; aborts when the arena is full or frozen (callers size
 * the arena first, with ARENA_SIZE). */
void *arena_alloc(struct arena *a, size_t n);
/* What arena_alloc(n) takes from the arena. */
#define ARENA_SIZE(n) (((size_t)(n) + 15) & ~(size_t)15)
/* Makes the arena read-only: a later write, by this process or a child, is a SIGSEGV rather
 * than a change every child would see. 0, or -1 with errno set. */
int arena_freeze(struct arena *a);
/* Does p point into the arena? */
int arena_holds(const struct arena *a, const void *p);
void arena_free(struct arena *a);

#endif
