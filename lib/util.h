/* Allocation that cannot fail silently, and small string helpers. */
#ifndef SOCKREUSE_UTIL_H
#define SOCKREUSE_UTIL_H
#include <stddef.h>
#include <stdarg.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Appends s (not copied) to the array *v of *n strings. */
void strv_push(char ***v, size_t *n, char *s);

/* Monotonic clock in milliseconds. */
double now_ms(void);

/* A growable string buffer. */
struct buf {
	char *s;
	size_t len, cap;
};
void buf_add(struct buf *b, const char *s);
void buf_addn(struct buf *b, const char *s, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

#endif
