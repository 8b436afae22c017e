/* The replay of a `why` question, written as a case in the suite's own language and run
 * by the suite's scheduler: each variant is one case, in its own throwaway namespace, its
 * sockets rebuilt with the step verbs and state drivers (occupy, close-first, wait-state,
 * connect-until-fail, reconnect-loop ...), the user's call its test block.
 *
 * Addresses are mapped one to one onto addresses the loopback topology has: wildcards and
 * loopback addresses stay what they are; any other IPv4 address becomes 127.1.0.N (all of
 * 127/8 is local on lo) and one other IPv6 address becomes host2. Which addresses are
 * equal, wildcard or v4-mapped is all that bind() and connect() compare, and a one-to-one
 * mapping keeps it. */
#include "cmd/why.h"
#include "cmd/runinfo.h"
#include "plan/plan.h"
#include "sched/sched.h"
#include "netns/netns.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#define MAX_MAPPED 64
#define REPLAY_NUMBER 9000
/* Ports of the scaled range: enough for each kind of port to be present, few enough for
 * the held sockets to fit a case's socket slots. */
#define SCALED_PORTS 40
#define SCALED_BASE 40000
/* Where the replay puts "other remotes" of connections that are not toward the remote asked about. */
#define OTHER_REMOTE "127.1.255.1"
#define OTHER_REMOTE_PORT 9
#define FRESH_ADDR4 "127.1.255.2"
#define REPLAY_PER_GROUP 3
#define TW_LENGTH_MS 60000  /* TCP_TIMEWAIT_LEN */

struct addrmap {
	struct { int family; unsigned char a[16]; char text[48]; } v[MAX_MAPPED];
	size_t n, next4;
	bool host2_used;
	bool failed;
	char why[200];
};

static bool is_any(int family, const unsigned char *a)
{
	static const unsigned char zero[16];
	return memcmp(a, zero, family == AF_INET ? 4 : 16) == 0;
}

static bool is_mapped(const unsigned char *a)
{
	static const unsigned char pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(a, pre, 12) == 0;
}

static const char *map4(struct addrmap *m, const unsigned char *a, char *out, size_t len)
{
	if (a[0] == 127 || is_any(AF_INET, a)) {
		inet_ntop(AF_INET, a, out, (socklen_t)len);
		return out;
	}
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].family == AF_INET && memcmp(m->v[i].a, a, 4) == 0)
			return snprintf(out, len, "%s", m->v[i].text), out;
	if (m->n == MAX_MAPPED) {
		m->failed = true;
		snprintf(m->why, sizeof(m->why), "more than %d distinct addresses", MAX_MAPPED);
		return "0.0.0.0";
	}
	m->v[m->n].family = AF_INET;
	memcpy(m->v[m->n].a, a, 4);
	snprintf(m->v[m->n].text, sizeof(m->v[m->n].text), "127.1.0.%zu", ++m->next4);
	snprintf(out, len, "%s", m->v[m->n].text);
	m->n++;
	return out;
}

/* The replay's word or literal for an address. */
static const char *map_addr(struct addrmap *m, int family, const unsigned char *a, char *out, size_t len)
{
	if (family == AF_INET)
		return map4(m, a, out, len);
	if (is_any(AF_INET6, a))
		return snprintf(out, len, "::"), out;
	if (is_mapped(a)) {
		char v4[32];
		map4(m, a + 12, v4, sizeof(v4));
		return snprintf(out, len, "::ffff:%s", v4), out;
	}
	if (memcmp(a, &in6addr_loopback, 16) == 0)
		return snprintf(out, len, "::1"), out;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].family == AF_INET6 && memcmp(m->v[i].a, a, 16) == 0)
			return snprintf(out, len, "%s", m->v[i].text), out;
	if (m->host2_used || m->n == MAX_MAPPED) {
		m->failed = true;
		snprintf(m->why, sizeof(m->why), "more than one IPv6 address other than :: and ::1");
		return "::";
	}
	m->host2_used = true;
	m->v[m->n].family = AF_INET6;
	memcpy(m->v[m->n].a, a, 16);
	snprintf(m->v[m->n].text, sizeof(m->v[m->n].text), "host2");
	m->n++;
	return snprintf(out, len, "host2"), out;
}

static const char *fam_word(int family)
{
	return family == AF_INET6 ? "inet6" : "inet";
}

static int opt_of(int seen, int bit, int assumed)
{
	return seen >= 0 ? seen : (assumed >> bit) & 1;
}

/* Does variant v keep socket s, and in which state? Returns the state, or -1 to leave it out. */
static int kept_state(const struct why_variant *v, const struct why_selection *sel, size_t i)
{
	const struct seen_sock *s = sel->v[i];
	bool tw = s->proto == IPPROTO_TCP && (s->state == TCP_TIME_WAIT || (s->state == TCP_FIN_WAIT2 && !s->inode));
	if (v->change == CHANGE_ALONE) {
		const struct why_group *g = &sel->groups[v->group];
		if (i < g->first || i >= g->first + g->count)
			return -1;
	}
	if (v->change == CHANGE_WAIT && tw)
		return -1;
	if (v->change == CHANGE_STOP && s->pid == v->pid) {
		/* The process's close(): listeners and bound sockets go; a connection it closes first
		 * waits in TIME_WAIT; one whose peer closed already (CLOSE_WAIT) ends in LAST_ACK and
		 * is gone once acknowledged. */
		if (s->proto == IPPROTO_UDP || s->state == TCP_LISTEN || s->state == TCP_CLOSE || s->state == TCP_CLOSE_WAIT)
			return -1;
		return TCP_TIME_WAIT;
	}
	return s->state;
}

/* The state a replay builds for a kernel state: the states that exist only while one
 * direction is lost are built as the nearest state bind() treats alike (a full socket
 * in the port's bind bucket, with its SO_REUSEADDR: inet_bind_conflict()). */
static int buildable(int state)
{
	switch (state) {
	case TCP_SYN_SENT: return TCP_ESTABLISHED;
	case TCP_FIN_WAIT1: case TCP_CLOSING: return TCP_FIN_WAIT2;
	case TCP_LAST_ACK: return TCP_CLOSE_WAIT;
	default: return state;
	}
}

struct gen {
	struct buf b;
	struct addrmap map;
	bool root;
};

static void uid_on(struct gen *g, long uid)
{
	if (g->root && uid > 0)
		buf_printf(&g->b, "    uid %ld\n", uid);
}

static void uid_off(struct gen *g, long uid)
{
	if (g->root && uid > 0)
		buf_printf(&g->b, "    uid 0\n");
}

static void sock_opts(struct gen *g, const char *name, const struct seen_sock *s, int unseen)
{
	if (opt_of(s->reuseaddr, 0, unseen))
		buf_printf(&g->b, "    setsockopt %s SO_REUSEADDR 1\n", name);
	if (opt_of(s->reuseport, 1, unseen))
		buf_printf(&g->b, "    setsockopt %s SO_REUSEPORT 1\n", name);
	if (s->family == AF_INET6)
		buf_printf(&g->b, "    setsockopt %s IPV6_V6ONLY %d\n", name, s->v6only > 0);
}

/* A listener or bound socket (TCP), or a UDP socket, built with plain steps. */
static void gen_plain(struct gen *g, const char *name, const struct seen_sock *s, int unseen, bool listen)
{
	char la[64], ra[64];
	map_addr(&g->map, s->family, s->laddr, la, sizeof(la));
	uid_on(g, s->uid);
	buf_printf(&g->b, "    socket %s %s %s\n", name, s->proto == IPPROTO_UDP ? "udp" : "tcp", fam_word(s->family));
	uid_off(g, s->uid);
	sock_opts(g, name, s, unseen);
	buf_printf(&g->b, "    bind %s %s %u\n", name, la, s->lport);
	if (listen)
		buf_printf(&g->b, "    listen %s 4096\n", name);
	if (s->proto == IPPROTO_UDP && s->state == TCP_ESTABLISHED)
		buf_printf(&g->b, "    connect %s %s %u\n", name, map_addr(&g->map, s->family, s->raddr, ra, sizeof(ra)),
			   s->rport);
}

/* Drives connection a (ours) and its peer c from ESTABLISHED on to state. */
static void gen_close_to(struct gen *g, const char *a, const char *c, int state)
{
	switch (state) {
	case TCP_CLOSE_WAIT:
		buf_printf(&g->b, "    close %s\n    wait-state %s CLOSE_WAIT\n", c, a);
		break;
	case TCP_FIN_WAIT2:
		buf_printf(&g->b, "    close %s\n    wait-state %s FIN_WAIT2\n", a, a);
		break;
	case TCP_TIME_WAIT:
		buf_printf(&g->b, "    close-first %s TIME_WAIT %s\n", a, c);
		break;
	default:
		break;
	}
}

static bool same_addr(int family, const unsigned char *a, const unsigned char *b)
{
	return memcmp(a, b, family == AF_INET ? 4 : 16) == 0;
}

/* The listener a connection was accepted from: a LISTEN socket of the same family on its
 * address or the wildcard. */
static long listener_of(const struct why_selection *sel, size_t i)
{
	const struct seen_sock *s = sel->v[i];
	for (size_t j = 0; j < sel->n; j++) {
		const struct seen_sock *l = sel->v[j];
		if (l->proto == IPPROTO_TCP && l->state == TCP_LISTEN && l->family == s->family && l->lport == s->lport &&
		    (same_addr(s->family, l->laddr, s->laddr) || is_any(l->family, l->laddr)))
			return (long)j;
	}
	return -1;
}

/* The sockets holding a local port (bind questions, connect --from ADDR:PORT). */
/* A connection of connect --from ADDR:PORT: the four-tuple decides connect(), so it is
 * rebuilt as it is, from its own port to its own remote (the one asked about is `remote`). */
static void gen_active(struct gen *g, const struct why_call *c, const struct seen_sock *s, size_t i, int st,
		       int unseen)
{
	char name[24], peer[24], lname[24], la[64], ra[64], asked[64];
	snprintf(name, sizeof(name), "s%zu", i);
	snprintf(peer, sizeof(peer), "p%zu", i);
	map_addr(&g->map, s->family, s->laddr, la, sizeof(la));
	map_addr(&g->map, s->family, s->raddr, ra, sizeof(ra));
	map_addr(&g->map, c->family, c->addr, asked, sizeof(asked));
	if (strcmp(ra, asked) == 0 && s->rport == c->port) {
		snprintf(lname, sizeof(lname), "remote");
	} else {
		snprintf(lname, sizeof(lname), "r%zu", i);
		buf_printf(&g->b, "    socket %s tcp %s\n    bind %s %s %u\n    listen %s 4096\n", lname, fam_word(s->family),
			   lname, ra, s->rport, lname);
	}
	uid_on(g, s->uid);
	buf_printf(&g->b, "    socket %s tcp %s\n", name, fam_word(s->family));
	uid_off(g, s->uid);
	sock_opts(g, name, s, unseen);
	buf_printf(&g->b, "    bind %s %s %u\n    connect %s %s %u\n    accept %s %s\n", name, la, s->lport, name, ra,
		   s->rport, lname, peer);
	gen_close_to(g, name, peer, st);
}

static void gen_port_holders(struct gen *g, const struct why_call *c, const struct why_selection *sel,
			     const struct why_variant *v, struct buf *notes)
{
	int unseen = v->unseen;
	bool *listener_needed = xcalloc(sel->n + 1, sizeof(bool));
	int *state = xcalloc(sel->n + 1, sizeof(int));
	size_t orphans = 0, last_orphan = 0;
	/* Sockets alike for the call (a group) block alike: a few of each stand for all, so that
	 * a port held by hundreds fits a case. */
	for (size_t g = 0; g < sel->ngroups; g++)
		for (size_t i = sel->groups[g].first + REPLAY_PER_GROUP; i < sel->groups[g].first + sel->groups[g].count; i++)
			state[i] = -2;
	for (size_t i = 0; i < sel->n; i++) {
		if (state[i] == -2) {
			state[i] = -1;
			continue;
		}
		state[i] = kept_state(v, sel, i);
		const struct seen_sock *s = sel->v[i];
		if (state[i] < 0 || s->proto != IPPROTO_TCP || state[i] == TCP_LISTEN || state[i] == TCP_CLOSE)
			continue;
		if (s->state == 12 || state[i] == TCP_SYN_RECV) {
			state[i] = -1;  /* a request socket: its listener holds the port */
			continue;
		}
		long l = listener_of(sel, i);
		if (l >= 0)
			listener_needed[l] = true;
		else {
			orphans++;
			last_orphan = i;
		}
	}
	buf_printf(&g->b, "    sysctl net.ipv4.ip_unprivileged_port_start 0\n");
	/* Listeners first: their connections are accepted from them. */
	for (size_t i = 0; i < sel->n; i++) {
		const struct seen_sock *s = sel->v[i];
		if (s->proto == IPPROTO_TCP && s->state == TCP_LISTEN && (state[i] == TCP_LISTEN || listener_needed[i])) {
			char name[24];
			snprintf(name, sizeof(name), "s%zu", i);
			gen_plain(g, name, s, unseen, true);
		}
	}
	for (size_t i = 0; i < sel->n; i++) {
		const struct seen_sock *s = sel->v[i];
		if (state[i] < 0 || state[i] == TCP_LISTEN)
			continue;
		char name[24], peer[24], la[64], ra[64];
		snprintf(name, sizeof(name), "s%zu", i);
		snprintf(peer, sizeof(peer), "p%zu", i);
		if (s->proto == IPPROTO_UDP || state[i] == TCP_CLOSE) {
			gen_plain(g, name, s, unseen, false);
			continue;
		}
		int st = buildable(state[i]);
		if (st != state[i])
			buf_printf(notes, "%s is replayed as %s, which bind() treats alike. ", seen_state_name(s),
				   st == TCP_ESTABLISHED ? "ESTABLISHED" : st == TCP_FIN_WAIT2 ? "FIN_WAIT2" : "CLOSE_WAIT");
		map_addr(&g->map, s->family, s->laddr, la, sizeof(la));
		map_addr(&g->map, s->family, s->raddr, ra, sizeof(ra));
		long l = listener_of(sel, i);
		if (c->op == WHY_CONNECT && l < 0) {
			gen_active(g, c, s, i, st, unseen);
			continue;
		}
		if (l < 0 && orphans == 1 && i == last_orphan) {
			/* An accepted connection that outlived its listener: occupy's passive side. */
			uid_on(g, s->uid);
			buf_printf(&g->b, "    occupy %s %s passive %s %u reuseaddr=%d reuseport=%d\n", name,
				   st == TCP_FIN_WAIT2 ? "FIN_WAIT2" : st == TCP_CLOSE_WAIT ? "CLOSE_WAIT"
				   : st == TCP_TIME_WAIT ? "TIME_WAIT" : "ESTABLISHED",
				   la, s->lport, opt_of(s->reuseaddr, 0, unseen), opt_of(s->reuseport, 1, unseen));
			uid_off(g, s->uid);
			continue;
		}
		char lname[24];
		if (l >= 0) {
			snprintf(lname, sizeof(lname), "s%ld", l);
		} else {
			/* Several connections whose listener is gone: one listener accepts them all and
			 * is closed after, as the application's was. */
			snprintf(lname, sizeof(lname), "g%zu", i);
			gen_plain(g, lname, s, unseen, true);
		}
		buf_printf(&g->b, "    socket %s tcp %s\n    bind %s %s 0\n    connect %s %s %u\n    accept %s %s\n", peer,
			   fam_word(s->family), peer, ra, peer, la, s->lport, lname, name);
		if (l < 0)
			buf_printf(&g->b, "    close %s\n", lname);
		gen_close_to(g, name, peer, st);
	}
	/* Listeners kept only for their connections (their process stopped) close last. */
	for (size_t i = 0; i < sel->n; i++)
		if (listener_needed[i] && state[i] != TCP_LISTEN)
			buf_printf(&g->b, "    close s%zu\n", i);
	free(listener_needed);
	free(state);
}

static void gen_fresh_addr(struct gen *g, int family, char *out, size_t len)
{
	if (family == AF_INET)
		snprintf(out, len, FRESH_ADDR4);
	else if (!g->map.host2_used)
		snprintf(out, len, "host2");
	else
		snprintf(out, len, "::1");
}

/* The test block of a bind question: the user's socket and call. */
static void gen_bind_test(struct gen *g, const struct why_call *c, const struct why_variant *v)
{
	char a[64];
	const char *name = "new";
	if (v->change == CHANGE_OTHER_ADDR)
		gen_fresh_addr(g, c->family, a, sizeof(a));
	else
		map_addr(&g->map, c->family, c->addr, a, sizeof(a));
	uid_on(g, c->uid);
	buf_printf(&g->b, "    socket %s %s %s\n", name, c->proto == IPPROTO_UDP ? "udp" : "tcp", fam_word(c->family));
	if (c->reuseaddr || v->change == CHANGE_REUSEADDR)
		buf_printf(&g->b, "    setsockopt %s SO_REUSEADDR 1\n", name);
	if (c->reuseport)
		buf_printf(&g->b, "    setsockopt %s SO_REUSEPORT 1\n", name);
	if (c->family == AF_INET6 && c->v6only)
		buf_printf(&g->b, "    setsockopt %s IPV6_V6ONLY 1\n", name);
	buf_printf(&g->b, "    bind %s %s %u\n", name, a, c->port);
	if (c->listen && c->proto == IPPROTO_TCP)
		buf_printf(&g->b, "    listen %s\n", name);
	uid_off(g, c->uid);
}

/* ---- connect: the ephemeral range, scaled ---- */

struct scaled {
	long k[5];       /* time_wait, established, other, bound, free */
	long lo, hi;     /* the replay's range */
	bool at_scale;
};

static void scale(const struct why_host *h, const struct why_selection *sel, struct scaled *sc)
{
	long n[5] = { sel->held_time_wait, sel->held_established, sel->held_other, sel->held_bound, sel->free_ports };
	long total = h->range_hi - h->range_lo + 1;
	sc->at_scale = total <= SCALED_PORTS;
	/* The kinds are counted over the ports connect() uses; at scale, each kind keeps its
	 * count but for the rounding up to even below. */
	long sum = 0;
	for (int i = 0; i < 5; i++) {
		if (sc->at_scale)
			sc->k[i] = n[i];
		else {
			/* In proportion, but never none of a kind that is there: one free port out of
			 * thirty thousand is what decides the call. */
			long k = (n[i] * SCALED_PORTS + total / 2) / total;
			sc->k[i] = n[i] && !k ? 1 : k;
		}
		/* connect() and bind(PORT 0) walk an even number of a range's ports from a random
		 * offset (remaining &= ~1 in __inet_hash_connect() and inet_csk_find_open_port()),
		 * so one port of an odd-sized range may be skipped: each kind's stretch is made
		 * even so that filling it uses every port, every time. */
		sc->k[i] += sc->k[i] & 1;
		sum += sc->k[i];
	}
	sc->lo = SCALED_BASE;
	sc->hi = SCALED_BASE + (sum ? sum : 1) - 1;
}

void why_scale_note(const struct why_host *h, const struct why_selection *sel, struct buf *out)
{
	struct scaled sc;
	scale(h, sel, &sc);
	long total = h->range_hi - h->range_lo + 1;
	if (sc.at_scale)
		buf_printf(out, "replayed at scale: the %ld ports of %ld-%ld", total, h->range_lo, h->range_hi);
	else
		buf_printf(out, "replayed scaled down: the %ld ports of %ld-%ld as %ld, each kind in proportion and at "
			   "least one of each kind present", total, h->range_lo, h->range_hi, sc.hi - sc.lo + 1);
	buf_printf(out, " (TIME_WAIT toward the remote %ld→%ld, connected to it %ld→%ld, connected elsewhere %ld→%ld, "
		   "bound or listening %ld→%ld, free %ld→%ld)", sel->held_time_wait, sc.k[0], sel->held_established,
		   sc.k[1], sel->held_other, sc.k[2], sel->held_bound, sc.k[3], sel->free_ports, sc.k[4]);
}

/* tcp_tw_reuse=2 reuses TIME_WAIT for loopback connections only; the replay is all
 * loopback, so a remote elsewhere gets the value that answers for it (0). */
static int effective_tw_reuse(const struct why_host *h, const struct why_selection *sel, const struct why_variant *v)
{
	if (v->change == CHANGE_TW_REUSE)
		return 1;
	if (h->tw_reuse == 2)
		return sel->remote_loopback ? 2 : 0;
	return h->tw_reuse;
}

static void gen_connect_setup(struct gen *g, const struct why_call *c, const struct why_host *h,
			      const struct why_selection *sel, const struct why_variant *v, const char *ra)
{
	struct scaled sc;
	scale(h, sel, &sc);
	long kt = v->change == CHANGE_WAIT ? 0 : sc.k[0];
	long at = sc.lo;
	buf_printf(&g->b, "    socket remote tcp %s\n    bind remote %s %u\n    listen remote 4096\n", fam_word(c->family),
		   ra, c->port);
	if (sc.k[2])
		buf_printf(&g->b, "    socket elsewhere tcp %s\n    bind elsewhere %s %d\n    listen elsewhere 4096\n",
			   fam_word(c->family), c->family == AF_INET ? OTHER_REMOTE : "::1", OTHER_REMOTE_PORT);
	/* Filling: each kind gets its own stretch of the range; TIME_WAIT must not be reused
	 * while it is made. */
	buf_printf(&g->b, "    sysctl net.ipv4.tcp_tw_reuse 0\n");
	if (kt)
		buf_printf(&g->b, "    sysctl net.ipv4.ip_local_port_range %ld %ld\n    reconnect-loop tw remote %ld\n", at, at + kt - 1, kt);
	at += sc.k[0];
	if (sc.k[1])
		buf_printf(&g->b, "    sysctl net.ipv4.ip_local_port_range %ld %ld\n    connect-until-fail est %s %u %ld\n", at, at + sc.k[1] - 1, ra,
			   c->port, sc.k[1]);
	at += sc.k[1];
	if (sc.k[2])
		buf_printf(&g->b, "    sysctl net.ipv4.ip_local_port_range %ld %ld\n    connect-until-fail oth %s %d %ld\n", at, at + sc.k[2] - 1,
			   c->family == AF_INET ? OTHER_REMOTE : "::1", OTHER_REMOTE_PORT, sc.k[2]);
	at += sc.k[2];
	if (sc.k[3])
		buf_printf(&g->b, "    sysctl net.ipv4.ip_local_port_range %ld %ld\n    bind-until-fail bnd any %ld\n", at, at + sc.k[3] - 1, sc.k[3]);
	long hi = sc.hi + (v->change == CHANGE_WIDEN ? SCALED_PORTS / 4 : 0);
	buf_printf(&g->b, "    sysctl net.ipv4.ip_local_port_range %ld %ld\n", sc.lo, hi);
	int reuse = effective_tw_reuse(h, sel, v);
	buf_printf(&g->b, "    sysctl net.ipv4.tcp_tw_reuse %d\n", reuse);
	/* The host's TIME_WAIT sockets are older than the replay's: let the reuse delay pass
	 * when theirs has, and for the remedy, which is for sockets as old as that. */
	if (kt && reuse && (v->change == CHANGE_TW_REUSE || sel->oldest_tw_age_ms > 1000))
		buf_printf(&g->b, "    wait-ms %ld\n", h->tw_reuse_delay_ms + 100);
}

static void gen_connect_test(struct gen *g, const struct why_call *c, const struct why_variant *v, const char *ra)
{
	char from[64];
	bool bind_src = c->has_from || v->change == CHANGE_OTHER_SRC;
	if (v->change == CHANGE_OTHER_SRC)
		gen_fresh_addr(g, c->family, from, sizeof(from));
	else if (c->has_from)
		map_addr(&g->map, c->from_family, c->from, from, sizeof(from));
	uid_on(g, c->uid);
	buf_printf(&g->b, "    socket new %s %s\n", c->proto == IPPROTO_UDP ? "udp" : "tcp", fam_word(c->family));
	if (c->reuseaddr || v->change == CHANGE_REUSEADDR)
		buf_printf(&g->b, "    setsockopt new SO_REUSEADDR 1\n");
	if (c->no_port || v->change == CHANGE_NO_PORT || (v->change == CHANGE_OTHER_SRC && !c->from_port))
		buf_printf(&g->b, "    setsockopt new IP_BIND_ADDRESS_NO_PORT 1\n");
	if (bind_src)
		buf_printf(&g->b, "    bind new %s %u\n", from, v->change == CHANGE_OTHER_SRC ? 0 : c->from_port);
	buf_printf(&g->b, "    %s new %s %u\n", c->proto == IPPROTO_UDP ? "connect" : "connect", ra, c->port);
	uid_off(g, c->uid);
}

char *why_case_text(const struct why_call *c, const struct why_host *h, const struct why_selection *sel,
		    const struct why_variant *v, int num, char *why, size_t whylen)
{
	struct gen g = { .root = geteuid() == 0 };
	struct buf body = { 0 }, notes = { 0 };
	char ra[64] = "";
	const char *what = c->op == WHY_BIND ? "bind" : "connect";
	int occ_family = c->family;
	for (size_t i = 0; i < sel->n; i++)
		if (sel->v[i]->proto == IPPROTO_TCP && sel->v[i]->state != TCP_LISTEN)
			occ_family = sel->v[i]->family;

	/* The test's address is mapped first, so that it keeps its own name in every variant. */
	if (c->op == WHY_CONNECT)
		map_addr(&g.map, c->family, c->addr, ra, sizeof(ra));
	else {
		char a[64];
		map_addr(&g.map, c->family, c->addr, a, sizeof(a));
	}
	if (c->op == WHY_CONNECT && c->from_port)
		buf_printf(&g.b, "    socket remote tcp %s\n    bind remote %s %u\n    listen remote 4096\n",
			   fam_word(c->family), ra, c->port);
	if (c->op == WHY_BIND || c->from_port)
		gen_port_holders(&g, c, sel, v, &notes);
	if (c->op == WHY_CONNECT && !c->from_port)
		gen_connect_setup(&g, c, h, sel, v, ra);
	if (c->op == WHY_BIND || c->from_port)
		buf_printf(&g.b, "    sysctl net.ipv4.ip_unprivileged_port_start %s\n", h->unpriv_start);
	buf_printf(&body, "setup:\n%stest:\n", g.b.s ? g.b.s : "");
	buf_free(&g.b);
	if (c->op == WHY_BIND)
		gen_bind_test(&g, c, v);
	else
		gen_connect_test(&g, c, v, ra);
	buf_add(&body, g.b.s);
	buf_free(&g.b);
	if (g.map.failed) {
		snprintf(why, whylen, "the replay cannot map the addresses: %s", g.map.why);
		buf_free(&body);
		buf_free(&notes);
		return NULL;
	}
	char *text = xasprintf("case %04d\n"
			       "title    replay of %s() as read from this namespace: %s\n"
			       "group    why\n"
			       "about    %s\n"
			       "timeout  30\n"
			       "param    family %s\n"
			       "sysctl   net.ipv6.bindv6only %s\n"
			       "%s"
			       "expect ok\n"
			       "    why  the call as asked; the replay reports what the kernel did with the sockets read\n"
			       "    why  from the namespace, whatever that was (why reads the observed outcome)\n"
			       "    ref  %s(2)\n",
			       num, what, v->label, notes.s ? notes.s : "the sockets as they are", fam_word(occ_family),
			       h->bindv6only, body.s, what);
	buf_free(&body);
	buf_free(&notes);
	return text;
}

/* ---- running the variants ---- */

struct replay_run {
	struct why_variant *v;
	size_t *variant_of;   /* case index -> variant index */
};

static void on_result(void *arg, size_t ci, int rep, const struct run_outcome *o, double ms)
{
	(void)rep;
	(void)ms;
	struct replay_run *r = arg;
	struct why_variant *v = &r->v[r->variant_of[ci]];
	v->ran = true;
	if (o->kind == RUN_DONE)
		snprintf(v->outcome, sizeof(v->outcome), "%s", o->observed);
	else
		snprintf(v->detail, sizeof(v->detail), "%s", o->detail);
}

int why_replay(const struct why_call *c, const struct why_host *h, const struct why_selection *sel,
	       struct why_variant *v, size_t nv, char *err, size_t errlen)
{
	struct plan p = { 0 };
	struct case_file *files = xcalloc(nv ? nv : 1, sizeof(*files));
	bool *parsed = xcalloc(nv ? nv : 1, sizeof(bool));
	struct replay_run r = { .v = v, .variant_of = xcalloc(nv ? nv : 1, sizeof(size_t)) };
	int rc = 0;
	for (size_t i = 0; i < nv; i++) {
		char why[512], path[64];
		int num = REPLAY_NUMBER + (int)i;
		char *text = why_case_text(c, h, sel, &v[i], num, why, sizeof(why));
		if (!text) {
			snprintf(v[i].detail, sizeof(v[i].detail), "%s", why);
			continue;
		}
		snprintf(path, sizeof(path), "why/%04d-replay.case", num);
		size_t before = p.ncases;
		if (casefile_parse(path, text, &files[i], why, sizeof(why)) < 0 ||
		    (parsed[i] = true, plan_expand(&p, &files[i], why, sizeof(why)) < 0)) {
			/* The generator wrote a case the language does not accept: a bug here. */
			snprintf(v[i].detail, sizeof(v[i].detail), "internal: replay case rejected: %.400s", why);
			free(text);
			continue;
		}
		free(text);
		for (size_t k = before; k < p.ncases; k++)
			r.variant_of[k] = i;
	}
	if (p.ncases) {
		struct ns_id origin;
		char e[512];
		if (ns_current(&origin) < 0 || become_ns_root(e, sizeof(e)) < 0) {
			snprintf(err, errlen, "cannot make a throwaway namespace for the replay: %s", e);
			rc = -1;
		} else {
			long cpus = sysconf(_SC_NPROCESSORS_ONLN);
			struct sched_opts so = { .jobs = cpus > 1 ? (int)cpus : 1, .timeout_s = 30, .repeat = 1,
						 .origin = &origin };
			if (sched_run(&p, &so, on_result, &r, e, sizeof(e)) != 0) {
				snprintf(err, errlen, "the replay did not finish: %s", e);
				rc = -1;
			}
		}
	}
	plan_free(&p);  /* the instances; the files are ours */
	for (size_t i = 0; i < nv; i++)
		if (parsed[i])
			casefile_free(&files[i]);
	free(files);
	free(parsed);
	free(r.variant_of);
	return rc;
}
