/* The verbs of the step language and what their arguments may be. */
#include "parse/verbs_spec.h"
#include "lib/util.h"
#include "netns/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A few shapes that recur. */
#define NAME_ { .kind = ARG_NAME }
#define ADDR_ { .kind = ARG_ADDR }
#define PORT0_ { .kind = ARG_PORT, .lo = 0, .hi = 65535 }
#define PORT1_ { .kind = ARG_PORT, .lo = 1, .hi = 65535 }
#define HOST_ { .kind = ARG_WORD, .words = "a b" }
#define FLAG_(k) { .kind = ARG_BOOL, .key = k }
/* The family of a verb that creates sockets: the planner writes the case's family in. */
#define FAMILY_OPT_ { .kind = ARG_FAMILY, .key = "family", .fill = "family", .dflt = "inet" }
#define MS_ { .kind = ARG_NUM, .lo = 0, .hi = 120000 }
/* The states occupy reaches: CLOSED is no state a socket can be left in on purpose. */
#define OCCUPY_STATES "BOUND LISTEN SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT1 FIN_WAIT2 CLOSE_WAIT CLOSING LAST_ACK TIME_WAIT"
#define ALL_STATES "CLOSED " OCCUPY_STATES
/* What the end of a connection that closed first can be left in (CLOSED: no socket). */
#define CLOSED_STATES "TIME_WAIT FIN_WAIT2 CLOSED"
/* Bounds of the filling loops (a held socket is a slot of the case: 96 of them). */
#define PREFIX_MAX 64
#define LOOP_MAX 4096

const struct verb_spec verb_specs[] = {
	{ .name = "socket", .usage = "socket NAME tcp|udp [inet|inet6]",
	  .args = { NAME_, { .kind = ARG_PROTO }, { .kind = ARG_FAMILY, .optional = true, .fill = "family", .dflt = "inet" } } },
	{ .name = "setsockopt", .usage = "setsockopt NAME OPTION VALUE",
	  .args = { NAME_, { .kind = ARG_OPTION }, { .kind = ARG_OPTVAL } } },
	/* A prerequisite: the case is skipped where the kernel lacks the option. */
	{ .name = "need-option", .usage = "need-option OPTION VALUE [inet|inet6]",
	  .args = { { .kind = ARG_OPTION }, { .kind = ARG_OPTVAL },
		    { .kind = ARG_FAMILY, .optional = true, .fill = "family", .dflt = "inet" } } },
	{ .name = "bind", .usage = "bind NAME ADDRESS PORT", .args = { NAME_, ADDR_, PORT0_ } },
	{ .name = "listen", .usage = "listen NAME [BACKLOG]",
	  .args = { NAME_, { .kind = ARG_NUM, .lo = 0, .hi = 65535, .optional = true } } },
	{ .name = "connect", .usage = "connect NAME ADDRESS PORT", .args = { NAME_, ADDR_, PORT0_ } },
	{ .name = "connect-nowait", .usage = "connect-nowait NAME ADDRESS PORT", .args = { NAME_, ADDR_, PORT0_ } },
	{ .name = "accept", .usage = "accept LISTENER NAME", .args = { NAME_, NAME_ } },
	{ .name = "shutdown", .usage = "shutdown NAME wr|rd|rdwr",
	  .args = { NAME_, { .kind = ARG_WORD, .words = "wr rd rdwr" } } },
	{ .name = "close", .usage = "close NAME", .args = { NAME_ } },
	{ .name = "host", .usage = "host a|b", .args = { HOST_ } },
	{ .name = "uid", .usage = "uid NUMBER", .args = { { .kind = ARG_NUM, .lo = 0, .hi = 65535 } } },
	{ .name = "occupy",
	  .usage = "occupy NAME STATE active|passive ADDRESS PORT [reuseaddr=0|1] [reuseport=0|1] [rport=PORT] "
		   "[family=inet|inet6] [v6only=0|1] [proto=tcp|udp] [dev=IFNAME]",
	  .args = { NAME_, { .kind = ARG_STATE, .words = OCCUPY_STATES }, { .kind = ARG_WORD, .words = "active passive" },
		    ADDR_, PORT1_ },
	  /* rport: the port of the remote's listener an active occupant connects to; the
	   * planner writes the case's RPORT in, so a case can name that listener. */
	  .opts = { FLAG_("reuseaddr"), FLAG_("reuseport"),
		    { .kind = ARG_PORT, .key = "rport", .lo = 1, .hi = 65535, .fill = "RPORT" }, FAMILY_OPT_,
		    /* v6only: IPV6_V6ONLY (IPv6 only); proto: a UDP occupant is BOUND or, connected,
		     * ESTABLISHED; dev: SO_BINDTODEVICE. */
		    FLAG_("v6only"), { .kind = ARG_PROTO, .key = "proto" }, { .kind = ARG_TEXT, .key = "dev" } } },
	{ .name = "wait-queued", .usage = "wait-queued LISTENER N",
	  .args = { NAME_, { .kind = ARG_NUM, .lo = 1, .hi = PREFIX_MAX } } },
	{ .name = "accept-until-fail", .usage = "accept-until-fail PREFIX LISTENER MAX",
	  .args = { NAME_, NAME_, { .kind = ARG_NUM, .lo = 1, .hi = PREFIX_MAX } } },
	{ .name = "wait-state", .usage = "wait-state NAME STATE",
	  .args = { NAME_, { .kind = ARG_STATE, .words = ALL_STATES } } },
	{ .name = "drop", .usage = "drop a|b on|off", .flags = VERB_CHANGES_NETNS, .args = { HOST_, { .kind = ARG_WORD, .words = "on off" } } },
	{ .name = "link", .usage = "link a|b up|down", .flags = VERB_CHANGES_NETNS, .args = { HOST_, { .kind = ARG_WORD, .words = "up down" } } },
	/* A value may be several words: "40000 40010". */
	{ .name = "sysctl", .usage = "sysctl NAME VALUE...", .flags = VERB_CHANGES_NETNS,
	  .args = { { .kind = ARG_SYSCTL }, { .kind = ARG_TEXT, .repeat = 7 } } },
	/* Only reads, in the case's namespace: any name may be asked about. */
	{ .name = "read-sysctl", .usage = "read-sysctl NAME", .args = { { .kind = ARG_TEXT } } },
	{ .name = "wait-ms", .usage = "wait-ms MILLISECONDS", .flags = VERB_WAITS_ON_TIMER, .args = { MS_ } },
	{ .name = "connect-peer", .usage = "connect-peer NAME OTHER [ADDRESS]",
	  .args = { NAME_, NAME_, { .kind = ARG_ADDR, .optional = true } } },
	{ .name = "connect-peer-nowait", .usage = "connect-peer-nowait NAME OTHER [ADDRESS]",
	  .args = { NAME_, NAME_, { .kind = ARG_ADDR, .optional = true } } },
	{ .name = "wait-gone", .usage = "wait-gone NAME", .args = { NAME_ } },
	{ .name = "connect-until-fail", .usage = "connect-until-fail PREFIX ADDRESS PORT MAX [range=LO-HI]",
	  .args = { NAME_, ADDR_, PORT1_, { .kind = ARG_NUM, .lo = 1, .hi = PREFIX_MAX } },
	  .opts = { { .kind = ARG_RANGE, .key = "range" }, FAMILY_OPT_ } },
	{ .name = "bind-until-fail",
	  .usage = "bind-until-fail PREFIX ADDRESS MAX [reuseaddr=0|1] [range=LO-HI] [proto=tcp|udp]",
	  .args = { NAME_, ADDR_, { .kind = ARG_NUM, .lo = 1, .hi = PREFIX_MAX } },
	  .opts = { FLAG_("reuseaddr"), { .kind = ARG_RANGE, .key = "range" }, FAMILY_OPT_,
		    { .kind = ARG_PROTO, .key = "proto" } } },
	{ .name = "reconnect-loop",
	  .usage = "reconnect-loop NAME LISTENER MAX [bind=LO-HI] [reuseaddr=0|1] [linger=0] [closer=client|server] "
		   "[left=TIME_WAIT|CLOSED]",
	  .args = { NAME_, NAME_, { .kind = ARG_NUM, .lo = 1, .hi = LOOP_MAX } },
	  .opts = { { .kind = ARG_RANGE, .key = "bind" }, FLAG_("reuseaddr"), { .kind = ARG_WORD, .key = "linger", .words = "0" },
		    { .kind = ARG_WORD, .key = "closer", .words = "client server" },
		    { .kind = ARG_STATE, .key = "left", .words = CLOSED_STATES } } },
	{ .name = "close-first", .usage = "close-first NAME TIME_WAIT|FIN_WAIT2|CLOSED [PEER]",
	  .args = { NAME_, { .kind = ARG_STATE, .words = CLOSED_STATES }, { .kind = ARG_NAME, .optional = true } } },
	{ .name = "bind-when-free", .usage = "bind-when-free NAME ADDRESS PORT DEADLINE_MS",
	  .flags = VERB_WAITS_ON_TIMER, .args = { NAME_, ADDR_, PORT0_, MS_ } },
	{ .name = "tw-reuse-delay", .usage = "tw-reuse-delay MILLISECONDS",
	  .args = { { .kind = ARG_NUM, .lo = 1, .hi = 60000 } }, .writes_sysctl = "net.ipv4.tcp_tw_reuse_delay" },
	{ .name = "wait-reuse-delay", .usage = "wait-reuse-delay NAME", .flags = VERB_WAITS_ON_TIMER, .args = { NAME_ } },
	{ .name = "align-reuse-clock", .usage = "align-reuse-clock", .flags = VERB_WAITS_ON_TIMER },
	{ .name = "before-reuse-delay", .usage = "before-reuse-delay NAME", .args = { NAME_ } },
};
const size_t nverb_specs = sizeof(verb_specs) / sizeof(verb_specs[0]);

const struct verb_spec *verb_spec_find(const char *name)
{
	return TABLE_FIND(verb_specs, nverb_specs, name);
}

static size_t npositional(const struct verb_spec *v)
{
	size_t n = 0;
	while (n < VERB_MAX_ARGS && v->args[n].kind != ARG_END)
		n++;
	return n;
}

static size_t noptions(const struct verb_spec *v)
{
	size_t n = 0;
	while (n < VERB_MAX_ARGS && v->opts[n].kind != ARG_END)
		n++;
	return n;
}

void verb_arity(const struct verb_spec *v, int *min, int *max)
{
	size_t n = npositional(v);
	*min = *max = 0;
	for (size_t i = 0; i < n; i++) {
		if (!v->args[i].optional)
			++*min;
		*max += v->args[i].repeat ? v->args[i].repeat : 1;
	}
	*max += (int)noptions(v);
}

static const struct arg_spec *option_spec(const struct verb_spec *v, const char *word)
{
	const char *eq = strchr(word, '=');
	if (!eq)
		return NULL;
	for (size_t i = 0; i < noptions(v); i++)
		if (strlen(v->opts[i].key) == (size_t)(eq - word) && strncmp(v->opts[i].key, word, (size_t)(eq - word)) == 0)
			return &v->opts[i];
	return NULL;
}

/* Words of a step: positional ones first, then KEY=VALUE options (for verbs that take any). */
static bool is_option_word(const struct verb_spec *v, const char *word)
{
	return noptions(v) && strchr(word, '=');
}

const struct arg_spec *verb_arg_spec(const struct verb_spec *v, int argc, char *const argv[], int i)
{
	if (i <= 0 || i >= argc)
		return NULL;
	if (is_option_word(v, argv[i]))
		return option_spec(v, argv[i]);
	size_t pos = 0, n = npositional(v);
	for (int j = 1; j < i; j++)
		if (!is_option_word(v, argv[j]))
			pos++;
	if (n && pos >= n && v->args[n - 1].repeat && pos < n - 1 + (size_t)v->args[n - 1].repeat)
		return &v->args[n - 1];
	return pos < n ? &v->args[pos] : NULL;
}

static int num_in(const char *s, long lo, long hi, long *out)
{
	return parse_long(s, lo, hi, out);
}

static int range_ok(const char *s, long lo_min)
{
	char a[16];
	const char *dash = strchr(s, '-');
	long lo, hi;
	if (!dash || dash == s || (size_t)(dash - s) >= sizeof(a))
		return 0;
	snprintf(a, sizeof(a), "%.*s", (int)(dash - s), s);
	return num_in(a, lo_min, 65535, &lo) == 0 && num_in(dash + 1, lo_min, 65535, &hi) == 0 && lo <= hi;
}

static bool is_address(const char *s)
{
	unsigned char buf[16];
	size_t n = strlen(s);
	if (n > 7 && n < 32 && strcmp(s + n - 7, "-mapped") == 0) {
		/* host-mapped, any-mapped ...: an IPv4 word as ::ffff:a.b.c.d */
		char v4[32];
		snprintf(v4, sizeof(v4), "%.*s", (int)(n - 7), s);
		return words_contain("host host2 peer any unassigned loopback", v4);
	}
	return words_contain("host host2 peer any unassigned loopback", s) || inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

/* Socket options the suite speaks of, and how each VALUE is written. */
static const struct {
	const char *name, *value;
} sockopts[] = {
	{ "SO_REUSEADDR", "a number" }, { "SO_REUSEPORT", "a number" }, { "IP_BIND_ADDRESS_NO_PORT", "a number" },
	{ "IP_FREEBIND", "a number" }, { "IPV6_V6ONLY", "a number" }, { "TCP_LINGER2", "a number" },
	{ "SO_LINGER", "off or seconds (0 to 3600)" }, { "IP_LOCAL_PORT_RANGE", "LO-HI" },
	{ "SO_BINDTODEVICE", "an interface name, or none" },
};

static int optval_ok(const char *opt, const char *val)
{
	if (strcmp(opt, "SO_BINDTODEVICE") == 0)
		return *val && strlen(val) < 16 && !strchr(val, '/');
	if (strcmp(opt, "SO_LINGER") == 0)
		return strcmp(val, "off") == 0 || num_in(val, 0, 3600, NULL) == 0;
	if (strcmp(opt, "IP_LOCAL_PORT_RANGE") == 0) {
		char a[16];
		const char *dash = strchr(val, '-');
		if (!dash || dash == val || (size_t)(dash - val) >= sizeof(a))
			return 0;
		snprintf(a, sizeof(a), "%.*s", (int)(dash - val), val);
		return num_in(a, 0, 65535, NULL) == 0 && num_in(dash + 1, 0, 65535, NULL) == 0;
	}
	return num_in(val, -1, 1 << 30, NULL) == 0;
}

static const char *sockopt_value(const char *opt)
{
	const typeof(sockopts[0]) *o = TABLE_FIND(sockopts, sizeof(sockopts) / sizeof(sockopts[0]), opt);
	return o ? o->value : NULL;
}

static bool has_var(const char *s)
{
	return strchr(s, '{') != NULL;
}

/* err says what was expected instead of w; returns -1. */
static int expected(char *err, size_t errlen, const char *what, const char *w)
{
	snprintf(err, errlen, "expected %s, got '%s'", what, w);
	return -1;
}

/* Checks one word against its kind. prev is the word before it (for ARG_OPTVAL). */
static int arg_ok(const struct arg_spec *a, const char *w, const char *prev, char *err, size_t errlen)
{
	switch (a->kind) {
	case ARG_NAME:
		return *w && strlen(w) < 32 && !strchr(w, '=') ? 0
		       : expected(err, errlen, "a socket name (up to 31 characters, no '=')", w);
	case ARG_PROTO:
		return words_contain("tcp udp", w) ? 0 : expected(err, errlen, "a protocol, tcp or udp", w);
	case ARG_FAMILY:
		return words_contain("inet inet6", w) ? 0 : expected(err, errlen, "a family, inet or inet6", w);
	case ARG_ADDR:
		return is_address(w) ? 0
		       : expected(err, errlen, "an address (host, host2, peer, any, unassigned, loopback, or an "
					       "IPv4 or IPv6 address)", w);
	case ARG_PORT:
	case ARG_NUM:
		if (num_in(w, a->lo, a->hi, NULL) < 0)
			return snprintf(err, errlen, "expected %s from %ld to %ld, got '%s'",
					a->kind == ARG_PORT ? "a port" : "a whole number", a->lo, a->hi, w), -1;
		return 0;
	case ARG_BOOL:
		return words_contain("0 1", w) ? 0 : expected(err, errlen, "0 or 1", w);
	case ARG_WORD:
	case ARG_STATE:
		if (!words_contain(a->words, w))
			return snprintf(err, errlen, "expected %s%s, got '%s'", a->kind == ARG_STATE ? "a TCP state: " : "",
					a->words, w), -1;
		return 0;
	case ARG_OPTION:
		if (!sockopt_value(w)) {
			struct buf b = { 0 };
			for (size_t i = 0; i < sizeof(sockopts) / sizeof(sockopts[0]); i++)
				buf_printf(&b, "%s%s", i ? ", " : "", sockopts[i].name);
			snprintf(err, errlen, "unknown socket option '%s' (expected one of: %s)", w, b.s);
			buf_free(&b);
			return -1;
		}
		return 0;
	case ARG_OPTVAL:
		if (!prev || has_var(prev) || !sockopt_value(prev))
			return 0;  /* the option is checked on its own */
		if (!optval_ok(prev, w))
			return snprintf(err, errlen, "%s takes %s, got '%s'", prev, sockopt_value(prev), w), -1;
		return 0;
	case ARG_RANGE:
		if (!range_ok(w, 1))
			return snprintf(err, errlen, "expected a port range LO-HI (1 <= LO <= HI <= 65535), got '%s'", w), -1;
		return 0;
	case ARG_RANGE_LO:
		if (!range_ok(w, 1) && num_in(w, 1, 65535, NULL) < 0)
			return snprintf(err, errlen, "expected LO-HI or LO HI (1 <= LO <= HI <= 65535), got '%s'", w), -1;
		return 0;
	case ARG_SYSCTL:
		for (const char *c = w; *c; c++)
			if (!(strchr("._-/", *c) || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9')))
				return snprintf(err, errlen, "'%s' is not a sysctl name", w), -1;
		if (!*w || w[0] == '.' || w[0] == '/' || strstr(w, ".."))
			return snprintf(err, errlen, "'%s' is not a sysctl name", w), -1;
		return sysctl_netns_local(w, err, errlen) < 0 ? -1 : 0;
	case ARG_TEXT:
	case ARG_END:
		return 0;
	}
	return 0;
}

int verb_check(const struct verb_spec *v, int argc, char *const argv[], bool literal_only, int *bad,
	       char *err, size_t errlen)
{
	int min, max, npos = 0;
	bool unsure = false;  /* a {var} may still turn into an option: the count is known later */
	char m[400];
	*bad = 0;
	verb_arity(v, &min, &max);
	for (int i = 1; i < argc; i++) {
		if (is_option_word(v, argv[i])) {
			const struct arg_spec *o = option_spec(v, argv[i]);
			*bad = i;
			if (!o) {
				struct buf b = { 0 };
				for (size_t k = 0; k < noptions(v); k++)
					buf_printf(&b, "%s%s=", k ? ", " : "", v->opts[k].key);
				snprintf(err, errlen, "'%s' takes no option '%s' (it takes %s): %s", v->name, argv[i], b.s,
					 v->usage);
				buf_free(&b);
				return -1;
			}
			for (int j = 1; j < i; j++)
				if (is_option_word(v, argv[j]) && option_spec(v, argv[j]) == o) {
					snprintf(err, errlen, "option %s= is given twice", o->key);
					return -1;
				}
			const char *val = strchr(argv[i], '=') + 1;
			if ((!literal_only || !has_var(val)) && arg_ok(o, val, NULL, m, sizeof(m)) < 0) {
				snprintf(err, errlen, "%s=: %s", o->key, m);
				return -1;
			}
			continue;
		}
		if (literal_only && has_var(argv[i]) && noptions(v))
			unsure = true;
		if (unsure)
			continue;
		npos++;
		const struct arg_spec *a = verb_arg_spec(v, argc, argv, i);
		if (!a)
			continue;  /* too many: counted below */
		if (literal_only && has_var(argv[i]))
			continue;
		if (arg_ok(a, argv[i], i > 1 ? argv[i - 1] : NULL, m, sizeof(m)) < 0) {
			*bad = i;
			snprintf(err, errlen, "%s: %s", v->name, m);
			return -1;
		}
	}
	int posmax = max - (int)noptions(v);
	if (!unsure && (npos < min || npos > posmax)) {
		*bad = 0;
		if (min == posmax)
			snprintf(err, errlen, "'%s' takes %d argument%s, got %d: %s", v->name, min, min == 1 ? "" : "s", npos,
				 v->usage);
		else
			snprintf(err, errlen, "'%s' takes %d to %d arguments, got %d: %s", v->name, min, posmax, npos,
				 v->usage);
		return -1;
	}
	return 0;
}

char *verb_names(void)
{
	struct buf b = { 0 };
	for (size_t i = 0; i < nverb_specs; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", verb_specs[i].name);
	return b.s;
}
