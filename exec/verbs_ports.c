/* Step verbs for ephemeral ports and their exhaustion.
 *
 *   connect-until-fail PREFIX ADDRESS PORT MAX [range=LO-HI]
 *   bind-until-fail PREFIX ADDRESS MAX [reuseaddr=0|1] [range=LO-HI]
 *   reconnect-loop NAME LISTENER MAX [bind=LO-HI] [reuseaddr=0|1] [linger=0] [closer=client|server]
 *   close-first NAME [PEER]
 *   bind-when-free NAME ADDRESS PORT DEADLINE_MS
 *   tw-reuse-delay MS
 *   wait-reuse-delay
 *
 * The loops stop at the first failing call: its errno is the step's outcome, and the facts
 * say how far they got (PREFIX.count, PREFIX.first_port, PREFIX.ports_distinct, PREFIX.odd,
 * PREFIX.even, PREFIX.failed_in). Every loop is bounded by its MAX argument. */
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
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

#define LOOP_MAX 4096          /* no case needs more connections than this */
#define PREFIX_MAX 64          /* held sockets are slots: MAX_SOCKS bounds them */
#define HANDSHAKE_MS CONNECT_DEADLINE_MS
#define TW_DELAY_SYSCTL "net.ipv4.tcp_tw_reuse_delay"
#define DELAY_MARGIN_MS 50

/* ---- small helpers ---- */

static int num(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* "LO-HI", both ports, LO <= HI. */
static int port_range_parse(const char *s, long *lo, long *hi)
{
	char a[16], b[16];
	const char *dash = strchr(s, '-');
	if (!dash || dash == s || (size_t)(dash - s) >= sizeof(a) || strlen(dash + 1) >= sizeof(b))
		return -1;
	snprintf(a, sizeof(a), "%.*s", (int)(dash - s), s);
	snprintf(b, sizeof(b), "%s", dash + 1);
	return num(a, 1, 65535, lo) < 0 || num(b, 1, 65535, hi) < 0 || *lo > *hi ? -1 : 0;
}

static void fact_long(struct exec_ctx *x, const char *prefix, const char *key, long v)
{
	char k[80], val[24];
	snprintf(k, sizeof(k), "%s.%s", prefix, key);
	snprintf(val, sizeof(val), "%ld", v);
	kv_set(x->facts, k, val);
}

static void fact_str(struct exec_ctx *x, const char *prefix, const char *key, const char *v)
{
	char k[80];
	snprintf(k, sizeof(k), "%s.%s", prefix, key);
	kv_set(x->facts, k, v);
}

static unsigned short fd_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return sockaddr_port(&ss);
}

/* key=value options after a verb's positional arguments. */
struct opts {
	long range_lo, range_hi;   /* range=LO-HI (IP_LOCAL_PORT_RANGE) */
	long bind_lo, bind_hi;     /* bind=LO-HI (bindresvport-style scan) */
	int reuseaddr, linger0, server_closes;
	int family;                /* family=inet|inet6, which the planner writes from the case's */
	int left;                  /* left=STATE: what the end that closed first becomes */
	int type;                  /* proto=tcp|udp: SOCK_STREAM (0 until set) or SOCK_DGRAM */
};

static int opt_flag(const char *v, int *out)
{
	if (strcmp(v, "0") && strcmp(v, "1"))
		return -1;
	*out = v[0] == '1';
	return 0;
}

/* A state the end of a connection that closed first can be left in: TIME_WAIT, FIN_WAIT2,
 * or CLOSED, which for a socket without a file means the kernel has forgotten it. 0 when
 * it is none of those. */
static int closed_state_parse(const char *v)
{
	int st = tcp_state_parse(v);
	if (st == TCP_CLOSE && strcmp(v, "CLOSED") == 0)
		return STATE_GONE;
	return st == TCP_TIME_WAIT || st == TCP_FIN_WAIT2 ? st : 0;
}

static int opt_one(struct opts *o, const char *key, const char *v)
{
	if (strcmp(key, "family") == 0)
		return (o->family = family_parse(v)) < 0 ? -1 : 0;
	if (strcmp(key, "range") == 0)
		return port_range_parse(v, &o->range_lo, &o->range_hi);
	if (strcmp(key, "proto") == 0)
		return (o->type = strcmp(v, "udp") == 0 ? SOCK_DGRAM : strcmp(v, "tcp") == 0 ? SOCK_STREAM : -1) < 0 ? -1 : 0;
	if (strcmp(key, "bind") == 0)
		return port_range_parse(v, &o->bind_lo, &o->bind_hi);
	if (strcmp(key, "reuseaddr") == 0)
		return opt_flag(v, &o->reuseaddr);
	if (strcmp(key, "linger") == 0)
		return strcmp(v, "0") == 0 ? (o->linger0 = 1, 0) : -1;
	if (strcmp(key, "left") == 0)
		return (o->left = closed_state_parse(v)) == 0 ? -1 : 0;
	if (strcmp(key, "closer") == 0) {
		o->server_closes = strcmp(v, "server") == 0;
		return o->server_closes || strcmp(v, "client") == 0 ? 0 : -1;
	}
	return -1;
}

/* Is key one of the space-separated words of list? */
static bool word_in(const char *list, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = list; (p = strstr(p, key)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* Parses argv[first..] as key=value; allowed lists the keys this verb takes. */
static enum step_rc opts_parse(struct exec_ctx *x, int argc, char **argv, int first, const char *allowed,
			       struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->family = AF_INET;
	for (int i = first; i < argc; i++) {
		char key[16];
		const char *eq = strchr(argv[i], '=');
		size_t n = eq ? (size_t)(eq - argv[i]) : 0;
		if (!eq || n == 0 || n >= sizeof(key))
			return ctx_error(x, "%s: expected key=value, got '%s'", argv[0], argv[i]);
		snprintf(key, sizeof(key), "%.*s", (int)n, argv[i]);
		if (!word_in(allowed, key) || opt_one(o, key, eq + 1) < 0)
			return ctx_error(x, "%s: bad option '%s' (takes %s)", argv[0], argv[i], allowed);
	}
	return STEP_OK;
}

/* Socket options a loop sets on each new socket. Returns 0 or errno; *what names it. */
static int apply_opts(int fd, const struct opts *o, const char **what)
{
	int one = 1;
	struct linger lg = { 1, 0 };
	unsigned range = (unsigned)o->range_hi << 16 | (unsigned)o->range_lo;
	*what = "IP_LOCAL_PORT_RANGE";
	if (o->range_lo && setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range)) < 0)
		return errno;
	*what = "SO_REUSEADDR";
	if (o->reuseaddr && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return errno;
	*what = "SO_LINGER";
	if (o->linger0 && setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		return errno;
	return 0;
}

/* ---- which ports a loop got ---- */

struct tally {
	long count, odd, even, distinct;
	unsigned short first, last;
	unsigned char seen[65536 / 8];
};

static void tally_port(struct tally *t, unsigned short port)
{
	if (!t->count)
		t->first = port;
	t->last = port;
	t->count++;
	if (port & 1)
		t->odd++;
	else
		t->even++;
	if (!(t->seen[port / 8] & (1u << (port % 8)))) {
		t->seen[port / 8] |= (unsigned char)(1u << (port % 8));
		t->distinct++;
	}
}

static void tally_facts(struct exec_ctx *x, const char *prefix, const struct tally *t)
{
	fact_long(x, prefix, "count", t->count);
	if (!t->count)
		return;
	fact_long(x, prefix, "first_port", t->first);
	fact_long(x, prefix, "last_port", t->last);
	fact_long(x, prefix, "ports_distinct", t->distinct);
	fact_long(x, prefix, "odd", t->odd);
	fact_long(x, prefix, "even", t->even);
}

/* The loop stopped at a failing call: the facts, then the outcome. */
static enum step_rc loop_failed(struct exec_ctx *x, const char *prefix, const struct tally *t, int e,
				const char *what)
{
	tally_facts(x, prefix, t);
	fact_str(x, prefix, "failed_in", what);
	return ctx_errno(x, e, what);
}

/* ---- connect-until-fail, bind-until-fail ---- */

/* A held socket of a filling loop: a slot PREFIX.N, so that it stays open with the case. */
static enum step_rc held_socket(struct exec_ctx *x, const char *prefix, long i, int family, int type,
				struct sock_slot **out)
{
	char name[32];
	if (snprintf(name, sizeof(name), "%s.%ld", prefix, i) >= (int)sizeof(name))
		return ctx_error(x, "socket name prefix '%s' is too long", prefix);
	return slot_open(x, name, x->host, family, type ? type : SOCK_STREAM, out);
}

static enum step_rc parse_max(struct exec_ctx *x, const char *s, long limit, long *max)
{
	if (num(s, 1, limit, max) < 0)
		return ctx_error(x, "expected a count from 1 to %ld, got '%s'", limit, s);
	return STEP_OK;
}

/* connect-until-fail PREFIX ADDRESS PORT MAX [range=LO-HI]: opens sockets PREFIX.1 ... and
 * connects each (no bind) to ADDRESS:PORT, keeping them, until one fails or MAX succeeded. */
static enum step_rc v_connect_until_fail(struct exec_ctx *x, int argc, char **argv)
{
	struct opts o;
	long port, max;
	struct sockaddr_storage to;
	socklen_t len;
	struct tally *t;
	if (num(argv[3], 1, 65535, &port) < 0)
		return ctx_error(x, "connect-until-fail: expected a port, got '%s'", argv[3]);
	if (parse_max(x, argv[4], PREFIX_MAX, &max) || opts_parse(x, argc, argv, 5, "range family", &o) ||
	    addr_resolve(x, argv[2], o.family, (unsigned short)port, &to, &len) < 0)
		return STEP_ERROR;
	t = xcalloc(1, sizeof(*t));
	enum step_rc rc = STEP_OK;
	for (long i = 1; i <= max && rc == STEP_OK; i++) {
		struct sock_slot *s;
		const char *what;
		int e;
		if ((rc = held_socket(x, argv[1], i, o.family, SOCK_STREAM, &s)))
			break;
		if ((e = apply_opts(s->fd, &o, &what)))
			rc = loop_failed(x, argv[1], t, e, what);
		else if ((e = connect_fd(s->fd, &to, len, true)))
			rc = loop_failed(x, argv[1], t, e, "connect");
		else {
			slot_ports(s);
			slot_set_remote(s, &to);
			tally_port(t, s->lport);
		}
	}
	if (rc == STEP_OK)
		tally_facts(x, argv[1], t);
	free(t);
	return rc;
}
VERB("connect-until-fail", v_connect_until_fail);

/* bind-until-fail PREFIX ADDRESS MAX [reuseaddr=0|1] [range=LO-HI] [proto=tcp|udp]: binds sockets
 * PREFIX.1 ... to ADDRESS port 0 (the kernel chooses), keeping them, until one fails. */
static enum step_rc v_bind_until_fail(struct exec_ctx *x, int argc, char **argv)
{
	struct opts o;
	long max;
	struct sockaddr_storage at;
	socklen_t len;
	if (parse_max(x, argv[3], PREFIX_MAX, &max) || opts_parse(x, argc, argv, 4, "range reuseaddr family proto", &o) ||
	    addr_resolve(x, argv[2], o.family, 0, &at, &len) < 0)
		return STEP_ERROR;
	struct tally *t = xcalloc(1, sizeof(*t));
	enum step_rc rc = STEP_OK;
	for (long i = 1; i <= max && rc == STEP_OK; i++) {
		struct sock_slot *s;
		const char *what;
		int e;
		if ((rc = held_socket(x, argv[1], i, o.family, o.type, &s)))
			break;
		if ((e = apply_opts(s->fd, &o, &what)))
			rc = loop_failed(x, argv[1], t, e, what);
		else if (bind(s->fd, (struct sockaddr *)&at, len) < 0)
			rc = loop_failed(x, argv[1], t, errno, "bind");
		else {
			slot_ports(s);
			tally_port(t, s->lport);
		}
	}
	if (rc == STEP_OK)
		tally_facts(x, argv[1], t);
	free(t);
	return rc;
}
VERB("bind-until-fail", v_bind_until_fail);

/* ---- reconnect-loop ---- */

struct loop {
	struct exec_ctx *x;
	const struct opts *o;
	struct sock_slot *listener;
	struct sockaddr_storage to;
	socklen_t tolen;
	long cursor;               /* the next port the bind scan tries, kept across connections */
};

/* Binds the wildcard address to a port of [bind_lo, bind_hi] as bindresvport(3) does: from
 * where the previous call stopped, upward with wrap-around, skipping ports in use; when
 * every port is in use, the last bind()'s EADDRINUSE. Returns 0 or errno. */
static int bind_scan(struct loop *l, int fd)
{
	struct sockaddr_storage at;
	socklen_t len;
	long n = l->o->bind_hi - l->o->bind_lo + 1;
	for (long i = 0; i < n; i++) {
		long port = l->cursor;
		l->cursor = port == l->o->bind_hi ? l->o->bind_lo : port + 1;
		if (addr_resolve(l->x, "any", l->listener->family, (unsigned short)port, &at, &len) < 0)
			return EINVAL;
		if (bind(fd, (struct sockaddr *)&at, len) == 0)
			return 0;
		if (errno != EADDRINUSE)
			return errno;
	}
	return EADDRINUSE;
}

/* Ends the connection c (ours) / a (the peer's) the way the loop was told: the end that
 * closes first must be left in o->left (TIME_WAIT unless SO_LINGER {1, 0} resets the
 * connection or tcp_max_tw_buckets refuses it a bucket), the other end gone. The second
 * end closes as soon as it has seen the first FIN: its own FIN then carries the ACK, where
 * waiting for FIN_WAIT2 would wait for a delayed ACK (milliseconds per connection). */
static enum step_rc end_connection(struct loop *l, int c, int a)
{
	struct sock_slot cs = { .name = "client", .fd = c, .family = l->listener->family, .type = SOCK_STREAM,
				.host = l->x->host },
			 as = { .name = "server", .fd = a, .family = cs.family, .type = SOCK_STREAM, .host = cs.host };
	slot_ports(&cs);
	slot_ports(&as);
	struct sock_slot *first = l->o->server_closes ? &as : &cs, *second = l->o->server_closes ? &cs : &as;
	enum step_rc rc = close_first(l->x, first, second, true, l->o->left, NULL);
	slot_close(&cs);
	slot_close(&as);
	if (rc)
		snprintf(l->x->msg + strlen(l->x->msg), sizeof(l->x->msg) - strlen(l->x->msg),
			 " (reconnect-loop, %s end closing first)", first->name);
	return rc;
}

/* One connection of the loop. STEP_ERRNO (the loop's outcome) when bind or connect fail. */
static enum step_rc one_connection(struct loop *l, const char *name, struct tally *t)
{
	const char *what = "socket";
	int c = socket(l->listener->family, SOCK_STREAM, 0), e = c < 0 ? errno : 0, a;
	if (!e)
		e = apply_opts(c, l->o, &what);
	if (!e && l->o->bind_lo && (e = bind_scan(l, c)))
		what = "bind";
	if (!e && (e = connect_fd(c, &l->to, l->tolen, true)))
		what = "connect";
	if (e) {
		if (c >= 0)
			close(c);
		return loop_failed(l->x, name, t, e, what);
	}
	tally_port(t, fd_local_port(c));
	if ((a = accept_fd(l->listener->fd)) < 0) {
		close(c);
		return ctx_error(l->x, "reconnect-loop: accept: %s", errno_name(-a));
	}
	return end_connection(l, c, a);
}

/* reconnect-loop NAME LISTENER MAX [bind=LO-HI] [reuseaddr=0|1] [linger=0] [closer=client|server] [left=STATE]:
 * MAX times: a new socket (options set), a bindresvport-style bind when bind= is given
 * (otherwise connect() chooses the port), connect to LISTENER, accept, and close, the
 * client first unless closer=server. Stops at the first failing bind or connect. Each
 * connection's first closer must be left in STATE (TIME_WAIT; CLOSED, gone, by default
 * with linger=0): the state the next connections run into is read from the kernel. */
static enum step_rc v_reconnect_loop(struct exec_ctx *x, int argc, char **argv)
{
	struct opts o;
	long max;
	struct loop l = { .x = x, .o = &o };
	if (parse_max(x, argv[3], LOOP_MAX, &max) ||
	    opts_parse(x, argc, argv, 4, "bind reuseaddr linger closer left", &o))
		return STEP_ERROR;
	if (!o.left)
		o.left = o.linger0 ? STATE_GONE : TCP_TIME_WAIT;
	l.listener = slot_find(x, argv[2]);
	if (!l.listener || l.listener->fd < 0)
		return ctx_error(x, "reconnect-loop: no open listener named '%s'", argv[2]);
	l.tolen = sizeof(l.to);
	if (getsockname(l.listener->fd, (struct sockaddr *)&l.to, &l.tolen) < 0)
		return ctx_error(x, "reconnect-loop: getsockname: %s", strerror(errno));
	l.cursor = o.bind_lo;
	struct tally *t = xcalloc(1, sizeof(*t));
	enum step_rc rc = STEP_OK;
	for (long i = 0; i < max && rc == STEP_OK; i++)
		rc = one_connection(&l, argv[1], t);
	if (rc == STEP_OK)
		tally_facts(x, argv[1], t);
	free(t);
	return rc;
}
VERB("reconnect-loop", v_reconnect_loop);

/* ---- close-first ---- */

static enum step_rc open_slot(struct exec_ctx *x, const char *name, struct sock_slot **s)
{
	*s = slot_find(x, name);
	if (!*s || (*s)->fd < 0)
		return ctx_error(x, "no open socket named '%s'", name);
	return STEP_OK;
}

/* close-first NAME STATE [PEER]: NAME closes its connection and must be left in STATE
 * (TIME_WAIT, FIN_WAIT2, or CLOSED: gone, after SO_LINGER {1,0}, TCP_LINGER2 < 0 or with
 * no TIME_WAIT bucket left). With PEER, PEER closes as soon as it has seen NAME's FIN or
 * reset (so its FIN acknowledges NAME's), and the step waits until PEER's end is gone;
 * without, PEER is not the case's to close and only NAME is waited for. The case depends
 * on STATE from here on: it is read again before the test. Facts: NAME.after_close, and
 * PEER.before_close (CLOSE_WAIT after a FIN, CLOSED after a reset). */
static enum step_rc v_close_first(struct exec_ctx *x, int argc, char **argv)
{
	struct sock_slot *s, *p = NULL;
	int home = x->host, want = closed_state_parse(argv[2]), saw = -1;
	enum step_rc rc;
	if (!want)
		return ctx_error(x, "close-first: expected TIME_WAIT, FIN_WAIT2 or CLOSED, got '%s'", argv[2]);
	if (open_slot(x, argv[1], &s) || (argc > 3 && open_slot(x, argv[3], &p)))
		return STEP_ERROR;
	if (!s->lport || !s->rport)
		return ctx_error(x, "close-first: '%s' is not connected", argv[1]);
	s->closing_ms = now_ms();
	if ((rc = close_first(x, s, p, true, want, &saw)))
		return rc;
	s->closed_ms = now_ms();
	if (p)
		fact_str(x, p->name, "before_close", tcp_state_name(saw));
	fact_str(x, s->name, "after_close", argv[2]);
	if ((rc = slot_declare(x, s, want, HOLDER_ANY, "close-first")))
		return rc;
	return ctx_enter(x, home);
}
VERB("close-first", v_close_first);

/* ---- bind-when-free ---- */

/* bind-when-free NAME ADDRESS PORT DEADLINE_MS: binds NAME, retrying while the port is in
 * use, until DEADLINE_MS have passed: for a port a kernel timer will free (a FIN_WAIT2
 * orphan). The fact NAME.waited_ms says how long the port stayed busy. */
struct bind_try {
	const struct sock_slot *s;
	struct sockaddr_storage at;
	socklen_t len;
	int e;
};

static bool bind_done(void *arg)
{
	struct bind_try *b = arg;
	b->e = bind(b->s->fd, (struct sockaddr *)&b->at, b->len) == 0 ? 0 : errno;
	return b->e != EADDRINUSE;
}

static enum step_rc v_bind_when_free(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct sock_slot *s;
	long port, limit;
	if (open_slot(x, argv[1], &s))
		return STEP_ERROR;
	struct bind_try b = { .s = s };
	if (num(argv[3], 0, 65535, &port) < 0 || num(argv[4], 0, 120000, &limit) < 0)
		return ctx_error(x, "bind-when-free: expected a port and milliseconds, got '%s %s'", argv[3], argv[4]);
	if (addr_resolve(x, argv[2], s->family, (unsigned short)port, &b.at, &b.len) < 0)
		return STEP_ERROR;
	double start = now_ms();
	poll_until((double)limit, bind_done, &b);
	fact_long(x, s->name, "waited_ms", (long)(now_ms() - start));
	if (b.e)
		return ctx_errno(x, b.e, "bind");
	slot_ports(s);
	return STEP_OK;
}
VERB("bind-when-free", v_bind_when_free);

/* ---- the tcp_tw_reuse delay ---- */

/* tw-reuse-delay MS: sets net.ipv4.tcp_tw_reuse_delay (milliseconds, since 6.14) where the
 * kernel has it. Older kernels have a fixed delay of one tick of a seconds counter, and
 * the step writes nothing there (it is no skip: the case runs under the older rule). */
static enum step_rc v_tw_reuse_delay(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	long ms;
	char err[256];
	if (num(argv[1], 1, 60000, &ms) < 0)
		return ctx_error(x, "tw-reuse-delay: expected milliseconds from 1 to 60000, got '%s'", argv[1]);
	int rc = sysctl_write(x->origin, TW_DELAY_SYSCTL, argv[1], err, sizeof(err));
	if (rc == -ENOENT) {
		kv_set(x->facts, TW_DELAY_SYSCTL, "absent: one-second rule");
		return STEP_OK;
	}
	if (rc < 0)
		return ctx_error(x, "%s", err);
	kv_set(x->facts, TW_DELAY_SYSCTL, argv[1]);
	return STEP_OK;
}
VERB("tw-reuse-delay", v_tw_reuse_delay);

/* The clock of the reuse delay. Since 6.14 tcp_twsk_unique() counts milliseconds from the
 * TIME_WAIT's entry (tw_entry_stamp, tcp_clock_ms()) up to tcp_tw_reuse_delay. Before, it
 * only asks whether ktime_get_seconds(), the seconds of CLOCK_MONOTONIC, has moved on since
 * the last timestamp from the peer arrived (tw_ts_recent_stamp): a connect within the same
 * second of CLOCK_MONOTONIC is too early, one in a later second is not. Both are read here
 * as the kernel reads them, so that before and after the delay are certain, not chance.
 * The kernel's seconds are updated at its ticks and may lag the clock by a tick: every
 * boundary is kept DELAY_MARGIN_MS away from. Returns the delay in ms, or 0 for the
 * seconds rule, or -1 with a message in x. */
static long reuse_delay_ms(struct exec_ctx *x)
{
	char val[32], err[256];
	long delay;
	if (sysctl_read(TW_DELAY_SYSCTL, val, sizeof(val), err, sizeof(err)) < 0)
		return 0;
	if (num(val, 1, 60000, &delay) < 0) {
		ctx_error(x, "%s reads '%s'", TW_DELAY_SYSCTL, val);
		return -1;
	}
	return delay;
}

static long second_of(double ms)
{
	return (long)(ms / 1000);
}

static void sleep_until(double when_ms)
{
	double left = when_ms - now_ms();
	if (left > 0)
		sleep_ms((long)left + 1);
}

/* A TIME_WAIT left by close-first, with the times its closing began and ended. */
static enum step_rc closed_slot(struct exec_ctx *x, const char *name, struct sock_slot **s)
{
	*s = slot_find(x, name);
	if (!*s || !(*s)->closed_ms)
		return ctx_error(x, "'%s' was not closed by close-first", name);
	return STEP_OK;
}

/* align-reuse-clock: under the seconds rule, waits until CLOCK_MONOTONIC has just begun a
 * second (DELAY_MARGIN_MS into it), so that a connection closed now and a connect right
 * after fall in the same second. Under the millisecond delay there is nothing to wait for. */
static enum step_rc v_align_reuse_clock(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	long delay = reuse_delay_ms(x);
	if (delay < 0)
		return STEP_ERROR;
	if (delay == 0)
		sleep_until((second_of(now_ms()) + 1) * 1000.0 + DELAY_MARGIN_MS);
	return STEP_OK;
}
VERB("align-reuse-clock", v_align_reuse_clock);

/* before-reuse-delay NAME: checks that NAME's TIME_WAIT is still younger than the reuse
 * delay, as the kernel measures it: under the seconds rule, still the second in which its
 * closing began (with the margin left before the next); under the millisecond delay, less
 * than the delay since then. An error if not: the case could not connect in time. */
static enum step_rc v_before_reuse_delay(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct sock_slot *s;
	long delay = reuse_delay_ms(x);
	double now = now_ms();
	if (delay < 0 || closed_slot(x, argv[1], &s))
		return STEP_ERROR;
	bool in_time = delay ? now - s->closing_ms < delay - DELAY_MARGIN_MS
			     : second_of(now + DELAY_MARGIN_MS) == second_of(s->closing_ms);
	fact_long(x, "reuse_delay", "age_ms", (long)(now - s->closing_ms));
	if (!in_time)
		return ctx_error(x, "before-reuse-delay: %s's TIME_WAIT is %.0f ms old, no longer within %s", argv[1],
				 now - s->closing_ms, delay ? "tcp_tw_reuse_delay" : "the second it began in");
	return STEP_OK;
}
VERB("before-reuse-delay", v_before_reuse_delay);

/* wait-reuse-delay NAME: lets the reuse delay pass for NAME's TIME_WAIT, as the kernel
 * measures it: the delay and a margin after its closing ended, or until CLOCK_MONOTONIC's
 * second has moved on past the one it ended in. Time passing is the scenario here. */
static enum step_rc v_wait_reuse_delay(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct sock_slot *s;
	long delay = reuse_delay_ms(x);
	if (delay < 0 || closed_slot(x, argv[1], &s))
		return STEP_ERROR;
	double start = now_ms();
	sleep_until(delay ? s->closed_ms + delay + DELAY_MARGIN_MS
			  : (second_of(s->closed_ms) + 1) * 1000.0 + DELAY_MARGIN_MS);
	fact_long(x, "reuse_delay", "waited_ms", (long)(now_ms() - start));
	return STEP_OK;
}
VERB("wait-reuse-delay", v_wait_reuse_delay);

