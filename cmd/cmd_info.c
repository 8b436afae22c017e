/* sockreuse list / describe: the cases as an index and as documentation. */
#include "cmd/commands.h"
#include "parse/expect.h"
#include "plan/plan.h"
#include "lib/util.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SOCKREUSE_DATADIR
#define SOCKREUSE_DATADIR "/usr/local/share/sockreuse"
#endif

const char *default_cases_dir(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			/* A build tree (the binary beside cases/), then an installed tree
			 * (bin/../share/...), which also finds the cases of a DESTDIR or relocated
			 * install. */
			*slash = '\0';
			snprintf(buf, len, "%s/cases", exe);
			if (access(buf, R_OK) == 0)
				return buf;
			snprintf(buf, len, "%s/../share/sockreuse/cases", exe);
			if (access(buf, R_OK) == 0)
				return buf;
		}
	}
	snprintf(buf, len, "%s/cases", SOCKREUSE_DATADIR);
	return buf;
}

struct info_opts {
	const char *cases_dir;
	char **include;
	size_t ninclude;
};

static int parse_info_opts(const char *cmd, int argc, char **argv, struct info_opts *o)
{
	static const struct option longopts[] = {
		{ "cases", required_argument, NULL, 'c' }, { "filter", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->cases_dir = optarg; break;
		case 'f':
			strv_push(&o->include, &o->ninclude, optarg);
			break;
		case 'h':
			printf("usage: sockreuse %s [--cases DIR] %s\n", cmd,
			       strcmp(cmd, "list") == 0 ? "[--filter GLOB]..." : "ID");
			exit(0);
		default:
			return -1;
		}
	}
	return 0;
}

static int load(const struct info_opts *o, struct plan *p, const char *cmd)
{
	char err[1024], dirbuf[4096];
	const char *dir = o->cases_dir ? o->cases_dir : default_cases_dir(dirbuf, sizeof(dirbuf));
	if (plan_load(dir, p, 0, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "sockreuse %s: %s\n", cmd, err);
		return -1;
	}
	return 0;
}

int cmd_list(int argc, char **argv)
{
	struct info_opts o = { 0 };
	struct plan p;
	if (parse_info_opts("list", argc, argv, &o) < 0 || optind < argc) {
		fprintf(stderr, "usage: sockreuse list [--cases DIR] [--filter GLOB]...\n");
		return EXIT_USAGE;
	}
	if (load(&o, &p, "list") < 0)
		return EXIT_USAGE;
	plan_filter(&p, o.include, o.ninclude, NULL, 0);
	for (size_t i = 0; i < p.ncases; i++)
		printf("%s\t%s\n", p.cases[i].id, p.cases[i].title);
	plan_free(&p);
	free(o.include);
	return EXIT_PASS;
}

/* Prints text wrapped at about 88 columns: first line after `first`, the others after `next`. */
static void print_wrapped(const char *first, const char *next, const char *text)
{
	int col = 0;
	const char *s = text;
	fputs(first, stdout);
	while (*s) {
		size_t w = strcspn(s, " ");
		if (col && col + (int)w > 80) {
			printf("\n%s", next);
			col = 0;
		} else if (col) {
			putchar(' ');
			col++;
		}
		printf("%.*s", (int)w, s);
		col += (int)w;
		s += w;
		while (*s == ' ')
			s++;
	}
	putchar('\n');
}

/* The rules that apply to this instance, kernel range by kernel range: the first rule
 * whose non-kernel conditions hold and which has no kernel condition ends the list. */
static void print_expectations(const struct case_inst *c)
{
	for (size_t i = 0; i < c->cf->nexpects; i++) {
		const struct expect_rule *r = &c->cf->expects[i];
		if (!conds_hold_any_kernel(&r->when, &c->vars))
			continue;
		struct buf range = { 0 };
		for (size_t j = 0; j < r->when.n; j++) {
			if (strcmp(r->when.v[j].key, "kernel"))
				continue;
			char *s = cond_str(&r->when.v[j]);
			buf_printf(&range, "%s%s", range.len ? ", " : "", s);
			free(s);
		}
		int last = !range.len;
		printf("  %-12s %s\n", r->label, last ? (i ? "on every other kernel" : "on every kernel") : range.s);
		print_wrapped("      why: ", "           ", r->why);
		for (size_t j = 0; j < r->nrefs; j++)
			printf("      ref: %s\n", r->refs[j]);
		buf_free(&range);
		if (last)
			break;
	}
}

int cmd_describe(int argc, char **argv)
{
	struct info_opts o = { 0 };
	struct plan p;
	if (parse_info_opts("describe", argc, argv, &o) < 0 || optind != argc - 1) {
		fprintf(stderr, "usage: sockreuse describe [--cases DIR] ID\n");
		return EXIT_USAGE;
	}
	if (load(&o, &p, "describe") < 0)
		return EXIT_USAGE;
	const struct case_inst *c = plan_find(&p, argv[optind]);
	if (!c) {
		fprintf(stderr, "sockreuse describe: no case '%s' (sockreuse list shows the ids)\n", argv[optind]);
		plan_free(&p);
		return EXIT_USAGE;
	}
	printf("%s\n  %s\n\n", c->id, c->title);
	if (c->cf->about) {
		printf("Scenario\n");
		print_wrapped("  ", "  ", c->cf->about);
		putchar('\n');
	}
	printf("Params\n ");
	for (size_t i = 0; i < c->params.n; i++)
		printf(" %s=%s", c->params.v[i].key, c->params.v[i].val);
	printf("\n\nSteps (%s)\n", c->cf->path);
	for (size_t i = 0; i < c->setup.n; i++) {
		printf("  setup  ");
		for (int j = 0; j < c->setup.v[i].argc; j++)
			printf("%s%s", j ? " " : "", c->setup.v[i].argv[j]);
		putchar('\n');
	}
	for (size_t i = 0; i < c->test.n; i++) {
		printf("  test   ");
		for (int j = 0; j < c->test.v[i].argc; j++)
			printf("%s%s", j ? " " : "", c->test.v[i].argv[j]);
		putchar('\n');
	}
	printf("\nExpected outcome\n");
	print_expectations(c);
	plan_free(&p);
	return EXIT_PASS;
}
