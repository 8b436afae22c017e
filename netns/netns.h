/* Throwaway network namespaces for one case: creation, the guard that keeps every write
 * out of the runner's own namespace, and the two topologies.
 *
 * All functions return 0 on success or a negative errno, and fill err (when non-NULL)
 * with a one-line message naming what failed. None of them keeps global state: what a
 * case needs is in its struct topo. */
#ifndef SOCKREUSE_NETNS_H
#define SOCKREUSE_NETNS_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <netinet/in.h>

/* Identity of a network namespace: st_ino and st_dev of /proc/self/ns/net. */
struct ns_id {
	dev_t dev;
	ino_t ino;
};

/* The namespace this process is in now. */
int ns_current(struct ns_id *out);
/* True when this process is no longer in the namespace `origin` (recorded by the runner at
 * start, before any fork). Every write to the network configuration checks this first. */
bool ns_is_private(const struct ns_id *origin);
/* An O_RDONLY|O_CLOEXEC fd of this thread's network namespace, or -errno. */
int ns_open_current(void);

enum topo_kind {
	TOPO_LOOPBACK, /* one namespace, lo up */
	TOPO_PAIR,     /* host A and host B, each its own namespace, joined by a veth pair */
};

/* Host indices. */
enum { HOST_A = 0, HOST_B = 1 };

/* Addresses (in network byte order inside the structs):
 *   loopback: A = 127.0.0.1 / ::1, A2 = 127.0.0.2 / 2001:db8::11 (on lo), B = A
 *   pair:     A = 192.0.2.1/24 / 2001:db8::1/64, A2 = 192.0.2.11 / 2001:db8::11 (on A's veth),
 *             B = 192.0.2.2/24 / 2001:db8::2/64,
 *   unassigned (no host has it, no neighbour answers): 192.0.2.99 / 2001:db8::99
 * IPv6 addresses are added with IFA_F_NODAD so they are usable at once. */
struct topo {
	enum topo_kind kind;
	int ns[2];           /* namespace fds (O_RDONLY of /proc/self/ns/net); ns[1] = -1 on loopback */
	int ifindex[2];      /* veth end in each host; lo's index on loopback */
	unsigned char mac[2][6];
	struct in_addr a4[2], a4_second;   /* [HOST_A], [HOST_B], A's second address */
	struct in6_addr a6[2], a6_second;
	struct in_addr unassigned4;
	struct in6_addr unassigned6;
};

/* Creates the topology's namespaces from the current process (which must already be in a
 * private namespace: the caller unshared first) and leaves the process in host A.
 * origin is the runner's namespace, for the guard.
 * The namespace must be fresh (only lo): on the pair the veth ends get fixed indexes
 * (A: 2 "veth0", B: 3 "veth1") and fixed MACs, and each host has permanent neighbour
 * entries for the other's addresses. On return everything is usable at once: IPv6
 * addresses are local and both veth ends transmit (no first packet is lost). */
int topo_build(enum topo_kind kind, const struct ns_id *origin, struct topo *t, char *err, size_t errlen);
/* Host A's second IPv6 address, the same on both topologies (a case naming it literally needs it). */
#define TOPO_A6_SECOND "2001:db8::11"
/* Loopback only: leave out host A's second IPv6 address (2001:db8::11 on lo). That address
 * becomes reachable only once a kernel work item has added its local route, which topo_build
 * waits for; a case that never uses host2 need not pay for it. (::1 is ready at once.) */
#define TOPO_NO_SECOND_ADDRESS 1u
/* A namespace that served an earlier case and was found empty (ns_left_empty) after it:
 * lo is up already, nothing is built. Only with TOPO_NO_SECOND_ADDRESS, on loopback. */
#define TOPO_REUSED 2u
int topo_build_with(enum topo_kind kind, unsigned flags, const struct ns_id *origin, struct topo *t, char *err,
		    size_t errlen);
/* Moves this process into host h (setns). Sockets created afterwards live there. */
int topo_enter(const struct topo *t, int h, char *err, size_t errlen);
/* Closes the namespace fds (the namespaces vanish with their last user). */
void topo_close(struct topo *t);

/* Wire control on the pair topology (all are -EOPNOTSUPP on loopback):
 * drop packets that host `from` sends to the other host (true), or deliver them again (false).
 * Implemented with a permanent neighbour entry carrying a wrong link-layer address in the
 * sender's namespace, for both families: frames reach the other end addressed to a foreign
 * MAC and are discarded there, while the reverse direction keeps working. */
int topo_drop(const struct topo *t, int from, bool drop, char *err, size_t errlen);
/* Takes host h's veth end down or up. Down makes the kernel flush h's IPv6 addresses and
 * its neighbour entries; up (after a down) restores them as topo_build set them, so a
 * topo_drop from h does not survive a down/up cycle, and waits until traffic can flow. */
int topo_link(const struct topo *t, int h, bool up, char *err, size_t errlen);
/* Adds a permanent neighbour for the unassigned address in host h so that a SYN to it leaves
 * at once without waiting for ARP/ND, and nothing ever answers. */
int topo_blackhole_unassigned(const struct topo *t, int h, char *err, size_t errlen);

/* Sysctls, by dotted name ("net.ipv4.tcp_tw_reuse"), of the namespace the process is in.
 * sysctl_write refuses (-EPERM, with a message) when the process is in `origin`.
 * Both return -ENOENT when the kernel has no such sysctl. */
int sysctl_read(const char *name, char *val, size_t vallen, char *err, size_t errlen);
int sysctl_write(const struct ns_id *origin, const char *name, const char *val, char *err, size_t errlen);
/* Does the sysctl belong to a network namespace, as the kernel decides (netns/sysctl.c says
 * how it is asked)? 1 when it does, or is absent from this kernel; -EPERM, with a message,
 * when it does not or the kernel cannot be asked. Asked once per name and run: callers ask
 * before cases fork. sysctl_write refuses every other sysctl. */
int sysctl_netns_local(const char *name, char *err, size_t errlen);

/* sock_diag: the TCP sockets of the current namespace whose local port is `port` (and, when
 * rport is non-zero, whose remote port is rport), any state including TIME_WAIT and request
 * sockets. Fills up to max entries; returns the number found (may exceed max) or -errno. */
struct diag_sock {
	int family;
	int state;                /* TCP_ESTABLISHED ... TCP_NEW_SYN_RECV, as <netinet/tcp.h> */
	unsigned short sport, dport;
	unsigned char src[16], dst[16];
	unsigned int inode;       /* 0 for sockets without a file: TIME_WAIT, request socks, orphans */
	int timer;                /* idiag_timer: DIAG_TIMER_TIMEWAIT for a timewait socket, which no full socket has */
};
/* inet_twsk_diag_fill() reports idiag_timer 3 for every timewait socket (TIME_WAIT, or an
 * orphan kept in its FIN_WAIT2 substate); a full socket's timer is 0, 1, 2 or 4. */
#define DIAG_TIMER_TIMEWAIT 3
int diag_tcp(int family, unsigned short port, unsigned short rport, struct diag_sock *out, size_t max,
	     char *err, size_t errlen);
/* The one TCP socket of the current namespace with this four-tuple (addresses in network
 * order, 4 or 16 bytes by family), looked up by the kernel in its hash tables instead of a
 * dump: the cost does not grow with the size of the host's connection table. Returns 1
 * with *out filled, 0 when the kernel has no such socket, or -errno. */
int diag_tcp_one(int family, const void *src, unsigned short sport, const void *dst, unsigned short dport,
		 struct diag_sock *out, char *err, size_t errlen);

/* Every TCP or UDP socket of the current namespace, as sock_diag reports it, in any state.
 * fn is called for each; a non-zero return stops the walk. Needs no privilege. */
struct diag_entry {
	int family, proto;        /* AF_INET / AF_INET6; IPPROTO_TCP / IPPROTO_UDP */
	int state;                /* TCP_* (UDP: TCP_CLOSE unbound-or-bound, TCP_ESTABLISHED connected) */
	unsigned short sport, dport;
	unsigned char src[16], dst[16];
	int ifindex;              /* SO_BINDTODEVICE, 0 for none */
	unsigned long long cookie;
	unsigned int inode, uid;  /* 0 for sockets without a file */
	int timer;                /* idiag_timer: 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 probe */
	unsigned int expires_ms;  /* when that timer fires */
	int v6only;               /* IPV6_V6ONLY of a full IPv6 socket; -1 when not reported */
};
typedef int (*diag_entry_fn)(const struct diag_entry *e, void *data);
int diag_each(int proto, int family, diag_entry_fn fn, void *data, char *err, size_t errlen);

/* 1 when the current namespace holds no TCP socket in any state (TIME_WAIT and request
 * sockets included), no UDP and no raw socket (netns/reuse.c); 0 when it does, or <0 when
 * the kernel could not be asked, with what was found in why. The caller has closed its own
 * files first. */
int ns_left_empty(char *why, size_t whylen);

#endif
