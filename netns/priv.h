/* Helpers shared by the netns/ sources; not part of the public interface (netns.h). */
#ifndef SOCKREUSE_NETNS_PRIV_H
#define SOCKREUSE_NETNS_PRIV_H
#include <stddef.h>

/* Writes "<fmt...>: <strerror(-rc)>" into err (when non-NULL) and returns rc (a negative errno). */
int ns_fail(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Writes "<fmt...>" as is and returns rc: for messages that explain the errno better than strerror. */
int ns_failmsg(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));


#endif
