/* The scheduler: one forked child per case run, in a fresh network namespace, at most
 * `jobs` at a time, each killed with its process group at its deadline. */
#ifndef SOCKREUSE_SCHED_H
#define SOCKREUSE_SCHED_H
#include "plan/plan.h"
#include "lib/util.h"
#include "exec/steps.h"
#include "netns/netns.h"

struct sched_opts {
	int jobs;
	double timeout_s;       /* per case, unless the case file sets its own */
	int repeat;             /* runs of each case */
	const struct ns_id *origin;
	/* Set by the result callback to stop early (--maxfail): runs in progress are killed and
	 * not reported, as on an interrupt, and no more start. */
	const int *stop;
	int *stopped_by;        /* when not NULL, set to the signal that stopped the run */
	/* When not NULL, called with the result callback's arg whenever the scheduler wakes
	 * (at least once a second), so that a live view's clock moves while cases run. */
	void (*tick)(void *arg);
};

/* Called in the parent for every finished run of a case (rep counts from 0). */
typedef void (*sched_result_fn)(void *arg, size_t case_index, int rep, const struct run_outcome *o, double ms);

/* Runs every case of the plan. Returns 0 when all ran, 1 when SIGINT or SIGTERM stopped the
 * run (runs not finished are not reported), 2 when *o->stop did, -1 on a setup failure
 * (message in err). */
int sched_run(const struct plan *p, const struct sched_opts *o, sched_result_fn cb, void *arg, char *err,
	      size_t errlen);

/* Serialises an outcome for the pipe from child to parent, and reads it back. */
void outcome_encode(const struct run_outcome *o, struct buf *out);
int outcome_decode(const char *s, size_t len, struct run_outcome *o);

#endif
