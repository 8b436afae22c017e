/* An index from strings to numbers (a hash table with open addressing), for lining things up
 * by name in one pass: groups of a report, ids of several reports. Keys are borrowed: they
 * must outlive the index. */
#ifndef SOCKREUSE_STRINDEX_H
#define SOCKREUSE_STRINDEX_H
#include <stddef.h>

struct strindex {
	const char **keys;
	size_t *vals;
	size_t cap, n;
};

/* The value of key; when key is new, it is added with value val, and val is returned. */
size_t strindex_add(struct strindex *x, const char *key, size_t val);
/* The value of key in *val: returns 1, or 0 when key is not there. */
int strindex_find(const struct strindex *x, const char *key, size_t *val);
void strindex_free(struct strindex *x);

#endif
