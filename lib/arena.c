#include "lib/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

int arena_init(struct arena *a, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	len = len ? (len + page - 1) / page * page : page;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	*a = (struct arena){ .base = p, .len = len };
	return 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t need = ARENA_SIZE(n);
	if (a->frozen || need > a->len - a->used) {
		fprintf(stderr, "sockreuse: arena of %zu bytes %s (%zu more asked)\n", a->len,
			a->frozen ? "is frozen" : "is full", need);
		abort();
	}
	void *p = a->base + a->used;   /* fresh shared pages are zero, and nothing is reused */
	a->used += need;
	return p;
}

int arena_freeze(struct arena *a)
{
	if (mprotect(a->base, a->len, PROT_READ) < 0)
		return -1;
	a->frozen = 1;
	return 0;
}

int arena_holds(const struct arena *a, const void *p)
{
	return a->base && (const char *)p >= a->base && (const char *)p < a->base + a->len;
}

void arena_free(struct arena *a)
{
	if (a->base)
		munmap(a->base, a->len);
	memset(a, 0, sizeof(*a));
}
