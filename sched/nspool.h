/* Namespaces kept for reuse: a case with ns_reusable (plan/plan.h) whose namespace the kernel
 * shows empty afterwards (ns_left_empty: no TCP socket in any state, no UDP, no raw) hands
 * it back to the scheduler, which gives it to the next such case instead of a new one. A
 * new namespace costs more than the rest of a simple case (its creation, and its teardown
 * in the kernel's cleanup_net work). */
#ifndef SOCKREUSE_SCHED_NSPOOL_H
#define SOCKREUSE_SCHED_NSPOOL_H
#include <stddef.h>
#include <sys/types.h>
#include "plan/plan.h"
#include "exec/steps.h"

#define NSPOOL_MAX 4

/* Parent side: namespace fds, each one held by the pool or by exactly one running case. */
struct nspool {
	int fd[NSPOOL_MAX];
	int n;
	unsigned long given, kept, dropped;  /* for SOCKREUSE_NS_STATS */
};

/* A kept namespace for a case with ns_reusable, or -1: the case makes its own. */
int nspool_take(struct nspool *p, const struct case_inst *ci);
/* A namespace a finished case handed back (ok: its outcome is not an error or a timeout). */
void nspool_put(struct nspool *p, int fd, int ok);
/* Closes them all; prints the counts on stderr when SOCKREUSE_NS_STATS is set. */
void nspool_close(struct nspool *p);

/* Child side. Enters the namespace nsfd (from nspool_take), or a new one when nsfd < 0, and
 * closes nsfd. 0, or -1 with the reason in err. */
int nspool_enter(int nsfd, char *err, size_t errlen);
/* After case_execute: for a case with ns_reusable whose outcome is not an error, closes every
 * file but 0-2 and keep_fd and asks the kernel whether the namespace is empty. Returns an fd
 * of the namespace to hand back, or -1 (then the namespace's orphans are released). */
int nspool_leave(const struct case_inst *ci, const struct ns_id *origin, const struct run_outcome *o, int keep_fd);

/* The outcome's bytes over the child's socket, with nsfd (when >= 0) as SCM_RIGHTS; and the
 * parent's read, which stores a received fd in *nsfd (closing an earlier one). */
ssize_t nspool_send(int sock, const void *buf, size_t len, int nsfd);
ssize_t nspool_recv(int sock, void *buf, size_t len, int *nsfd);

#endif
