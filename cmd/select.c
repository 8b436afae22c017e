/* Case selection options, parsed once for every command that takes them. */
#include "cmd/select.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the globs of a --filter-from file: one a line, surrounding blanks dropped, blank
 * lines and '#' comments skipped. */
static int read_filter_file(const char *cmd, const char *path, struct selection *s)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: --filter-from %s: %s\n", cmd, path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	size_t before = s->sel.ninclude;
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *a = line, *z = line + n;
		while (*a == ' ' || *a == '\t')
			a++;
		while (z > a && (z[-1] == '\n' || z[-1] == '\r' || z[-1] == ' ' || z[-1] == '\t'))
			z--;
		if (z == a || *a == '#')
			continue;
		char *glob = xstrndup(a, (size_t)(z - a));
		strv_push(&s->owned, &s->nowned, glob);
		strv_push(&s->sel.include, &s->sel.ninclude, glob);
	}
	int bad = ferror(f);
	free(line);
	if (f != stdin)
		fclose(f);
	if (bad) {
		fprintf(stderr, "%s: --filter-from %s: read error\n", cmd, path);
		return -1;
	}
	if (s->sel.ninclude == before) {
		/* An empty list would otherwise select every case: the opposite of what it says. */
		fprintf(stderr, "%s: --filter-from %s: no glob in the file\n", cmd, path);
		return -1;
	}
	return 0;
}

static int add_param(const char *cmd, const char *arg, struct selection *s)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg) {
		fprintf(stderr, "%s: --param takes KEY=VALUE, got '%s'\n", cmd, arg);
		return -1;
	}
	char *key = xstrndup(arg, (size_t)(eq - arg));
	int dup = kv_get(&s->sel.params, key) != NULL;
	if (dup)
		fprintf(stderr, "%s: --param %s is given twice; a case has one value (write %s=a|b for either)\n",
			cmd, key, key);
	else
		kv_set(&s->sel.params, key, eq + 1);
	free(key);
	return dup ? -1 : 0;
}

int select_option(const char *cmd, int c, const char *arg, struct selection *s)
{
	switch (c) {
	case SEL_FILTER:
		strv_push(&s->sel.include, &s->sel.ninclude, (char *)arg);
		return 1;
	case SEL_EXCLUDE:
		strv_push(&s->sel.exclude, &s->sel.nexclude, (char *)arg);
		return 1;
	case SEL_FILTER_FROM:
		return read_filter_file(cmd, arg, s) < 0 ? -1 : 1;
	case SEL_PARAM:
		return add_param(cmd, arg, s) < 0 ? -1 : 1;
	default:
		return 0;
	}
}

void select_apply(struct plan *p, const struct selection *s)
{
	plan_filter(p, &s->sel);
}

void select_free(struct selection *s)
{
	for (size_t i = 0; i < s->nowned; i++)
		free(s->owned[i]);
	free(s->owned);
	free(s->sel.include);
	free(s->sel.exclude);
	kv_free(&s->sel.params);
	memset(s, 0, sizeof(*s));
}
