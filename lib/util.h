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
/* Frees the n strings of v, then v. */
void strv_free(char **v, size_t n);

/* The entry of a table of n structs, each size bytes, whose first member (a string) is name;
 * NULL when none is. TABLE_FIND keeps the table's type. */
const void *table_find(const void *table, size_t n, size_t size, const char *name);
#define TABLE_FIND(table, n, name) \
	((typeof(&(table)[0]))table_find((table), (n), sizeof((table)[0]), (name)))

/* Parses all of s as a decimal integer from lo to hi. 0, or -1 (nothing is stored). */
int parse_long(const char *s, long lo, long hi, long *out);
/* Parses all of s as a finite decimal number from lo to hi: no nan, inf, hex, overflow
 * (1e999) or underflow, no blanks. 0, or -1 (nothing is stored). */
int parse_double(const char *s, double lo, double hi, double *out);

/* Is w one of the space-separated words of list? */
int words_contain(const char *list, const char *w);

/* Monotonic clock in milliseconds. */
double now_ms(void);

/* Decodes the UTF-8 sequence at s (a NUL-terminated string, s[0] != '\0'). Returns the code
 * point and sets *len to its length in bytes; returns -1 with *len = 1 when s[0] does not
 * start a well-formed shortest-form sequence of a Unicode scalar value (RFC 3629). */
long utf8_decode(const char *s, size_t *len);

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
