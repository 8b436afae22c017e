/* The options iterator's reader: loads the BPF program compiled into this binary
 * (observe/sockopts.bpf.c, bpftool gen skeleton), runs it once over the namespace's TCP or
 * UDP sockets and joins its records to sock_diag's by socket cookie. sock_diag gave every
 * socket its cookie already (it generates one when it reports a socket), so the iterator
 * only reads it. */
#include "observe/observe.h"
#include "observe/sockopts_rec.h"
#include "observe/sockopts.skel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* libbpf's own messages would land on the user's terminal; the reason is reported instead. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int cmp_cookie(const void *a, const void *b)
{
	unsigned long long x = ((const struct sockopt_rec *)a)->cookie, y = ((const struct sockopt_rec *)b)->cookie;
	return x < y ? -1 : x > y;
}

/* Reads the iterator's records into *out (caller frees). Returns the count or -errno. */
static long read_records(struct bpf_program *prog, struct sockopt_rec **out)
{
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
	if (!link)
		return -errno;
	int fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		int e = errno;
		bpf_link__destroy(link);
		return -e;
	}
	size_t cap = 256, n = 0;
	struct sockopt_rec *v = malloc(cap * sizeof(*v));
	long rc = 0;
	for (;;) {
		if (n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
		}
		ssize_t got = read(fd, (char *)(v + n), (cap - n) * sizeof(*v));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -errno;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got / sizeof(*v);
	}
	close(fd);
	bpf_link__destroy(link);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	return (long)n;
}

int observe_options(struct observation *o, int proto, char *why, size_t whylen)
{
	libbpf_set_print(quiet);
	struct sockopts_bpf *skel = sockopts_bpf__open_and_load();
	if (!skel) {
		int e = errno;
		snprintf(why, whylen, "the BPF socket iterator could not be loaded (%s)%s", strerror(e),
			 e == EPERM || e == EACCES ? ": it needs CAP_BPF and CAP_PERFMON (root)" : "");
		return -1;
	}
	struct sockopt_rec *recs = NULL;
	long n = read_records(proto == IPPROTO_UDP ? skel->progs.sockopts_udp : skel->progs.sockopts_tcp, &recs);
	sockopts_bpf__destroy(skel);
	if (n < 0) {
		snprintf(why, whylen, "the BPF socket iterator could not run (%s)", strerror((int)-n));
		return -1;
	}
	qsort(recs, (size_t)n, sizeof(*recs), cmp_cookie);
	for (size_t i = 0; i < o->n; i++) {
		struct seen_sock *s = &o->v[i];
		struct sockopt_rec key = { .cookie = s->cookie };
		if (s->proto != proto || !s->cookie)
			continue;
		const struct sockopt_rec *r = bsearch(&key, recs, (size_t)n, sizeof(*recs), cmp_cookie);
		if (!r || r->lport != s->lport)
			continue;  /* gone between the two looks */
		s->reuseaddr = r->reuse != 0;
		s->reuseport = r->reuseport;
		if (s->family == AF_INET6 && s->v6only < 0)
			s->v6only = r->ipv6only;
		if (!s->ifindex)
			s->ifindex = r->bound_dev_if;
	}
	free(recs);
	return 0;
}
