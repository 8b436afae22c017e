/* The verb table of the language (parse/verbs_spec.c) against the implementations
 * (exec/): one of each per name, and the words each verb takes checked when a file loads. */
#include "fixture.h"
#include "parse/verbs_spec.h"
#include "exec/verbs.h"

#include <stdio.h>
#include <string.h>

TCASE(spec);

TEST(spec, every_spec_has_an_implementation_and_back)
{
	size_t nimpl = 0;
	for (size_t i = 0; i < nverb_specs; i++) {
		ck_assert_msg(verb_find(verb_specs[i].name), "verb '%s' has no implementation", verb_specs[i].name);
		ck_assert_msg(verb_spec_find(verb_specs[i].name) == &verb_specs[i], "verb '%s' is declared twice",
			      verb_specs[i].name);
		ck_assert_msg(strncmp(verb_specs[i].usage, verb_specs[i].name, strlen(verb_specs[i].name)) == 0,
			      "usage of %s", verb_specs[i].name);
	}
	for (const struct verb *v = verbs_begin(); v < verbs_end(); v++, nimpl++) {
		ck_assert_msg(v->name && v->fn, "entry %zu of the verbs is empty", nimpl);
		ck_assert_msg(verb_spec_find(v->name), "implementation '%s' is no verb of the language", v->name);
		ck_assert_msg(verb_find(v->name) == v, "'%s' is implemented twice", v->name);
	}
	ck_assert_uint_eq(nimpl, nverb_specs);
}
END_TEST

/* Splits a step line into words (in place) and checks it. */
static int check_line(const char *line, bool literal_only, int *bad, char *err)
{
	static char buf[256];
	char *argv[16];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *tok = strtok(buf, " "); tok && argc < 16; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	const struct verb_spec *v = verb_spec_find(argv[0]);
	ck_assert_msg(v, "no verb '%s'", argv[0]);
	return verb_check(v, argc, argv, literal_only, bad, err, 400);
}

TEST(spec, good_steps_pass)
{
	static const char *const good[] = {
		"socket s tcp", "socket s udp inet6", "bind s host 0", "bind s 2001:db8::1 65535", "bind s 192.0.2.7 1",
		"setsockopt s SO_LINGER off", "setsockopt s SO_LINGER 0", "setsockopt s IP_LOCAL_PORT_RANGE 40000-40010",
		"setsockopt s SO_REUSEADDR 1", "occupy o TIME_WAIT active host 4000 reuseaddr=1 rport=5000 family=inet6",
		"host b", "drop a on", "link b down", "shutdown s rdwr", "wait-state s CLOSED",
		"reconnect-loop c l 49 bind=1008-1023 closer=server linger=0",
		"sysctl net.ipv4.ip_local_port_range 40000 40010", "wait-ms 0", "wait-reuse-delay s", "align-reuse-clock", "before-reuse-delay s", "listen s",
	};
	char err[400];
	int bad;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(check_line(good[i], false, &bad, err) == 0, "'%s': %s", good[i], err);
}
END_TEST

/* Each bad line, the word the message points at, and a phrase of the message. */
TEST(spec, bad_steps_name_the_word)
{
	static const struct { const char *line; int bad; const char *phrase; } cases[] = {
		{ "bind s host 70000", 3, "port" },
		{ "bind s host -1", 3, "port" },
		{ "bind s nowhere 4000", 2, "address" },
		{ "bind s 300.1.1.1 4000", 2, "address" },
		{ "socket s sctp", 2, "protocol" },
		{ "socket s tcp inet7", 3, "family" },
		{ "setsockopt s SO_NOSUCH 1", 2, "unknown socket option" },
		{ "setsockopt s SO_REUSEADDR yes", 3, "SO_REUSEADDR takes a number" },
		{ "setsockopt s SO_LINGER on", 3, "SO_LINGER takes" },
		{ "occupy o SLEEPING active host 4000", 2, "TCP state" },
		{ "occupy o CLOSED active host 4000", 2, "TCP state" },
		{ "occupy o LISTEN sideways host 4000", 3, "active passive" },
		{ "occupy o LISTEN passive host 0", 5, "port" },
		{ "occupy o LISTEN passive host 4000 reuseaddr=2", 6, "reuseaddr=" },
		{ "occupy o LISTEN passive host 4000 colour=1", 6, "no option" },
		{ "occupy o LISTEN passive host 4000 reuseaddr=1 reuseaddr=0", 7, "twice" },
		{ "host c", 1, "a b" },
		{ "drop a maybe", 2, "on off" },
		{ "wait-ms 1e3", 1, "whole number" },
		{ "wait-ms 999999", 1, "whole number" },
		{ "connect-until-fail c host 5000 0", 4, "whole number" },
		{ "connect-until-fail c host 5000 65", 4, "whole number" },
		{ "connect-until-fail c host 5000 1 reuseaddr=1", 5, "no option" },
		{ "bind-until-fail b host 1 range=5-4", 4, "range" },
		{ "reconnect-loop r l 1 closer=nobody", 4, "client server" },
		{ "tw-reuse-delay 0", 1, "whole number" },
		{ "sysctl ../etc/passwd 1", 1, "not a sysctl name" },
		{ "bind s host", 0, "takes 3 arguments, got 2" },
		{ "close s t", 0, "takes 1 argument, got 2" },
	};
	char err[400];
	int bad;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(check_line(cases[i].line, false, &bad, err) == -1, "'%s' passed", cases[i].line);
		ck_assert_msg(bad == cases[i].bad, "'%s': word %d, not %d (%s)", cases[i].line, bad, cases[i].bad, err);
		ck_assert_msg(strstr(err, cases[i].phrase), "'%s': '%s' does not say '%s'", cases[i].line, err,
			      cases[i].phrase);
	}
}
END_TEST

/* Words that hold a {var} are checked once the plan has filled them in. */
TEST(spec, variables_wait_for_the_plan)
{
	char err[400];
	int bad;
	ck_assert_int_eq(check_line("bind s {addr} {PORT}", true, &bad, err), 0);
	ck_assert_int_eq(check_line("reconnect-loop c l 49 bind=1008-1023 {how}", true, &bad, err), 0);
	ck_assert_int_eq(check_line("bind s {addr} 70000", true, &bad, err), -1);
	ck_assert_int_eq(bad, 3);
	ck_assert_int_eq(check_line("bind s {addr} {PORT}", false, &bad, err), -1);
}
END_TEST

UNIT_MAIN("verbs_spec")
