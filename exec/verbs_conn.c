/* Step verbs for connections and five-tuples.
 *
 * connect-peer NAME OTHER [ADDRESS]
 * connect-peer-nowait NAME OTHER [ADDRESS]
 *     Connect NAME to the remote end of OTHER's connection: the remote address and port the
 *     kernel reports for OTHER (sock_diag), or ADDRESS at that same remote port. A case cannot
 *     name that port itself when the remote connected from a port the kernel chose (an
 *     occupant on the passive side), and OTHER may have no file left (an orphan, a TIME_WAIT
 *     or a request socket), so the kernel's table is the one place that knows it.
 *     connect-peer waits for the handshake (3 s deadline); connect-peer-nowait only starts it
 *     (EINPROGRESS counts as success), which is enough to see connect()'s own four-tuple
 *     check: the kernel makes it before the SYN leaves.
 *
 * wait-gone NAME
 *     Polls the kernel until NAME's connection (its local and remote port) is in none of its
 *     tables any more (3 s deadline): for example the remote end of a connection whose last
 *     ACK is on its way, so that a case does not race a LAST_ACK socket it never meant to
 *     meet. Like wait-state, it waits on the kernel's view, never on a clock.
 *
 * wait-queued LISTENER N
 *     Polls the kernel until N connections wait on LISTENER's port unaccepted: established
 *     sockets of that port with no file yet (sock_diag), so that what a later step does to
 *     the accept queue meets all of them.
 *
 * accept-until-fail PREFIX LISTENER MAX
 *     Accepts without waiting, PREFIX.1 ..., until accept() fails or MAX succeeded: ok when
 *     MAX were there, else the errno (EAGAIN: the queue was empty); the fact PREFIX.count
 *     says how many were. For what a listener's queue holds at one moment. */
#include "exec/verbs.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/tcp.h>

#define DIAG_MAX 16

/* Builds a sockaddr for the remote end that sock_diag reports. */
static void diag_remote(const struct diag_sock *d, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (d->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(d->dport);
		memcpy(&sin->sin_addr, d->dst, sizeof(sin->sin_addr));
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(d->dport);
		memcpy(&sin6->sin6_addr, d->dst, sizeof(sin6->sin6_addr));
		*len = sizeof(*sin6);
	}
}

/* Finds the remote end of other's connection in the kernel's table. The local port may be
 * shared with a listener (SYN_RECV: the listener holds it, the request socket has the
 * remote), so the first socket that is not listening is the connection. */
static enum step_rc find_remote(struct exec_ctx *x, const struct sock_slot *other, struct diag_sock *out)
{
	struct diag_sock found[DIAG_MAX];
	char err[256] = "";
	int back = x->host;
	if (!other->lport)
		return ctx_error(x, "'%s' has no local port", other->name);
	if (ctx_enter(x, other->host) != STEP_OK)
		return STEP_ERROR;
	int n = diag_tcp(other->family, other->lport, other->rport, found, DIAG_MAX, err, sizeof(err));
	if (ctx_enter(x, back) != STEP_OK)
		return STEP_ERROR;
	if (n < 0)
		return ctx_error(x, "sock_diag: %s", err);
	for (int i = 0; i < n && i < DIAG_MAX; i++) {
		if (found[i].state != TCP_LISTEN && found[i].dport) {
			*out = found[i];
			return STEP_OK;
		}
	}
	return ctx_error(x, "'%s' (local port %u) has no connection the kernel knows of", other->name, other->lport);
}

static enum step_rc connect_peer(struct exec_ctx *x, int argc, char **argv, int wait)
{
	struct sock_slot *s = slot_find(x, argv[1]), *other = slot_find(x, argv[2]);
	struct diag_sock d = { 0 };
	struct sockaddr_storage ss;
	socklen_t len;
	if (!s || s->fd < 0)
		return ctx_error(x, "no open socket named '%s'", argv[1]);
	if (!other)
		return ctx_error(x, "no socket named '%s'", argv[2]);
	if (find_remote(x, other, &d) != STEP_OK)
		return STEP_ERROR;
	if (d.family != s->family)
		return ctx_error(x, "'%s' and '%s' are of different families", argv[1], argv[2]);
	if (argc > 3) {
		if (addr_resolve(x, argv[3], s->family, d.dport, &ss, &len) < 0)
			return STEP_ERROR;
	} else {
		diag_remote(&d, &ss, &len);
	}
	int e = connect_fd(s->fd, &ss, len, wait);
	slot_set_remote(s, &ss);
	slot_record_ports(x, s, true);
	return e ? ctx_errno(x, e, "connect") : STEP_OK;
}

static enum step_rc v_connect_peer(struct exec_ctx *x, int argc, char **argv)
{
	return connect_peer(x, argc, argv, 1);
}
VERB("connect-peer", v_connect_peer);

static enum step_rc v_connect_peer_nowait(struct exec_ctx *x, int argc, char **argv)
{
	return connect_peer(x, argc, argv, 0);
}
VERB("connect-peer-nowait", v_connect_peer_nowait);

static enum step_rc v_wait_gone(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct sock_slot *s = slot_find(x, argv[1]);
	if (!s)
		return ctx_error(x, "no socket named '%s'", argv[1]);
	if (!s->lport || !s->rport)
		return ctx_error(x, "wait-gone: '%s' has no connection to wait for", argv[1]);
	if (s->fd >= 0)
		return ctx_error(x, "wait-gone: '%s' is still open: close it first", argv[1]);
	return wait_state(x, s, STATE_GONE);
}
VERB("wait-gone", v_wait_gone);

struct queued {
	struct exec_ctx *x;
	const struct sock_slot *l;
	long want, seen;
};

static bool enough_queued(void *arg)
{
	struct queued *q = arg;
	struct diag_sock d[64];
	int n = diag_tcp(q->l->family, q->l->lport, 0, d, 64, NULL, 0);
	q->seen = 0;
	for (int i = 0; i < n && i < 64; i++)
		q->seen += d[i].state == TCP_ESTABLISHED && d[i].inode == 0 && d[i].sport == q->l->lport;
	return q->seen >= q->want;
}

static enum step_rc v_wait_queued(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct sock_slot *l = slot_find(x, argv[1]);
	struct queued q = { .x = x, .l = l, .want = strtol(argv[2], NULL, 10) };
	if (!l || l->fd < 0)
		return ctx_error(x, "no open listener named '%s'", argv[1]);
	if (ctx_enter(x, l->host) != STEP_OK)
		return STEP_ERROR;
	if (!poll_until(state_deadline(x), enough_queued, &q))
		return ctx_error(x, "%ld connections wait on %s's port, not %ld, after %.0f ms", q.seen, argv[1], q.want,
				 state_deadline(x));
	return STEP_OK;
}
VERB("wait-queued", v_wait_queued);

static enum step_rc v_accept_until_fail(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct sock_slot *l = slot_find(x, argv[2]);
	int max = (int)strtol(argv[3], NULL, 10), n = 0;  /* at most PREFIX_MAX: the spec says so */
	char name[48], val[16];
	enum step_rc rc = STEP_OK;
	if (!l || l->fd < 0)
		return ctx_error(x, "no open listener named '%s'", argv[2]);
	if (ctx_enter(x, l->host) != STEP_OK)
		return STEP_ERROR;
	int fl = fcntl(l->fd, F_GETFL);
	fcntl(l->fd, F_SETFL, fl | O_NONBLOCK);  /* what is queued now, no waiting */
	while (n < max) {
		int fd = accept(l->fd, NULL, NULL);
		struct sock_slot *s;
		if (fd < 0) {
			rc = ctx_errno(x, errno, "accept");
			break;
		}
		snprintf(name, sizeof(name), "%.20s.%d", argv[1], n + 1);
		if ((rc = slot_adopt(x, name, fd, l, &s)))
			break;
		n++;
	}
	fcntl(l->fd, F_SETFL, fl);
	snprintf(name, sizeof(name), "%.20s.count", argv[1]);
	snprintf(val, sizeof(val), "%d", n);
	kv_set(x->facts, name, val);
	return rc;
}
VERB("accept-until-fail", v_accept_until_fail);

