/* The kernel's view of TCP sockets, through sock_diag: the only way to see sockets that
 * have no file descriptor (TIME_WAIT, request sockets, orphans). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include "netns/netns.h"
#include "netns/nl.h"
#include "netns/priv.h"

struct diag_filter {
	unsigned short sport, dport; /* host order; dport 0 = any */
	struct diag_sock *out;
	size_t max, found;
};

static bool diag_matches(const struct diag_filter *f, const struct inet_diag_msg *m)
{
	return ntohs(m->id.idiag_sport) == f->sport && (!f->dport || ntohs(m->id.idiag_dport) == f->dport);
}

static void diag_copy(struct diag_sock *d, const struct inet_diag_msg *m)
{
	memset(d, 0, sizeof(*d));
	d->family = m->idiag_family;
	d->state = m->idiag_state;
	d->sport = ntohs(m->id.idiag_sport);
	d->dport = ntohs(m->id.idiag_dport);
	memcpy(d->src, m->id.idiag_src, sizeof(d->src));
	memcpy(d->dst, m->id.idiag_dst, sizeof(d->dst));
	d->inode = m->idiag_inode;
	d->timer = m->idiag_timer;
}

static int diag_reply(const struct nlmsghdr *nlh, void *data)
{
	struct diag_filter *f = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY || mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return -EBADMSG;
	if (!diag_matches(f, m))
		return 0;
	if (f->found < f->max)
		diag_copy(&f->out[f->found], m);
	f->found++;
	return 0;
}

/* One dump per family: the kernel keeps one dump in progress per socket. Filtering is done
 * here rather than with the bytecode filter: a throwaway namespace holds a handful of
 * sockets. */
static int diag_dump(struct nl *nl, int family, struct diag_filter *f, char *err, size_t errlen)
{
	struct nlmsghdr *nlh = nl_req_start(nl, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, "sock_diag TCP %s dump",
					     family == AF_INET6 ? "IPv6" : "IPv4");
	struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));

	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = ~0U; /* every state, TIME_WAIT and request sockets included */
	nl_req_on_reply(nl, diag_reply, f);
	return nl_exchange(nl, err, errlen);
}

int diag_tcp(int family, unsigned short port, unsigned short rport, struct diag_sock *out, size_t max,
	     char *err, size_t errlen)
{
	struct diag_filter f = { .sport = port, .dport = rport, .out = out, .max = out ? max : 0 };
	struct nl nl;
	int rc;

	if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC)
		return ns_failmsg(err, errlen, -EAFNOSUPPORT, "diag_tcp: family %d is not AF_INET, AF_INET6 or AF_UNSPEC",
				  family);
	rc = nl_open(&nl, NETLINK_SOCK_DIAG, err, errlen);
	if (rc)
		return rc;
	if (family != AF_INET6)
		rc = diag_dump(&nl, AF_INET, &f, err, errlen);
	if (!rc && family != AF_INET)
		rc = diag_dump(&nl, AF_INET6, &f, err, errlen);
	nl_close(&nl);
	return rc ? rc : (int)f.found;
}

int diag_tcp_one(int family, const void *src, unsigned short sport, const void *dst, unsigned short dport,
		 struct diag_sock *out, char *err, size_t errlen)
{
	struct diag_sock found;
	struct diag_filter f = { .sport = sport, .dport = dport, .out = &found, .max = 1 };
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
	nl_req_on_reply(&nl, diag_reply, &f);
	nl_req_tolerate(&nl, NL_ENOENT_OK);
	rc = nl_exchange(&nl, err, errlen);
	nl_close(&nl);
	if (rc)
		return rc;
	/* The kernel's lookup falls back to a listener on the local port when no connection
	 * matches: diag_reply keeps only an entry with both ports. */
	if (!f.found)
		return 0;
	*out = found;
	return 1;
}
