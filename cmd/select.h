/* The options that choose which cases a command works on, shared by run and list:
 * --filter GLOB, --exclude GLOB, --filter-from FILE, --param KEY=VALUE. */
#ifndef SOCKREUSE_SELECT_H
#define SOCKREUSE_SELECT_H
#include "plan/plan.h"

#include <getopt.h>

struct selection {
	struct plan_select sel;
	char **owned;          /* globs read by --filter-from */
	size_t nowned;
};

/* getopt_long entries; their values are the SEL_* codes below. */
enum { SEL_FILTER = 0x100, SEL_EXCLUDE, SEL_FILTER_FROM, SEL_PARAM };
#define SELECT_LONGOPTS                                                              \
	{ "filter", required_argument, NULL, SEL_FILTER },                           \
	{ "exclude", required_argument, NULL, SEL_EXCLUDE },                         \
	{ "filter-from", required_argument, NULL, SEL_FILTER_FROM },                 \
	{ "param", required_argument, NULL, SEL_PARAM }

#define SELECT_HELP                                                                      \
	"  --filter GLOB        only case ids matching GLOB (fnmatch; repeatable: any of them)\n" \
	"  --exclude GLOB       not the case ids matching GLOB (repeatable)\n"              \
	"  --filter-from FILE   one --filter GLOB a line ('#' comments; - for stdin)\n"    \
	"  --param KEY=VALUE    only cases whose param KEY matches VALUE, a glob or a|b;\n" \
	"                       repeatable: all of them must hold\n"

/* Handles getopt's code c when it is a selection option: returns 1 when it was one, 0 when
 * not, -1 when its argument is bad (the message, prefixed with cmd, is printed). */
int select_option(const char *cmd, int c, const char *arg, struct selection *s);
/* Keeps the selected cases of p. */
void select_apply(struct plan *p, const struct selection *s);
void select_free(struct selection *s);

#endif
