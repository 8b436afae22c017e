/* The kernel's view of sockets, through sock_diag: the only way to see sockets that have
 * no file descriptor (TIME_WAIT, request sockets, orphans), and the one view of every
 * socket of a namespace that needs no privilege. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include "netns/netns.h"
#include "netns/nl.h"
#include "netns/priv.h"

struct diag_walk {
	int proto;
	diag_entry_fn fn;
	void *data;
	int stop;   /* the callback's non-zero return */
};

static int attr_v6only(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == INET_DIAG_SKV6ONLY && mnl_attr_get_payload_len(a) >= 1)
		*(int *)data = *(const unsigned char *)mnl_attr_get_payload(a);
	return MNL_CB_OK;
}

static int diag_reply(const struct nlmsghdr *nlh, void *data)
{
	struct diag_walk *w = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct diag_entry e;

	if ((nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY && nlh->nlmsg_type != TCPDIAG_GETSOCK) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return -EBADMSG;
	if (w->stop)
		return 0;
	memset(&e, 0, sizeof(e));
	e.family = m->idiag_family;
	e.proto = w->proto;
	e.state = m->idiag_state;
	e.sport = ntohs(m->id.idiag_sport);
	e.dport = ntohs(m->id.idiag_dport);
	memcpy(e.src, m->id.idiag_src, sizeof(e.src));
	memcpy(e.dst, m->id.idiag_dst, sizeof(e.dst));
	e.ifindex = (int)m->id.idiag_if;
	e.cookie = (unsigned long long)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
	e.inode = m->idiag_inode;
	e.uid = m->idiag_uid;
	e.timer = m->idiag_timer;
	e.expires_ms = m->idiag_expires;
	/* Sent for full IPv6 sockets only: a timewait or request socket keeps it unsaid. */
	e.v6only = -1;
	mnl_attr_parse(nlh, sizeof(*m), attr_v6only, &e.v6only);
	w->stop = w->fn(&e, w->data);
	return 0;
}

/* One dump per family: the kernel keeps one dump in progress per socket. */
static int diag_dump(struct nl *nl, int proto, int family, struct diag_walk *w, char *err, size_t errlen)
{
	struct nlmsghdr *nlh = nl_req_start(nl, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, "sock_diag %s %s dump",
					     proto == IPPROTO_UDP ? "UDP" : "TCP", family == AF_INET6 ? "IPv6" : "IPv4");
	struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));

	req->sdiag_family = family;
	req->sdiag_protocol = proto;
	req->idiag_states = ~0U; /* every state, TIME_WAIT and request sockets included */
	nl_req_on_reply(nl, diag_reply, w);
	return nl_exchange(nl, err, errlen);
}

/* TCP of both families in one walk: the first request format (TCPDIAG_GETSOCK, struct
 * inet_diag_req) asks for AF_UNSPEC (inet_diag_dump_compat()). The walk goes over the
 * kernel's tables, which every namespace shares (tcp_hashinfo: its established and
 * listening hashes are sized for the host), so it costs about 0.4 ms here whatever the
 * namespace holds: one walk instead of one per family. */
static int diag_dump_tcp_both(struct nl *nl, struct diag_walk *w, char *err, size_t errlen)
{
	struct nlmsghdr *nlh = nl_req_start(nl, TCPDIAG_GETSOCK, NLM_F_DUMP, "sock_diag TCP dump");
	struct inet_diag_req *req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));

	req->idiag_family = AF_INET;
	req->idiag_states = ~0U;
	nl_req_on_reply(nl, diag_reply, w);
	return nl_exchange(nl, err, errlen);
}

int diag_each(int proto, int family, diag_entry_fn fn, void *data, char *err, size_t errlen)
{
	struct diag_walk w = { .proto = proto, .fn = fn, .data = data };
	struct nl nl;
	int rc;

	if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC)
		return ns_failmsg(err, errlen, -EAFNOSUPPORT, "sock_diag: family %d is not AF_INET, AF_INET6 or AF_UNSPEC",
				  family);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return ns_failmsg(err, errlen, -EPROTONOSUPPORT, "sock_diag: protocol %d is not TCP or UDP", proto);
	rc = nl_open(&nl, NETLINK_SOCK_DIAG, err, errlen);
	if (rc)
		return rc;
	bool both_at_once = family == AF_UNSPEC && proto == IPPROTO_TCP;
	if (both_at_once)
		rc = diag_dump_tcp_both(&nl, &w, err, errlen);
	else if (family != AF_INET6)
		rc = diag_dump(&nl, proto, AF_INET, &w, err, errlen);
	if (!rc && !w.stop && family != AF_INET && !both_at_once)
		rc = diag_dump(&nl, proto, AF_INET6, &w, err, errlen);
	nl_close(&nl);
	return rc;
}

struct diag_filter {
	unsigned short sport, dport; /* host order; dport 0 = any */
	struct diag_sock *out;
	size_t max, found;
};

static int keep_matching(const struct diag_entry *e, void *data)
{
	struct diag_filter *f = data;
	if (e->sport != f->sport || (f->dport && e->dport != f->dport))
		return 0;
	if (f->found < f->max) {
		struct diag_sock *d = &f->out[f->found];
		memset(d, 0, sizeof(*d));
		d->family = e->family;
		d->state = e->state;
		d->sport = e->sport;
		d->dport = e->dport;
		memcpy(d->src, e->src, sizeof(d->src));
		memcpy(d->dst, e->dst, sizeof(d->dst));
		d->inode = e->inode;
		d->timer = e->timer;
	}
	f->found++;
	return 0;
}

int diag_tcp(int family, unsigned short port, unsigned short rport, struct diag_sock *out, size_t max,
	     char *err, size_t errlen)
{
	struct diag_filter f = { .sport = port, .dport = rport, .out = out, .max = out ? max : 0 };
	int rc = diag_each(IPPROTO_TCP, family, keep_matching, &f, err, errlen);
	return rc ? rc : (int)f.found;
}

int diag_tcp_one(int family, const void *src, unsigned short sport, const void *dst, unsigned short dport,
		 struct diag_sock *out, char *err, size_t errlen)
{
	struct diag_sock found;
	struct diag_filter f = { .sport = sport, .dport = dport, .out = &found, .max = 1 };
	struct diag_walk w = { .proto = IPPROTO_TCP, .fn = keep_matching, .data = &f };
	size_t alen = family == AF_INET6 ? 16 : 4;
	struct nl nl;
	int rc;

	if (family != AF_INET && family != AF_INET6)
		return ns_failmsg(err, errlen, -EAFNOSUPPORT, "diag_tcp_one: family %d is not AF_INET or AF_INET6", family);
	rc = nl_open(&nl, NETLINK_SOCK_DIAG, err, errlen);
	if (rc)
		return rc;
	struct nlmsghdr *nlh = nl_req_start(&nl, SOCK_DIAG_BY_FAMILY, 0, "sock_diag TCP lookup of port %u", sport);
	struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = ~0U;
	req->id.idiag_sport = htons(sport);
	req->id.idiag_dport = htons(dport);
	memcpy(req->id.idiag_src, src, alen);
	memcpy(req->id.idiag_dst, dst, alen);
	req->id.idiag_cookie[0] = req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	nl_req_on_reply(&nl, diag_reply, &w);
	nl_req_tolerate(&nl, NL_ENOENT_OK);
	rc = nl_exchange(&nl, err, errlen);
	nl_close(&nl);
	if (rc)
		return rc;
	/* The kernel's lookup falls back to a listener on the local port when no connection
	 * matches: keep_matching keeps only an entry with both ports. */
	if (!f.found)
		return 0;
	*out = found;
	return 1;
}
