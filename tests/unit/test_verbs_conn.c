/* The connection verbs (runner/verbs_conn.c): connect-peer, connect-peer-nowait, wait-gone.
 * Each test runs in Check's own forked process and moves it into a fresh network namespace
 * with the loopback topology, so nothing here touches the host's sockets. */
#include "step_fixture.h"
#include "exec/exec.h"
#include "exec/verbs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A private namespace with lo up and 127.0.0.2 (host2), as a case's child has. */
static void setup_ns(void)
{
	fixture_ns(TOPO_LOOPBACK);
}

/* A listener on host:5000 and a client "c" connected to it from host:4000, accepted as "a"
 * (which inherits the listener's SO_REUSEADDR). */
static void connected_pair(void)
{
	STEP_OK_("socket srv tcp");
	STEP_OK_("setsockopt srv SO_REUSEADDR 1");
	STEP_OK_("bind srv host 5000");
	STEP_OK_("listen srv");
	STEP_OK_("socket c tcp");
	STEP_OK_("setsockopt c SO_REUSEADDR 1");
	STEP_OK_("bind c host 4000");
	STEP_OK_("connect c host 5000");
	STEP_OK_("accept srv a");
}

static void peer_of(const char *name, char *addr, size_t len, unsigned short *port)
{
	struct sock_slot *s = slot_find(&x, name);
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	ck_assert(s && s->fd >= 0);
	ck_assert_int_eq(getpeername(s->fd, (struct sockaddr *)&sin, &sl), 0);
	inet_ntop(AF_INET, &sin.sin_addr, addr, (socklen_t)len);
	*port = ntohs(sin.sin_port);
}

TCASE(verbs);

/* That each verb has one implementation, found by its name, is checked for all of them in
 * test_verbs_spec.c. */
TEST(verbs, connection_verbs_are_registered)
{
	static const char *const names[] = { "wait-queued", "accept-until-fail", "connect-peer",
					     "connect-peer-nowait", "wait-gone" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_msg(verb_find(names[i]) && verb_find(names[i])->fn, "%s", names[i]);
}
END_TEST

TEST(verbs, connect_peer_reaches_the_remote_of_another_socket)
{
	char addr[64];
	unsigned short port;
	setup_ns();
	connected_pair();
	x.in_test = true;
	/* The remote of "c" is the listener on host:5000. */
	STEP_OK_("socket n tcp");
	STEP_OK_("connect-peer n c");
	peer_of("n", addr, sizeof(addr), &port);
	ck_assert_str_eq(addr, "127.0.0.1");
	ck_assert_int_eq(port, 5000);
	ck_assert_str_eq(kv_get(&facts, "n.remote_port"), "5000");
	ck_assert_ptr_nonnull(kv_get(&facts, "n.local_port"));
}
END_TEST

TEST(verbs, connect_peer_takes_another_address_at_the_same_port)
{
	char addr[64];
	unsigned short port;
	setup_ns();
	connected_pair();
	STEP_OK_("socket srv2 tcp");
	STEP_OK_("bind srv2 host2 5000");
	STEP_OK_("listen srv2");
	STEP_OK_("socket n tcp");
	STEP_OK_("connect-peer n c host2");
	peer_of("n", addr, sizeof(addr), &port);
	ck_assert_str_eq(addr, "127.0.0.2");
	ck_assert_int_eq(port, 5000);
}
END_TEST

/* The remote of the accepted end is the port the client bound, read from the kernel: a new
 * socket sharing the accepted end's port (SO_REUSEADDR on both, the listener closed) asks
 * for the same four-tuple, and connect() refuses it. */
TEST(verbs, connect_peer_nowait_reports_a_taken_four_tuple)
{
	setup_ns();
	connected_pair();
	STEP_OK_("close srv");
	x.in_test = true;
	STEP_OK_("socket n tcp");
	STEP_OK_("setsockopt n SO_REUSEADDR 1");
	STEP_OK_("bind n host 5000");
	ck_assert_int_eq(step("connect-peer-nowait n a"), STEP_ERRNO);
	ck_assert_int_eq(x.err_no, EADDRNOTAVAIL);
	ck_assert_str_eq(kv_get(&facts, "n.remote_port"), "4000");
}
END_TEST

TEST(verbs, connect_peer_errors)
{
	setup_ns();
	STEP_OK_("socket n tcp");
	STEP_OK_("socket b tcp");
	STEP_OK_("bind b host 4000");
	ck_assert_int_eq(step("connect-peer n nobody"), STEP_ERROR);
	ck_assert_int_eq(step("connect-peer nobody b"), STEP_ERROR);
	ck_assert_int_eq(step("connect-peer n b"), STEP_ERROR);  /* bound, not connected */
	ck_assert_msg(strstr(x.msg, "no connection"), "%s", x.msg);
	ck_assert_int_eq(step("connect-peer n n"), STEP_ERROR);  /* no port at all */
}
END_TEST

TEST(verbs, wait_gone_returns_once_the_kernel_forgot)
{
	setup_ns();
	connected_pair();
	STEP_OK_("close c");
	STEP_OK_("wait-state c FIN_WAIT2");
	ck_assert_int_eq(step("wait-gone a"), STEP_ERROR);  /* still open */
	STEP_OK_("close a");                               /* LAST_ACK, then gone */
	STEP_OK_("wait-gone a");
	struct sock_slot *a = slot_find(&x, "a");
	ck_assert_int_eq(diag_tcp(AF_INET, a->lport, a->rport, NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(step("wait-gone nobody"), STEP_ERROR);
}
END_TEST

/* The five-tuple cases connect UDP sockets with the core connect verb. */
TEST(verbs, udp_connect_is_a_plain_connect)
{
	setup_ns();
	x.in_test = true;
	STEP_OK_("socket u udp");
	STEP_OK_("bind u host 4000");
	STEP_OK_("connect u host 5000");
	ck_assert_str_eq(kv_get(&facts, "u.local_port"), "4000");
}
END_TEST

UNIT_MAIN("verbs_conn")
