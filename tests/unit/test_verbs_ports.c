/* The ephemeral-port verbs (exec/verbs_ports.c): connect-until-fail,
 * bind-until-fail, reconnect-loop, close-first, bind-when-free, tw-reuse-delay,
 * wait-reuse-delay. Each test runs in Check's own forked process and moves it into a fresh
 * network namespace with the loopback topology: the sysctls written here are that
 * namespace's, and nothing touches the host's sockets. */
#include "step_fixture.h"
#include "exec/exec.h"
#include "exec/verbs.h"
#include "lib/util.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/tcp.h>

static void setup_ns(void)
{
	fixture_ns(TOPO_LOOPBACK);
	x.state_deadline_ms = 1000;  /* the misses tested here need not wait 10 s */
	x.in_test = true;  /* failing calls are outcomes, as in a case's test: block */
}

static void expect_errno(const char *line, int e)
{
	enum step_rc rc = step(line);
	ck_assert_msg(rc == STEP_ERRNO, "%s: expected errno %s, got rc %d (%s)", line, errno_name(e), rc, x.msg);
	ck_assert_msg(x.err_no == e, "%s: expected %s, got %s", line, errno_name(e), errno_name(x.err_no));
}

static const char *fact(const char *key)
{
	const char *v = kv_get(&facts, key);
	ck_assert_msg(v, "no fact '%s'", key);
	return v;
}

/* Each KEY=VALUE of the list is a fact the steps so far reported. */
static void expect_facts(const char *list)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *kv = strtok(buf, " "); kv; kv = strtok(NULL, " ")) {
		char *eq = strchr(kv, '=');
		ck_assert_msg(eq, "'%s' is no KEY=VALUE", kv);
		*eq = '\0';
		ck_assert_msg(strcmp(fact(kv), eq + 1) == 0, "fact %s is '%s', not '%s'", kv, fact(kv), eq + 1);
	}
}

static void listener(void)
{
	STEP_OK_("socket l tcp");
	STEP_OK_("bind l host 5000");
	STEP_OK_("listen l 64");
}

/* A listener l on host port 5000. */
static void setup_listening(void)
{
	setup_ns();
	listener();
}

static void connection(const char *name, const char *port)
{
	char line[64];
	snprintf(line, sizeof(line), "socket %s tcp", name);
	STEP_OK_(line);
	snprintf(line, sizeof(line), "bind %s host %s", name, port);
	STEP_OK_(line);
	snprintf(line, sizeof(line), "connect %s host 5000", name);
	STEP_OK_(line);
	snprintf(line, sizeof(line), "accept l %s.peer", name);
	STEP_OK_(line);
}

/* And a connection c from host port 4000 to it, accepted as c.peer. */
static void setup_connected(void)
{
	setup_listening();
	connection("c", "4000");
}

/* The arrangements the tests start from, in their own namespace. */
TCASE(ports, .timeout = 10, .setup = setup_ns);
TCASE(listening, .timeout = 10, .setup = setup_listening);
TCASE(connected, .timeout = 10, .setup = setup_connected);

TEST(listening, connect_until_fail_counts_the_range)
{
	STEP_OK_("sysctl net.ipv4.ip_local_port_range 40000 40001");
	STEP_OK_("connect-until-fail c host 5000 2");
	expect_facts("c.count=2 c.ports_distinct=2");
	ck_assert_str_eq(fact("c.first_port"), "40000");  /* connect() starts with the low end's parity */
	/* The held sockets are slots; one more does not fit. */
	ck_assert(slot_find(&x, "c.2") && slot_find(&x, "c.2")->fd >= 0);
	expect_errno("connect-until-fail d host 5000 1", EADDRNOTAVAIL);
	expect_facts("d.count=0 d.failed_in=connect");
}
END_TEST

TEST(ports, bind_until_fail_counts_and_sorts_parity)
{
	STEP_OK_("sysctl net.ipv4.ip_local_port_range 40000 40001");
	expect_errno("bind-until-fail b host 3", EADDRINUSE);
	expect_facts("b.count=2 b.odd=1 b.even=1");
	ck_assert_str_eq(fact("b.first_port"), "40001");  /* bind(0) starts with the other parity */
	ck_assert_str_eq(fact("b.failed_in"), "bind");
}
END_TEST

TEST(listening, options_are_checked)
{
	ck_assert_int_eq(step("connect-until-fail c host 5000 0"), STEP_ERROR);
	ck_assert_int_eq(step("connect-until-fail c host 5000 65"), STEP_ERROR);
	ck_assert_int_eq(step("connect-until-fail c host 5000 1 reuseaddr=1"), STEP_ERROR);
	ck_assert_int_eq(step("bind-until-fail b host 1 range=5-4"), STEP_ERROR);
	ck_assert_int_eq(step("bind-until-fail b host 1 reuse=1"), STEP_ERROR);
	ck_assert_int_eq(step("reconnect-loop r l 1 closer=nobody"), STEP_ERROR);
	ck_assert_int_eq(step("reconnect-loop r nosuch 1"), STEP_ERROR);
	ck_assert_int_eq(step("tw-reuse-delay 0"), STEP_ERROR);
	ck_assert_int_eq(step("bind-when-free nosuch host 4000 10"), STEP_ERROR);
}
END_TEST

TEST(listening, socket_range_option)
{
	/* IP_LOCAL_PORT_RANGE narrows the system range for one socket (Linux 6.3 and 6.1.32).
	 * need-option's probe and the loop's use of the option must agree. */
	x.in_test = false;
	enum step_rc probe = step("need-option IP_LOCAL_PORT_RANGE 40000-40000 inet");
	x.in_test = true;
	ck_assert_msg(probe == STEP_OK || probe == STEP_SKIP, "%s", x.msg);
	enum step_rc rc = step("connect-until-fail c host 5000 1 range=40000-40000");
	if (probe == STEP_SKIP) {
		ck_assert_int_eq(rc, STEP_ERRNO);
		ck_assert_int_eq(x.err_no, ENOPROTOOPT);
		return;
	}
	ck_assert_msg(rc == STEP_OK, "%s", x.msg);
	expect_facts("c.first_port=40000 c.count=1");
}
END_TEST

/* bindresvport-style: 4 ports, client closes first: the 5th bind finds them all in TIME_WAIT. */
TEST(listening, reconnect_loop_runs_out_of_ports)
{
	expect_errno("reconnect-loop c l 5 bind=1020-1023", EADDRINUSE);
	expect_facts("c.count=4 c.ports_distinct=4 c.failed_in=bind");
}
END_TEST

/* The remedies leave no TIME_WAIT on the client's ports: the loop goes round twice. */
TEST(listening, reconnect_loop_remedies)
{
	STEP_OK_("reconnect-loop a l 9 bind=1020-1023 linger=0");
	expect_facts("a.count=9 a.ports_distinct=4");
	STEP_OK_("reconnect-loop b l 9 bind=1016-1019 closer=server");
	ck_assert_str_eq(fact("b.count"), "9");
}
END_TEST

/* Each connection's first closer is read back: a loop told to leave TIME_WAIT where a
 * reset leaves nothing, or the reverse, is an error. */
TEST(listening, reconnect_loop_checks_what_it_leaves)
{
	ck_assert_int_eq(step("reconnect-loop a l 2 bind=1020-1023 linger=0 left=TIME_WAIT"), STEP_ERROR);
	ck_assert_msg(strstr(x.msg, "did not reach TIME_WAIT"), "%s", x.msg);
	ck_assert_int_eq(step("reconnect-loop b l 2 bind=1016-1019 left=CLOSED"), STEP_ERROR);
	ck_assert_msg(strstr(x.msg, "did not reach gone") && strstr(x.msg, "TIME_WAIT"), "%s", x.msg);
	STEP_OK_("reconnect-loop c l 2 bind=1012-1015 left=TIME_WAIT");
}
END_TEST

/* Without bind=, connect() picks the port: with tcp_tw_reuse=0 the TIME_WAITs exhaust it. */
TEST(ports, reconnect_loop_ephemeral)
{
	char err[256];
	ck_assert_int_eq(sysctl_write(&origin, "net.ipv4.tcp_tw_reuse", "0", err, sizeof(err)), 0);
	listener();
	STEP_OK_("sysctl net.ipv4.ip_local_port_range 40000 40001");
	expect_errno("reconnect-loop c l 3", EADDRNOTAVAIL);
	expect_facts("c.count=2 c.failed_in=connect");
}
END_TEST

TEST(connected, close_first_leaves_time_wait)
{
	STEP_OK_("close-first c TIME_WAIT c.peer");
	expect_facts("c.after_close=TIME_WAIT c.peer.before_close=CLOSE_WAIT");
	ck_assert_int_eq(slot_state(&x, slot_find(&x, "c")), TCP_TIME_WAIT);
	STEP_OK_("socket n tcp");
	expect_errno("bind n host 4000", EADDRINUSE);
	/* closing again: no open socket */
	ck_assert_int_eq(step("close-first c TIME_WAIT"), STEP_ERROR);
}
END_TEST

TEST(connected, close_first_alone_leaves_fin_wait2)
{
	STEP_OK_("close-first c FIN_WAIT2");
	ck_assert_str_eq(fact("c.after_close"), "FIN_WAIT2");
}
END_TEST

/* A close that does not leave the state the case says is an error, never a pass: the
 * peer stays open, so no TIME_WAIT can come. */
TEST(connected, close_first_in_the_wrong_state_is_an_error)
{
	ck_assert_int_eq(step("close-first c TIME_WAIT"), STEP_ERROR);
	ck_assert_msg(strstr(x.msg, "did not reach TIME_WAIT") && strstr(x.msg, "FIN_WAIT2"), "%s", x.msg);
	ck_assert_ptr_null(kv_get(&facts, "c.after_close"));
}
END_TEST

/* The state close-first declared is read again before the test: a later step that moves it
 * (here the peer's close turns FIN_WAIT2 into TIME_WAIT) is an error saying what it became. */
TEST(connected, declared_state_that_moved_is_an_error)
{
	STEP_OK_("close-first c FIN_WAIT2");
	ck_assert_int_eq(slots_verify(&x), STEP_OK);
	STEP_OK_("close c.peer");
	STEP_OK_("wait-gone c.peer");
	ck_assert_int_eq(slots_verify(&x), STEP_ERROR);
	ck_assert_msg(strstr(x.msg, "c is TIME_WAIT, not FIN_WAIT2 as close-first left it"), "%s", x.msg);
}
END_TEST

TEST(listening, close_first_reset_is_no_time_wait)
{
	STEP_OK_("socket c tcp");
	STEP_OK_("setsockopt c SO_LINGER 0");
	STEP_OK_("bind c host 4000");
	STEP_OK_("connect c host 5000");
	STEP_OK_("accept l c.peer");
	ck_assert_int_eq(step("close-first c TIME_WAIT c.peer"), STEP_ERROR);
	ck_assert_msg(strstr(x.msg, "did not reach TIME_WAIT"), "%s", x.msg);
}
END_TEST

TEST(listening, close_first_with_linger_zero_resets)
{
	STEP_OK_("socket c tcp");
	STEP_OK_("setsockopt c SO_LINGER 0");
	STEP_OK_("bind c host 4000");
	STEP_OK_("connect c host 5000");
	STEP_OK_("accept l c.peer");
	STEP_OK_("close-first c CLOSED c.peer");
	expect_facts("c.after_close=CLOSED c.peer.before_close=CLOSED");
	STEP_OK_("socket n tcp");
	STEP_OK_("bind-when-free n host 4000 0");
	ck_assert_str_eq(fact("n.waited_ms"), "0");
}
END_TEST

TEST(ports, bind_when_free_gives_up)
{
	STEP_OK_("socket a tcp");
	STEP_OK_("bind a host 4000");
	STEP_OK_("socket b tcp");
	expect_errno("bind-when-free b host 4000 30", EADDRINUSE);
	ck_assert_int_ge(atoi(fact("b.waited_ms")), 30);
}
END_TEST

/* The reuse delay on the kernel's own clock, whichever rule this kernel has: right after
 * close-first the TIME_WAIT is within it; after wait-reuse-delay it is not, and a case that
 * says it connects within the delay then is an error. */
TEST(listening, reuse_delay_before_and_after)
{
	char val[32], err[256];
	STEP_OK_("tw-reuse-delay 200");
	int ms_rule = sysctl_read("net.ipv4.tcp_tw_reuse_delay", val, sizeof(val), err, sizeof(err)) == 0;
	ck_assert_str_eq(fact("net.ipv4.tcp_tw_reuse_delay"), ms_rule ? "200" : "absent: one-second rule");
	STEP_OK_("align-reuse-clock");
	connection("c", "4000");
	STEP_OK_("close-first c TIME_WAIT c.peer");
	STEP_OK_("before-reuse-delay c");
	double t0 = now_ms();
	STEP_OK_("wait-reuse-delay c");
	ck_assert_int_ge((int)(now_ms() - t0), ms_rule ? 100 : 1);
	ck_assert_int_eq(step("before-reuse-delay c"), STEP_ERROR);
	ck_assert_msg(strstr(x.msg, "no longer within"), "%s", x.msg);
	/* Only a TIME_WAIT close-first made has those times. */
	ck_assert_int_eq(step("wait-reuse-delay l"), STEP_ERROR);
}
END_TEST

UNIT_MAIN("verbs_ports")
