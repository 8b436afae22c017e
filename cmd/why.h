/* sockreuse why: the bind() or connect() in front of an application developer, explained
 * from the sockets of their own namespace and measured by replaying them in a throwaway
 * one (cmd/why.c: the question and the answer; cmd/why_replay.c: the replay as a case). */
#ifndef SOCKREUSE_CMD_WHY_H
#define SOCKREUSE_CMD_WHY_H
#include <stdbool.h>
#include <stddef.h>
#include "observe/observe.h"
#include "lib/util.h"

enum why_op { WHY_BIND, WHY_CONNECT };

/* The call as the user would make it. */
struct why_call {
	enum why_op op;
	int proto;                     /* IPPROTO_TCP, IPPROTO_UDP */
	int family;                    /* of ADDR */
	unsigned char addr[16];
	unsigned short port;
	bool reuseaddr, reuseport, v6only, listen, no_port;
	long uid;                      /* the new socket's owner */
	bool has_from;                 /* connect --from ADDR[:PORT] */
	int from_family;
	unsigned char from[16];
	unsigned short from_port;
	bool json;
	bool show_case;                /* print the replay as a case file */
};

/* The host's settings a replay copies (read in the user's namespace, never written). */
struct why_host {
	long range_lo, range_hi;       /* net.ipv4.ip_local_port_range */
	int tw_reuse;                  /* net.ipv4.tcp_tw_reuse */
	long tw_reuse_delay_ms;        /* net.ipv4.tcp_tw_reuse_delay (6.14+); before: a tick of a seconds clock, 1000 */
	char unpriv_start[16];         /* net.ipv4.ip_unprivileged_port_start */
	char bindv6only[8];            /* net.ipv6.bindv6only */
};

/* One way of replaying: the call as asked, or with one change (a remedy, or one socket
 * group alone). */
enum why_change {
	CHANGE_NONE,
	CHANGE_ALONE,        /* only the sockets of group `group`: does it alone block? */
	CHANGE_REUSEADDR,    /* SO_REUSEADDR on the new socket */
	CHANGE_WAIT,         /* the timewait sockets have expired */
	CHANGE_STOP,         /* process `pid` stopped: its listeners and bound sockets gone, its
			      * connections closed by it (TIME_WAIT) */
	CHANGE_OTHER_ADDR,   /* another local address, nobody's */
	CHANGE_WIDEN,        /* connect: a wider ip_local_port_range */
	CHANGE_NO_PORT,      /* connect --from ADDR: IP_BIND_ADDRESS_NO_PORT */
	CHANGE_TW_REUSE,     /* connect: net.ipv4.tcp_tw_reuse=1 */
	CHANGE_OTHER_SRC,    /* connect: another source address */
};

struct why_variant {
	enum why_change change;
	int pid;
	size_t group;
	int unseen;          /* options of unseen sockets assumed: bit 0 SO_REUSEADDR, bit 1 SO_REUSEPORT */
	char label[160];     /* what the change is, for the user */
	/* filled by the replay */
	bool ran;
	char outcome[32];    /* "ok", an errno name, or "" when the replay could not run */
	char detail[512];
	char case_text_note[8];
};

/* The sockets that bear on the call, grouped: sockets of a group are alike for the call
 * (same protocol, state kind, local address, options, owner), so one stands for all. */
struct why_group {
	size_t first, count;           /* indices into the selection */
};

struct why_selection {
	const struct seen_sock **v;    /* pointers into the observation */
	size_t n;
	struct why_group *groups;
	size_t ngroups;
	/* connect: how the ephemeral range is held */
	long held_established, held_time_wait, held_bound, held_other, free_ports;
	long oldest_tw_age_ms;         /* -1: no timewait toward the remote */
	bool remote_loopback;
};

/* Builds the replay of the call under one variant, as case-file text (number `num`).
 * Returns the text (caller frees), or NULL with the reason in why (what cannot be replayed). */
char *why_case_text(const struct why_call *c, const struct why_host *h, const struct why_selection *sel,
		    const struct why_variant *v, int num, char *why, size_t whylen);
/* Replays every variant, at most two at a time, each in its own throwaway namespace.
 * Returns 0, or -1 with a message (the replay machinery itself failed). */
int why_replay(const struct why_call *c, const struct why_host *h, const struct why_selection *sel,
	       struct why_variant *v, size_t nv, char *err, size_t errlen);
/* How the replay of a connect question maps the host's range, for the answer. */
void why_scale_note(const struct why_host *h, const struct why_selection *sel, struct buf *out);

#endif
