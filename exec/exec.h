/* The state of one running case, shared by the step verbs and the TCP state drivers.
 * It lives on the forked child's stack: nothing here outlives the case. */
#ifndef SOCKREUSE_EXEC_H
#define SOCKREUSE_EXEC_H
#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "lib/kv.h"
#include "plan/plan.h"
#include "netns/netns.h"

#define MAX_SOCKS 96
/* How long the kernel may take to reach a state or finish a handshake. Far more than a
 * loopback or veth exchange needs; the headroom is for kernels under emulation (qemu TCG)
 * on a loaded machine. Only a case that is going to fail ever waits this long. */
#define STATE_DEADLINE_MS 10000.0
#define CONNECT_DEADLINE_MS 10000

/* A named socket of the case. fd is -1 once closed; an orphaned connection (closed while
 * FIN_WAIT1, LAST_ACK, CLOSING, TIME_WAIT ...) is still tracked by its ports so that its
 * state can be read back with sock_diag. */
struct sock_slot {
	char name[32];
	int fd;
	int family;        /* AF_INET or AF_INET6 */
	int type;          /* SOCK_STREAM or SOCK_DGRAM */
	int host;          /* HOST_A or HOST_B */
	unsigned short lport, rport;   /* known once bound / connected */
};

/* Result of one step. */
enum step_rc {
	STEP_OK = 0,
	STEP_ERRNO,   /* the syscall under test failed: ctx->err_no holds errno */
	STEP_ERROR,   /* the case could not be carried out: ctx->msg says why */
	STEP_SKIP,    /* a prerequisite is missing: ctx->msg says which */
};

struct exec_ctx {
	const struct case_inst *ci;
	const struct ns_id *origin;
	struct topo topo;
	int host;                 /* where new sockets are created */
	struct sock_slot socks[MAX_SOCKS];
	size_t nsocks;
	int err_no;
	char msg[400];
	struct kvlist *facts;
	bool in_test;
};

enum step_rc ctx_error(struct exec_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum step_rc ctx_skip(struct exec_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A syscall failed: an outcome in the test block, an error during setup. */
enum step_rc ctx_errno(struct exec_ctx *x, int e, const char *what);

struct sock_slot *slot_find(struct exec_ctx *x, const char *name);
struct sock_slot *slot_new(struct exec_ctx *x, const char *name);
/* Moves the process into host h when it is not there already. */
enum step_rc ctx_enter(struct exec_ctx *x, int h);

/* Resolves an address word (host, host2, peer, any, unassigned, loopback, or a literal)
 * for a family into ss. Returns 0, or -1 with a message in x. */
int addr_resolve(struct exec_ctx *x, const char *word, int family, unsigned short port,
		 struct sockaddr_storage *ss, socklen_t *len);
int family_parse(const char *s);
const char *errno_name(int e);
unsigned short sockaddr_port(const struct sockaddr_storage *ss);

/* TCP state names as the suite writes them, and the kernel's numbers. */
int tcp_state_parse(const char *name);
const char *tcp_state_name(int state);

/* Reads back the state of a tracked socket: TCP_INFO when it has a file, sock_diag when not.
 * Returns the state, or -1 when the kernel knows no such socket. */
int slot_state(struct exec_ctx *x, const struct sock_slot *s);
/* The pause between two looks at the kernel's state in a polling loop, by how many looks
 * there were: a yield at first (loopback events complete within a few scheduling rounds),
 * then 200 us, so that a slow machine is not spun hard. */
void poll_pause(unsigned spins);
/* Lets ms milliseconds pass. Only for scenarios about time passing, never to synchronise. */
void sleep_ms(long ms);

/* Polls the kernel until s is in state, up to STATE_DEADLINE_MS. */
enum step_rc wait_state(struct exec_ctx *x, const struct sock_slot *s, int state);

/* occupy NAME STATE SIDE ADDR PORT [reuseaddr=B] [reuseport=B] */
enum step_rc occupy(struct exec_ctx *x, int argc, char **argv);

#endif
