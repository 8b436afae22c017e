/* sockreuse why: the replay as a case, from sockets made up here. */
#include "tests/unit/fixture.h"
#include "cmd/why.h"

#include <arpa/inet.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

TCASE(replay);

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static struct why_call connect_call(void)
{
	struct why_call c = { .op = WHY_CONNECT, .proto = IPPROTO_TCP, .family = AF_INET, .port = 9000 };
	inet_pton(AF_INET, "127.0.0.1", c.addr);
	return c;
}

static char *text_of(const struct why_call *c, const struct why_host *h, const struct why_selection *sel,
		     enum why_change change)
{
	struct why_variant v = { .change = change };
	char why[256] = "";
	char *t = why_case_text(c, h, sel, &v, 9000, why, sizeof(why));
	ck_assert_msg(t, "%s", why);
	return t;
}

/* One free port out of 28232: scaling in proportion alone would make it none. */
TEST(replay, one_free_port_survives_scaling)
{
	struct why_call c = connect_call();
	struct why_host h = { .range_lo = 32768, .range_hi = 60999, .tw_reuse = 0, .unpriv_start = "1024",
			      .bindv6only = "0" };
	struct why_selection sel = { .held_established = 28231, .free_ports = 1, .oldest_tw_age_ms = -1 };
	char *t = text_of(&c, &h, &sel, CHANGE_NONE);
	ck_assert_ptr_nonnull(strstr(t, "connect-until-fail est 127.0.0.1 9000 40\n"));
	/* 40 held and the free one, made two: every stretch is even (connect() walks an even
	 * number of ports). */
	ck_assert_ptr_nonnull(strstr(t, "sysctl net.ipv4.ip_local_port_range 40000 40041\n"));
	ck_assert_ptr_nonnull(strstr(t, "    connect new 127.0.0.1 9000\n"));
	free(t);
	t = text_of(&c, &h, &sel, CHANGE_WIDEN);
	ck_assert_ptr_nonnull(strstr(t, "sysctl net.ipv4.ip_local_port_range 40000 40051\n"));
	free(t);
}

TEST(replay, small_range_at_scale_with_time_wait)
{
	struct why_call c = connect_call();
	struct why_host h = { .range_lo = 40000, .range_hi = 40009, .tw_reuse = 2, .tw_reuse_delay_ms = 1000,
			      .unpriv_start = "1024", .bindv6only = "0" };
	struct why_selection sel = { .held_established = 6, .held_time_wait = 4, .oldest_tw_age_ms = 5000,
				     .remote_loopback = false };
	char *t = text_of(&c, &h, &sel, CHANGE_NONE);
	ck_assert_ptr_nonnull(strstr(t, "reconnect-loop tw remote 4\n"));
	ck_assert_ptr_nonnull(strstr(t, "connect-until-fail est 127.0.0.1 9000 6\n"));
	/* tcp_tw_reuse=2 is loopback only: a remote elsewhere is answered with 0. */
	ck_assert_uint_eq(count(t, "sysctl net.ipv4.tcp_tw_reuse 0\n"), 2);
	ck_assert_ptr_null(strstr(t, "wait-ms"));
	free(t);
	t = text_of(&c, &h, &sel, CHANGE_TW_REUSE);
	ck_assert_ptr_nonnull(strstr(t, "sysctl net.ipv4.tcp_tw_reuse 1\n    wait-ms 1100\n"));
	free(t);
	t = text_of(&c, &h, &sel, CHANGE_WAIT);
	ck_assert_ptr_null(strstr(t, "reconnect-loop"));
	free(t);
}

static struct seen_sock time_wait(const char *laddr, unsigned short rport)
{
	struct seen_sock s = { .proto = IPPROTO_TCP, .family = AF_INET, .state = TCP_TIME_WAIT, .lport = 8000,
			       .rport = rport, .uid = -1, .v6only = 0, .reuseaddr = 1, .reuseport = 0,
			       .timer_ms = 30000, .pid = -1 };
	inet_pton(AF_INET, laddr, s.laddr);
	inet_pton(AF_INET, "192.0.2.7", s.raddr);
	return s;
}

/* A port held by 100 alike sockets is replayed by three; other addresses map onto 127/8. */
TEST(replay, alike_sockets_are_replayed_by_a_few)
{
	struct seen_sock socks[100];
	const struct seen_sock *ptrs[100];
	for (int i = 0; i < 100; i++) {
		socks[i] = time_wait("10.1.2.3", (unsigned short)(50000 + i));
		ptrs[i] = &socks[i];
	}
	struct why_group g = { 0, 100 };
	struct why_selection sel = { .v = ptrs, .n = 100, .groups = &g, .ngroups = 1, .oldest_tw_age_ms = -1 };
	struct why_call c = { .op = WHY_BIND, .proto = IPPROTO_TCP, .family = AF_INET, .port = 8000, .reuseaddr = true };
	struct why_host h = { .unpriv_start = "1024", .bindv6only = "0" };
	char *t = text_of(&c, &h, &sel, CHANGE_NONE);
	ck_assert_uint_eq(count(t, "close-first "), 3);
	ck_assert_ptr_null(strstr(t, "10.1.2.3"));
	ck_assert_ptr_null(strstr(t, "192.0.2.7"));
	ck_assert_ptr_nonnull(strstr(t, "bind new 0.0.0.0 8000\n"));
	ck_assert_ptr_nonnull(strstr(t, "setsockopt new SO_REUSEADDR 1\n"));
	free(t);
	t = text_of(&c, &h, &sel, CHANGE_WAIT);
	ck_assert_uint_eq(count(t, "close-first "), 0);
	free(t);
}

UNIT_MAIN("why")
