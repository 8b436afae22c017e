/* The step language: each line of a case's setup: and test: blocks is a verb and its
 * arguments, interpreted here inside the case's forked child (docs/case-format.md). */
#ifndef SOCKREUSE_STEPS_H
#define SOCKREUSE_STEPS_H
#include <stdbool.h>
#include <stddef.h>
#include "parse/casefile.h"
#include "plan/plan.h"
#include "netns/netns.h"

/* What running a case's steps came to. */
enum run_kind {
	RUN_DONE,   /* the test steps ran: observed is "ok" or the errno name of the first failing one */
	RUN_SKIP,   /* a prerequisite is missing (a sysctl, an option): detail says which */
	RUN_ERROR,  /* setup failed or a state was not reached: detail says what */
};

struct run_outcome {
	enum run_kind kind;
	char observed[32];
	char detail[512];
	struct kvlist facts;
};

/* Once per run, before cases fork: what every case would otherwise ask the kernel itself. */
void case_prepare(void);

/* Runs one case in the current process, which must already be in a private network
 * namespace (the scheduler unshared it, or entered one that an earlier case left empty:
 * reused, only for a case with ns_reusable). origin is the runner's own namespace. */
void case_execute(const struct case_inst *ci, const struct ns_id *origin, bool reused, struct run_outcome *out);
/* In the case's loopback namespace, after case_execute of an ns_reusable case whose
 * namespace is not kept: orphaned connections get one retry, so that the namespace goes soon. */
void case_release_orphans(const struct ns_id *origin);

#endif
