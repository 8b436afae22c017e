/* One-line error messages for the netns functions. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "netns/priv.h"

static void format_into(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
}

int ns_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (!err || !errlen)
		return rc;
	va_start(ap, fmt);
	format_into(err, errlen, fmt, ap);
	va_end(ap);
	used = strlen(err);
	if (used < errlen)
		snprintf(err + used, errlen - used, ": %s", strerror(-rc));
	return rc;
}

int ns_failmsg(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_into(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}
