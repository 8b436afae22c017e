/* The sockets of the current network namespace, as an application developer's call meets
 * them: what sock_diag reports (every state, TIME_WAIT and request sockets included), the
 * process that owns each (/proc/PID/fd) and the options sock_diag does not report
 * (SO_REUSEADDR, SO_REUSEPORT, read by a BPF iterator). Everything here only reads.
 *
 * What could not be seen stays unknown (-1) and the observation says why, so that the
 * caller can answer for each possibility instead of guessing. */
#ifndef SOCKREUSE_OBSERVE_H
#define SOCKREUSE_OBSERVE_H
#include <stdbool.h>
#include <stddef.h>

struct seen_sock {
	int proto;                 /* IPPROTO_TCP, IPPROTO_UDP */
	int family;                /* AF_INET, AF_INET6 */
	int state;                 /* TCP_*; TCP_NEW_SYN_RECV (12) for a request socket */
	unsigned char laddr[16], raddr[16];
	unsigned short lport, rport;
	unsigned long long cookie;
	unsigned int inode;        /* 0: no file (TIME_WAIT, request socket, orphan) */
	long uid;                  /* -1: the kernel does not say (timewait and request sockets) */
	int ifindex;               /* bound device, 0 for none */
	int v6only, reuseaddr, reuseport;  /* 0/1, -1 unseen */
	long timer_ms;             /* TIME_WAIT (and FIN_WAIT2 orphan) time left; -1 none */
	int pid;                   /* owner; -1 none or unseen */
	char command[32];
};

struct observation {
	struct seen_sock *v;
	size_t n, cap;
	bool options_seen;         /* the BPF iterator ran */
	char options_why[256];     /* why not */
	bool owners_all_seen;      /* every process's fds could be read */
	char owners_why[256];
};

/* Reads every socket of protocol proto (IPPROTO_TCP or IPPROTO_UDP) of the current
 * namespace into o (appending), with their options when the BPF iterator can run.
 * Returns 0, or -1 with a message when sock_diag itself fails. */
int observe_sockets(struct observation *o, int proto, char *err, size_t errlen);
/* Fills pid and command of the sockets for which want(s) holds, from /proc/PID/fd. */
void observe_owners(struct observation *o, bool (*want)(const struct seen_sock *s, void *arg), void *arg);
void observe_free(struct observation *o);

/* Options of sockets, by cookie, from the BPF iterator: sets reuseaddr, reuseport and (for
 * timewait sockets) v6only of the entries of o. Returns 0, or -1 with the reason in why. */
int observe_options(struct observation *o, int proto, char *why, size_t whylen);

/* "127.0.0.1:8000", "[::]:8000" */
void seen_addr_str(int family, const unsigned char *addr, unsigned short port, char *out, size_t len);
/* The suite's state name: LISTEN, TIME_WAIT, SYN_RECV ...; UDP: BOUND or CONNECTED. */
const char *seen_state_name(const struct seen_sock *s);

#endif
