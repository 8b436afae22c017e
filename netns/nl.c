/* A small netlink client on libmnl: batched requests, replies matched by sequence number,
 * and the rtnetlink requests the topologies need. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "netns/nl.h"
#include "netns/priv.h"
#include "lib/util.h"

/* Replies are already queued when sendmsg() returns; this only bounds a kernel that does
 * not answer at all. */
#define NL_REPLY_TIMEOUT_S 5
/* Large enough that a dump never gets truncated (the kernel sizes dump skbs to at most
 * 32 KiB for a reader that offers that much). */
#define NL_RECV_BYTES 32768

static void set_optional_sockopts(struct nl *nl)
{
	struct timeval tv = { .tv_sec = NL_REPLY_TIMEOUT_S };
	int one = 1;

	/* Extended acks carry the kernel's reason ("Unknown device type"); capped acks do not
	 * echo the request back. Both are optional: old kernels still work without them. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int nl_open(struct nl *nl, int protocol, char *err, size_t errlen)
{
	memset(nl, 0, offsetof(struct nl, buf));
	nl->sock = mnl_socket_open2(protocol, SOCK_CLOEXEC);
	if (!nl->sock)
		return ns_fail(err, errlen, -errno, "netlink socket (protocol %d)", protocol);
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int rc = -errno;

		nl_close(nl);
		return ns_fail(err, errlen, rc, "netlink bind (protocol %d)", protocol);
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	set_optional_sockopts(nl);
	return 0;
}

void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

/* Counts the request being built into the batch (unless it was built in the scratch). */
static void finish_building(struct nl *nl)
{
	if (nl->building && (char *)nl->building == nl->buf + nl->len)
		nl->len += NLMSG_ALIGN(nl->building->nlmsg_len);
	nl->building = NULL;
}

static bool batch_has_room(const struct nl *nl)
{
	return nl->nreq < NL_MAX_REQS && nl->len + NL_MAX_MSG <= NL_BATCH_BYTES;
}

struct nlmsghdr *nl_req_start(struct nl *nl, uint16_t type, uint16_t flags, const char *fmt, ...)
{
	struct nlmsghdr *nlh;
	struct nl_req *r;
	va_list ap;

	finish_building(nl);
	if (!batch_has_room(nl)) {
		nl->overflow = true;
		nlh = mnl_nlmsg_put_header(nl->buf + NL_BATCH_BYTES);
		memset(nlh, 0, NL_MAX_MSG);
		nlh->nlmsg_len = NLMSG_HDRLEN;
		nl->building = nlh;
		return nlh;
	}
	nlh = mnl_nlmsg_put_header(nl->buf + nl->len);
	memset((char *)nlh + NLMSG_HDRLEN, 0, NL_MAX_MSG - NLMSG_HDRLEN);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	nl->building = nlh;

	r = &nl->req[nl->nreq++];
	memset(r, 0, sizeof(*r));
	r->seq = nlh->nlmsg_seq;
	va_start(ap, fmt);
	vsnprintf(r->what, sizeof(r->what), fmt, ap);
	va_end(ap);
	return nlh;
}

static struct nl_req *last_req(struct nl *nl)
{
	/* After an overflow the last request is not the one being built: leave it alone. */
	if (nl->overflow || !nl->nreq)
		return NULL;
	return &nl->req[nl->nreq - 1];
}

void nl_req_on_reply(struct nl *nl, nl_reply_fn fn, void *data)
{
	struct nl_req *r = last_req(nl);

	if (r) {
		r->fn = fn;
		r->data = data;
	}
}

void nl_req_tolerate(struct nl *nl, unsigned int tolerate)
{
	struct nl_req *r = last_req(nl);

	if (r)
		r->tolerate = tolerate;
}

void *nl_put_nested_header(struct nlmsghdr *nlh, size_t size)
{
	void *hdr = (char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len);

	memset(hdr, 0, NLMSG_ALIGN(size));
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLMSG_ALIGN(size);
	return hdr;
}

static void reset_batch(struct nl *nl)
{
	nl->len = 0;
	nl->nreq = 0;
	nl->building = NULL;
	nl->overflow = false;
}

int nl_send(struct nl *nl, char *err, size_t errlen)
{
	ssize_t n;

	finish_building(nl);
	if (nl->overflow) {
		reset_batch(nl);
		return ns_failmsg(err, errlen, -ENOBUFS, "netlink batch overflow (more than %d requests or %d bytes)",
				  NL_MAX_REQS, NL_BATCH_BYTES);
	}
	if (!nl->nreq)
		return 0;
	n = mnl_socket_sendto(nl->sock, nl->buf, nl->len);
	if (n < 0 || (size_t)n != nl->len) {
		int rc = n < 0 ? -errno : -EIO;

		reset_batch(nl);
		return ns_fail(err, errlen, rc, "netlink send (%s ...)", nl->req[0].what);
	}
	return 0;
}

static struct nl_req *req_by_seq(struct nl *nl, const struct nlmsghdr *nlh)
{
	unsigned int first;

	if (!nl->nreq || nlh->nlmsg_pid != nl->portid)
		return NULL; /* a notification, or not ours */
	first = nl->req[0].seq;
	if (nlh->nlmsg_seq < first || nlh->nlmsg_seq - first >= nl->nreq)
		return NULL;
	return &nl->req[nlh->nlmsg_seq - first];
}

static void keep_extack(struct nl *nl, const struct nl_req *r, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	mnl_attr_for_each(attr, nlh, off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
			snprintf(nl->extack, sizeof(nl->extack), "%s", mnl_attr_get_str(attr));
			nl->extack_of = r;
			return;
		}
	}
}

static void finish_req(struct nl_req *r, int error)
{
	if (!r->error)
		r->error = error;
	if (r->error == -EEXIST && (r->tolerate & NL_EEXIST_OK))
		r->error = 0;
	if (r->error == -ENOENT && (r->tolerate & NL_ENOENT_OK))
		r->error = 0;
	r->done = true;
}

/* Returns 1 when the message finished its request. */
static int handle_reply(struct nl *nl, const struct nlmsghdr *nlh)
{
	struct nl_req *r = req_by_seq(nl, nlh);
	const struct nlmsgerr *e;
	int rc;

	if (!r) {
		nl->notified = true;
		return 0;
	}
	if (r->done)
		return 0;
	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR:
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
			finish_req(r, -EBADMSG);
			return 1;
		}
		e = mnl_nlmsg_get_payload(nlh);
		finish_req(r, e->error);
		/* Replies come in request order: the first failure is the one reported. */
		if (r->error && !nl->extack_of)
			keep_extack(nl, r, nlh);
		return 1;
	case NLMSG_DONE:
		rc = 0;
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
			memcpy(&rc, mnl_nlmsg_get_payload(nlh), sizeof(int));
		finish_req(r, rc < 0 ? rc : 0);
		return 1;
	case NLMSG_NOOP:
	case NLMSG_OVERRUN:
		return 0;
	default:
		if (r->fn && !r->error)
			r->error = r->fn(nlh, r->data);
		return 0;
	}
}

static unsigned int count_pending(const struct nl *nl)
{
	unsigned int i, n = 0;

	for (i = 0; i < nl->nreq; i++)
		n += !nl->req[i].done;
	return n;
}

static const struct nl_req *first_pending(const struct nl *nl)
{
	unsigned int i;

	for (i = 0; i < nl->nreq; i++)
		if (!nl->req[i].done)
			return &nl->req[i];
	return &nl->req[0];
}

static int receive_replies(struct nl *nl, char *err, size_t errlen)
{
	char rbuf[NL_RECV_BYTES] __attribute__((aligned(8)));
	unsigned int pending = count_pending(nl);

	while (pending) {
		const struct nlmsghdr *nlh;
		ssize_t n = mnl_socket_recvfrom(nl->sock, rbuf, sizeof(rbuf));
		int left;

		/* ENOBUFS: notifications (when subscribed) overflowed the socket. Replies are
		 * still there; a lost one ends in the timeout below. */
		if (n < 0 && (errno == EINTR || errno == ENOBUFS))
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return ns_failmsg(err, errlen, -ETIMEDOUT, "%s: no netlink reply within %d s",
					  first_pending(nl)->what, NL_REPLY_TIMEOUT_S);
		if (n < 0)
			return ns_fail(err, errlen, -errno, "netlink receive (%s)", first_pending(nl)->what);
		left = (int)n;
		for (nlh = (const struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left))
			pending -= handle_reply(nl, nlh);
	}
	return 0;
}

static int report_first_failure(struct nl *nl, char *err, size_t errlen)
{
	unsigned int i;

	for (i = 0; i < nl->nreq; i++) {
		const struct nl_req *r = &nl->req[i];

		if (!r->error)
			continue;
		if (nl->extack_of == r)
			return ns_failmsg(err, errlen, r->error, "%s: %s (%s)", r->what, strerror(-r->error),
					  nl->extack);
		return ns_fail(err, errlen, r->error, "%s", r->what);
	}
	return 0;
}

int nl_wait(struct nl *nl, char *err, size_t errlen)
{
	int rc;

	nl->extack_of = NULL;
	rc = receive_replies(nl, err, errlen);
	if (rc == 0)
		rc = report_first_failure(nl, err, errlen);
	reset_batch(nl);
	return rc;
}

int nl_exchange(struct nl *nl, char *err, size_t errlen)
{
	int rc = nl_send(nl, err, errlen);

	return rc ? rc : nl_wait(nl, err, errlen);
}

int nl_subscribe(struct nl *nl, unsigned int group, bool on, char *err, size_t errlen)
{
	int opt = on ? NETLINK_ADD_MEMBERSHIP : NETLINK_DROP_MEMBERSHIP;

	if (mnl_socket_setsockopt(nl->sock, opt, &group, sizeof(group)) < 0)
		return ns_fail(err, errlen, -errno, "netlink %s group %u", on ? "join" : "leave", group);
	nl->notified = false;
	return 0;
}

static void discard_queued(struct nl *nl)
{
	char rbuf[NL_RECV_BYTES] __attribute__((aligned(8)));

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(nl->sock), rbuf, sizeof(rbuf), MSG_DONTWAIT);

		/* ENOBUFS: notifications overflowed the socket; they are discarded anyway. */
		if (n < 0 && errno != ENOBUFS && errno != EINTR)
			return;
	}
}

int nl_wait_event(struct nl *nl, double deadline_ms)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(nl->sock), .events = POLLIN };

	if (nl->notified) {
		nl->notified = false;
		discard_queued(nl);
		return 0;
	}
	for (;;) {
		double left = deadline_ms - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		discard_queued(nl);
		return 0;
	}
}

/* ---- rtnetlink requests ---- */

static const char *addr_str(int family, const void *addr, char *buf, size_t len)
{
	if (!inet_ntop(family, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static void put_ifinfo(struct nlmsghdr *nlh, int ifindex, unsigned int flags, unsigned int change)
{
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
}

/* veth allocates a queue per possible CPU and then shrinks to one real queue, and each
 * shrink waits for an RCU grace period (synchronize_net under RTNL): about a millisecond
 * per end. Asking for one queue up front skips it. */
static void put_single_queue(struct nlmsghdr *nlh)
{
	mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, 1);
	mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, 1);
}

static void put_veth_peer(struct nlmsghdr *nlh, const struct nl_veth *v)
{
	struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	struct ifinfomsg *ifi = nl_put_nested_header(nlh, sizeof(*ifi));

	/* No IFF_UP here: the peer is opened before the pair is linked, and veth_open() then
	 * fails with ENOTCONN. Bring it up with a separate request. */
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = v->peer_ifindex;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->peer_name);
	put_single_queue(nlh);
	if (v->peer_mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->peer_mac);
	if (v->peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, v->peer_netns_fd);
	mnl_attr_nest_end(nlh, peer);
}

void nl_veth_add(struct nl *nl, const struct nl_veth *v)
{
	struct nlmsghdr *nlh = nl_req_start(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
					     "RTM_NEWLINK veth %s (peer %s)", v->name, v->peer_name);
	struct nlattr *linkinfo, *data;

	put_ifinfo(nlh, v->ifindex, v->up ? IFF_UP : 0, IFF_UP);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->name);
	put_single_queue(nlh);
	if (v->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->mac);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	put_veth_peer(nlh, v);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
}

void nl_link_set_up(struct nl *nl, int ifindex, bool up)
{
	struct nlmsghdr *nlh = nl_req_start(nl, RTM_NEWLINK, 0, "RTM_NEWLINK dev %d %s", ifindex,
					     up ? "up" : "down");

	put_ifinfo(nlh, ifindex, up ? IFF_UP : 0, IFF_UP);
}

static bool is_loopback_v4(int family, const void *addr)
{
	return family == AF_INET && ((const unsigned char *)addr)[0] == 127;
}

void nl_addr_add(struct nl *nl, int ifindex, int family, const void *addr, unsigned char prefixlen)
{
	char a[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh = nl_req_start(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, "RTM_NEWADDR %s/%u dev %d",
					     addr_str(family, addr, a, sizeof(a)), prefixlen, ifindex);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	/* No duplicate address detection: the address is usable at once, and nobody else
	 * is on the link to collide with. */
	unsigned int flags = family == AF_INET6 ? IFA_F_NODAD : 0;

	ifa->ifa_family = family;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_flags = flags;
	ifa->ifa_scope = is_loopback_v4(family, addr) ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(family), addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(family), addr);
	if (flags)
		mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
}

void nl_addr_add_secondary(struct nl *nl, int ifindex, int family, const void *addr, unsigned char prefixlen)
{
	nl_addr_add(nl, ifindex, family, addr, prefixlen);
	if (family != AF_INET6)
		return;  /* IPv4 never picks a secondary address (added after the primary) as source */
	/* IPv6 source selection has no primary address, and with equal scores it takes the newest
	 * one. A preferred lifetime of 0 (deprecated, still valid) keeps this address for sockets
	 * that bind it and out of the source choice (RFC 6724 rule 3), so a socket bound to the
	 * wildcard connects from the primary address, as it does over IPv4. */
	struct nlmsghdr *nlh = nl->building;  /* still open: attributes may be added */
	struct ifa_cacheinfo ci = { .ifa_prefered = 0, .ifa_valid = 0xFFFFFFFFu };
	mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
}

static void put_ndmsg(struct nlmsghdr *nlh, int ifindex, int family, uint16_t state)
{
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));

	ndm->ndm_family = family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = state;
}

void nl_neigh_set(struct nl *nl, int ifindex, int family, const void *addr, const unsigned char lladdr[6])
{
	char a[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh = nl_req_start(nl, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
					     "RTM_NEWNEIGH %s lladdr %02x:%02x:%02x:%02x:%02x:%02x dev %d",
					     addr_str(family, addr, a, sizeof(a)), lladdr[0], lladdr[1], lladdr[2],
					     lladdr[3], lladdr[4], lladdr[5], ifindex);

	put_ndmsg(nlh, ifindex, family, NUD_PERMANENT);
	mnl_attr_put(nlh, NDA_DST, addr_len(family), addr);
	mnl_attr_put(nlh, NDA_LLADDR, 6, lladdr);
}

void nl_neigh_del(struct nl *nl, int ifindex, int family, const void *addr)
{
	char a[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh = nl_req_start(nl, RTM_DELNEIGH, 0, "RTM_DELNEIGH %s dev %d",
					     addr_str(family, addr, a, sizeof(a)), ifindex);

	put_ndmsg(nlh, ifindex, family, 0);
	mnl_attr_put(nlh, NDA_DST, addr_len(family), addr);
}

static int link_attr(const struct nlattr *attr, void *data)
{
	struct nl_link *l = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(attr) == 6)
			memcpy(l->mac, mnl_attr_get_payload(attr), 6);
		break;
	case IFLA_OPERSTATE:
		if (mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
			l->operstate = mnl_attr_get_u8(attr);
		break;
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(attr));
		break;
	}
	return MNL_CB_OK;
}

static int link_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nl_link *l = data;

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EBADMSG;
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr, l);
	return 0;
}

void nl_link_get(struct nl *nl, int ifindex, struct nl_link *out)
{
	struct nlmsghdr *nlh = nl_req_start(nl, RTM_GETLINK, 0, "RTM_GETLINK dev %d", ifindex);

	memset(out, 0, sizeof(*out));
	out->operstate = -1;
	put_ifinfo(nlh, ifindex, 0, 0);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	nl_req_on_reply(nl, link_reply, out);
}

static int route_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return -EBADMSG;
	*(unsigned char *)data = rtm->rtm_type;
	return 0;
}

void nl_route_get(struct nl *nl, int family, const void *addr, unsigned char *type)
{
	char a[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh = nl_req_start(nl, RTM_GETROUTE, 0, "RTM_GETROUTE %s",
					     addr_str(family, addr, a, sizeof(a)));
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	*type = RTN_UNSPEC;
	rtm->rtm_family = family;
	rtm->rtm_dst_len = addr_len(family) * 8;
	mnl_attr_put(nlh, RTA_DST, addr_len(family), addr);
	nl_req_on_reply(nl, route_reply, type);
}
