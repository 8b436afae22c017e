#include "lib/strindex.h"
#include "lib/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: short keys, no adversary worth a keyed hash. */
static size_t hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

/* The slot of key, or the free slot where it would go. cap is a power of two. */
static size_t slot_of(const struct strindex *x, const char *key)
{
	size_t i = hash(key) & (x->cap - 1);
	while (x->keys[i] && strcmp(x->keys[i], key) != 0)
		i = (i + 1) & (x->cap - 1);
	return i;
}

static void grow(struct strindex *x)
{
	struct strindex bigger = { .cap = x->cap ? x->cap * 2 : 64, .n = x->n };
	bigger.keys = xcalloc(bigger.cap, sizeof(*bigger.keys));
	bigger.vals = xcalloc(bigger.cap, sizeof(*bigger.vals));
	for (size_t i = 0; i < x->cap; i++)
		if (x->keys[i]) {
			size_t j = slot_of(&bigger, x->keys[i]);
			bigger.keys[j] = x->keys[i];
			bigger.vals[j] = x->vals[i];
		}
	strindex_free(x);
	*x = bigger;
}

size_t strindex_add(struct strindex *x, const char *key, size_t val)
{
	if (2 * (x->n + 1) > x->cap)
		grow(x);
	size_t i = slot_of(x, key);
	if (x->keys[i])
		return x->vals[i];
	x->keys[i] = key;
	x->vals[i] = val;
	x->n++;
	return val;
}

int strindex_find(const struct strindex *x, const char *key, size_t *val)
{
	if (!x->cap)
		return 0;
	size_t i = slot_of(x, key);
	if (!x->keys[i])
		return 0;
	*val = x->vals[i];
	return 1;
}

void strindex_free(struct strindex *x)
{
	free(x->keys);
	free(x->vals);
	memset(x, 0, sizeof(*x));
}
