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
/* What kind of socket holds a connection's port, as sock_diag tells them apart: one whose
 * process still has its file, an orphan (a full socket whose file was closed), a timewait
 * socket (TIME_WAIT, or an orphan the kernel keeps in the FIN_WAIT2 substate), a request
 * socket (SYN_RECV). Cases can depend on the kind: a timewait socket's four-tuple can be
 * taken over by connect(), a full socket's cannot. */
enum holder { HOLDER_ANY = 0, HOLDER_OWNER, HOLDER_ORPHAN, HOLDER_TIMEWAIT, HOLDER_REQUEST };
const char *holder_name(enum holder h);

/* A state a slot can be declared to be in besides the TCP states: the kernel has no socket
 * for it any more (closed, reset, destroyed without TIME_WAIT). */
#define STATE_GONE (-1)

struct sock_slot {
	char name[32];
	int fd;
	int family;        /* AF_INET or AF_INET6 */
	int type;          /* SOCK_STREAM or SOCK_DGRAM */
	int host;          /* HOST_A or HOST_B */
	unsigned short lport, rport;   /* known once bound / connected */
	/* The addresses, once known (ss_family 0 before): with both, the kernel is asked for
	 * this one connection instead of dumping its tables. */
	struct sockaddr_storage local, remote;
	/* The state the case depends on, declared by the step that made it (occupy, wait-state,
	 * close-first): read back again right before the test steps. */
	bool declared;
	int want;              /* a TCP state (TCP_CLOSE: bound) or STATE_GONE */
	enum holder want_holder;
	char declared_by[16];
	double closing_ms, closed_ms;  /* close-first: when the closing began and ended (now_ms()) */
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
	double state_deadline_ms;  /* 0: STATE_DEADLINE_MS (tests that expect a miss lower it) */
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
/* The address inside ss (a struct in_addr or in6_addr), network order. */
const void *sockaddr_addr(const struct sockaddr_storage *ss);

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

/* Polls the kernel until s is in state (or STATE_GONE), up to STATE_DEADLINE_MS. */
enum step_rc wait_state(struct exec_ctx *x, const struct sock_slot *s, int state);
/* The same for one of n states; the state reached in *seen. */
enum step_rc wait_state_in(struct exec_ctx *x, const struct sock_slot *s, const int *states, size_t n, int *seen);
/* The kernel's entry for s, a socket without a file: 1 with *d filled, 0 when the kernel
 * has no such socket, -1 when it cannot be asked. */
int slot_diag(struct exec_ctx *x, const struct sock_slot *s, struct diag_sock *d);
/* The kind of socket the kernel has for s (HOLDER_ANY when it has none). */
enum holder slot_holder(struct exec_ctx *x, const struct sock_slot *s);

/* Declares that the case depends on s being in state (and, unless HOLDER_ANY, held by that
 * kind of socket), and checks it now. by names the step, for messages. */
enum step_rc slot_declare(struct exec_ctx *x, struct sock_slot *s, int state, enum holder h, const char *by);
/* Reads every declared state back from the kernel; STEP_ERROR saying what one became. */
enum step_rc slots_verify(struct exec_ctx *x);

/* ---- the socket toolkit the verbs and the state drivers share (exec/sockops.c) ---- */

/* Opens a socket in host h into the slot NAME (new, or closed before). */
enum step_rc slot_open(struct exec_ctx *x, const char *name, int host, int family, int type, struct sock_slot **out);
/* Puts fd, accepted from listener l, into the slot NAME; on failure fd is closed. */
enum step_rc slot_adopt(struct exec_ctx *x, const char *name, int fd, const struct sock_slot *l, struct sock_slot **out);
/* Reads back s's local and remote address and port from its file. */
void slot_ports(struct sock_slot *s);
/* s connects (or connected) to `to`: its remote end, before getpeername() can tell. */
void slot_set_remote(struct sock_slot *s, const struct sockaddr_storage *to);
/* slot_ports, and in the test block the facts NAME.local_port (and, with remote,
 * NAME.remote_port), so that a report shows which ports were used. */
void slot_record_ports(struct exec_ctx *x, struct sock_slot *s, bool remote);
/* Closes s's file; the slot keeps its ports, so that an orphan's state stays readable. */
void slot_close(struct sock_slot *s);
/* Connects fd to `to`. With wait, waits for the handshake (CONNECT_DEADLINE_MS); without,
 * a connect that is under way (EINPROGRESS) is success. Returns 0 or the errno. */
int connect_fd(int fd, const struct sockaddr_storage *to, socklen_t len, bool wait);
/* Waits (CONNECT_DEADLINE_MS) for a connection on listener fd and accepts it. Returns
 * the new fd, or -errno (-ETIMEDOUT when none came). */
int accept_fd(int lfd);
/* Calls done(arg) until it returns true or ms pass. Returns its last answer. */
bool poll_until(double ms, bool (*done)(void *arg), void *arg);
/* How long x waits for the kernel to reach a state. */
double state_deadline(const struct exec_ctx *x);
/* Ends a connection from one end. first closes (a FIN, or a reset under SO_LINGER {1, 0});
 * second, the other end when the case has it, is waited for until it has seen that
 * (CLOSE_WAIT or CLOSED); then with second_closes it closes too, its FIN carrying the ACK
 * of first's, and is waited for until it is gone; without, it acknowledges first's FIN at
 * once. Finally first must reach want (TIME_WAIT, FIN_WAIT2, STATE_GONE ...). *peer_saw
 * (may be NULL) is the state second saw. */
enum step_rc close_first(struct exec_ctx *x, struct sock_slot *first, struct sock_slot *second, bool second_closes,
			 int want, int *peer_saw);

/* occupy NAME STATE SIDE ADDR PORT [reuseaddr=B] [reuseport=B] */
enum step_rc occupy(struct exec_ctx *x, int argc, char **argv);

#endif
