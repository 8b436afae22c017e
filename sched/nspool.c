#include "sched/nspool.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

int nspool_take(struct nspool *p, const struct case_inst *ci)
{
	if (!ci->ns_reusable || p->n == 0)
		return -1;
	p->given++;
	return p->fd[--p->n];
}

void nspool_put(struct nspool *p, int fd, int ok)
{
	if (fd < 0)
		return;
	if (ok && p->n < NSPOOL_MAX) {
		p->fd[p->n++] = fd;
		p->kept++;
		return;
	}
	p->dropped++;
	close(fd);
}

void nspool_close(struct nspool *p)
{
	while (p->n > 0)
		close(p->fd[--p->n]);
	if (getenv("SOCKREUSE_NS_STATS"))
		fprintf(stderr, "namespaces: %lu reused, %lu handed back, %lu dropped\n", p->given, p->kept, p->dropped);
}

int nspool_enter(int nsfd, char *err, size_t errlen)
{
	int rc = nsfd >= 0 ? setns(nsfd, CLONE_NEWNET) : unshare(CLONE_NEWNET);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", nsfd >= 0 ? "setns(CLONE_NEWNET) into a kept namespace" : "unshare(CLONE_NEWNET)",
			 strerror(errno));
	if (nsfd >= 0)
		close(nsfd);
	return rc < 0 ? -1 : 0;
}

int nspool_leave(const struct case_inst *ci, const struct ns_id *origin, const struct run_outcome *o, int keep_fd)
{
	char why[256];
	if (!ci->ns_reusable || o->kind == RUN_ERROR)
		return -1;
	/* The case's sockets are files of this process: closed, they are gone or they show in
	 * the dump (TIME_WAIT, orphans). */
	if (keep_fd > 3)
		close_range(3, (unsigned)keep_fd - 1, 0);
	close_range((unsigned)keep_fd + 1, ~0U, 0);
	if (seteuid(0) < 0 || ns_left_empty(why, sizeof(why)) != 1) {
		case_release_orphans(origin);
		return -1;
	}
	int fd = ns_open_current();
	return fd < 0 ? -1 : fd;
}

ssize_t nspool_send(int sock, const void *buf, size_t len, int nsfd)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nsfd >= 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.b;
		m.msg_controllen = sizeof(u.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &nsfd, sizeof(int));
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL);
}

ssize_t nspool_recv(int sock, void *buf, size_t len, int *nsfd)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	ssize_t r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (r < 0)
		return r;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nsfd >= 0)
				close(*nsfd);
			*nsfd = fd;
		}
	}
	return r;
}
