/* Upstream kernel versions from release and version strings (see kversion.h). */
#include "lib/kversion.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int upstream_parse(const char *s, struct upstream *out)
{
	struct upstream u = { { 0, 0, 0 } };
	int parts = 0;

	if (!s)
		return -1;
	while (parts < 3 && isdigit((unsigned char)*s)) {
		char *end;
		errno = 0;
		long n = strtol(s, &end, 10);
		if (errno || n > 1000000)
			return -1;
		u.v[parts++] = n;
		s = end;
		if (*s != '.' || !isdigit((unsigned char)s[1]))
			break;
		s++;
	}
	if (parts < 2)
		return -1;
	*out = u;
	return 0;
}

int upstream_cmp(const struct upstream *a, const struct upstream *b)
{
	for (int i = 0; i < 3; i++)
		if (a->v[i] != b->v[i])
			return a->v[i] < b->v[i] ? -1 : 1;
	return 0;
}

void upstream_of_kernel(const char *release, const char *version, char *out, size_t outlen)
{
	static const char *const distros[] = { "Debian ", "Ubuntu " };
	struct upstream u;
	int found = 0;

	for (size_t i = 0; !found && version && i < sizeof(distros) / sizeof(distros[0]); i++) {
		const char *p = strstr(version, distros[i]);
		found = p && upstream_parse(p + strlen(distros[i]), &u) == 0;
	}
	if (!found)
		found = upstream_parse(release, &u) == 0;
	if (!found) {
		if (outlen)
			*out = '\0';
		return;
	}
	snprintf(out, outlen, "%ld.%ld.%ld", u.v[0], u.v[1], u.v[2]);
}
