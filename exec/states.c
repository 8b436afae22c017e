/* State drivers: `occupy NAME STATE SIDE ADDRESS PORT [OPTION=VALUE...]` leaves host A's
 * ADDRESS:PORT held by a socket in STATE and verifies that state from the kernel before
 * the case goes on. The options say what kind of socket holds it: reuseaddr=, reuseport=,
 * v6only= (0|1), family= (inet|inet6), proto= (tcp|udp: a UDP occupant is BOUND or,
 * connected, ESTABLISHED), dev= (SO_BINDTODEVICE), rport= (the remote's port). Several
 * occupy steps put several sockets on one port.
 *
 * SIDE says which end of the connection holds the port: `active` is the end that
 * connected (its port was bound before connect()), `passive` the end accept() returned
 * (it inherited the port of a listener, which is closed once the connection is accepted,
 * so that only the connection holds the port). The other end, the remote, is on host B
 * (pair topology) or on host A itself (loopback).
 *
 * States where one end must not hear from the other (SYN_SENT, SYN_RECV, FIN_WAIT1,
 * CLOSING, LAST_ACK) drop one direction on the pair topology, so no state waits on a timer
 * or a race. Closing states are reached with close(), as when a server process exits: the
 * occupant is then an orphan (or a TIME_WAIT socket) and is read back with sock_diag. */
#include "exec/exec.h"
#include "exec/verbs.h"
#include "parse/verbs_spec.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>

struct occupy_req {
	const char *name;
	int state;            /* kernel TCP state; TCP_CLOSE for BOUND */
	const char *state_name;
	int passive;
	const char *addr;
	unsigned short port;
	int reuseaddr, reuseport;
	int v6only;           /* IPV6_V6ONLY: -1 leaves the kernel's default */
	int family;
	int type;             /* SOCK_STREAM or SOCK_DGRAM */
	const char *dev;      /* SO_BINDTODEVICE, or NULL */
	unsigned short rport;  /* the remote's listener an active occupant connects to */
	char listener_name[48], remote_name[48];  /* the helper sockets: NAME.listener, NAME.remote */
};

/* The sockets of the connection being driven. */
struct conn {
	struct sock_slot *occ;       /* the end holding ADDRESS:PORT */
	struct sock_slot *remote;    /* the other end */
	struct sock_slot *listener;  /* the listener that accepted (passive) or the remote's (active) */
	int remote_host;
	const char *remote_addr;     /* the remote's address word, seen from host A */
};

static enum step_rc set_flag(struct exec_ctx *x, struct sock_slot *s, int opt, int on, const char *what)
{
	if (on && setsockopt(s->fd, SOL_SOCKET, opt, &on, sizeof(on)) < 0)
		return ctx_errno(x, errno, what);
	return STEP_OK;
}

/* The occupant's options, set before it binds. */
static enum step_rc set_options(struct exec_ctx *x, struct sock_slot *s, const struct occupy_req *r)
{
	enum step_rc rc;
	if ((rc = set_flag(x, s, SO_REUSEADDR, r->reuseaddr, "SO_REUSEADDR")) ||
	    (rc = set_flag(x, s, SO_REUSEPORT, r->reuseport, "SO_REUSEPORT")))
		return rc;
	if (r->v6only >= 0 && s->family == AF_INET6 &&
	    setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &r->v6only, sizeof(r->v6only)) < 0)
		return ctx_errno(x, errno, "IPV6_V6ONLY");
	if (r->dev && strcmp(r->dev, "none") &&
	    setsockopt(s->fd, SOL_SOCKET, SO_BINDTODEVICE, r->dev, (socklen_t)strlen(r->dev)) < 0)
		return ctx_errno(x, errno, "SO_BINDTODEVICE");
	return STEP_OK;
}

/* How the other end reaches an occupant on addr, and in which family it talks: a
 * v4-mapped occupant talks IPv4, so its remote is an IPv4 socket; a wildcard occupant is
 * reached at the host's address. A literal is written into buf. NULL on a bad address. */
static const char *reach(struct exec_ctx *x, const struct occupy_req *r, int *family, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	*family = r->family;
	if (addr_resolve(x, r->addr, r->family, 0, &ss, &sl) < 0)
		return NULL;
	if (r->family == AF_INET)
		return ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY) ? "host" : r->addr;
	const struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
	if (IN6_IS_ADDR_UNSPECIFIED(a6))
		return "host";
	if (!IN6_IS_ADDR_V4MAPPED(a6))
		return r->addr;
	*family = AF_INET;
	if (a6->s6_addr32[3] == htonl(INADDR_ANY))
		return "host";
	inet_ntop(AF_INET, &a6->s6_addr32[3], buf, (socklen_t)len);
	return buf;
}

/* Where an active occupant sends to: the remote's address, v4-mapped for a v4-mapped one. */
static const char *remote_target(const struct occupy_req *r, const struct conn *c, int rfamily)
{
	if (rfamily == r->family)
		return c->remote_addr;
	return c->remote_host == HOST_B ? "peer-mapped" : "host-mapped";
}

/* Binds s to ADDRESS:PORT and reads the binding back: the port and the address must be the
 * ones asked for. */
static enum step_rc bind_to(struct exec_ctx *x, struct sock_slot *s, const char *addr, unsigned short port)
{
	struct sockaddr_storage ss, got;
	socklen_t len, glen = sizeof(got);
	if (addr_resolve(x, addr, s->family, port, &ss, &len) < 0)
		return STEP_ERROR;
	if (bind(s->fd, (struct sockaddr *)&ss, len) < 0)
		return ctx_errno(x, errno, "bind");
	if (getsockname(s->fd, (struct sockaddr *)&got, &glen) < 0 || glen != len || memcmp(&got, &ss, len) != 0)
		return ctx_error(x, "occupy: %s does not read back as bound to %s port %u", s->name, addr, port);
	s->lport = port;
	return STEP_OK;
}

/* Starts a connect without waiting: the state waits that follow are the synchronisation. */
static enum step_rc connect_start(struct exec_ctx *x, struct sock_slot *s, const char *addr, unsigned short port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (ctx_enter(x, s->host) != STEP_OK || addr_resolve(x, addr, s->family, port, &ss, &len) < 0)
		return STEP_ERROR;
	int e = connect_fd(s->fd, &ss, len, false);
	if (e)
		return ctx_errno(x, e, "connect");
	slot_ports(s);
	slot_set_remote(s, &ss);
	return STEP_OK;
}

static enum step_rc accept_into(struct exec_ctx *x, struct sock_slot *l, const char *name, struct sock_slot **out)
{
	if (ctx_enter(x, l->host) != STEP_OK)
		return STEP_ERROR;
	int fd = accept_fd(l->fd);
	if (fd == -ETIMEDOUT)
		return ctx_error(x, "no connection reached the listener within %d ms", CONNECT_DEADLINE_MS);
	if (fd < 0)
		return ctx_errno(x, -fd, "accept");
	return slot_adopt(x, name, fd, l, out);
}

static enum step_rc drop(struct exec_ctx *x, int from)
{
	char err[256];
	if (topo_drop(&x->topo, from, true, err, sizeof(err)) < 0)
		return ctx_error(x, "%s", err);
	return STEP_OK;
}

/* The occupant binds ADDRESS:PORT and connects out to the remote's listener. */
static enum step_rc open_active(struct exec_ctx *x, const struct occupy_req *r, struct conn *c, int drop_syn)
{
	enum step_rc rc;
	unsigned short rport = r->rport;
	int rfamily;
	char lit[INET6_ADDRSTRLEN];
	if (!reach(x, r, &rfamily, lit, sizeof(lit)))
		return STEP_ERROR;
	if ((rc = slot_open(x, r->listener_name, c->remote_host, rfamily, SOCK_STREAM, &c->listener)) ||
	    (rc = bind_to(x, c->listener, c->remote_host == HOST_B ? "peer" : "host", rport)))
		return rc;
	if (listen(c->listener->fd, 16) < 0)
		return ctx_errno(x, errno, "listen");
	if ((rc = slot_open(x, r->name, HOST_A, r->family, SOCK_STREAM, &c->occ)) || (rc = set_options(x, c->occ, r)) ||
	    (rc = bind_to(x, c->occ, r->addr, r->port)))
		return rc;
	if (drop_syn && (rc = drop(x, HOST_A)))
		return rc;
	if ((rc = connect_start(x, c->occ, remote_target(r, c, rfamily), rport)))
		return rc;
	if (drop_syn)
		return STEP_OK;
	if ((rc = wait_state(x, c->occ, TCP_ESTABLISHED)))
		return rc;
	return accept_into(x, c->listener, r->remote_name, &c->remote);
}

/* The occupant is a listener on ADDRESS:PORT; the remote connects to it; the accepted
 * connection becomes the occupant and the listener is closed. */
static enum step_rc open_passive(struct exec_ctx *x, const struct occupy_req *r, struct conn *c, int stop_at_listen,
				 int drop_synack)
{
	enum step_rc rc;
	int rfamily;
	char lit[INET6_ADDRSTRLEN];
	const char *target = reach(x, r, &rfamily, lit, sizeof(lit));
	if (!target)
		return STEP_ERROR;
	if ((rc = slot_open(x, stop_at_listen ? r->name : r->listener_name, HOST_A, r->family, SOCK_STREAM,
			    &c->listener)) ||
	    (rc = set_options(x, c->listener, r)) || (rc = bind_to(x, c->listener, r->addr, r->port)))
		return rc;
	if (listen(c->listener->fd, 16) < 0)
		return ctx_errno(x, errno, "listen");
	c->occ = c->listener;
	if (stop_at_listen && !drop_synack)
		return STEP_OK;
	if ((rc = slot_open(x, r->remote_name, c->remote_host, rfamily, SOCK_STREAM, &c->remote)))
		return rc;
	if (drop_synack && (rc = drop(x, HOST_A)))
		return rc;
	if ((rc = connect_start(x, c->remote, target, r->port)))
		return rc;
	if (drop_synack)
		return STEP_OK;
	if ((rc = accept_into(x, c->listener, r->name, &c->occ)))
		return rc;
	slot_close(c->listener);
	return STEP_OK;
}

static enum step_rc need_pair(struct exec_ctx *x, const struct occupy_req *r)
{
	if (x->topo.kind != TOPO_PAIR)
		return ctx_error(x, "occupy %s needs the pair topology: one direction of the connection must be dropped",
				 r->state_name);
	return STEP_OK;
}

/* Drives an established connection on to the closing state asked for. */
static enum step_rc close_to(struct exec_ctx *x, const struct occupy_req *r, struct conn *c)
{
	enum step_rc rc = STEP_OK;
	switch (r->state) {
	case TCP_ESTABLISHED:
		break;
	case TCP_FIN_WAIT1:  /* our FIN is never acknowledged */
		if ((rc = need_pair(x, r)) || (rc = drop(x, c->remote_host)))
			return rc;
		slot_close(c->occ);
		break;
	case TCP_FIN_WAIT2: {  /* our FIN acknowledged, the remote still open */
		/* A lingering close() returns once our FIN is acknowledged, and __tcp_close() then
		 * swaps the FIN_WAIT2 socket for a timewait socket (tcp_time_wait()). Without it
		 * an ACK that comes while close() still holds the socket lock is handled from the
		 * backlog (sock_owned_by_user() in tcp_rcv_state_process()): the kernel arms the
		 * keepalive timer and keeps a full orphan in FIN_WAIT2 for tcp_fin_timeout instead
		 * (seen under qemu). The linger time bounds close() should the ACK never come. */
		struct linger lg = { 1, 1 };
		if (setsockopt(c->occ->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
			return ctx_errno(x, errno, "SO_LINGER");
		return close_first(x, c->occ, c->remote, false, TCP_FIN_WAIT2, NULL);
	}
	case TCP_CLOSE_WAIT:  /* the remote closed first, we did not */
		slot_close(c->remote);
		break;
	case TCP_LAST_ACK:  /* the remote closed first; our FIN is never acknowledged */
		if ((rc = need_pair(x, r)))
			return rc;
		slot_close(c->remote);
		if ((rc = wait_state(x, c->occ, TCP_CLOSE_WAIT)) || (rc = drop(x, c->remote_host)))
			return rc;
		slot_close(c->occ);
		break;
	case TCP_CLOSING:
		/* Our FIN is lost; the remote's FIN arrives while we wait for its ACK: simultaneous
		 * close, made deterministic by dropping our side's packets. */
		if ((rc = need_pair(x, r)) || (rc = drop(x, HOST_A)))
			return rc;
		slot_close(c->occ);
		if ((rc = wait_state(x, c->occ, TCP_FIN_WAIT1)))
			return rc;
		slot_close(c->remote);
		break;
	case TCP_TIME_WAIT:  /* we closed first, then the remote; its FIN carries the ACK of ours */
		return close_first(x, c->occ, c->remote, true, TCP_TIME_WAIT, NULL);
	default:
		return ctx_error(x, "occupy: no driver for state %s", r->state_name);
	}
	return wait_state(x, c->occ, r->state);
}

static int flag_arg(const char *arg, const char *key, int *out)
{
	size_t n = strlen(key);
	if (strncmp(arg, key, n) != 0 || arg[n] != '=')
		return 0;
	if (strcmp(arg + n + 1, "0") && strcmp(arg + n + 1, "1"))
		return -1;
	*out = arg[n + 1] == '1';
	return 1;
}

static enum step_rc parse_req(struct exec_ctx *x, int argc, char **argv, struct occupy_req *r)
{
	memset(r, 0, sizeof(*r));
	r->name = argv[1];
	r->state_name = argv[2];
	r->state = tcp_state_parse(argv[2]);
	r->addr = argv[4];
	snprintf(r->listener_name, sizeof(r->listener_name), "%.30s.listener", r->name);
	snprintf(r->remote_name, sizeof(r->remote_name), "%.30s.remote", r->name);
	r->family = AF_INET;
	r->rport = CASE_RPORT;  /* the planner writes the case's {RPORT} in: this is for tests of the verb */
	if (r->state < 0 || strcmp(argv[2], "CLOSED") == 0)
		return ctx_error(x, "occupy: unknown state '%s'", argv[2]);
	if (strcmp(argv[3], "active") && strcmp(argv[3], "passive"))
		return ctx_error(x, "occupy: expected active or passive, got '%s'", argv[3]);
	r->passive = strcmp(argv[3], "passive") == 0;
	char *end;
	long port = strtol(argv[5], &end, 10);
	if (*end || port < 1 || port > 65535)
		return ctx_error(x, "occupy: expected a port, got '%s'", argv[5]);
	r->port = (unsigned short)port;
	r->v6only = -1;
	r->type = SOCK_STREAM;
	for (int i = 6; i < argc; i++) {
		int a = flag_arg(argv[i], "reuseaddr", &r->reuseaddr), b = flag_arg(argv[i], "reuseport", &r->reuseport);
		int c = flag_arg(argv[i], "v6only", &r->v6only);
		if (c) {
			if (c < 0)
				return ctx_error(x, "occupy: expected v6only=0|1, got '%s'", argv[i]);
		} else if (strncmp(argv[i], "proto=", 6) == 0) {
			if (strcmp(argv[i] + 6, "tcp") && strcmp(argv[i] + 6, "udp"))
				return ctx_error(x, "occupy: expected proto=tcp|udp, got '%s'", argv[i]);
			r->type = strcmp(argv[i] + 6, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
		} else if (strncmp(argv[i], "dev=", 4) == 0) {
			r->dev = argv[i] + 4;
		} else if (strncmp(argv[i], "family=", 7) == 0) {
			if ((r->family = family_parse(argv[i] + 7)) < 0)
				return ctx_error(x, "occupy: unknown family '%s'", argv[i] + 7);
		} else if (strncmp(argv[i], "rport=", 6) == 0) {
			port = strtol(argv[i] + 6, &end, 10);
			if (*end || port < 1 || port > 65535)
				return ctx_error(x, "occupy: expected rport=PORT, got '%s'", argv[i]);
			r->rport = (unsigned short)port;
		} else if (a < 0 || b < 0 || (a == 0 && b == 0)) {
			return ctx_error(x, "occupy: expected reuseaddr=0|1, reuseport=0|1, v6only=0|1, rport=PORT, family=F, "
					    "proto=P or dev=IFNAME, got '%s'", argv[i]);
		}
	}
	/* States that exist at one end only. */
	if ((r->state == TCP_LISTEN || r->state == TCP_SYN_RECV) && !r->passive)
		return ctx_error(x, "occupy: %s is a passive-side state", r->state_name);
	if ((r->state == TCP_CLOSE || r->state == TCP_SYN_SENT) && r->passive)
		return ctx_error(x, "occupy: %s is an active-side state", r->state_name);
	if (r->v6only == 1 && r->family != AF_INET6)
		return ctx_error(x, "occupy: v6only=1 is an option of IPv6 sockets");
	if (r->type == SOCK_DGRAM && ((r->state != TCP_CLOSE && r->state != TCP_ESTABLISHED) || r->passive))
		return ctx_error(x, "occupy: a UDP socket is BOUND or, connected, ESTABLISHED (active)");
	return STEP_OK;
}

/* A UDP occupant: bound, and for ESTABLISHED connected to the remote's address, which sets
 * its four-tuple (nothing needs to answer). */
static enum step_rc occupy_udp(struct exec_ctx *x, const struct occupy_req *r, struct conn *c)
{
	enum step_rc rc;
	int rfamily;
	char lit[INET6_ADDRSTRLEN];
	if (!reach(x, r, &rfamily, lit, sizeof(lit)))
		return STEP_ERROR;
	if ((rc = slot_open(x, r->name, HOST_A, r->family, SOCK_DGRAM, &c->occ)) || (rc = set_options(x, c->occ, r)) ||
	    (rc = bind_to(x, c->occ, r->addr, r->port)))
		return rc;
	if (r->state == TCP_ESTABLISHED)
		return connect_start(x, c->occ, remote_target(r, c, rfamily), r->rport);
	return STEP_OK;
}

/* Which kind of socket holds the port once occupy has reached a state: the occupant's own
 * file until it is closed; then an orphan, except where the kernel swaps the socket for a
 * timewait socket (TIME_WAIT, and FIN_WAIT2 once our FIN is acknowledged, tcp_time_wait());
 * a request socket for SYN_RECV. */
static enum holder holder_of(int state)
{
	switch (state) {
	case TCP_FIN_WAIT1: case TCP_CLOSING: case TCP_LAST_ACK:
		return HOLDER_ORPHAN;
	case TCP_FIN_WAIT2: case TCP_TIME_WAIT:
		return HOLDER_TIMEWAIT;
	case TCP_SYN_RECV:
		return HOLDER_REQUEST;
	default:
		return HOLDER_OWNER;
	}
}

/* SYN_RECV: the listener NAME holds the port and stays LISTEN; the request socket, tracked
 * as NAME.request, is the connection in SYN_RECV. */
static enum step_rc declare_listener(struct exec_ctx *x, const struct occupy_req *r, struct conn *c)
{
	char name[32];
	enum step_rc rc = slot_declare(x, c->listener, TCP_LISTEN, HOLDER_OWNER, "occupy");
	snprintf(name, sizeof(name), "%.23s.request", r->name);
	struct sock_slot *req = slot_new(x, name);
	if (rc)
		return rc;
	if (!req || req->fd >= 0)
		return ctx_error(x, "occupy: cannot track the request socket as '%s'", name);
	*req = (struct sock_slot){ .fd = -1, .family = r->family, .type = SOCK_STREAM, .host = HOST_A };
	snprintf(req->name, sizeof(req->name), "%s", name);
	/* Its ends: the address the remote connected to, and the remote's own. */
	req->local = c->remote->remote;
	req->lport = r->port;
	slot_set_remote(req, &c->remote->local);
	c->occ = req;
	return STEP_OK;
}

enum step_rc occupy(struct exec_ctx *x, int argc, char **argv)
{
	struct occupy_req r;
	struct conn c = { 0 };
	enum step_rc rc = parse_req(x, argc, argv, &r);
	if (rc)
		return rc;
	c.remote_host = x->topo.kind == TOPO_PAIR ? HOST_B : HOST_A;
	c.remote_addr = c.remote_host == HOST_B ? "peer" : "host";

	switch (r.type == SOCK_DGRAM ? -1 : r.state) {
	case -1:
		rc = occupy_udp(x, &r, &c);
		break;
	case TCP_CLOSE: /* BOUND */
		if ((rc = slot_open(x, r.name, HOST_A, r.family, SOCK_STREAM, &c.occ)) || (rc = set_options(x, c.occ, &r)) ||
		    (rc = bind_to(x, c.occ, r.addr, r.port)))
			break;
		break;
	case TCP_LISTEN:
		rc = open_passive(x, &r, &c, 1, 0);
		break;
	case TCP_SYN_SENT:
		if ((rc = need_pair(x, &r)) || (rc = open_active(x, &r, &c, 1)))
			break;
		rc = wait_state(x, c.occ, TCP_SYN_SENT);
		break;
	case TCP_SYN_RECV:
		if ((rc = need_pair(x, &r)) || (rc = open_passive(x, &r, &c, 1, 1)) ||
		    (rc = declare_listener(x, &r, &c)))
			break;
		/* The port is held by the listener; the request socket shows the state. */
		rc = wait_state(x, c.occ, TCP_SYN_RECV);
		break;
	default:
		if ((rc = r.passive ? open_passive(x, &r, &c, 0, 0) : open_active(x, &r, &c, 0)))
			break;
		rc = close_to(x, &r, &c);
		break;
	}
	if (rc == STEP_OK)
		rc = slot_declare(x, c.occ, r.state, holder_of(r.state), "occupy");
	if (rc == STEP_OK)
		rc = ctx_enter(x, HOST_A);
	if (rc == STEP_ERRNO)  /* a failing syscall while building a state is never the outcome */
		rc = ctx_error(x, "occupy %s: %s", r.state_name, x->msg);
	return rc;
}
VERB("occupy", occupy);
