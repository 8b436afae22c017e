/* The upstream three-part kernel version ("6.1.192") of a running kernel. Debian's release
 * string hides it (uname -r "6.1.0-57-cloud-amd64"); its version string carries it
 * (uname -v "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)", as /proc/version does). */
#ifndef SOCKREUSE_KVERSION_H
#define SOCKREUSE_KVERSION_H
#include <stddef.h>

struct upstream { long v[3]; };

/* Reads "X.Y.Z" (or "X.Y", Z = 0) at the start of s. Returns 0, or -1 when s does not start
 * with a version. */
int upstream_parse(const char *s, struct upstream *out);

/* The upstream version of a kernel from its uname -r and uname -v: the version after
 * "Debian " (or "Ubuntu ") in the version string when there is one, else the release's
 * leading digits. Writes "X.Y.Z" into out (or "" when neither holds a version). */
void upstream_of_kernel(const char *release, const char *version, char *out, size_t outlen);

/* Orders two upstream versions: <0, 0, >0. */
int upstream_cmp(const struct upstream *a, const struct upstream *b);

#endif
