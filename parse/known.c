/* Known-issues files: see known.h for the format. */
#include "parse/known.h"
#include "lib/util.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KNOWN_MAX_BYTES (1 << 20)

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

int known_load(const char *path, struct known_list *out, char *err, size_t errlen)
{
	struct stat st;
	char line[4096];
	int no = 0;

	memset(out, 0, sizeof(*out));
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > KNOWN_MAX_BYTES) {
		snprintf(err, errlen, "%s: not a regular file of at most 1 MiB", path);
		fclose(f);
		return -1;
	}
	out->path = xstrdup(path);
	while (fgets(line, sizeof(line), f)) {
		no++;
		size_t len = strcspn(line, "\n");
		if (line[len] != '\n' && !feof(f)) {
			snprintf(err, errlen, "%s:%d:1: line longer than %zu bytes", path, no, sizeof(line) - 2);
			goto bad;
		}
		line[len] = '\0';
		while (len && (line[len - 1] == '\r' || is_space(line[len - 1])))
			line[--len] = '\0';
		char *p = line;
		while (is_space(*p))
			p++;
		if (!*p || *p == '#')
			continue;
		char *pat = p;
		while (*p && !is_space(*p))
			p++;
		char *pat_end = p;
		while (is_space(*p))
			p++;
		if (!*p) {
			snprintf(err, errlen, "%s:%d:%d: expected a reason after the case id or glob "
				 "(the fixing commit or a link)", path, no, (int)(pat_end - line) + 1);
			goto bad;
		}
		*pat_end = '\0';
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n++] = (struct known_entry){ xstrdup(pat), xstrdup(p), no };
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto bad;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	known_free(out);
	return -1;
}

const char *known_match(const struct known_list *k, const char *id)
{
	for (size_t i = 0; k && i < k->n; i++)
		if (fnmatch(k->v[i].pattern, id, 0) == 0)
			return k->v[i].reason;
	return NULL;
}

void known_free(struct known_list *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].pattern);
		free(k->v[i].reason);
	}
	free(k->v);
	free(k->path);
	memset(k, 0, sizeof(*k));
}
