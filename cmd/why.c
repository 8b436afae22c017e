/* sockreuse why bind|connect ADDR PORT [...]: the sockets of this namespace that bear on
 * the call, read (sock_diag, /proc, the BPF options iterator); the call replayed with them
 * in throwaway namespaces, as asked and with each remedy; the answer, measured, and the
 * case ids that document the rules involved. It changes nothing on the host. */
#include "cmd/commands.h"
#include "cmd/why.h"
#include "plan/plan.h"
#include "netns/netns.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

enum { WHY_OK = 0, WHY_FAILS = 1, WHY_USAGE = 2, WHY_UNKNOWN = 3 };

#define MAX_ALONE 8      /* socket groups replayed alone */
#define MAX_STOPS 4      /* processes whose stop is tried */
#define MAX_VARIANTS 32
#define TW_LENGTH_MS 60000

static void usage(FILE *f)
{
	fputs("usage: sockreuse why bind ADDR PORT [--reuseaddr] [--reuseport] [--v6only] [--listen] [--udp] [--uid N] [--json]\n"
	      "       sockreuse why connect ADDR PORT [--from ADDR[:PORT]] [--reuseaddr] [--no-port] [--udp] [--json]\n"
	      "       (--replay-case prints the replay as a case file instead of running it)\n"
	      "\n"
	      "Reads the sockets of this network namespace that bear on the call, replays them with the\n"
	      "call in a throwaway namespace, and says what the kernel did and which changes would work.\n"
	      "Exit status: 0 the call would succeed, 1 it would fail, 2 usage or input error, 3 could not tell.\n", f);
}

/* ---- the question ---- */

static int parse_ip(const char *s, int *family, unsigned char *out)
{
	char buf[64];
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']' && n - 2 < sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(n - 2), s + 1);
		s = buf;
	}
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return *family = AF_INET, 0;
	if (inet_pton(AF_INET6, s, out) == 1)
		return *family = AF_INET6, 0;
	return -1;
}

static int parse_port(const char *s, bool zero_ok, unsigned short *port)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < (zero_ok ? 0 : 1) || v > 65535)
		return -1;
	*port = (unsigned short)v;
	return 0;
}

/* ADDR, ADDR:PORT, [V6ADDR]:PORT or a bare IPv6 address. */
static int parse_from(const char *s, struct why_call *c)
{
	char addr[64];
	const char *colon = strrchr(s, ':');
	c->from_port = 0;
	if (parse_ip(s, &c->from_family, c->from) == 0)
		return 0;
	if (!colon || (size_t)(colon - s) >= sizeof(addr))
		return -1;
	snprintf(addr, sizeof(addr), "%.*s", (int)(colon - s), s);
	if (strchr(addr, ':') && addr[0] != '[')
		return -1;  /* an IPv6 address with a port is written [ADDR]:PORT */
	return parse_ip(addr, &c->from_family, c->from) < 0 || parse_port(colon + 1, true, &c->from_port) < 0 ? -1 : 0;
}

static int parse_args(int argc, char **argv, struct why_call *c)
{
	static const struct option longopts[] = {
		{ "reuseaddr", no_argument, NULL, 'a' }, { "reuseport", no_argument, NULL, 'p' },
		{ "v6only", no_argument, NULL, '6' }, { "listen", no_argument, NULL, 'l' },
		{ "udp", no_argument, NULL, 'u' }, { "uid", required_argument, NULL, 'U' },
		{ "json", no_argument, NULL, 'j' }, { "from", required_argument, NULL, 'f' },
		{ "no-port", no_argument, NULL, 'n' }, { "replay-case", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;
	char *end;
	const char *from = NULL;
	memset(c, 0, sizeof(*c));
	c->proto = IPPROTO_TCP;
	c->uid = (long)geteuid();
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (o) {
		case 'a': c->reuseaddr = true; break;
		case 'p': c->reuseport = true; break;
		case '6': c->v6only = true; break;
		case 'l': c->listen = true; break;
		case 'u': c->proto = IPPROTO_UDP; break;
		case 'j': c->json = true; break;
		case 'n': c->no_port = true; break;
		case 'r': c->show_case = true; break;
		case 'f': from = optarg; break;
		case 'U':
			c->uid = strtol(optarg, &end, 10);
			if (!*optarg || *end || c->uid < 0 || c->uid > 65535) {
				fprintf(stderr, "sockreuse why: --uid takes a number from 0 to 65535, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (argc - optind != 3) {
		usage(stderr);
		return -1;
	}
	const char *op = argv[optind], *addr = argv[optind + 1], *port = argv[optind + 2];
	if (strcmp(op, "bind") == 0)
		c->op = WHY_BIND;
	else if (strcmp(op, "connect") == 0)
		c->op = WHY_CONNECT;
	else {
		fprintf(stderr, "sockreuse why: expected bind or connect, got '%s'\n", op);
		return -1;
	}
	if (parse_ip(addr, &c->family, c->addr) < 0) {
		fprintf(stderr, "sockreuse why: '%s' is not an IPv4 or IPv6 address\n", addr);
		return -1;
	}
	if (parse_port(port, c->op == WHY_BIND, &c->port) < 0) {
		fprintf(stderr, "sockreuse why: '%s' is not a port (%s65535)\n", port, c->op == WHY_BIND ? "0 to " : "1 to ");
		return -1;
	}
	const char *bad = c->op == WHY_BIND ? (from ? "--from" : c->no_port ? "--no-port" : NULL)
		: c->reuseport ? "--reuseport" : c->v6only ? "--v6only" : c->listen ? "--listen" : NULL;
	if (bad) {
		fprintf(stderr, "sockreuse why: %s does not apply to %s\n", bad, op);
		return -1;
	}
	if (c->v6only && c->family != AF_INET6) {
		fprintf(stderr, "sockreuse why: --v6only needs an IPv6 address\n");
		return -1;
	}
	if (from) {
		if (parse_from(from, c) < 0) {
			fprintf(stderr, "sockreuse why: --from takes ADDR, ADDR:PORT or [ADDR]:PORT, got '%s'\n", from);
			return -1;
		}
		if (c->from_family != c->family) {
			fprintf(stderr, "sockreuse why: --from %s is not of the family of %s\n", from, addr);
			return -1;
		}
		c->has_from = true;
	}
	if (c->op == WHY_CONNECT && c->proto == IPPROTO_UDP && !(c->has_from && c->from_port)) {
		fprintf(stderr, "sockreuse why: connect --udp is answered for a given local port only (--from ADDR:PORT)\n");
		return -1;
	}
	return 0;
}

/* ---- the host's settings (read only) ---- */

static void read_host(struct why_host *h)
{
	char v[256];
	h->range_lo = 32768;
	h->range_hi = 60999;
	if (sysctl_read("net.ipv4.ip_local_port_range", v, sizeof(v), NULL, 0) == 0)
		sscanf(v, "%ld %ld", &h->range_lo, &h->range_hi);
	h->tw_reuse = 2;
	if (sysctl_read("net.ipv4.tcp_tw_reuse", v, sizeof(v), NULL, 0) == 0)
		h->tw_reuse = atoi(v);
	h->tw_reuse_delay_ms = 1000;
	if (sysctl_read("net.ipv4.tcp_tw_reuse_delay", v, sizeof(v), NULL, 0) == 0)
		h->tw_reuse_delay_ms = atol(v) > 1000 ? atol(v) : 1000;
	snprintf(h->unpriv_start, sizeof(h->unpriv_start), "1024");
	if (sysctl_read("net.ipv4.ip_unprivileged_port_start", v, sizeof(v), NULL, 0) == 0)
		snprintf(h->unpriv_start, sizeof(h->unpriv_start), "%.15s", v);
	snprintf(h->bindv6only, sizeof(h->bindv6only), "0");
	if (sysctl_read("net.ipv6.bindv6only", v, sizeof(v), NULL, 0) == 0)
		snprintf(h->bindv6only, sizeof(h->bindv6only), "%.7s", v);
}

/* "1000-1005,2000": is port reserved? */
static bool port_reserved(const char *list, long port)
{
	for (const char *p = list; p && *p;) {
		long a, b;
		int n = 0;
		if (sscanf(p, "%ld-%ld%n", &a, &b, &n) == 2 || (sscanf(p, "%ld%n", &a, &n) == 1 && (b = a, 1))) {
			if (port >= a && port <= b)
				return true;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/* ---- which sockets bear on the call ---- */

/* An address as IPv4 when it is v4-mapped, so that the two spellings compare equal. */
static void norm(int family, const unsigned char *a, int *nf, unsigned char *out)
{
	static const unsigned char pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	memset(out, 0, 16);
	if (family == AF_INET6 && memcmp(a, pre, 12) == 0) {
		*nf = AF_INET;
		memcpy(out, a + 12, 4);
	} else {
		*nf = family;
		memcpy(out, a, family == AF_INET ? 4 : 16);
	}
}

static bool toward(const struct seen_sock *s, const struct why_call *c)
{
	int f1, f2;
	unsigned char a1[16], a2[16];
	if (s->proto != c->proto || s->rport != c->port || s->state == TCP_LISTEN)
		return false;
	norm(s->family, s->raddr, &f1, a1);
	norm(c->family, c->addr, &f2, a2);
	return f1 == f2 && memcmp(a1, a2, 16) == 0;
}

static bool is_tw(const struct seen_sock *s)
{
	return s->proto == IPPROTO_TCP && (s->state == TCP_TIME_WAIT || (s->state == TCP_FIN_WAIT2 && !s->inode));
}

static bool bears(const struct seen_sock *s, void *arg)
{
	const struct why_call *c = arg;
	if (s->proto != c->proto)
		return false;
	if (c->op == WHY_BIND)
		return s->lport == c->port;
	if (c->has_from && c->from_port)
		return s->lport == c->from_port;
	return toward(s, c);
}

/* Sockets alike for the call sort together. */
static int group_key_cmp(const struct seen_sock *a, const struct seen_sock *b)
{
	int d;
	if ((d = a->proto - b->proto) || (d = (a->state == TCP_LISTEN) - (b->state == TCP_LISTEN)) ||
	    (d = is_tw(a) - is_tw(b)) || (d = a->state - b->state) || (d = a->family - b->family) ||
	    (d = memcmp(a->laddr, b->laddr, 16)) || (d = a->reuseaddr - b->reuseaddr) ||
	    (d = a->reuseport - b->reuseport) || (d = a->v6only - b->v6only) || (d = (int)(a->uid - b->uid)) ||
	    (d = a->pid - b->pid))
		return d;
	return 0;
}

static int sort_cmp(const void *x, const void *y)
{
	const struct seen_sock *a = *(const struct seen_sock *const *)x, *b = *(const struct seen_sock *const *)y;
	int d = group_key_cmp(a, b);
	return d ? -d : (int)a->rport - (int)b->rport;  /* listeners first */
}

static void select_sockets(const struct observation *o, const struct why_call *c, const struct why_host *h,
			   struct why_selection *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->v = xcalloc(o->n ? o->n : 1, sizeof(*sel->v));
	sel->oldest_tw_age_ms = -1;
	for (size_t i = 0; i < o->n; i++)
		if (bears(&o->v[i], (void *)c))
			sel->v[sel->n++] = &o->v[i];
	qsort(sel->v, sel->n, sizeof(*sel->v), sort_cmp);
	sel->groups = xcalloc(sel->n ? sel->n : 1, sizeof(*sel->groups));
	for (size_t i = 0; i < sel->n; i++) {
		if (!i || group_key_cmp(sel->v[i], sel->v[i - 1]))
			sel->groups[sel->ngroups++] = (struct why_group){ i, 0 };
		sel->groups[sel->ngroups - 1].count++;
	}
	int nf;
	unsigned char na[16];
	norm(c->family, c->addr, &nf, na);
	sel->remote_loopback = nf == AF_INET ? na[0] == 127 : memcmp(na, &in6addr_loopback, 16) == 0;
	if (c->op != WHY_CONNECT || c->from_port)
		return;
	/* How the ephemeral range is held, port by port: the most binding use of a port counts. */
	enum { FREE, OTHER, TW, BOUND, EST };
	long lo = h->range_lo, hi = h->range_hi;
	unsigned char *kind = xcalloc(65536, 1);
	char reserved[4096] = "";
	sysctl_read("net.ipv4.ip_local_reserved_ports", reserved, sizeof(reserved), NULL, 0);
	for (size_t i = 0; i < o->n; i++) {
		const struct seen_sock *s = &o->v[i];
		if (s->proto != IPPROTO_TCP || s->lport < lo || s->lport > hi)
			continue;
		int k = toward(s, c) ? (is_tw(s) ? TW : EST) : s->state == TCP_LISTEN || s->state == TCP_CLOSE ? BOUND : OTHER;
		if (k == TW && s->timer_ms >= 0 && TW_LENGTH_MS - s->timer_ms > sel->oldest_tw_age_ms)
			sel->oldest_tw_age_ms = TW_LENGTH_MS - s->timer_ms;
		if (k > kind[s->lport])
			kind[s->lport] = (unsigned char)k;
	}
	for (long p = lo; p <= hi; p++) {
		int k = reserved[0] && port_reserved(reserved, p) ? BOUND : kind[p];
		long *n[] = { &sel->free_ports, &sel->held_other, &sel->held_time_wait, &sel->held_bound,
			      &sel->held_established };
		(*n[k])++;
	}
	free(kind);
}

/* ---- the variants ---- */

static struct why_variant *add_variant(struct why_variant *v, size_t *n, enum why_change ch, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct why_variant *add_variant(struct why_variant *v, size_t *n, enum why_change ch, const char *fmt, ...)
{
	if (*n == MAX_VARIANTS)
		return NULL;
	struct why_variant *x = &v[(*n)++];
	memset(x, 0, sizeof(*x));
	x->change = ch;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->label, sizeof(x->label), fmt, ap);
	va_end(ap);
	return x;
}

static bool options_unseen(const struct why_selection *sel)
{
	for (size_t i = 0; i < sel->n; i++)
		if (sel->v[i]->reuseaddr < 0 || sel->v[i]->reuseport < 0)
			return true;
	return false;
}

/* How long until the last timewait socket of the selection expires, from its timer. */
static double tw_left_s(const struct why_selection *sel)
{
	long left = 0;
	for (size_t i = 0; i < sel->n; i++)
		if (is_tw(sel->v[i]) && sel->v[i]->timer_ms > left)
			left = sel->v[i]->timer_ms;
	return (double)left / 1000.0 + 0.5;
}

static size_t plan_variants(const struct why_call *c, const struct why_host *h, const struct why_selection *sel,
			    struct why_variant *v, size_t *n_as_is)
{
	size_t n = 0;
	/* Options nobody could see: the call as asked, once for each thing they could be. */
	int possibilities = options_unseen(sel) ? 4 : 1;
	for (int u = 0; u < possibilities; u++) {
		struct why_variant *x = add_variant(v, &n, CHANGE_NONE, "as asked");
		x->unseen = u;
		if (possibilities > 1)
			snprintf(x->label, sizeof(x->label), "as asked, if the sockets had SO_REUSEADDR %s and SO_REUSEPORT %s",
				 u & 1 ? "on" : "off", u & 2 ? "on" : "off");
	}
	*n_as_is = n;
	bool any_tw = false;
	for (size_t i = 0; i < sel->n; i++)
		any_tw |= is_tw(sel->v[i]);
	if (c->op == WHY_BIND || c->from_port) {
		if (sel->ngroups > 1)
			for (size_t g = 0; g < sel->ngroups && g < MAX_ALONE; g++) {
				struct why_variant *x = add_variant(v, &n, CHANGE_ALONE, "only group %zu", g);
				if (x)
					x->group = g;
			}
		if (!c->reuseaddr)
			add_variant(v, &n, CHANGE_REUSEADDR, "SO_REUSEADDR on the new socket");
		if (any_tw)
			add_variant(v, &n, CHANGE_WAIT, "wait %.0f s for the TIME_WAIT sockets to expire", tw_left_s(sel));
		int stops = 0;
		for (size_t i = 0; i < sel->n && stops < MAX_STOPS; i++) {
			int pid = sel->v[i]->pid;
			bool dup = pid < 0;
			for (size_t k = 0; k < n && !dup; k++)
				dup = v[k].change == CHANGE_STOP && v[k].pid == pid;
			if (dup)
				continue;
			struct why_variant *x = add_variant(v, &n, CHANGE_STOP, "stop pid %d (%s)", pid, sel->v[i]->command);
			if (x)
				x->pid = pid, stops++;
		}
		if (c->op == WHY_BIND)
			add_variant(v, &n, CHANGE_OTHER_ADDR, "bind another local address that no socket here uses");
	}
	if (c->op == WHY_CONNECT && !c->from_port) {
		add_variant(v, &n, CHANGE_WIDEN, "widen net.ipv4.ip_local_port_range");
		if (c->has_from && !c->no_port)
			add_variant(v, &n, CHANGE_NO_PORT, "IP_BIND_ADDRESS_NO_PORT before bind()");
		if (any_tw && h->tw_reuse != 1)
			add_variant(v, &n, CHANGE_TW_REUSE, "net.ipv4.tcp_tw_reuse=1 (it takes TIME_WAIT sockets a second old)");
		if (any_tw)
			add_variant(v, &n, CHANGE_WAIT, "wait %.0f s for the TIME_WAIT sockets to expire", tw_left_s(sel));
		add_variant(v, &n, CHANGE_OTHER_SRC, "bind another source address before connect()");
	}
	if (c->op == WHY_CONNECT && c->from_port)
		add_variant(v, &n, CHANGE_OTHER_SRC, "let the kernel choose the source port, from another address");
	return n;
}

/* ---- case ids ---- */

/* The first case whose params hold every "key=value" of want; NULL when none. */
static const char *find_case(const struct plan *p, const char *number, const char *const *want, size_t n)
{
	for (size_t i = 0; p && i < p->ncases; i++) {
		if (number && strncmp(p->cases[i].id, number, 4) != 0)
			continue;
		size_t k = 0;
		for (; k < n; k++) {
			const char *eq = strchr(want[k], '=');
			char key[64];
			snprintf(key, sizeof(key), "%.*s", (int)(eq - want[k]), want[k]);
			const char *val = kv_get(&p->cases[i].params, key);
			if (!val || strcmp(val, eq + 1) != 0)
				break;
		}
		if (k == n)
			return p->cases[i].id;
	}
	return NULL;
}

static const char *addr_relation(const struct seen_sock *s, const struct why_call *c)
{
	static const unsigned char zero[16];
	bool ow = memcmp(s->laddr, zero, s->family == AF_INET ? 4 : 16) == 0;
	bool nw = memcmp(c->addr, zero, c->family == AF_INET ? 4 : 16) == 0;
	if (ow && nw)
		return "both_wild";
	if (ow)
		return "old_wild";
	if (nw)
		return "new_wild";
	return memcmp(s->laddr, c->addr, 16) == 0 ? "same" : "different";
}

/* The case that documents the rule between socket s and the call; NULL when none does. */
static const char *case_for(const struct plan *p, const struct seen_sock *s, const struct why_call *c)
{
	char op[32], state[48], oa[32], na[32], op_[32], np[32], addr[48], fam[32];
	const char *st = is_tw(s) ? "TIME_WAIT" : s->state == 12 ? "SYN_RECV" : seen_state_name(s);
	snprintf(op, sizeof(op), "op=%s", c->listen ? "listen" : "bind");
	snprintf(state, sizeof(state), "state=%s", st);
	snprintf(oa, sizeof(oa), "old_reuseaddr=%d", s->reuseaddr > 0);
	snprintf(na, sizeof(na), "new_reuseaddr=%d", c->reuseaddr);
	snprintf(op_, sizeof(op_), "old_reuseport=%d", s->reuseport > 0);
	snprintf(np, sizeof(np), "new_reuseport=%d", c->reuseport);
	snprintf(addr, sizeof(addr), "addr=%s", addr_relation(s, c));
	snprintf(fam, sizeof(fam), "family=%s", s->family == AF_INET6 ? "inet6" : "inet");
	if (s->proto == IPPROTO_UDP) {
		const char *udp[] = { oa, na, op_, np, addr, fam };
		return find_case(p, "0610", udp, 6);
	}
	if (s->family != c->family) {
		const char *dual[] = { "family=dual", op };
		return find_case(p, NULL, dual, 2);
	}
	if (s->reuseport > 0 || c->reuseport) {
		const char *rp[] = { op, state, op_, np, fam };
		return find_case(p, "0102", rp, 5);
	}
	const char *ra[] = { op, state, oa, na, addr, fam };
	const char *id = find_case(p, "0101", ra, 6);
	return id ? id : find_case(p, "0101", ra, 5);
}

/* The case files whose ids an answer names: the rules of bind() conflicts, dual stack,
 * UDP, exhaustion, IP_BIND_ADDRESS_NO_PORT, tcp_tw_reuse. Only these are read: loading the
 * whole suite would cost more than the replay. Returns how many instances were loaded. */
static size_t load_rule_cases(const char *dir, struct plan *p)
{
	static const char *const numbers[] = { "0101", "0102", "0401", "0406", "0501", "0601", "0602", "0610" };
	size_t n = sizeof(numbers) / sizeof(numbers[0]);
	DIR *d = opendir(dir);
	struct dirent *de;
	memset(p, 0, sizeof(*p));
	if (!d)
		return 0;
	p->files = xcalloc(n, sizeof(*p->files));
	while ((de = readdir(d)) && p->nfiles < n) {
		size_t len = strlen(de->d_name);
		bool wanted = false;
		for (size_t i = 0; i < n; i++)
			wanted |= strncmp(de->d_name, numbers[i], 4) == 0 && de->d_name[4] == '-';
		if (!wanted || len < 5 || strcmp(de->d_name + len - 5, ".case") != 0)
			continue;
		char err[512], *path = xasprintf("%s/%s", dir, de->d_name);
		struct case_file *cf = &p->files[p->nfiles];
		if (casefile_load(path, cf, err, sizeof(err)) == 0) {
			p->nfiles++;
			size_t before = p->ncases;
			if (plan_expand(p, cf, err, sizeof(err)) < 0)
				p->ncases = before;
		}
		free(path);
	}
	closedir(d);
	return p->ncases;
}

/* ---- the answer ---- */

struct answer {
	const char *outcome;      /* "ok", an errno name, or NULL: could not tell */
	char why_unknown[512];
	json_t *cases;            /* ids, each once */
};

static void add_case(struct answer *a, const char *id)
{
	if (!id)
		return;
	size_t i;
	json_t *x;
	json_array_foreach(a->cases, i, x)
		if (strcmp(json_string_value(x), id) == 0)
			return;
	json_array_append_new(a->cases, json_string(id));
}

static void call_text(const struct why_call *c, struct buf *b)
{
	char a[80], from[80];
	seen_addr_str(c->family, c->addr, c->port, a, sizeof(a));
	buf_printf(b, "%s%s(%s)", c->proto == IPPROTO_UDP ? "UDP " : "", c->op == WHY_BIND ? (c->listen ? "bind+listen" : "bind")
		   : "connect", a);
	if (c->has_from) {
		seen_addr_str(c->from_family, c->from, c->from_port, from, sizeof(from));
		buf_printf(b, " from %s", from);
	}
	const char *opts[4];
	int n = 0;
	if (c->reuseaddr)
		opts[n++] = "SO_REUSEADDR";
	if (c->reuseport)
		opts[n++] = "SO_REUSEPORT";
	if (c->v6only)
		opts[n++] = "IPV6_V6ONLY";
	if (c->no_port)
		opts[n++] = "IP_BIND_ADDRESS_NO_PORT";
	for (int i = 0; i < n; i++)
		buf_printf(b, "%s%s", i ? ", " : " with ", opts[i]);
}

static const char *flag_word(int v)
{
	return v < 0 ? "unseen" : v ? "on" : "off";
}

static json_t *flag_json(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

static json_t *socket_json(const struct seen_sock *s)
{
	char l[80], r[80];
	seen_addr_str(s->family, s->laddr, s->lport, l, sizeof(l));
	seen_addr_str(s->family, s->raddr, s->rport, r, sizeof(r));
	bool connected = s->rport != 0;
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "proto",
			 s->proto == IPPROTO_UDP ? "udp" : "tcp", "state", seen_state_name(s), "local", l, "remote",
			 connected ? json_string(r) : json_null(), "reuseaddr", flag_json(s->reuseaddr), "reuseport",
			 flag_json(s->reuseport), "v6only", s->family == AF_INET ? json_false() : flag_json(s->v6only),
			 "uid", s->uid < 0 ? json_null() : json_integer(s->uid), "pid",
			 s->pid < 0 ? json_null() : json_integer(s->pid), "command",
			 s->pid < 0 ? json_null() : json_string(s->command), "timer_ms",
			 s->timer_ms < 0 ? json_null() : json_integer(s->timer_ms));
}

static void print_socket_line(const struct seen_sock *s, size_t more, const char *verdict, const char *id)
{
	char l[80], r[80];
	seen_addr_str(s->family, s->laddr, s->lport, l, sizeof(l));
	printf("  %s %s", seen_state_name(s), l);
	if (s->rport) {
		seen_addr_str(s->family, s->raddr, s->rport, r, sizeof(r));
		printf(" → %s", r);
	}
	if (more)
		printf(" and %zu more like it", more);
	if (s->pid >= 0)
		printf(" — pid %d (%s)", s->pid, s->command);
	else if (s->inode)
		printf(" — owner unseen");
	if (s->timer_ms >= 0)
		printf(", %.0f s left", (double)s->timer_ms / 1000.0);
	printf(", SO_REUSEADDR %s", flag_word(s->reuseaddr));
	if (s->reuseport != 0)
		printf(", SO_REUSEPORT %s", flag_word(s->reuseport));
	if (s->family == AF_INET6)
		printf(", IPV6_V6ONLY %s", flag_word(s->v6only));
	if (s->uid >= 0)
		printf(", uid %ld", s->uid);
	if (s->ifindex)
		printf(", bound to device %d (not replayed)", s->ifindex);
	printf(": %s", verdict);
	if (id)
		printf(" (%s)", id);
	printf(".\n");
}

static const char *verdict_of(const struct why_variant *v)
{
	if (!v)
		return NULL;
	if (!v->outcome[0])
		return "the replay could not tell";
	return strcmp(v->outcome, "ok") == 0 ? "alone it would not block you" : "alone it blocks you";
}

static int answer(const struct why_call *c, const struct why_host *h, const struct observation *o,
		  const struct why_selection *sel, struct why_variant *v, size_t nv, size_t n_as_is,
		  const struct plan *cases)
{
	struct answer a = { .cases = json_array() };
	struct buf call = { 0 }, scale_note = { 0 };
	call_text(c, &call);
	/* The call as asked: one outcome, or one per possibility of what could not be seen. */
	a.outcome = v[0].outcome[0] ? v[0].outcome : NULL;
	if (!a.outcome)
		snprintf(a.why_unknown, sizeof(a.why_unknown), "the replay could not rebuild the sockets: %.400s", v[0].detail);
	for (size_t i = 1; i < n_as_is && a.outcome; i++)
		if (strcmp(v[i].outcome, a.outcome) != 0) {
			a.outcome = NULL;
			snprintf(a.why_unknown, sizeof(a.why_unknown), "the answer depends on options that could not be seen (%s)",
				 o->options_why);
		}
	bool ok = a.outcome && strcmp(a.outcome, "ok") == 0;
	if (c->op == WHY_CONNECT && !c->from_port)
		why_scale_note(h, sel, &scale_note);
	/* Which socket groups decide it, and the cases that document the rule. */
	for (size_t g = 0; g < sel->ngroups && c->op == WHY_BIND; g++)
		if (sel->ngroups == 1 || g >= MAX_ALONE || (v[n_as_is + g].outcome[0] && strcmp(v[n_as_is + g].outcome, "ok")))
			add_case(&a, case_for(cases, sel->v[sel->groups[g].first], c));
	if (c->op == WHY_CONNECT && !c->from_port && !ok) {
		const char *ex[] = { "op=connect", sel->held_time_wait ? "hold=time_wait" : "hold=open", "attempt=beyond" };
		add_case(&a, find_case(cases, "0401", ex, 3));
		for (size_t i = 0; i < nv; i++) {
			const char *np[] = { "no_port=1" }, *tw[] = { "tw_reuse=1", "delay=after" };
			if (v[i].change == CHANGE_NO_PORT)
				add_case(&a, find_case(cases, "0406", np, 1));
			if (v[i].change == CHANGE_TW_REUSE)
				add_case(&a, find_case(cases, "0501", tw, 2));
		}
	}
	int rc = !a.outcome ? WHY_UNKNOWN : ok ? WHY_OK : WHY_FAILS;
	if (c->json) {
		json_t *socks = json_array(), *rem = json_array(), *unseen = json_array();
		for (size_t i = 0; i < sel->n; i++)
			json_array_append_new(socks, socket_json(sel->v[i]));
		for (size_t i = n_as_is; i < nv && !ok; i++)
			if (v[i].change != CHANGE_ALONE)
				json_array_append_new(rem, json_pack("{s:s, s:o, s:o}", "change", v[i].label, "outcome",
								     v[i].outcome[0] ? json_string(v[i].outcome) : json_null(),
								     "not_replayed", v[i].outcome[0] ? json_null() : json_string(v[i].detail)));
		if (!o->options_seen && sel->n)
			json_array_append_new(unseen, json_string(o->options_why));
		if (!o->owners_all_seen)
			json_array_append_new(unseen, json_string(o->owners_why));
		json_t *root = json_pack("{s:s, s:s, s:o, s:b, s:o, s:o, s:o, s:o}", "op", c->op == WHY_BIND ? "bind" : "connect",
					 "call", call.s, "outcome", a.outcome ? json_string(a.outcome) : json_null(),
					 "measured", a.outcome != NULL, "sockets", socks, "cases", a.cases, "remedies", rem,
					 "unseen", unseen);
		if (!a.outcome)
			json_object_set_new(root, "why_unknown", json_string(a.why_unknown));
		if (scale_note.s)
			json_object_set_new(root, "replay", json_string(scale_note.s));
		char *s = json_dumps(root, JSON_INDENT(2));
		puts(s);
		free(s);
		json_decref(root);
	} else {
		if (a.outcome && ok)
			printf("%s would succeed (measured).\n", call.s);
		else if (a.outcome)
			printf("%s would fail: %s (measured).\n", call.s, a.outcome);
		else
			printf("%s: could not tell: %s.\n", call.s, a.why_unknown);
		if (scale_note.s)
			printf("  The range was %s.\n", scale_note.s);
		for (size_t i = 1; i < n_as_is && !a.outcome; i++)
			printf("  %s: %s\n", v[i].label, v[i].outcome[0] ? v[i].outcome : "?");
		if (!a.outcome && n_as_is > 1)
			printf("  %s: %s\n", v[0].label, v[0].outcome[0] ? v[0].outcome : "?");
		if (c->op == WHY_CONNECT && !c->from_port) {
			long tw = 0, est = 0;
			for (size_t i = 0; i < sel->n; i++)
				is_tw(sel->v[i]) ? tw++ : est++;
			printf("  %zu connections toward it: %ld open, %ld in TIME_WAIT.\n", sel->n, est, tw);
		}
		for (size_t g = 0; g < sel->ngroups && (c->op != WHY_CONNECT || c->from_port); g++) {
			const struct why_variant *alone = sel->ngroups == 1 ? &v[0] : g < MAX_ALONE ? &v[n_as_is + g] : NULL;
			const char *id = case_for(cases, sel->v[sel->groups[g].first], c);
			print_socket_line(sel->v[sel->groups[g].first], sel->groups[g].count - 1,
					  verdict_of(alone) ? verdict_of(alone) : "not replayed alone", id);
		}
		if (!sel->n)
			printf("  No socket here holds the port.\n");
		if (!ok) {
			struct buf yes = { 0 }, no = { 0 };
			for (size_t i = n_as_is; i < nv; i++) {
				if (v[i].change == CHANGE_ALONE)
					continue;
				struct buf *b = strcmp(v[i].outcome, "ok") == 0 ? &yes : &no;
				buf_printf(b, "%s%s", b->len ? "; " : "", v[i].label);
				if (b == &no)
					buf_printf(b, " (%s)", v[i].outcome[0] ? v[i].outcome : "not replayed");
			}
			printf("Would work: %s.\n", yes.s ? yes.s : "none of the changes tried");
			if (no.s)
				printf("Would not work: %s.\n", no.s);
			buf_free(&yes);
			buf_free(&no);
		}
		if (json_array_size(a.cases)) {
			printf("Cases:");
			size_t i;
			json_t *x;
			json_array_foreach(a.cases, i, x)
				printf(" %s", json_string_value(x));
			printf(" (sockreuse describe ID)\n");
		}
		if (!o->options_seen && sel->n)
			printf("Not seen: SO_REUSEADDR and SO_REUSEPORT: %s; every possibility was replayed.\n", o->options_why);
		if (!o->owners_all_seen)
			printf("Not seen: owners: %s.\n", o->owners_why);
		json_decref(a.cases);
	}
	buf_free(&call);
	buf_free(&scale_note);
	return rc;
}

int cmd_why(int argc, char **argv)
{
	struct why_call c;
	struct why_host h;
	struct observation o = { 0 };
	struct why_selection sel;
	struct why_variant v[MAX_VARIANTS];
	char err[512], dir[4096];
	size_t n_as_is;
	if (parse_args(argc, argv, &c) < 0)
		return WHY_USAGE;
	read_host(&h);
	if (observe_sockets(&o, c.proto, err, sizeof(err)) < 0) {
		fprintf(stderr, "sockreuse why: cannot read the sockets: %s\n", err);
		return WHY_UNKNOWN;
	}
	observe_owners(&o, bears, &c);
	select_sockets(&o, &c, &h, &sel);
	size_t nv = plan_variants(&c, &h, &sel, v, &n_as_is);
	if (c.show_case) {
		/* The replay of the call as asked, as a case file: to read, or to keep in cases/. */
		char *text = why_case_text(&c, &h, &sel, &v[0], 9000, err, sizeof(err));
		if (text)
			fputs(text, stdout);
		else
			fprintf(stderr, "sockreuse why: %s\n", err);
		free(text);
		free(sel.v);
		free(sel.groups);
		observe_free(&o);
		return text ? WHY_OK : WHY_UNKNOWN;
	}
	/* The plan of the suite's own cases, for the ids; without it the answer stands alone. */
	struct plan cases = { 0 };
	bool have_cases = load_rule_cases(default_cases_dir(dir, sizeof(dir)), &cases) > 0;
	int rc;
	if (why_replay(&c, &h, &sel, v, nv, err, sizeof(err)) < 0) {
		fprintf(stderr, "sockreuse why: %s\n", err);
		rc = WHY_UNKNOWN;
	} else {
		rc = answer(&c, &h, &o, &sel, v, nv, n_as_is, have_cases ? &cases : NULL);
	}
	if (have_cases)
		plan_free(&cases);
	free(sel.v);
	free(sel.groups);
	observe_free(&o);
	return rc;
}
