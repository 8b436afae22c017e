/* The states a case depends on, read back from the kernel: when the step that made one
 * declares it, and again right before the test steps, since a later setup step (a drop, a
 * close, time passing) can move it. A state that is not what was declared makes the case
 * `error`, never pass. */
#include "exec/exec.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/tcp.h>

/* The address and port the kernel has s bound to: getsockname for a socket with a file,
 * sock_diag for one without. Returns 0, or -1 with a message in x. */
static int bound_address(struct exec_ctx *x, const struct sock_slot *s, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	*len = sizeof(*ss);
	if (s->fd >= 0) {
		if (getsockname(s->fd, (struct sockaddr *)ss, len) < 0 || sockaddr_port(ss) == 0) {
			ctx_error(x, "%s has no local port", s->name);
			return -1;
		}
		if (s->lport && sockaddr_port(ss) != s->lport) {
			ctx_error(x, "%s is bound to port %u, not %u", s->name, sockaddr_port(ss), s->lport);
			return -1;
		}
		return 0;
	}
	/* A socket without a file: the address it had, or sock_diag's source address. */
	if (s->local.ss_family == s->family && s->lport) {
		*ss = s->local;
		*len = s->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		return 0;
	}
	char word[64];
	struct diag_sock d[16];
	int back = x->host, n;
	if (ctx_enter(x, s->host) != STEP_OK)
		return -1;
	n = diag_tcp(s->family, s->lport, s->rport, d, 16, NULL, 0);
	if (ctx_enter(x, back) != STEP_OK)
		return -1;
	if (n <= 0) {
		ctx_error(x, "%s: the kernel has no socket on port %u", s->name, s->lport);
		return -1;
	}
	if (!inet_ntop(d[0].family, d[0].src, word, sizeof(word)) ||
	    addr_resolve(x, word, d[0].family, d[0].sport, ss, len) < 0)
		return -1;
	return 0;
}

/* Is s's port really taken? A probe socket with neither SO_REUSEADDR nor SO_REUSEPORT
 * binding the same address and port must get EADDRINUSE, whatever s set: every bind
 * conflict rule needs the option on both sockets. */
static enum step_rc port_taken(struct exec_ctx *x, const struct sock_slot *s)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int back = x->host;
	if (bound_address(x, s, &ss, &len) < 0)
		return STEP_ERROR;
	if (ctx_enter(x, s->host) != STEP_OK)
		return STEP_ERROR;
	int fd = socket(s->family, s->type, 0), e = fd < 0 ? errno : 0;
	if (!e)
		e = bind(fd, (struct sockaddr *)&ss, len) < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	if (ctx_enter(x, back) != STEP_OK)
		return STEP_ERROR;
	if (e == EADDRINUSE)
		return STEP_OK;
	return ctx_error(x, "%s: port %u is not taken: a probe bind() to it gave %s", s->name, sockaddr_port(&ss),
			 e ? errno_name(e) : "success");
}

static enum step_rc check(struct exec_ctx *x, const struct sock_slot *s, const char *when)
{
	int st = slot_state(x, s);
	if (st != s->want)
		return ctx_error(x, "%s: %s is %s, not %s as %s left it", when, s->name,
				 st == STATE_GONE ? "gone" : tcp_state_name(st),
				 s->want == STATE_GONE ? "gone" : s->want == TCP_CLOSE ? "BOUND" : tcp_state_name(s->want),
				 s->declared_by);
	if (s->want_holder != HOLDER_ANY) {
		enum holder h = slot_holder(x, s);
		struct diag_sock d = { 0 };
		if (h != s->want_holder && s->fd < 0)
			slot_diag(x, s, &d);
		if (h != s->want_holder)
			return ctx_error(x, "%s: %s is %s, but held by %s socket, not %s socket as %s left it "
					 "(sock_diag: timer %d, inode %u)", when, s->name, tcp_state_name(st), holder_name(h),
					 holder_name(s->want_holder), s->declared_by, d.timer, d.inode);
	}
	if (s->want != STATE_GONE && s->type == SOCK_STREAM)
		return port_taken(x, s);
	return STEP_OK;
}

struct holder_wait {
	struct exec_ctx *x;
	const struct sock_slot *s;
};

static bool holder_reached(void *arg)
{
	struct holder_wait *w = arg;
	return slot_state(w->x, w->s) == w->s->want && slot_holder(w->x, w->s) == w->s->want_holder;
}

enum step_rc slot_declare(struct exec_ctx *x, struct sock_slot *s, int state, enum holder h, const char *by)
{
	s->declared = true;
	s->want = state;
	s->want_holder = h;
	snprintf(s->declared_by, sizeof(s->declared_by), "%s", by);
	/* The kernel may swap an orphan for its timewait socket a moment after the state is
	 * reached (an ACK handled while the closing process still held the socket arms a
	 * timer instead): the kind is waited for as a state is, then checked. */
	if (h != HOLDER_ANY) {
		struct holder_wait w = { x, s };
		poll_until(state_deadline(x), holder_reached, &w);
	}
	return check(x, s, by);
}

enum step_rc slots_verify(struct exec_ctx *x)
{
	int back = x->host;
	for (size_t i = 0; i < x->nsocks; i++) {
		enum step_rc rc;
		if (x->socks[i].declared && (rc = check(x, &x->socks[i], "before the test")))
			return rc;
	}
	return ctx_enter(x, back);
}
