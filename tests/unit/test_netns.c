/* Throwaway namespaces: the guard, sysctls, both topologies, wire control, sock_diag.
 *
 * Needs root. Every test runs in its own child (Check's fork mode, forced in main) and
 * unshares before touching anything, so the test process and the host keep their
 * namespace; the only thing a test does in the runner's namespace is verify a refusal. */
#include "fixture.h"
#include "netns/netns.h"
#include "lib/sockaddr.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* Below the 1 s initial SYN retransmission timeout: a connection that needs more than
 * this lost its first SYN or SYN-ACK. */
#define CONNECT_DEADLINE_MS 500
/* How long a connection that must not complete is watched. */
#define STALL_MS 250
#define PORT 8000

/* The namespace this test child started in: the runner's (here: the host's). */
static struct ns_id start_origin(void)
{
	struct ns_id origin;

	ck_assert_int_eq(ns_current(&origin), 0);
	return origin;
}

/* Records the origin, then moves into a fresh namespace. */
static struct ns_id enter_private(void)
{
	struct ns_id origin = start_origin();

	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s (run as root)", strerror(errno));
	return origin;
}

static void build(enum topo_kind kind, struct topo *t)
{
	struct ns_id origin = enter_private();
	char err[256] = "";
	int rc = topo_build(kind, &origin, t, err, sizeof(err));

	ck_assert_msg(rc == 0, "topo_build: %d %s", rc, err);
}

static void enter(const struct topo *t, int h)
{
	char err[256] = "";

	ck_assert_msg(topo_enter(t, h, err, sizeof(err)) == 0, "topo_enter: %s", err);
}

static double now_ms_(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A listener on the wildcard address (or addr) of the current namespace. */
static int tcp_listen(int family, const void *addr, unsigned short port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_fill(&ss, family, addr, port);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	ck_assert_int_ge(fd, 0);
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	ck_assert_msg(bind(fd, (struct sockaddr *)&ss, len) == 0, "bind: %s", strerror(errno));
	ck_assert_int_eq(listen(fd, 16), 0);
	return fd;
}

/* Starts a nonblocking connect, from src when non-NULL. */
static int tcp_connect_start(int family, const void *dst, unsigned short port, const void *src)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	if (src) {
		len = sockaddr_fill(&ss, family, src, 0);
		ck_assert_msg(bind(fd, (struct sockaddr *)&ss, len) == 0, "bind source: %s", strerror(errno));
	}
	len = sockaddr_fill(&ss, family, dst, port);
	ck_assert_msg(connect(fd, (struct sockaddr *)&ss, len) == 0 || errno == EINPROGRESS, "connect: %s",
		      strerror(errno));
	return fd;
}

/* 0 when connected within timeout_ms, -ETIMEDOUT, or the connect error. */
static int wait_connected(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int n, soerr = 0;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ETIMEDOUT;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	return -soerr;
}

static unsigned short local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port);
}

static void assert_connects(int family, const void *dst, unsigned short port, const void *src)
{
	char a[INET6_ADDRSTRLEN];
	int fd = tcp_connect_start(family, dst, port, src);
	int rc = wait_connected(fd, CONNECT_DEADLINE_MS);

	ck_assert_msg(rc == 0, "connect to %s port %u: %s", inet_ntop(family, dst, a, sizeof(a)), port,
		      strerror(-rc));
	close(fd);
}

/* Polls sock_diag until a socket with local port sport (and remote port dport, if not 0)
 * is in `state`; returns its entry's state or -1 after the deadline. */
static int wait_diag_state(int family, unsigned short sport, unsigned short dport, int state, int deadline_ms)
{
	double end = now_ms_() + deadline_ms;
	struct diag_sock d[16];
	char err[256];

	for (;;) {
		int n = diag_tcp(family, sport, dport, d, 16, err, sizeof(err));

		ck_assert_msg(n >= 0, "diag_tcp: %s", err);
		for (int i = 0; i < n && i < 16; i++)
			if (d[i].state == state)
				return state;
		if (now_ms_() >= end)
			return -1;
		poll(NULL, 0, 1); /* the kernel's state is re-read each round */
	}
}

/* ---- the guard ---- */

TCASE(guard);

TEST(guard, ns_is_private_only_after_unshare)
{
	struct ns_id origin = start_origin();

	ck_assert(!ns_is_private(&origin));
	ck_assert(!ns_is_private(NULL));
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	ck_assert(ns_is_private(&origin));
}
END_TEST

TEST(guard, sysctl_write_refused_in_origin)
{
	const char *name = "net.ipv4.tcp_tw_reuse";
	struct ns_id origin = start_origin();
	char before[64], after[64], err[256] = "";
	const char *other;
	int rc;

	ck_assert_int_eq(sysctl_read(name, before, sizeof(before), err, sizeof(err)), 0);
	other = strcmp(before, "1") ? "1" : "0";
	rc = sysctl_write(&origin, name, other, err, sizeof(err));
	ck_assert_int_eq(rc, -EPERM);
	ck_assert_str_eq(err, "refusing to write sysctl net.ipv4.tcp_tw_reuse in the runner's own namespace");
	ck_assert_int_eq(sysctl_read(name, after, sizeof(after), err, sizeof(err)), 0);
	ck_assert_str_eq(after, before);
}
END_TEST

TEST(guard, topo_build_refused_in_origin)
{
	/* The origin here is a private namespace standing in for the runner's, so that a
	 * broken guard could not change the host. */
	struct ns_id fake_origin;
	struct topo t;
	char err[256] = "";

	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	ck_assert_int_eq(ns_current(&fake_origin), 0);
	ck_assert_int_eq(topo_build(TOPO_PAIR, &fake_origin, &t, err, sizeof(err)), -EPERM);
	ck_assert_str_eq(err, "refusing to build a topology in the runner's own namespace");
	ck_assert_int_eq(t.ns[HOST_A], -1);
	ck_assert_int_eq(t.ns[HOST_B], -1);
}
END_TEST

/* ---- sysctls ---- */

TCASE(sysctl);

TEST(sysctl, sysctl_write_then_read_in_private_ns)
{
	struct ns_id origin = enter_private();
	char val[64], err[256] = "";

	ck_assert_int_eq(sysctl_read("net.ipv4.tcp_tw_reuse", val, sizeof(val), err, sizeof(err)), 0);
	ck_assert_str_eq(val, "2"); /* the default in a fresh namespace */
	ck_assert_msg(sysctl_write(&origin, "net.ipv4.tcp_tw_reuse", "1", err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(sysctl_read("net.ipv4.tcp_tw_reuse", val, sizeof(val), err, sizeof(err)), 0);
	ck_assert_str_eq(val, "1");
	/* Multi-value sysctls come back as the kernel prints them. */
	ck_assert_int_eq(sysctl_write(&origin, "net.ipv4.ip_local_port_range", "40000 40011", err, sizeof(err)), 0);
	ck_assert_int_eq(sysctl_read("net.ipv4.ip_local_port_range", val, sizeof(val), err, sizeof(err)), 0);
	ck_assert_str_eq(val, "40000\t40011");
	/* Interface names are path components; slashes keep a dotted one whole. */
	ck_assert_int_eq(sysctl_read("net/ipv4/conf/lo/rp_filter", val, sizeof(val), err, sizeof(err)), 0);
}
END_TEST

TEST(sysctl, sysctl_missing_is_enoent)
{
	struct ns_id origin = enter_private();
	char val[64], err[256] = "";

	/* Removed in Linux 4.12. */
	ck_assert_int_eq(sysctl_read("net.ipv4.tcp_tw_recycle", val, sizeof(val), err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "sysctl net.ipv4.tcp_tw_recycle: not present on this kernel");
	ck_assert_int_eq(sysctl_write(&origin, "net.ipv4.tcp_tw_recycle", "1", err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "sysctl net.ipv4.tcp_tw_recycle: not present on this kernel");
}
END_TEST

TEST(sysctl, sysctl_rejects_bad_input)
{
	struct ns_id origin = enter_private();
	char val[2], err[256] = "";

	ck_assert_int_eq(sysctl_read("../../etc/passwd", val, sizeof(val), err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(sysctl_read("net.ipv4.ip_local_port_range", val, sizeof(val), err, sizeof(err)), -EOVERFLOW);
	ck_assert_int_eq(sysctl_write(&origin, "net.ipv4.tcp_tw_reuse", "seven", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "sysctl net.ipv4.tcp_tw_reuse = seven: Invalid argument");
}
END_TEST

/* The guard asks the kernel which sysctls a network namespace owns, not the name. In a
 * private UTS namespace too: kernel.hostname is that namespace's, so a guard that let the
 * write through would rename nothing but this test's own namespace. */
TEST(sysctl, sysctl_write_refuses_what_no_network_namespace_owns)
{
	char before[256], after[256], err[400] = "";
	ck_assert_msg(unshare(CLONE_NEWUTS) == 0, "unshare(CLONE_NEWUTS): %s", strerror(errno));
	ck_assert_int_eq(sethostname("sr-unit", 7), 0);
	/* The answers as the runner gets them when it loads cases, from its own namespace. */
	ck_assert_int_eq(sysctl_netns_local("vm.swappiness", err, sizeof(err)), -EPERM);
	ck_assert_int_eq(sysctl_netns_local("net.core.rmem_max", err, sizeof(err)), -EPERM);
	/* net.ipv4.tcp_mem is init_net's only: absent from any other namespace */
	ck_assert_int_eq(sysctl_netns_local("net.ipv4.tcp_mem", err, sizeof(err)), -EPERM);
	ck_assert_int_eq(sysctl_netns_local("net.ipv4.tcp_tw_reuse", err, sizeof(err)), 1);
	/* per namespace, though hidden from namespaces of unprivileged users */
	ck_assert_int_eq(sysctl_netns_local("net.core.somaxconn", err, sizeof(err)), 1);
	ck_assert_int_eq(sysctl_netns_local("net.ipv4.conf.lo.forwarding", err, sizeof(err)), 1);
	struct ns_id origin = enter_private();
	ck_assert_int_eq(gethostname(before, sizeof(before)), 0);
	ck_assert_int_eq(sysctl_write(&origin, "kernel.hostname", "renamed", err, sizeof(err)), -EPERM);
	ck_assert_msg(strstr(err, "kernel.hostname") && strstr(err, "namespace"), "%s", err);
	ck_assert_int_eq(gethostname(after, sizeof(after)), 0);
	ck_assert_str_eq(after, "sr-unit");
	ck_assert_str_eq(before, after);
	/* Asked again, from inside a case's namespace: the same answer, from the cache. */
	ck_assert_int_eq(sysctl_netns_local("net.ipv4.tcp_mem", err, sizeof(err)), -EPERM);
}
END_TEST

/* ---- loopback ---- */

TCASE(loopback);

TEST(loopback, loopback_addresses_accept_connections)
{
	struct topo t;

	build(TOPO_LOOPBACK, &t);
	ck_assert_int_eq(t.ns[HOST_B], -1);
	ck_assert_int_eq(t.a4[HOST_B].s_addr, t.a4[HOST_A].s_addr);
	int l4 = tcp_listen(AF_INET, NULL, PORT), l6 = tcp_listen(AF_INET6, NULL, PORT);

	assert_connects(AF_INET, &t.a4[HOST_A], PORT, NULL);
	assert_connects(AF_INET, &t.a4_second, PORT, NULL);
	assert_connects(AF_INET6, &t.a6[HOST_A], PORT, NULL);
	assert_connects(AF_INET6, &t.a6_second, PORT, NULL);
	assert_connects(AF_INET6, &t.a6[HOST_A], PORT, &t.a6_second);
	close(l4);
	close(l6);
	topo_close(&t);
	ck_assert_int_eq(t.ns[HOST_A], -1);
}
END_TEST

TEST(loopback, loopback_has_no_wire_control)
{
	struct topo t;
	char err[256] = "";

	build(TOPO_LOOPBACK, &t);
	ck_assert_int_eq(topo_drop(&t, HOST_A, true, err, sizeof(err)), -EOPNOTSUPP);
	ck_assert_str_eq(err, "topo_drop: not available on the loopback topology");
	ck_assert_int_eq(topo_link(&t, HOST_A, false, err, sizeof(err)), -EOPNOTSUPP);
	ck_assert_int_eq(topo_blackhole_unassigned(&t, HOST_A, err, sizeof(err)), -EOPNOTSUPP);
	ck_assert_str_eq(err, "topo_blackhole_unassigned: not available on the loopback topology");
	/* B is A on loopback. */
	enter(&t, HOST_B);
	topo_close(&t);
}
END_TEST

/* ---- pair ---- */

static void listen_both(const struct topo *t, int h, int fds[2])
{
	enter(t, h);
	fds[0] = tcp_listen(AF_INET, NULL, PORT);
	fds[1] = tcp_listen(AF_INET6, NULL, PORT);
}

TCASE(pair, .timeout = 10);

TEST(pair, pair_hosts_are_separate_namespaces)
{
	struct topo t;
	struct ns_id a, b;
	struct stat st;

	build(TOPO_PAIR, &t);
	ck_assert_int_eq(ns_current(&a), 0);
	ck_assert_int_eq(fstat(t.ns[HOST_A], &st), 0);
	ck_assert(st.st_ino == a.ino && st.st_dev == a.dev); /* left in A */
	enter(&t, HOST_B);
	ck_assert_int_eq(ns_current(&b), 0);
	ck_assert(a.ino != b.ino);
	ck_assert_int_eq(t.ifindex[HOST_A], 2);
	ck_assert_int_eq(t.ifindex[HOST_B], 3);
	topo_close(&t);
}
END_TEST

/* The source address the kernel picks for an unbound connect. */
static void assert_source(int family, const void *dst, const void *want)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char a[INET6_ADDRSTRLEN];
	int fd = tcp_connect_start(family, dst, PORT, NULL);
	const void *got;

	ck_assert_int_eq(wait_connected(fd, CONNECT_DEADLINE_MS), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	got = family == AF_INET6 ? (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
				 : (void *)&((struct sockaddr_in *)&ss)->sin_addr;
	ck_assert_msg(memcmp(got, want, family == AF_INET6 ? 16 : 4) == 0, "source %s",
		      inet_ntop(family, got, a, sizeof(a)));
	close(fd);
}

TEST(pair, pair_unbound_connect_uses_primary_address)
{
	struct topo t;
	int lb[2];

	build(TOPO_PAIR, &t);
	listen_both(&t, HOST_B, lb);
	enter(&t, HOST_A);
	assert_source(AF_INET, &t.a4[HOST_B], &t.a4[HOST_A]);
	assert_source(AF_INET6, &t.a6[HOST_B], &t.a6[HOST_A]);
	topo_close(&t);
}
END_TEST

TEST(pair, pair_connects_at_once_both_ways)
{
	struct topo t;
	int lb[2], la[2];

	build(TOPO_PAIR, &t);
	listen_both(&t, HOST_B, lb);
	listen_both(&t, HOST_A, la);
	/* No sleep between topo_build and the first packet. */
	assert_connects(AF_INET, &t.a4[HOST_B], PORT, NULL);
	assert_connects(AF_INET6, &t.a6[HOST_B], PORT, NULL);
	assert_connects(AF_INET, &t.a4[HOST_B], PORT, &t.a4_second);
	assert_connects(AF_INET6, &t.a6[HOST_B], PORT, &t.a6_second);
	enter(&t, HOST_B);
	assert_connects(AF_INET, &t.a4[HOST_A], PORT, NULL);
	assert_connects(AF_INET6, &t.a6[HOST_A], PORT, NULL);
	assert_connects(AF_INET, &t.a4_second, PORT, NULL);
	assert_connects(AF_INET6, &t.a6_second, PORT, NULL);
	topo_close(&t);
}
END_TEST

/* A nonblocking connect that must stay in SYN_SENT: checked for STALL_MS, then confirmed
 * from the kernel's side. */
static int assert_stays_syn_sent(int family, const void *dst, unsigned short port)
{
	int fd = tcp_connect_start(family, dst, port, NULL);

	ck_assert_int_eq(wait_connected(fd, STALL_MS), -ETIMEDOUT);
	ck_assert_int_eq(wait_diag_state(family, local_port(fd), port, TCP_SYN_SENT, 0), TCP_SYN_SENT);
	return fd;
}

TEST(pair, pair_drop_freezes_syn_sent_then_restores)
{
	struct topo t;
	char err[256] = "";
	int lb[2], fd4, fd6;

	build(TOPO_PAIR, &t);
	listen_both(&t, HOST_B, lb);
	enter(&t, HOST_A);
	ck_assert_msg(topo_drop(&t, HOST_A, true, err, sizeof(err)) == 0, "%s", err);
	fd4 = assert_stays_syn_sent(AF_INET, &t.a4[HOST_B], PORT);
	fd6 = assert_stays_syn_sent(AF_INET6, &t.a6[HOST_B], PORT);

	ck_assert_msg(topo_drop(&t, HOST_A, false, err, sizeof(err)) == 0, "%s", err);
	assert_connects(AF_INET, &t.a4[HOST_B], PORT, NULL);
	assert_connects(AF_INET6, &t.a6[HOST_B], PORT, NULL);
	/* The frozen connection completes with its first SYN retransmission (about 1 s). */
	ck_assert_int_eq(wait_connected(fd4, 3000), 0);
	ck_assert_int_eq(wait_connected(fd6, 3000), 0);
	topo_close(&t);
}
END_TEST

TEST(pair, pair_drop_is_one_way)
{
	struct topo t;
	char err[256] = "";
	int la[2], fd;

	build(TOPO_PAIR, &t);
	listen_both(&t, HOST_A, la);
	ck_assert_msg(topo_drop(&t, HOST_A, true, err, sizeof(err)) == 0, "%s", err);
	/* B's SYN reaches A, A's SYN-ACK is dropped: A holds a request socket. */
	enter(&t, HOST_B);
	fd = assert_stays_syn_sent(AF_INET, &t.a4[HOST_A], PORT);
	enter(&t, HOST_A);
	ck_assert_int_eq(wait_diag_state(AF_INET, PORT, 0, TCP_SYN_RECV, 1000), TCP_SYN_RECV);
	close(fd);
	/* From B, A's second addresses are dropped too. */
	enter(&t, HOST_B);
	ck_assert_msg(topo_drop(&t, HOST_B, true, err, sizeof(err)) == 0, "%s", err);
	close(assert_stays_syn_sent(AF_INET6, &t.a6_second, PORT));
	ck_assert_msg(topo_drop(&t, HOST_B, false, err, sizeof(err)) == 0, "%s", err);
	topo_close(&t);
}
END_TEST

TEST(pair, pair_link_down_then_up)
{
	struct topo t;
	char err[256] = "";
	int lb[2], la[2], fd;

	build(TOPO_PAIR, &t);
	listen_both(&t, HOST_B, lb);
	listen_both(&t, HOST_A, la);
	ck_assert_msg(topo_link(&t, HOST_A, false, err, sizeof(err)) == 0, "%s", err);
	/* Down: the routes through the link are gone. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_fill(&ss, AF_INET, &t.a4[HOST_B], PORT);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&ss, len), -1);
	ck_assert_int_eq(errno, ENETUNREACH);
	close(fd);
	/* B's end lost its carrier: what B sends goes nowhere. */
	enter(&t, HOST_B);
	close(assert_stays_syn_sent(AF_INET, &t.a4[HOST_A], PORT));
	enter(&t, HOST_A);

	ck_assert_msg(topo_link(&t, HOST_A, true, err, sizeof(err)) == 0, "%s", err);
	assert_connects(AF_INET, &t.a4[HOST_B], PORT, NULL);
	assert_connects(AF_INET6, &t.a6[HOST_B], PORT, NULL);
	assert_connects(AF_INET6, &t.a6[HOST_B], PORT, &t.a6_second);
	enter(&t, HOST_B);
	assert_connects(AF_INET, &t.a4[HOST_A], PORT, NULL);
	assert_connects(AF_INET6, &t.a6[HOST_A], PORT, NULL);
	topo_close(&t);
}
END_TEST

TEST(pair, pair_link_up_on_an_up_link_keeps_drop)
{
	struct topo t;
	char err[256] = "";
	int lb[2];

	build(TOPO_PAIR, &t);
	listen_both(&t, HOST_B, lb);
	enter(&t, HOST_A);
	ck_assert_msg(topo_drop(&t, HOST_A, true, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(topo_link(&t, HOST_A, true, err, sizeof(err)) == 0, "%s", err);
	close(assert_stays_syn_sent(AF_INET, &t.a4[HOST_B], PORT));
	topo_close(&t);
}
END_TEST

TEST(pair, pair_unassigned_address_blackholed)
{
	struct topo t;
	char err[256] = "";

	build(TOPO_PAIR, &t);
	ck_assert_msg(topo_blackhole_unassigned(&t, HOST_A, err, sizeof(err)) == 0, "%s", err);
	close(assert_stays_syn_sent(AF_INET, &t.unassigned4, PORT));
	close(assert_stays_syn_sent(AF_INET6, &t.unassigned6, PORT));
	topo_close(&t);
}
END_TEST

TEST(pair, pair_twice_names_the_failure)
{
	struct topo t, again;
	struct ns_id origin;
	char err[256] = "";

	build(TOPO_PAIR, &t);
	/* Build again in the same (already private) namespace: veth0 exists. */
	ck_assert_int_eq(ns_current(&origin), 0);
	origin.ino ^= 1; /* anything but the current namespace */
	ck_assert_int_lt(topo_build(TOPO_PAIR, &origin, &again, err, sizeof(err)), 0);
	ck_assert_msg(strncmp(err, "RTM_NEWLINK veth veth0 (peer veth1): ", 37) == 0, "message: %s", err);
	ck_assert_int_eq(again.ns[HOST_A], -1);
	topo_close(&t);
}
END_TEST

/* ---- sock_diag ---- */

TCASE(diag);

TEST(diag, diag_finds_listen_and_time_wait)
{
	struct topo t;
	struct diag_sock d[4];
	char err[256] = "";
	int l, c, s, n;
	unsigned short cport;

	build(TOPO_LOOPBACK, &t);
	l = tcp_listen(AF_INET, &t.a4[HOST_A], PORT);
	n = diag_tcp(AF_UNSPEC, PORT, 0, d, 4, err, sizeof(err));
	ck_assert_msg(n == 1, "diag_tcp: %d %s", n, err);
	ck_assert_int_eq(d[0].state, TCP_LISTEN);
	ck_assert_int_eq(d[0].family, AF_INET);
	ck_assert_uint_ne(d[0].inode, 0);
	ck_assert_int_eq(memcmp(d[0].src, &t.a4[HOST_A], 4), 0);

	c = tcp_connect_start(AF_INET, &t.a4[HOST_A], PORT, NULL);
	ck_assert_int_eq(wait_connected(c, CONNECT_DEADLINE_MS), 0);
	cport = local_port(c);
	s = accept(l, NULL, NULL);
	ck_assert_int_ge(s, 0);
	/* The side that closes first ends in TIME_WAIT. */
	close(c);
	ck_assert_int_eq(wait_diag_state(AF_INET, PORT, cport, TCP_CLOSE_WAIT, 1000), TCP_CLOSE_WAIT);
	close(s);
	ck_assert_int_eq(wait_diag_state(AF_INET, cport, PORT, TCP_TIME_WAIT, 1000), TCP_TIME_WAIT);
	n = diag_tcp(AF_INET, cport, PORT, d, 4, err, sizeof(err));
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(d[0].inode, 0); /* no file behind a TIME_WAIT socket */
	ck_assert_int_eq(d[0].sport, cport);
	ck_assert_int_eq(d[0].dport, PORT);
	/* Only IPv4 sockets: the IPv6 dump finds nothing. */
	ck_assert_int_eq(diag_tcp(AF_INET6, cport, 0, d, 4, err, sizeof(err)), 0);
	/* Counts beyond max. */
	ck_assert_int_eq(diag_tcp(AF_INET, PORT, 0, NULL, 0, err, sizeof(err)), 1);
	close(l);
	topo_close(&t);
}
END_TEST

TEST(diag, diag_rejects_bad_family)
{
	char err[256] = "";

	ck_assert_int_eq(diag_tcp(AF_UNIX, 1, 0, NULL, 0, err, sizeof(err)), -EAFNOSUPPORT);
}
END_TEST

/* The tests unshare: each must run in its own child, whatever CK_FORK says. */
int main(void)
{
	return unit_run("netns", CK_FORK);
}
