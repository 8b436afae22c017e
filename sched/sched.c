#include "sched/sched.h"
#include "sched/nspool.h"
#include "lib/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* Outcome wire format: one "key\tvalue\n" line per field; \t, \n and \\ in values escaped. */
static void put_field(struct buf *b, const char *key, const char *val)
{
	buf_printf(b, "%s\t", key);
	for (const char *c = val; *c; c++) {
		if (*c == '\n')
			buf_add(b, "\\n");
		else if (*c == '\t')
			buf_add(b, "\\t");
		else if (*c == '\\')
			buf_add(b, "\\\\");
		else
			buf_addn(b, c, 1);
	}
	buf_add(b, "\n");
}

void outcome_encode(const struct run_outcome *o, struct buf *out)
{
	static const char *kinds[] = { [RUN_DONE] = "done", [RUN_SKIP] = "skip", [RUN_ERROR] = "error" };
	put_field(out, "kind", kinds[o->kind]);
	put_field(out, "observed", o->observed);
	put_field(out, "detail", o->detail);
	for (size_t i = 0; i < o->facts.n; i++) {
		char *k = xasprintf("fact.%s", o->facts.v[i].key);
		put_field(out, k, o->facts.v[i].val);
		free(k);
	}
}

static char *unescape(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *d = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			i++;
			*d++ = s[i] == 'n' ? '\n' : s[i] == 't' ? '\t' : s[i];
		} else {
			*d++ = s[i];
		}
	}
	*d = '\0';
	return out;
}

int outcome_decode(const char *s, size_t len, struct run_outcome *o)
{
	const char *end = s + len;
	int have_kind = 0;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *tab = memchr(s, '\t', (size_t)(end - s));
		if (!nl || !tab || tab > nl)
			return -1;
		char *key = xstrndup(s, (size_t)(tab - s));
		char *val = unescape(tab + 1, (size_t)(nl - tab - 1));
		if (strcmp(key, "kind") == 0) {
			have_kind = 1;
			o->kind = strcmp(val, "done") == 0 ? RUN_DONE : strcmp(val, "skip") == 0 ? RUN_SKIP : RUN_ERROR;
		} else if (strcmp(key, "observed") == 0) {
			snprintf(o->observed, sizeof(o->observed), "%s", val);
		} else if (strcmp(key, "detail") == 0) {
			snprintf(o->detail, sizeof(o->detail), "%s", val);
		} else if (strncmp(key, "fact.", 5) == 0) {
			kv_set(&o->facts, key + 5, val);
		}
		free(key);
		free(val);
		s = nl + 1;
	}
	return have_kind ? 0 : -1;
}

struct child {
	pid_t pid;
	int fd;               /* read end of the result pipe */
	size_t case_index;
	int rep;
	double started, deadline;
	struct buf out;
	int timed_out;
	int timer;            /* the case sleeps on a timer: it holds no CPU slot */
	int nsfd;             /* the namespace the case handed back, or -1 */
};

static void child_main(const struct case_inst *ci, const struct ns_id *origin, int nsfd, int wfd)
{
	struct run_outcome o = { .kind = RUN_ERROR };
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);  /* the runner ignores it; a case sees the kernel's default */
	/* Its own process group, so that a timeout kills helpers too; and die with the runner. */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int reused = nsfd >= 0, keep = -1;
	if (nspool_enter(nsfd, o.detail, sizeof(o.detail)) < 0)
		;
	else if (!ns_is_private(origin))
		snprintf(o.detail, sizeof(o.detail), "still in the runner's namespace after %s: refusing to run",
			 reused ? "setns" : "unshare");
	else {
		case_execute(ci, origin, reused, &o);
		keep = nspool_leave(ci, origin, &o, wfd);
	}
	struct buf b = { 0 };
	outcome_encode(&o, &b);
	for (size_t off = 0; off < b.len;) {
		ssize_t n = nspool_send(wfd, b.s + off, b.len - off, off ? -1 : keep);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	_exit(0);
}

static int start_child(const struct plan *p, const struct sched_opts *o, struct nspool *pool, size_t ci, int rep,
		       struct child *c, char *err, size_t errlen)
{
	int fds[2];
	/* A socket, not a pipe: a case hands its namespace back over it (SCM_RIGHTS). */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	int nsfd = nspool_take(pool, &p->cases[ci]);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		nspool_put(pool, nsfd, 0);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(&p->cases[ci], o->origin, nsfd, fds[1]);
	}
	if (nsfd >= 0)
		close(nsfd);  /* the case holds it now, and hands it back if it leaves it empty */
	/* Non-blocking, so that one slow child never stalls reading the others. */
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	setpgid(pid, pid);  /* also here, so that a kill before the child ran setpgid still works */
	close(fds[1]);
	double t = p->cases[ci].timeout_s > 0 ? p->cases[ci].timeout_s : o->timeout_s;
	*c = (struct child){ .pid = pid, .fd = fds[0], .case_index = ci, .rep = rep, .started = now_ms(), .nsfd = -1 };
	c->deadline = c->started + t * 1000.0;
	return 0;
}

static void finish_child(struct child *c, const struct plan *p, const struct sched_opts *o, struct nspool *pool,
			 sched_result_fn cb, void *arg)
{
	int status = 0;
	struct run_outcome out = { .kind = RUN_ERROR };
	close(c->fd);
	waitpid(c->pid, &status, 0);
	double ms = now_ms() - c->started;
	if (c->timed_out) {
		double t = p->cases[c->case_index].timeout_s > 0 ? p->cases[c->case_index].timeout_s : o->timeout_s;
		snprintf(out.detail, sizeof(out.detail), "timed out after %.1f s: killed", t);
	} else if (outcome_decode(c->out.s ? c->out.s : "", c->out.len, &out) < 0) {
		if (WIFSIGNALED(status))
			snprintf(out.detail, sizeof(out.detail), "the case's process died of signal %d (%s)",
				 WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			snprintf(out.detail, sizeof(out.detail), "the case's process exited (%d) without a result",
				 WEXITSTATUS(status));
	}
	nspool_put(pool, c->nsfd, !c->timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0 && out.kind != RUN_ERROR);
	c->nsfd = -1;
	cb(arg, c->case_index, c->rep, &out, ms);
	kv_free(&out.facts);
	buf_free(&c->out);
}

static int stop_signal_fd(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, old);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Cases that sleep on a timer do not count against `jobs`: they use no CPU while they
 * wait, and running them beside the others is what keeps the suite's time that of its
 * longest timer, not the sum of them. They start first. */
#define TIMER_SLOTS 32

static size_t *run_order(const struct plan *p)
{
	size_t *order = xcalloc(p->ncases, sizeof(size_t)), n = 0;
	for (int pass = 1; pass >= 0; pass--)
		for (size_t i = 0; i < p->ncases; i++)
			if (!!p->cases[i].waits_on_timer == pass)
				order[n++] = i;
	return order;
}

int sched_run(const struct plan *p, const struct sched_opts *o, sched_result_fn cb, void *arg, char *err,
	      size_t errlen)
{
	size_t total = p->ncases * (size_t)o->repeat, next = 0, running = 0;
	int jobs = o->jobs > 0 ? o->jobs : 1, interrupted = 0, stopped = 0, rc = 0;
	int nslots = jobs + TIMER_SLOTS, busy_cpu = 0, busy_timer = 0;
	struct child *kids = xcalloc((size_t)nslots, sizeof(*kids));
	struct pollfd *pfd = xcalloc((size_t)nslots + 1, sizeof(*pfd));
	size_t *order = run_order(p);
	struct nspool pool = { .n = 0 };
	sigset_t oldmask;
	case_prepare();
	int sfd = stop_signal_fd(&oldmask);
	if (sfd < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		free(kids);
		free(pfd);
		free(order);
		return -1;
	}

	while ((next < total && !interrupted) || running) {
		/* Fill free slots. Repetitions of one case are spread out: the queue is the whole
		 * plan once, then again. */
		while (next < total && !interrupted) {
			size_t ci = order[next % p->ncases];
			int timer = p->cases[ci].waits_on_timer;
			if (timer ? busy_timer >= TIMER_SLOTS : busy_cpu >= jobs)
				break;
			int i = 0;
			while (kids[i].pid)
				i++;
			if (start_child(p, o, &pool, ci, (int)(next / p->ncases), &kids[i], err, errlen) < 0) {
				rc = -1;
				interrupted = 1;
				break;
			}
			kids[i].timer = timer;
			timer ? busy_timer++ : busy_cpu++;
			next++;
			running++;
		}
		double now = now_ms(), wake = now + 1000;
		int n = 0;
		pfd[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		for (int i = 0; i < nslots; i++) {
			if (!kids[i].pid)
				continue;
			pfd[n++] = (struct pollfd){ .fd = kids[i].fd, .events = POLLIN };
			if (kids[i].deadline < wake)
				wake = kids[i].deadline;
		}
		int timeout = wake > now ? (int)(wake - now) + 1 : 0;
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (o->tick)
			o->tick(arg);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				if (o->stopped_by && !*o->stopped_by)
					*o->stopped_by = (int)si.ssi_signo;
			interrupted = 1;
			stopped = 0;
			for (int i = 0; i < nslots; i++)
				if (kids[i].pid)
					kill(-kids[i].pid, SIGKILL);
		}
		now = now_ms();
		for (int i = 0; i < nslots; i++) {
			struct child *c = &kids[i];
			if (!c->pid)
				continue;
			char chunk[4096];
			ssize_t r = nspool_recv(c->fd, chunk, sizeof(chunk), &c->nsfd);
			if (r > 0) {
				buf_addn(&c->out, chunk, (size_t)r);
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && errno == EAGAIN) {
				if (now > c->deadline && !c->timed_out) {
					c->timed_out = 1;
					kill(-c->pid, SIGKILL);
				}
				continue;
			}
			/* EOF: the child is done (or was killed). An interrupted run reports only runs
			 * that completed on their own. */
			if (interrupted && !c->out.len) {
				close(c->fd);
				waitpid(c->pid, NULL, 0);
				buf_free(&c->out);
				nspool_put(&pool, c->nsfd, 0);
				c->nsfd = -1;
			} else {
				finish_child(c, p, o, &pool, cb, arg);
			}
			if (o->stop && *o->stop && !interrupted) {
				interrupted = stopped = 1;
				for (int k = 0; k < nslots; k++)
					if (kids[k].pid && k != i)
						kill(-kids[k].pid, SIGKILL);
			}
			c->timer ? busy_timer-- : busy_cpu--;
			c->pid = 0;
			running--;
		}
	}
	close(sfd);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	nspool_close(&pool);
	free(kids);
	free(pfd);
	free(order);
	if (rc < 0)
		return -1;
	return stopped ? 2 : interrupted ? 1 : 0;
}
