/* The two topologies: loopback (one namespace) and pair (hosts A and B joined by a veth).
 *
 * Building a pair costs three netlink round trips and no sleep:
 *   1. one batch in A: lo up, the veth (A's end up) with its peer created directly inside
 *      B, A's addresses, A's neighbours;
 *   2. one batch in B (sent as soon as batch 1's sendmsg returned, because the kernel
 *      handles a batch synchronously): lo up, B's end up, B's addresses, B's neighbours;
 *   3. a readiness check in each host, see wait_ready().
 * Interface indexes and MAC addresses are chosen here rather than read back, so that
 * addresses and neighbours can go into the same batch as the link they refer to. */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>

#include "netns/netns.h"
#include "netns/nl.h"
#include "netns/priv.h"
#include "lib/util.h"

#define LO_IFINDEX     1 /* fixed by the kernel in every namespace */
#define VETH_A_IFINDEX 2 /* the namespaces are fresh: only lo exists */
#define VETH_B_IFINDEX 3 /* distinct from A's, so messages name them apart */
#define VETH_A_NAME    "veth0"
#define VETH_B_NAME    "veth1"
/* How long the kernel may take to finish its asynchronous part (IPv6 address routes,
 * link-watch); normally nothing is left by the time we ask. */
#define READY_TIMEOUT_MS 2000

/* Locally administered unicast addresses. Each pair is its own link, so fixed values are
 * safe; NOBODY_MAC belongs to no interface, and frames sent to it are discarded by the
 * receiving veth end (PACKET_OTHERHOST). */
static const unsigned char VETH_A_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const unsigned char VETH_B_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };
static const unsigned char NOBODY_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static void set4(struct in_addr *a, const char *s)
{
	inet_pton(AF_INET, s, a);
}

static void set6(struct in6_addr *a, const char *s)
{
	inet_pton(AF_INET6, s, a);
}

static void fill_loopback(struct topo *t)
{
	set4(&t->a4[HOST_A], "127.0.0.1");
	set4(&t->a4_second, "127.0.0.2");
	t->a6[HOST_A] = in6addr_loopback;
	set6(&t->a6_second, TOPO_A6_SECOND);
	t->a4[HOST_B] = t->a4[HOST_A];
	t->a6[HOST_B] = t->a6[HOST_A];
	t->ifindex[HOST_A] = t->ifindex[HOST_B] = LO_IFINDEX;
}

static void fill_pair(struct topo *t)
{
	set4(&t->a4[HOST_A], "192.0.2.1");
	set4(&t->a4_second, "192.0.2.11");
	set4(&t->a4[HOST_B], "192.0.2.2");
	set6(&t->a6[HOST_A], "2001:db8::1");
	set6(&t->a6_second, TOPO_A6_SECOND);
	set6(&t->a6[HOST_B], "2001:db8::2");
	t->ifindex[HOST_A] = VETH_A_IFINDEX;
	t->ifindex[HOST_B] = VETH_B_IFINDEX;
	memcpy(t->mac[HOST_A], VETH_A_MAC, 6);
	memcpy(t->mac[HOST_B], VETH_B_MAC, 6);
}

static void topo_init(struct topo *t, enum topo_kind kind)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->ns[HOST_A] = t->ns[HOST_B] = -1;
	set4(&t->unassigned4, "192.0.2.99");
	set6(&t->unassigned6, "2001:db8::99");
	if (kind == TOPO_PAIR)
		fill_pair(t);
	else
		fill_loopback(t);
}

static int other_host(int h)
{
	return h == HOST_A ? HOST_B : HOST_A;
}

/* ---- what goes into the batches ---- */

/* lo up, and 127.0.0.1/8 on it: the kernel adds that address itself when lo comes up,
 * "already there" is the expected answer. */
/* Bringing lo up is enough: the kernel gives it 127.0.0.1/8 and ::1 as it comes up
 * (inetdev_event() and addrconf's init_loopback()), with their routes. */
static void queue_lo_up(struct nl *nl)
{
	nl_link_set_up(nl, LO_IFINDEX, true);
}

static void queue_veth(struct nl *nl, const struct topo *t)
{
	struct nl_veth v = {
		.name = VETH_A_NAME,
		.peer_name = VETH_B_NAME,
		.ifindex = t->ifindex[HOST_A],
		.peer_ifindex = t->ifindex[HOST_B],
		.mac = t->mac[HOST_A],
		.peer_mac = t->mac[HOST_B],
		.peer_netns_fd = t->ns[HOST_B],
		.up = true,
	};

	nl_veth_add(nl, &v);
}

static void queue_addr(struct nl *nl, int ifindex, int family, const void *addr, unsigned char plen,
		       unsigned int tolerate)
{
	nl_addr_add(nl, ifindex, family, addr, plen);
	nl_req_tolerate(nl, tolerate);
}

/* Host h's addresses on its veth end. */
static void queue_host_addresses(struct nl *nl, const struct topo *t, int h, unsigned int tolerate)
{
	int dev = t->ifindex[h];

	queue_addr(nl, dev, AF_INET, &t->a4[h], 24, tolerate);
	queue_addr(nl, dev, AF_INET6, &t->a6[h], 64, tolerate);
	if (h != HOST_A)
		return;
	nl_addr_add_secondary(nl, dev, AF_INET, &t->a4_second, 24);
	nl_req_tolerate(nl, tolerate);
	nl_addr_add_secondary(nl, dev, AF_INET6, &t->a6_second, 64);
	nl_req_tolerate(nl, tolerate);
}

/* Permanent neighbours in host `from` for every address of the other host, all pointing at
 * lladdr: the other end's MAC for a working link, NOBODY_MAC to drop. Pre-populating them
 * costs less than one ARP/ND exchange, and ND could not even start before the receiver's
 * asynchronous address setup has joined the solicited-node group. */
static void queue_neighbours(struct nl *nl, const struct topo *t, int from, const unsigned char *lladdr)
{
	int to = other_host(from), dev = t->ifindex[from];

	nl_neigh_set(nl, dev, AF_INET, &t->a4[to], lladdr);
	nl_neigh_set(nl, dev, AF_INET6, &t->a6[to], lladdr);
	if (to != HOST_A)
		return;
	nl_neigh_set(nl, dev, AF_INET, &t->a4_second, lladdr);
	nl_neigh_set(nl, dev, AF_INET6, &t->a6_second, lladdr);
}

/* ---- readiness ----
 *
 * Two parts of the setup finish asynchronously in the kernel, after the netlink calls have
 * returned:
 *  - an IPv6 address, even with IFA_F_NODAD, gets its local route from a work item; until
 *    then packets to it are not delivered;
 *  - when a veth end gets its carrier from the peer coming up, its qdisc is attached by the
 *    link-watch work item; until then it drops what it sends.
 * RTM_GETLINK runs a pending link-watch event for the device (kernel >= 6.7), so usually
 * the first query already finds everything ready. Otherwise we join the groups that
 * announce the missing events and query again after each notification, up to a deadline. */

struct readiness {
	int ifindex; /* 0: no link to check */
	const struct in6_addr *addr[2];
	size_t naddr;
};

static void describe_link_state(const struct nl_link *l, char *why, size_t len)
{
	snprintf(why, len, "dev %d not operationally up (operstate %d)", l->ifindex, l->operstate);
}

/* One round trip: *why is empty when everything is ready. */
static int query_ready(struct nl *nl, const struct readiness *r, char *why, size_t whylen, char *err, size_t errlen)
{
	unsigned char type[2];
	struct nl_link link;
	char a[INET6_ADDRSTRLEN];
	size_t i;
	int rc;

	if (r->ifindex)
		nl_link_get(nl, r->ifindex, &link);
	for (i = 0; i < r->naddr; i++)
		nl_route_get(nl, AF_INET6, r->addr[i], &type[i]);
	rc = nl_exchange(nl, err, errlen);
	if (rc)
		return rc;
	why[0] = '\0';
	if (r->ifindex && link.operstate != IF_OPER_UP) {
		link.ifindex = r->ifindex;
		describe_link_state(&link, why, whylen);
		return 0;
	}
	for (i = 0; i < r->naddr; i++) {
		if (type[i] != RTN_LOCAL) {
			snprintf(why, whylen, "%s not yet a local address (route type %u)",
				 inet_ntop(AF_INET6, r->addr[i], a, sizeof(a)), type[i]);
			return 0;
		}
	}
	return 0;
}

static int subscribe_ready_events(struct nl *nl, bool on, char *err, size_t errlen)
{
	int rc = nl_subscribe(nl, RTNLGRP_LINK, on, err, errlen);

	return rc ? rc : nl_subscribe(nl, RTNLGRP_IPV6_ROUTE, on, err, errlen);
}

static int wait_ready(struct nl *nl, const struct readiness *r, char *err, size_t errlen)
{
	double deadline = now_ms() + READY_TIMEOUT_MS;
	bool subscribed = false;
	char why[128];
	int rc;

	/* The verdict always comes from a query, never from a notification or a timeout. */
	for (;;) {
		rc = query_ready(nl, r, why, sizeof(why), err, errlen);
		if (rc || !why[0])
			break;
		if (!subscribed) {
			/* Query once more after joining: the event may have come in between. */
			rc = subscribe_ready_events(nl, true, err, errlen);
			if (rc)
				break;
			subscribed = true;
			continue;
		}
		if (now_ms() >= deadline) {
			rc = ns_failmsg(err, errlen, -ETIMEDOUT, "%s after %d ms", why, READY_TIMEOUT_MS);
			break;
		}
		nl_wait_event(nl, deadline);
	}
	if (subscribed)
		subscribe_ready_events(nl, false, NULL, 0);
	return rc;
}

static int wait_host_ready(struct nl *nl, const struct topo *t, int h, bool check_link, char *err, size_t errlen)
{
	struct readiness r = {
		.ifindex = check_link ? t->ifindex[h] : 0,
		.addr = { &t->a6[h], &t->a6_second },
		.naddr = h == HOST_A ? 2 : 1,
	};

	return wait_ready(nl, &r, err, errlen);
}

/* ---- namespaces ---- */

/* Creates host B's namespace: returns its fd and a netlink socket living in it, and puts
 * the thread back into `home` (host A) whatever happens. */
static int spawn_namespace(int home, int *nsfd, struct nl *nl, char *err, size_t errlen)
{
	int rc;

	if (unshare(CLONE_NEWNET) < 0)
		return ns_fail(err, errlen, -errno, "unshare(CLONE_NEWNET) for host B");
	rc = ns_open_current();
	if (rc < 0)
		ns_fail(err, errlen, rc, "open host B's namespace");
	else
		*nsfd = rc;
	if (rc >= 0)
		rc = nl_open(nl, NETLINK_ROUTE, err, errlen);
	if (setns(home, CLONE_NEWNET) < 0)
		return ns_fail(err, errlen, -errno, "setns back to host A");
	return rc < 0 ? rc : 0;
}

/* A netlink socket in host h's namespace; the thread stays where it is. */
static int nl_open_in(struct nl *nl, const struct topo *t, int h, char *err, size_t errlen)
{
	int here = ns_open_current(), fd = t->ns[h] >= 0 ? t->ns[h] : t->ns[HOST_A];
	int rc;

	nl->sock = NULL;
	if (here < 0)
		return ns_fail(err, errlen, here, "open current namespace");
	if (setns(fd, CLONE_NEWNET) < 0) {
		rc = ns_fail(err, errlen, -errno, "setns into host %c", 'A' + h);
		close(here);
		return rc;
	}
	rc = nl_open(nl, NETLINK_ROUTE, err, errlen);
	if (setns(here, CLONE_NEWNET) < 0) {
		rc = ns_fail(err, errlen, -errno, "setns back from host %c", 'A' + h);
		nl_close(nl);
	}
	close(here);
	return rc;
}

/* ---- building ---- */

static int build_loopback(struct topo *t, unsigned flags, char *err, size_t errlen)
{
	struct readiness r = { .addr = { &t->a6[HOST_A], &t->a6_second }, .naddr = 2 };
	struct nl nl;
	int rc;

	rc = ns_open_current();
	if (rc < 0)
		return ns_fail(err, errlen, rc, "open current namespace");
	t->ns[HOST_A] = rc;
	if (flags & TOPO_REUSED)
		return (flags & TOPO_NO_SECOND_ADDRESS) ? 0
			: ns_failmsg(err, errlen, -EINVAL, "a reused namespace has no second address");
	rc = nl_open(&nl, NETLINK_ROUTE, err, errlen);
	if (rc)
		return rc;
	queue_lo_up(&nl);
	if (!(flags & TOPO_NO_SECOND_ADDRESS))
		queue_addr(&nl, LO_IFINDEX, AF_INET6, &t->a6_second, 128, 0);
	rc = nl_exchange(&nl, err, errlen);
	/* lo's own ::1 gets its route while lo comes up; only the added address is waited for. */
	if (!rc && !(flags & TOPO_NO_SECOND_ADDRESS))
		rc = wait_ready(&nl, &r, err, errlen);
	nl_close(&nl);
	return rc;
}

static void queue_host_a(struct nl *nl, const struct topo *t)
{
	queue_lo_up(nl);
	queue_veth(nl, t);
	queue_host_addresses(nl, t, HOST_A, 0);
	queue_neighbours(nl, t, HOST_A, t->mac[HOST_B]);
}

static void queue_host_b(struct nl *nl, const struct topo *t)
{
	queue_lo_up(nl);
	nl_link_set_up(nl, t->ifindex[HOST_B], true);
	queue_host_addresses(nl, t, HOST_B, 0);
	queue_neighbours(nl, t, HOST_B, t->mac[HOST_A]);
}

static int configure_pair(struct nl *nla, struct nl *nlb, const struct topo *t, char *err, size_t errlen)
{
	int rc;

	queue_host_a(nla, t);
	rc = nl_send(nla, err, errlen);
	if (rc)
		return rc;
	/* The veth exists in B now: sendmsg on nla has processed the whole batch. */
	queue_host_b(nlb, t);
	rc = nl_send(nlb, err, errlen);
	if (!rc)
		rc = nl_wait(nla, err, errlen);
	if (!rc)
		rc = nl_wait(nlb, err, errlen);
	if (!rc)
		rc = wait_host_ready(nla, t, HOST_A, true, err, errlen);
	if (!rc)
		rc = wait_host_ready(nlb, t, HOST_B, true, err, errlen);
	return rc;
}

static int build_pair(struct topo *t, char *err, size_t errlen)
{
	struct nl nla, nlb;
	int rc;

	nla.sock = NULL;
	nlb.sock = NULL;
	rc = ns_open_current();
	if (rc < 0)
		return ns_fail(err, errlen, rc, "open host A's namespace");
	t->ns[HOST_A] = rc;
	rc = nl_open(&nla, NETLINK_ROUTE, err, errlen);
	if (!rc)
		rc = spawn_namespace(t->ns[HOST_A], &t->ns[HOST_B], &nlb, err, errlen);
	if (!rc)
		rc = configure_pair(&nla, &nlb, t, err, errlen);
	nl_close(&nla);
	nl_close(&nlb);
	return rc;
}

int topo_build(enum topo_kind kind, const struct ns_id *origin, struct topo *t, char *err, size_t errlen)
{
	return topo_build_with(kind, 0, origin, t, err, errlen);
}

int topo_build_with(enum topo_kind kind, unsigned flags, const struct ns_id *origin, struct topo *t, char *err,
		    size_t errlen)
{
	int rc;

	topo_init(t, kind);
	if (!ns_is_private(origin))
		return ns_failmsg(err, errlen, -EPERM, "refusing to build a topology in the runner's own namespace");
	switch (kind) {
	case TOPO_LOOPBACK:
		rc = build_loopback(t, flags, err, errlen);
		break;
	case TOPO_PAIR:
		rc = build_pair(t, err, errlen);
		break;
	default:
		return ns_failmsg(err, errlen, -EINVAL, "topo_build: unknown topology %d", (int)kind);
	}
	if (rc)
		topo_close(t);
	return rc;
}

static int check_host(const struct topo *t, int h, const char *fn, char *err, size_t errlen)
{
	if (h != HOST_A && h != HOST_B)
		return ns_failmsg(err, errlen, -EINVAL, "%s: no host %d", fn, h);
	if (t->ns[HOST_A] < 0)
		return ns_failmsg(err, errlen, -EBADF, "%s: topology not built (or closed)", fn);
	return 0;
}

int topo_enter(const struct topo *t, int h, char *err, size_t errlen)
{
	int rc = check_host(t, h, "topo_enter", err, errlen);
	int fd;

	if (rc)
		return rc;
	fd = t->ns[h] >= 0 ? t->ns[h] : t->ns[HOST_A]; /* on loopback B is A */
	if (setns(fd, CLONE_NEWNET) < 0)
		return ns_fail(err, errlen, -errno, "setns into host %c", 'A' + h);
	return 0;
}

void topo_close(struct topo *t)
{
	int h;

	for (h = HOST_A; h <= HOST_B; h++) {
		if (t->ns[h] >= 0)
			close(t->ns[h]);
		t->ns[h] = -1;
	}
}

/* ---- wire control ---- */

static int check_pair_host(const struct topo *t, int h, const char *fn, char *err, size_t errlen)
{
	int rc = check_host(t, h, fn, err, errlen);

	if (rc)
		return rc;
	if (t->kind != TOPO_PAIR)
		return ns_failmsg(err, errlen, -EOPNOTSUPP, "%s: not available on the loopback topology", fn);
	return 0;
}

/* A netlink socket in host h of a pair, for fn. */
static int pair_nl_open(struct nl *nl, const struct topo *t, int h, const char *fn, char *err,
			size_t errlen)
{
	int rc = check_pair_host(t, h, fn, err, errlen);

	return rc ? rc : nl_open_in(nl, t, h, err, errlen);
}

int topo_drop(const struct topo *t, int from, bool drop, char *err, size_t errlen)
{
	struct nl nl;
	int rc = pair_nl_open(&nl, t, from, "topo_drop", err, errlen);

	if (rc)
		return rc;
	queue_neighbours(&nl, t, from, drop ? NOBODY_MAC : t->mac[other_host(from)]);
	rc = nl_exchange(&nl, err, errlen);
	nl_close(&nl);
	return rc;
}

/* Taking a link down makes the kernel flush that host's IPv6 addresses (unless
 * keep_addr_on_down) and its neighbours, permanent ones included; bringing it up again
 * restores what topo_build set up, so a topo_drop from that host does not survive a
 * down/up cycle. */
static void queue_restore_host(struct nl *nl, const struct topo *t, int h)
{
	queue_host_addresses(nl, t, h, NL_EEXIST_OK);
	queue_neighbours(nl, t, h, t->mac[other_host(h)]);
}

static int link_is_up(struct nl *nl, int ifindex, bool *up, char *err, size_t errlen)
{
	struct nl_link l;
	int rc;

	nl_link_get(nl, ifindex, &l);
	rc = nl_exchange(nl, err, errlen);
	*up = !rc && (l.flags & IFF_UP);
	return rc;
}

static int link_switch(struct nl *nlh, struct nl *nlo, const struct topo *t, int h, bool up, char *err,
		       size_t errlen)
{
	int o = other_host(h);
	struct nl_link peer;
	bool was_up;
	int rc;

	rc = link_is_up(nlh, t->ifindex[h], &was_up, err, errlen);
	if (rc)
		return rc;
	nl_link_set_up(nlh, t->ifindex[h], up);
	/* Only after a real down: on a link that stayed up it would undo a topo_drop. */
	if (up && !was_up)
		queue_restore_host(nlh, t, h);
	rc = nl_exchange(nlh, err, errlen);
	if (rc)
		return rc;
	/* Also runs the other end's pending link-watch event: its carrier changed with ours. */
	nl_link_get(nlo, t->ifindex[o], &peer);
	rc = nl_exchange(nlo, err, errlen);
	if (rc || !up || !(peer.flags & IFF_UP))
		return rc; /* with the other end down, there is no carrier to wait for */
	rc = wait_host_ready(nlh, t, h, true, err, errlen);
	if (!rc)
		rc = wait_host_ready(nlo, t, o, true, err, errlen);
	return rc;
}

int topo_link(const struct topo *t, int h, bool up, char *err, size_t errlen)
{
	struct nl nlh, nlo;
	int rc = check_pair_host(t, h, "topo_link", err, errlen);

	nlh.sock = NULL;
	nlo.sock = NULL;
	if (!rc)
		rc = nl_open_in(&nlh, t, h, err, errlen);
	if (!rc)
		rc = nl_open_in(&nlo, t, other_host(h), err, errlen);
	if (!rc)
		rc = link_switch(&nlh, &nlo, t, h, up, err, errlen);
	nl_close(&nlh);
	nl_close(&nlo);
	return rc;
}

int topo_blackhole_unassigned(const struct topo *t, int h, char *err, size_t errlen)
{
	struct nl nl;
	int rc = pair_nl_open(&nl, t, h, "topo_blackhole_unassigned", err, errlen);

	if (rc)
		return rc;
	nl_neigh_set(&nl, t->ifindex[h], AF_INET, &t->unassigned4, NOBODY_MAC);
	nl_neigh_set(&nl, t->ifindex[h], AF_INET6, &t->unassigned6, NOBODY_MAC);
	rc = nl_exchange(&nl, err, errlen);
	nl_close(&nl);
	return rc;
}
