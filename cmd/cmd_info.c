/* sockreuse list / describe: the cases as an index and as documentation. */
#include "cmd/commands.h"
#include "parse/expect.h"
#include "plan/plan.h"
#include "cmd/select.h"
#include "reports/escape.h"
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
	struct selection select;
	int json;
};

#define LIST_USAGE "usage: sockreuse list [--cases DIR] [--filter GLOB]... [--exclude GLOB]... [--filter-from FILE]\n" \
		   "                      [--param KEY=VALUE]... [--json]\n"
#define DESCRIBE_USAGE "usage: sockreuse describe [--cases DIR] ID\n"

static void help(const char *cmd)
{
	if (strcmp(cmd, "list") == 0)
		fputs(LIST_USAGE
		      "\n"
		      "Lists the cases: id<TAB>title a line, or with --json their ids, titles, params, file and\n"
		      "line (reports/list-schema.json).\n"
		      "\n"
		      "  --cases DIR          the case files (default: beside the binary, else installed)\n"
		      SELECT_HELP
		      "  --json               one JSON document instead of lines\n", stdout);
	else
		fputs(DESCRIBE_USAGE
		      "\n"
		      "Shows one case as documentation: its scenario, params, steps, and the expected outcome\n"
		      "per kernel range with why and references.\n"
		      "\n"
		      "  --cases DIR          the case files (default: beside the binary, else installed)\n", stdout);
}

static int parse_info_opts(const char *cmd, int argc, char **argv, struct info_opts *o)
{
	static const struct option list_opts[] = {
		{ "cases", required_argument, NULL, 'c' }, SELECT_LONGOPTS, { "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	static const struct option describe_opts[] = {
		{ "cases", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	char prog[32];
	int c, sel;
	snprintf(prog, sizeof(prog), "sockreuse %s", cmd);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", strcmp(cmd, "list") == 0 ? list_opts : describe_opts, NULL)) != -1) {
		if ((sel = select_option(prog, c, optarg, &o->select)) != 0) {
			if (sel < 0)
				return -1;
			continue;
		}
		switch (c) {
		case 'c': o->cases_dir = optarg; break;
		case 'J': o->json = 1; break;
		case 'h':
			help(cmd);
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

/* {"format": "sockreuse-list/1", "cases": [...]}, one case a line (reports/list-schema.json). */
static void list_json(const struct plan *p)
{
	struct buf b = { 0 };
	buf_add(&b, "{\"format\": \"sockreuse-list/1\", \"cases\": [");
	for (size_t i = 0; i < p->ncases; i++) {
		const struct case_inst *c = &p->cases[i];
		buf_add(&b, i ? ",\n" : "\n");
		buf_add(&b, "{\"id\": ");
		esc_json(&b, c->id);
		buf_printf(&b, ", \"number\": %d, \"title\": ", c->cf->number);
		esc_json(&b, c->title);
		buf_add(&b, ", \"group\": ");
		esc_json(&b, c->cf->group ? c->cf->group : "");
		buf_add(&b, ", \"params\": {");
		for (size_t j = 0; j < c->params.n; j++) {
			buf_add(&b, j ? ", " : "");
			esc_json(&b, c->params.v[j].key);
			buf_add(&b, ": ");
			esc_json(&b, c->params.v[j].val);
		}
		buf_add(&b, "}, \"file\": ");
		esc_json(&b, c->cf->path);
		buf_printf(&b, ", \"line\": %d}", c->cf->line);
	}
	buf_add(&b, "\n]}\n");
	fwrite(b.s, 1, b.len, stdout);
	buf_free(&b);
}

int cmd_list(int argc, char **argv)
{
	struct info_opts o = { 0 };
	struct plan p;
	int rc = EXIT_PASS;
	if (parse_info_opts("list", argc, argv, &o) < 0 || optind < argc) {
		fputs(LIST_USAGE, stderr);
		select_free(&o.select);
		return EXIT_USAGE;
	}
	if (load(&o, &p, "list") < 0) {
		select_free(&o.select);
		return EXIT_USAGE;
	}
	select_apply(&p, &o.select);
	if (o.json)
		list_json(&p);
	else
		for (size_t i = 0; i < p.ncases; i++)
			printf("%s\t%s\n", p.cases[i].id, p.cases[i].title);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sockreuse list: cannot write to stdout\n");
		rc = EXIT_FAILED;
	}
	plan_free(&p);
	select_free(&o.select);
	return rc;
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
	int ranges = 0;  /* kernel ranges shown so far */
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
		printf("  %-12s %s\n", r->label, last ? (ranges ? "on every other kernel" : "on every kernel") : range.s);
		ranges++;
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
		fputs(DESCRIBE_USAGE, stderr);
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
