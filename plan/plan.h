/* The plan: every case file expanded over its matrix into case instances with stable ids. */
#ifndef SOCKREUSE_PLAN_H
#define SOCKREUSE_PLAN_H
#include <stddef.h>
#include "parse/casefile.h"
#include "lib/kv.h"
#include "lib/arena.h"

struct case_inst {
	const struct case_file *cf;
	char *id;              /* "0110/family=inet/state=TIME_WAIT/..." */
	char *title;           /* {var} filled in */
	char *topology;        /* "loopback" or "pair" */
	struct kvlist vars;    /* matrix cell + params + lets + built-ins (PORT ...): for {var} and conditions */
	struct kvlist params;  /* what reports show: matrix cell, params, topology, sysctl.<name> */
	struct kvlist sysctls; /* name -> value, {var} filled in */
	struct steplist setup, test;  /* argv with {var} filled in */
	double timeout_s;
	int waits_on_timer;    /* a step lets time pass: the scheduler overlaps such cases */
	int uses_host2;        /* a step names host A's second address */
	/* Its namespace may serve a later case if the kernel shows it empty afterwards: loopback,
	 * no sysctl, no second address, no verb that changes the namespace (VERB_CHANGES_NETNS). */
	int ns_reusable;
};

struct plan {
	struct case_file *files;
	size_t nfiles;
	struct case_inst *cases;
	size_t ncases;
	struct arena frozen;   /* after plan_freeze: the cases, read-only (see lib/arena.h) */
};

/* Loads every *.case file of dir (sorted by name) and expands it. Returns 0, or -1 with
 * "file:line:col: message" in err for the first bad file. With keep_going, a bad file is
 * skipped instead and its message appended to *bad (one per line; caller frees). */
int plan_load(const char *dir, struct plan *p, int keep_going, char **bad, char *err, size_t errlen);
/* Expands one parsed file into p (used by plan_load and by tests). Same contract. */
int plan_expand(struct plan *p, const struct case_file *cf, char *err, size_t errlen);
/* Which instances a command works on: ids matching one of the include globs (all when
 * none) and none of the excludes, whose params match every KEY=GLOB of params. */
struct plan_select {
	char **include, **exclude;
	size_t ninclude, nexclude;
	struct kvlist params;
};
/* Keeps only the selected instances. */
void plan_filter(struct plan *p, const struct plan_select *sel);
const struct case_inst *plan_find(const struct plan *p, const char *id);
/* Moves the cases into a read-only shared arena, so that forking a case no longer copies
 * the page tables of the whole plan. After it, the plan can be read and freed, no longer
 * filtered or extended. 0, or -1 with errno set (the plan is then unchanged and usable). */
int plan_freeze(struct plan *p);
void plan_free(struct plan *p);

/* Replaces {name} in s with its value in vars. Returns a new string, or NULL with
 * err naming the unknown variable. */
char *subst_vars(const char *s, const struct kvlist *vars, char *err, size_t errlen);

#endif
