/* The TCP state drivers (exec/states.c), table-driven: every state occupy reaches, on each
 * side where it exists, on each topology that can carry it, for both families, checked
 * from the kernel with the test's own reads (TCP_INFO, a sock_diag dump, a probe bind),
 * not with the driver's. And the other way round: a state a case was told it has and does
 * not have is an error, never a pass. Each test runs in Check's own forked process, in a
 * fresh network namespace. */
#include "step_fixture.h"
#include "exec/exec.h"
#include "exec/verbs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/tcp.h>

#define PORT 4000

struct row {
	const char *state;
	int tcp_state;           /* what the kernel reports for the connection holding PORT */
	const char *side;
	enum topo_kind topo;
	enum holder holder;      /* who holds it: a file, an orphan, a timewait or request socket */
};

/* Loopback can carry the states that need no dropped direction; the pair carries all. */
#define BOTH_TOPOS(st, n, side, h) { st, n, side, TOPO_LOOPBACK, h }, { st, n, side, TOPO_PAIR, h }
static const struct row rows[] = {
	BOTH_TOPOS("BOUND", TCP_CLOSE, "active", HOLDER_OWNER),
	BOTH_TOPOS("LISTEN", TCP_LISTEN, "passive", HOLDER_OWNER),
	{ "SYN_SENT", TCP_SYN_SENT, "active", TOPO_PAIR, HOLDER_OWNER },
	{ "SYN_RECV", TCP_SYN_RECV, "passive", TOPO_PAIR, HOLDER_REQUEST },
	BOTH_TOPOS("ESTABLISHED", TCP_ESTABLISHED, "active", HOLDER_OWNER),
	BOTH_TOPOS("ESTABLISHED", TCP_ESTABLISHED, "passive", HOLDER_OWNER),
	{ "FIN_WAIT1", TCP_FIN_WAIT1, "active", TOPO_PAIR, HOLDER_ORPHAN },
	{ "FIN_WAIT1", TCP_FIN_WAIT1, "passive", TOPO_PAIR, HOLDER_ORPHAN },
	BOTH_TOPOS("FIN_WAIT2", TCP_FIN_WAIT2, "active", HOLDER_TIMEWAIT),
	BOTH_TOPOS("FIN_WAIT2", TCP_FIN_WAIT2, "passive", HOLDER_TIMEWAIT),
	BOTH_TOPOS("CLOSE_WAIT", TCP_CLOSE_WAIT, "active", HOLDER_OWNER),
	BOTH_TOPOS("CLOSE_WAIT", TCP_CLOSE_WAIT, "passive", HOLDER_OWNER),
	{ "CLOSING", TCP_CLOSING, "active", TOPO_PAIR, HOLDER_ORPHAN },
	{ "CLOSING", TCP_CLOSING, "passive", TOPO_PAIR, HOLDER_ORPHAN },
	{ "LAST_ACK", TCP_LAST_ACK, "active", TOPO_PAIR, HOLDER_ORPHAN },
	{ "LAST_ACK", TCP_LAST_ACK, "passive", TOPO_PAIR, HOLDER_ORPHAN },
	BOTH_TOPOS("TIME_WAIT", TCP_TIME_WAIT, "active", HOLDER_TIMEWAIT),
	BOTH_TOPOS("TIME_WAIT", TCP_TIME_WAIT, "passive", HOLDER_TIMEWAIT),
};
#define NROWS ((int)(sizeof(rows) / sizeof(rows[0])))
static const char *const families[] = { "inet", "inet6" };

static void setup_ns(enum topo_kind kind)
{
	fixture_ns(kind);
	x.state_deadline_ms = 3000;
}

/* The kernel's own view of PORT on host A: every socket a dump finds there. */
static int dump(int family, struct diag_sock *d, int max)
{
	char err[256];
	ck_assert_int_eq(ctx_enter(&x, HOST_A), STEP_OK);
	int n = diag_tcp(family, PORT, 0, d, (size_t)max, err, sizeof(err));
	ck_assert_msg(n >= 0, "sock_diag: %s", err);
	return n;
}

/* A bind() to host A's PORT without SO_REUSEADDR or SO_REUSEPORT: EADDRINUSE while it is held. */
static int probe_bind(int family)
{
	struct sockaddr_storage ss;
	socklen_t len;
	ck_assert_int_eq(ctx_enter(&x, HOST_A), STEP_OK);
	ck_assert_int_eq(addr_resolve(&x, "host", family, PORT, &ss, &len), 0);
	int fd = socket(family, SOCK_STREAM, 0);
	int e = bind(fd, (struct sockaddr *)&ss, len) < 0 ? errno : 0;
	close(fd);
	return e;
}

static int tcp_info_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti.tcpi_state;
}

TCASE(states, .timeout = 20);

TEST_LOOP(states, occupy_reaches_each_state, 0, 2 * NROWS)
{
	const struct row *r = &rows[_i / 2];
	const char *fam = families[_i % 2];
	int family = strcmp(fam, "inet") ? AF_INET6 : AF_INET;
	char line[160];
	setup_ns(r->topo);
	snprintf(line, sizeof(line), "occupy old %s %s host %d family=%s", r->state, r->side, PORT, fam);
	ck_assert_msg(step(line) == STEP_OK, "%s on %s: %s", line, r->topo == TOPO_PAIR ? "pair" : "loopback", x.msg);

	struct sock_slot *old = slot_find(&x, "old");
	ck_assert_ptr_nonnull(old);
	struct diag_sock d[16];
	int n = dump(family, d, 16);
	if (r->holder == HOLDER_OWNER && r->tcp_state != TCP_SYN_RECV) {
		/* Its process has the file: TCP_INFO tells, and the port is bound to host:PORT. */
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		ck_assert_int_ge(old->fd, 0);
		ck_assert_int_eq(tcp_info_state(old->fd), r->tcp_state);
		ck_assert_int_eq(getsockname(old->fd, (struct sockaddr *)&ss, &len), 0);
		ck_assert_int_eq(sockaddr_port(&ss), PORT);
	} else {
		/* No file: the dump holds exactly one connection on PORT besides any listener, in
		 * the state, of the kind (a timewait socket has idiag_timer 3, nothing else does;
		 * an orphan or a request socket has no inode). */
		int conns = 0;
		for (int i = 0; i < n && i < 16; i++) {
			if (d[i].state == TCP_LISTEN)
				continue;
			conns++;
			int st = d[i].state == 12 ? TCP_SYN_RECV : d[i].state;  /* TCP_NEW_SYN_RECV */
			ck_assert_int_eq(st, r->tcp_state);
			ck_assert_int_eq(d[i].inode, 0);
			ck_assert_int_eq(d[i].timer == DIAG_TIMER_TIMEWAIT, r->holder == HOLDER_TIMEWAIT);
		}
		ck_assert_int_eq(conns, 1);
	}
	/* Whatever holds it, the port is taken, and the declared state reads back. */
	ck_assert_int_eq(probe_bind(family), EADDRINUSE);
	ck_assert_msg(slots_verify(&x) == STEP_OK, "%s", x.msg);
}
END_TEST

/* Declaring s in state, held by holder, is an error whose message says what. */
static void declare_fails(struct sock_slot *s, int state, enum holder holder, const char *what)
{
	ck_assert_int_eq(slot_declare(&x, s, state, holder, "occupy"), STEP_ERROR);
	ck_assert_msg(strstr(x.msg, what), "%s", x.msg);
}

/* A BOUND driver that skipped its bind(): TCP_INFO says CLOSE all the same, but the port
 * is not taken, so declaring BOUND is an error. */
TEST(states, unbound_socket_is_not_bound)
{
	setup_ns(TOPO_LOOPBACK);
	STEP_OK_("socket old tcp inet");
	struct sock_slot *old = slot_find(&x, "old");
	ck_assert_int_eq(tcp_info_state(old->fd), TCP_CLOSE);
	declare_fails(old, TCP_CLOSE, HOLDER_OWNER, "no local port");
	/* Bound to another port than the one the slot says: also an error. */
	STEP_OK_("bind old host 4001");
	old->lport = PORT;
	declare_fails(old, TCP_CLOSE, HOLDER_OWNER, "bound to port 4001, not 4000");
}
END_TEST

/* A driver that ends in another state than it says, or in the right state held by the
 * wrong kind of socket, gives an error naming what the kernel reports. */
TEST(states, wrong_state_or_kind_is_an_error)
{
	setup_ns(TOPO_LOOPBACK);
	STEP_OK_("occupy old ESTABLISHED active host 4000 family=inet");
	struct sock_slot *old = slot_find(&x, "old");
	declare_fails(old, TCP_TIME_WAIT, HOLDER_ANY, "old is ESTABLISHED, not TIME_WAIT");
	/* A FIN_WAIT2 whose owner keeps it is no timewait socket. */
	STEP_OK_("shutdown old wr");
	STEP_OK_("wait-state old FIN_WAIT2");
	declare_fails(old, TCP_FIN_WAIT2, HOLDER_TIMEWAIT, "held by owner socket, not timewait socket");
}
END_TEST

/* The state is read again before the test: a later setup step that moves it is an error;
 * a wait-state that declares the new state makes the case depend on that one instead. */
TEST(states, state_moved_after_occupy_is_an_error)
{
	setup_ns(TOPO_LOOPBACK);
	STEP_OK_("occupy old ESTABLISHED active host 4000 family=inet");
	ck_assert_int_eq(slots_verify(&x), STEP_OK);
	STEP_OK_("close old.remote");
	STEP_OK_("wait-state old CLOSE_WAIT");
	/* wait-state declared CLOSE_WAIT: the case now depends on that, and it holds. */
	ck_assert_int_eq(slots_verify(&x), STEP_OK);
	STEP_OK_("close old");
	ck_assert_int_eq(slots_verify(&x), STEP_ERROR);
	ck_assert_msg(strstr(x.msg, "before the test: old is") && strstr(x.msg, "not CLOSE_WAIT as wait-state left it"),
		      "%s", x.msg);
}
END_TEST

UNIT_MAIN("occupy")
