/* A small netlink client on libmnl, for rtnetlink and sock_diag (internal to netns/).
 *
 * Requests are queued into a batch and go out with one sendmsg(). The kernel handles a
 * batch in order and synchronously, inside that sendmsg(), so once nl_send() has returned
 * a batch on another socket (another namespace) may rely on its effects. nl_wait() then
 * collects the replies, matches each to its request by sequence number, and reports the
 * first request that failed by its description, e.g.
 * "RTM_NEWADDR 192.0.2.1/24 dev 2: File exists".
 *
 * A struct nl is one socket in the namespace the thread was in when nl_open() ran. It keeps
 * no global state; it is big (batch buffer inside), so callers keep it on the stack. */
#ifndef SOCKREUSE_NETNS_NL_H
#define SOCKREUSE_NETNS_NL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/if.h>
#include <libmnl/libmnl.h>

#define NL_MAX_REQS    32
#define NL_BATCH_BYTES 8192
#define NL_MAX_MSG     512 /* longer than any request built here */
#define NL_WHAT_LEN    80

/* Called for each data reply to a request (acks are handled by nl_wait): 0 or -errno. */
typedef int (*nl_reply_fn)(const struct nlmsghdr *nlh, void *data);

enum nl_tolerate {
	NL_EEXIST_OK = 1 << 0, /* "make sure it exists" */
	NL_ENOENT_OK = 1 << 1, /* "make sure it is gone" */
};

struct nl_req {
	unsigned int seq;
	unsigned int tolerate;
	nl_reply_fn fn;
	void *data;
	bool done;
	int error;
	char what[NL_WHAT_LEN];
};

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;          /* of the last request queued */
	size_t len;                /* bytes of finished requests in buf */
	struct nlmsghdr *building; /* request being built, not yet in len */
	unsigned int nreq;
	bool overflow;
	bool notified;             /* a notification came in since nl_wait_event() last looked */
	const struct nl_req *extack_of; /* the failed request extack explains */
	char extack[128];          /* the kernel's explanation of a failure */
	struct nl_req req[NL_MAX_REQS];
	/* The tail past NL_BATCH_BYTES is scratch where requests that did not fit are built
	 * and dropped: builders need no error path, nl_send() reports the overflow. */
	char buf[NL_BATCH_BYTES + NL_MAX_MSG] __attribute__((aligned(8)));
};

/* A socket of `protocol` (NETLINK_ROUTE, NETLINK_SOCK_DIAG) in the current namespace. */
int nl_open(struct nl *nl, int protocol, char *err, size_t errlen);
void nl_close(struct nl *nl);

/* Queues a request (NLM_F_REQUEST | NLM_F_ACK | flags); the caller appends the payload.
 * fmt describes it for error messages. */
struct nlmsghdr *nl_req_start(struct nl *nl, uint16_t type, uint16_t flags, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Options for the request queued last. */
void nl_req_on_reply(struct nl *nl, nl_reply_fn fn, void *data);
void nl_req_tolerate(struct nl *nl, unsigned int tolerate);
/* Appends a zeroed, aligned fixed header inside a nest (VETH_INFO_PEER carries an ifinfomsg). */
void *nl_put_nested_header(struct nlmsghdr *nlh, size_t size);

int nl_send(struct nl *nl, char *err, size_t errlen);
int nl_wait(struct nl *nl, char *err, size_t errlen);
/* nl_send + nl_wait. */
int nl_exchange(struct nl *nl, char *err, size_t errlen);

/* Notifications, for waiting on a kernel event instead of sleeping. */
int nl_subscribe(struct nl *nl, unsigned int group, bool on, char *err, size_t errlen);
/* Returns at once if a notification came in since the last call (even one that arrived
 * among the replies of nl_wait); otherwise blocks until one arrives (0) or the monotonic
 * deadline (ms, as now_ms()) passes (-ETIMEDOUT). Discards what is queued: callers query
 * again. Not to be called with requests in flight. */
int nl_wait_event(struct nl *nl, double deadline_ms);

/* rtnetlink requests. Addresses are in network byte order (struct in_addr / in6_addr). */
struct nl_veth {
	const char *name, *peer_name;
	int ifindex, peer_ifindex;          /* 0: let the kernel choose */
	const unsigned char *mac, *peer_mac; /* 6 bytes, or NULL for random */
	int peer_netns_fd;                   /* -1: same namespace */
	bool up;                             /* the first end only: the peer can only be
					      * brought up once the pair exists */
};
void nl_veth_add(struct nl *nl, const struct nl_veth *v);
void nl_link_set_up(struct nl *nl, int ifindex, bool up);
/* IPv6 addresses get IFA_F_NODAD; 127/8 gets host scope. */
void nl_addr_add(struct nl *nl, int ifindex, int family, const void *addr, unsigned char prefixlen);
/* An address that sockets may bind but the kernel never picks as a source (IPv6: deprecated). */
void nl_addr_add_secondary(struct nl *nl, int ifindex, int family, const void *addr, unsigned char prefixlen);
/* A permanent entry (created or replaced). */
void nl_neigh_set(struct nl *nl, int ifindex, int family, const void *addr, const unsigned char lladdr[6]);
void nl_neigh_del(struct nl *nl, int ifindex, int family, const void *addr);

struct nl_link {
	int ifindex;
	unsigned int flags; /* IFF_* */
	int operstate;      /* IF_OPER_*; -1 if not reported */
	unsigned char mac[6];
	char name[IFNAMSIZ];
};
/* Also makes the kernel run a pending link-watch event for the device (kernel >= 6.7), so
 * that a carrier that went on is usable, and reported, once the reply arrives. */
void nl_link_get(struct nl *nl, int ifindex, struct nl_link *out);
/* The route the kernel would use to send to addr: *type gets its RTN_* type. */
void nl_route_get(struct nl *nl, int family, const void *addr, unsigned char *type);

#endif
