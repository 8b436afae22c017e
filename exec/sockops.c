/* The socket toolkit: each job the step verbs and the TCP state drivers need is written
 * once here. A socket into a slot, connect and wait, accept, poll the kernel with a
 * deadline, end a connection from one end. */
#include "exec/exec.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/tcp.h>

enum step_rc slot_open(struct exec_ctx *x, const char *name, int host, int family, int type, struct sock_slot **out)
{
	enum step_rc rc = ctx_enter(x, host);
	if (rc != STEP_OK)
		return rc;
	struct sock_slot *s = slot_new(x, name);
	if (!s)
		return ctx_error(x, "no free socket slot for '%s'", name);
	if (s->fd >= 0)
		return ctx_error(x, "socket '%s' is already open", name);
	int fd = socket(family, type, 0);
	if (fd < 0)
		return ctx_errno(x, errno, "socket");
	*s = (struct sock_slot){ .fd = fd, .family = family, .type = type, .host = host };
	snprintf(s->name, sizeof(s->name), "%s", name);
	*out = s;
	return STEP_OK;
}

void slot_ports(struct sock_slot *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) == 0) {
		s->local = ss;
		s->lport = sockaddr_port(&ss);
	}
	len = sizeof(ss);
	if (getpeername(s->fd, (struct sockaddr *)&ss, &len) == 0)
		slot_set_remote(s, &ss);
}

void slot_set_remote(struct sock_slot *s, const struct sockaddr_storage *to)
{
	s->remote = *to;
	s->rport = sockaddr_port(to);
}

static void port_fact(struct exec_ctx *x, const struct sock_slot *s, const char *what, unsigned short port)
{
	char key[64], val[16];
	snprintf(key, sizeof(key), "%s.%s", s->name, what);
	snprintf(val, sizeof(val), "%u", port);
	kv_set(x->facts, key, val);
}

void slot_record_ports(struct exec_ctx *x, struct sock_slot *s, bool remote)
{
	slot_ports(s);
	if (!x->in_test)
		return;
	if (remote && s->rport)
		port_fact(x, s, "remote_port", s->rport);
	if (s->lport)
		port_fact(x, s, "local_port", s->lport);
}

enum step_rc slot_adopt(struct exec_ctx *x, const char *name, int fd, const struct sock_slot *l, struct sock_slot **out)
{
	struct sock_slot *s = slot_new(x, name);
	if (!s || s->fd >= 0) {
		close(fd);
		return ctx_error(x, "accept: cannot name the new socket '%s'", name);
	}
	*s = (struct sock_slot){ .fd = fd, .family = l->family, .type = l->type, .host = l->host };
	snprintf(s->name, sizeof(s->name), "%s", name);
	slot_ports(s);
	*out = s;
	return STEP_OK;
}

void slot_close(struct sock_slot *s)
{
	if (s && s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
}

int connect_fd(int fd, const struct sockaddr_storage *to, socklen_t len, bool wait)
{
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	int e = connect(fd, (const struct sockaddr *)to, len) < 0 ? errno : 0;
	if (e == EINPROGRESS && !wait)
		e = 0;
	else if (e == EINPROGRESS) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		socklen_t sl = sizeof(e);
		if (poll(&pfd, 1, CONNECT_DEADLINE_MS) != 1)
			e = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
			e = errno;
	}
	fcntl(fd, F_SETFL, fl);
	return e;
}

int accept_fd(int lfd)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	if (poll(&pfd, 1, CONNECT_DEADLINE_MS) != 1)
		return -ETIMEDOUT;
	int fd = accept(lfd, NULL, NULL);
	return fd < 0 ? -errno : fd;
}

double state_deadline(const struct exec_ctx *x)
{
	return x->state_deadline_ms > 0 ? x->state_deadline_ms : STATE_DEADLINE_MS;
}

bool poll_until(double ms, bool (*done)(void *arg), void *arg)
{
	double deadline = now_ms() + ms;
	for (unsigned spins = 0;; spins++) {
		if (done(arg))
			return true;
		if (now_ms() > deadline)
			return done(arg);
		poll_pause(spins);
	}
}

/* The remote acknowledges first's FIN at once. A FIN puts the receiver in delayed-ACK
 * (pingpong) mode, hoping its own FIN can carry the ACK; reading the end of stream and
 * asking for a quick ACK sends it now instead of after the delayed-ACK timer. The caller
 * still waits for the kernel to report the state: this only saves time. */
static enum step_rc ack_now(struct exec_ctx *x, struct sock_slot *s)
{
	char byte;
	int one = 1;
	if (recv(s->fd, &byte, 1, MSG_DONTWAIT) < 0 && errno != EAGAIN)
		return ctx_errno(x, errno, "recv");
	setsockopt(s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	return STEP_OK;
}

enum step_rc close_first(struct exec_ctx *x, struct sock_slot *first, struct sock_slot *second, bool second_closes,
			 int want, int *peer_saw)
{
	static const int told[] = { TCP_CLOSE_WAIT, TCP_CLOSE };
	enum step_rc rc;
	int saw = -1;
	slot_close(first);
	if (second) {
		if ((rc = wait_state_in(x, second, told, 2, &saw)))
			return rc;
		if (peer_saw)
			*peer_saw = saw;
		if (!second_closes)
			rc = saw == TCP_CLOSE_WAIT ? ack_now(x, second) : STEP_OK;
		else {
			slot_close(second);
			rc = wait_state(x, second, STATE_GONE);
		}
		if (rc)
			return rc;
	}
	return wait_state(x, first, want);
}
