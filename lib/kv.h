/* An ordered list of string key/value pairs: case params, variables, sysctls. */
#ifndef SOCKREUSE_KV_H
#define SOCKREUSE_KV_H
#include <stddef.h>

struct kv {
	char *key;
	char *val;
};

struct kvlist {
	struct kv *v;
	size_t n, cap;
};

/* Sets key to val (replacing an existing value); copies both. */
void kv_set(struct kvlist *l, const char *key, const char *val);
/* The value of key, or NULL. */
const char *kv_get(const struct kvlist *l, const char *key);
void kv_copy(struct kvlist *dst, const struct kvlist *src);
void kv_free(struct kvlist *l);

#endif
