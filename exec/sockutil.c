/* Names and addresses: errno and TCP state names, address words, slot bookkeeping. */
#include "exec/exec.h"
#include "lib/util.h"
#include "lib/sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <netinet/tcp.h>

/* ctx_error and ctx_skip: the message in x->msg, and the step's result. */
#define CTX_SAYS(name, rc)                                               \
	enum step_rc name(struct exec_ctx *x, const char *fmt, ...)      \
	{                                                                \
		va_list ap;                                              \
		va_start(ap, fmt);                                       \
		vsnprintf(x->msg, sizeof(x->msg), fmt, ap);              \
		va_end(ap);                                              \
		return rc;                                               \
	}
CTX_SAYS(ctx_error, STEP_ERROR)
CTX_SAYS(ctx_skip, STEP_SKIP)

enum step_rc ctx_errno(struct exec_ctx *x, int e, const char *what)
{
	if (x->in_test) {
		x->err_no = e;
		snprintf(x->msg, sizeof(x->msg), "%s: %s", what, errno_name(e));
		return STEP_ERRNO;
	}
	return ctx_error(x, "setup: %s failed: %s (%s)", what, errno_name(e), strerror(e));
}

struct sock_slot *slot_find(struct exec_ctx *x, const char *name)
{
	for (size_t i = 0; i < x->nsocks; i++)
		if (strcmp(x->socks[i].name, name) == 0)
			return &x->socks[i];
	return NULL;
}

struct sock_slot *slot_new(struct exec_ctx *x, const char *name)
{
	struct sock_slot *s = slot_find(x, name);
	if (s)
		return s;  /* a name may be reused once its socket is closed */
	if (x->nsocks == MAX_SOCKS || strlen(name) >= sizeof(s->name))
		return NULL;
	s = &x->socks[x->nsocks++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->fd = -1;
	return s;
}

enum step_rc ctx_enter(struct exec_ctx *x, int h)
{
	if (x->host == h)
		return STEP_OK;
	if (h == HOST_B && x->topo.kind != TOPO_PAIR)
		return ctx_error(x, "host b exists only on the pair topology");
	char err[256];
	if (topo_enter(&x->topo, h, err, sizeof(err)) < 0)
		return ctx_error(x, "%s", err);
	x->host = h;
	return STEP_OK;
}

int family_parse(const char *s)
{
	if (strcmp(s, "inet") == 0)
		return AF_INET;
	if (strcmp(s, "inet6") == 0)
		return AF_INET6;
	return -1;
}

int addr_resolve(struct exec_ctx *x, const char *word, int family, unsigned short port,
		 struct sockaddr_storage *ss, socklen_t *len)
{
	const struct topo *t = &x->topo;
	const struct in_addr any4 = { htonl(INADDR_ANY) }, loopback4 = { htonl(INADDR_LOOPBACK) };
	const struct {
		const char *word;
		const void *a4, *a6;
	} words[] = {
		{ "host", &t->a4[HOST_A], &t->a6[HOST_A] }, { "host2", &t->a4_second, &t->a6_second },
		{ "peer", &t->a4[HOST_B], &t->a6[HOST_B] }, { "any", &any4, &in6addr_any },
		{ "unassigned", &t->unassigned4, &t->unassigned6 },
		{ "loopback", &loopback4, &in6addr_loopback },
	};
	bool v6 = family != AF_INET;
	size_t wl = strlen(word);

	family = v6 ? AF_INET6 : AF_INET;
	if (v6 && wl > 7 && strcmp(word + wl - 7, "-mapped") == 0) {
		/* host-mapped, any-mapped ...: the word's IPv4 address as ::ffff:a.b.c.d */
		char v4word[32];
		struct sockaddr_storage v4;
		socklen_t l4;
		struct in6_addr mapped = { 0 };
		snprintf(v4word, sizeof(v4word), "%.*s", (int)(wl - 7), word);
		if (addr_resolve(x, v4word, AF_INET, port, &v4, &l4) < 0)
			return -1;
		mapped.s6_addr[10] = mapped.s6_addr[11] = 0xff;
		memcpy(&mapped.s6_addr[12], sockaddr_addr(&v4), 4);
		*len = sockaddr_fill(ss, family, &mapped, port);
		return 0;
	}
	const typeof(words[0]) *w = TABLE_FIND(words, sizeof(words) / sizeof(words[0]), word);
	unsigned char literal[sizeof(struct in6_addr)];
	if (!w && inet_pton(family, word, literal) != 1) {
		*len = sockaddr_fill(ss, family, NULL, port);
		ctx_error(x, "'%s' is no address word (host, host2, peer, any, unassigned, loopback) "
			     "nor an IPv%d address", word, v6 ? 6 : 4);
		return -1;
	}
	*len = sockaddr_fill(ss, family, w ? (v6 ? w->a6 : w->a4) : literal, port);
	return 0;
}

const void *sockaddr_addr(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return &((const struct sockaddr_in *)ss)->sin_addr;
	return &((const struct sockaddr_in6 *)ss)->sin6_addr;
}

unsigned short sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

const char *errno_name(int e)
{
	static const struct { int e; const char *name; } names[] = {
		{ EADDRINUSE, "EADDRINUSE" }, { EADDRNOTAVAIL, "EADDRNOTAVAIL" }, { EINVAL, "EINVAL" },
		{ EACCES, "EACCES" }, { EPERM, "EPERM" }, { ECONNREFUSED, "ECONNREFUSED" },
		{ EISCONN, "EISCONN" }, { EALREADY, "EALREADY" }, { EINPROGRESS, "EINPROGRESS" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { ENOPROTOOPT, "ENOPROTOOPT" }, { EOPNOTSUPP, "EOPNOTSUPP" },
		{ ENOENT, "ENOENT" }, { EAFNOSUPPORT, "EAFNOSUPPORT" }, { ENETUNREACH, "ENETUNREACH" },
		{ EHOSTUNREACH, "EHOSTUNREACH" }, { ECONNRESET, "ECONNRESET" }, { ENOTCONN, "ENOTCONN" },
		{ EAGAIN, "EAGAIN" }, { EBADF, "EBADF" }, { ENOBUFS, "ENOBUFS" }, { EPIPE, "EPIPE" },
		{ EDESTADDRREQ, "EDESTADDRREQ" }, { ENOTSOCK, "ENOTSOCK" }, { EMFILE, "EMFILE" },
		{ EPROTONOSUPPORT, "EPROTONOSUPPORT" }, { ENODEV, "ENODEV" }, { EROFS, "EROFS" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].name;
	return "EUNKNOWN";
}

static const char *const state_names[] = {
	[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT", [TCP_SYN_RECV] = "SYN_RECV",
	[TCP_FIN_WAIT1] = "FIN_WAIT1", [TCP_FIN_WAIT2] = "FIN_WAIT2", [TCP_TIME_WAIT] = "TIME_WAIT",
	[TCP_CLOSE] = "CLOSED", [TCP_CLOSE_WAIT] = "CLOSE_WAIT", [TCP_LAST_ACK] = "LAST_ACK",
	[TCP_LISTEN] = "LISTEN", [TCP_CLOSING] = "CLOSING",
};
/* The kernel's TCP_NEW_SYN_RECV: a request socket, which sock_diag reports for SYN_RECV. */
#define TCP_NEW_SYN_RECV_STATE 12

int tcp_state_parse(const char *name)
{
	if (strcmp(name, "BOUND") == 0)
		return TCP_CLOSE;
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (state_names[i] && strcmp(state_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *tcp_state_name(int state)
{
	if (state == TCP_NEW_SYN_RECV_STATE)
		return "SYN_RECV";
	if (state >= 0 && (size_t)state < sizeof(state_names) / sizeof(state_names[0]) && state_names[state])
		return state_names[state];
	return "UNKNOWN";
}

static int fd_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -1;
	return ti.tcpi_state;
}

/* The kernel's entry for a socket that has no file any more: its connection (local and
 * remote port) in sock_diag. A port may be shared (a listener and a child, or the request
 * socket and its listener): the connection, not the listener, is the one sought. Returns
 * 1 with *d filled, 0 when the kernel has no such socket, -1 when it cannot be asked. */
int slot_diag(struct exec_ctx *x, const struct sock_slot *s, struct diag_sock *d)
{
	struct diag_sock found[16];
	int back = x->host, n;
	if (ctx_enter(x, s->host) != STEP_OK)
		return -1;
	if (s->local.ss_family == s->family && s->remote.ss_family == s->family && s->rport) {
		n = diag_tcp_one(s->family, sockaddr_addr(&s->local), s->lport, sockaddr_addr(&s->remote), s->rport,
				 d, NULL, 0);
		return ctx_enter(x, back) != STEP_OK ? -1 : n;
	}
	n = diag_tcp(s->family, s->lport, s->rport, found, 16, NULL, 0);
	if (ctx_enter(x, back) != STEP_OK || n < 0)
		return -1;
	if (n == 0)
		return 0;
	*d = found[0];
	for (int i = 0; i < n && i < 16; i++)
		if (found[i].state != TCP_LISTEN) {
			*d = found[i];
			break;
		}
	return 1;
}

/* A UDP socket is connected (the kernel's TCP_ESTABLISHED) when it has a peer, else
 * TCP_CLOSE, as sock_diag would say. */
static int udp_fd_state(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		return TCP_ESTABLISHED;
	return errno == ENOTCONN ? TCP_CLOSE : -1;
}

int slot_state(struct exec_ctx *x, const struct sock_slot *s)
{
	struct diag_sock d;
	if (s->fd >= 0)
		return s->type == SOCK_DGRAM ? udp_fd_state(s->fd) : fd_state(s->fd);
	if (slot_diag(x, s, &d) <= 0)
		return STATE_GONE;
	return d.state == TCP_NEW_SYN_RECV_STATE ? TCP_SYN_RECV : d.state;
}

const char *holder_name(enum holder h)
{
	static const char *const names[] = { [HOLDER_ANY] = "none", [HOLDER_OWNER] = "owner",
		[HOLDER_ORPHAN] = "orphan", [HOLDER_TIMEWAIT] = "timewait", [HOLDER_REQUEST] = "request" };
	return names[h];
}

enum holder slot_holder(struct exec_ctx *x, const struct sock_slot *s)
{
	struct diag_sock d;
	if (s->fd >= 0)
		return HOLDER_OWNER;
	if (slot_diag(x, s, &d) <= 0)
		return HOLDER_ANY;
	/* inet_req_diag_fill() reports a request socket as SYN_RECV; a full socket is created
	 * only once the handshake completes. */
	if (d.state == TCP_NEW_SYN_RECV_STATE || (d.state == TCP_SYN_RECV && !d.inode))
		return HOLDER_REQUEST;
	if (d.timer == DIAG_TIMER_TIMEWAIT)
		return HOLDER_TIMEWAIT;
	return d.inode ? HOLDER_OWNER : HOLDER_ORPHAN;
}

void poll_pause(unsigned spins)
{
	if (spins < 50)
		sched_yield();
	else
		nanosleep(&(struct timespec){ 0, 200 * 1000 }, NULL);
}

void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const char *state_word(int st)
{
	return st == STATE_GONE ? "gone" : tcp_state_name(st);
}

struct state_wait {
	struct exec_ctx *x;
	const struct sock_slot *s;
	const int *states;
	size_t n;
	int seen;
};

static bool state_reached(void *arg)
{
	struct state_wait *w = arg;
	w->seen = slot_state(w->x, w->s);
	for (size_t i = 0; i < w->n; i++)
		if (w->states[i] == w->seen)
			return true;
	return false;
}

enum step_rc wait_state_in(struct exec_ctx *x, const struct sock_slot *s, const int *states, size_t n, int *seen)
{
	struct state_wait w = { x, s, states, n, STATE_GONE };
	bool ok = poll_until(state_deadline(x), state_reached, &w);
	if (seen)
		*seen = w.seen;
	if (ok)
		return STEP_OK;
	struct buf b = { 0 };
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? " or " : "", state_word(states[i]));
	ctx_error(x, "%s did not reach %s within %.0f ms (kernel reports %s)", s->name, b.s, state_deadline(x),
		  w.seen == STATE_GONE ? "no such socket" : tcp_state_name(w.seen));
	buf_free(&b);
	return STEP_ERROR;
}

enum step_rc wait_state(struct exec_ctx *x, const struct sock_slot *s, int state)
{
	return wait_state_in(x, s, &state, 1, NULL);
}
