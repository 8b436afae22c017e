/* sock_diag's view of the namespace's sockets, joined with the options iterator's. */
#include "observe/observe.h"
#include "netns/netns.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>


static int keep(const struct diag_entry *e, void *data)
{
	struct observation *o = data;
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
	}
	struct seen_sock *s = &o->v[o->n++];
	memset(s, 0, sizeof(*s));
	s->proto = e->proto;
	s->family = e->family;
	s->state = e->state;
	memcpy(s->laddr, e->src, sizeof(s->laddr));
	memcpy(s->raddr, e->dst, sizeof(s->raddr));
	s->lport = e->sport;
	s->rport = e->dport;
	s->cookie = e->cookie;
	s->inode = e->inode;
	/* Timewait and request sockets report uid 0 and no inode: their owner is unknown. */
	s->uid = e->inode ? (long)e->uid : -1;
	s->ifindex = e->ifindex;
	s->v6only = e->family == AF_INET ? 0 : e->v6only;
	s->reuseaddr = s->reuseport = -1;
	s->timer_ms = e->proto == IPPROTO_TCP && (e->state == TCP_TIME_WAIT || e->timer == DIAG_TIMER_TIMEWAIT)
		? (long)e->expires_ms : -1;
	s->pid = -1;
	return 0;
}

int observe_sockets(struct observation *o, int proto, char *err, size_t errlen)
{
	size_t first = o->n;
	int rc = diag_each(proto, AF_UNSPEC, keep, o, err, errlen);
	if (rc < 0)
		return -1;
	(void)first;
	o->options_seen = observe_options(o, proto, o->options_why, sizeof(o->options_why)) == 0;
	return 0;
}

void observe_free(struct observation *o)
{
	free(o->v);
	memset(o, 0, sizeof(*o));
}

void seen_addr_str(int family, const unsigned char *addr, unsigned short port, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(family, addr, a, sizeof(a));
	if (family == AF_INET6)
		snprintf(out, len, "[%s]:%u", a, port);
	else
		snprintf(out, len, "%s:%u", a, port);
}

const char *seen_state_name(const struct seen_sock *s)
{
	static const char *const names[] = {
		[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT", [TCP_SYN_RECV] = "SYN_RECV",
		[TCP_FIN_WAIT1] = "FIN_WAIT1", [TCP_FIN_WAIT2] = "FIN_WAIT2", [TCP_TIME_WAIT] = "TIME_WAIT",
		[TCP_CLOSE] = "BOUND", [TCP_CLOSE_WAIT] = "CLOSE_WAIT", [TCP_LAST_ACK] = "LAST_ACK",
		[TCP_LISTEN] = "LISTEN", [TCP_CLOSING] = "CLOSING", [12] = "SYN_RECV",
	};
	if (s->proto == IPPROTO_UDP)
		return s->state == TCP_ESTABLISHED ? "CONNECTED" : "BOUND";
	if (s->state >= 0 && (size_t)s->state < sizeof(names) / sizeof(names[0]) && names[s->state])
		return names[s->state];
	return "UNKNOWN";
}
