/* Step verbs. Each verb is one short function; the table below declares its arity and
 * its help text, so case files are checked before anything runs. */
#include "exec/steps.h"
#include "exec/exec.h"
#include "exec/verbs.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif


static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static enum step_rc need_sock(struct exec_ctx *x, const char *name, struct sock_slot **s)
{
	*s = slot_find(x, name);
	if (!*s || (*s)->fd < 0)
		return ctx_error(x, "no open socket named '%s'", name);
	return STEP_OK;
}

static enum step_rc v_socket(struct exec_ctx *x, int argc, char **argv)
{
	int type = strcmp(argv[2], "udp") == 0 ? SOCK_DGRAM : strcmp(argv[2], "tcp") == 0 ? SOCK_STREAM : -1;
	const char *fam = argc > 3 ? argv[3] : "inet";
	int family = family_parse(fam);
	if (type < 0)
		return ctx_error(x, "socket: expected tcp or udp, got '%s'", argv[2]);
	if (family < 0)
		return ctx_error(x, "socket: expected family inet or inet6, got '%s'", fam);
	struct sock_slot *s;
	return slot_open(x, argv[1], x->host, family, type, &s);
}
VERB("socket", v_socket);

/* Socket options the suite speaks of, with how their VALUE is written. */
/* Sets option opt to val, written as a case writes it, on fd. Returns 0, the errno of
 * setsockopt(), or -1 with a message in x when val does not fit opt. */
static int set_option(struct exec_ctx *x, int fd, const char *opt, const char *val)
{
	long v = 0, lo, hi;
	int level = SOL_SOCKET, name;
	void *p = &v;
	socklen_t len = sizeof(int);
	int iv;
	struct linger lg;
	if (strcmp(opt, "SO_LINGER") == 0) {
		/* "off", or the linger time in seconds (on) */
		lg.l_onoff = strcmp(val, "off") != 0;
		lg.l_linger = 0;
		if (lg.l_onoff && parse_int(val, 0, 3600, &v) < 0)
			return ctx_error(x, "SO_LINGER takes off or seconds, got '%s'", val), -1;
		lg.l_linger = (int)v;
		p = &lg;
		len = sizeof(lg);
		name = SO_LINGER;
	} else if (strcmp(opt, "SO_BINDTODEVICE") == 0) {
		/* an interface name; "none" unbinds */
		p = strcmp(val, "none") == 0 ? "" : (void *)val;
		len = (socklen_t)strlen(p);
		name = SO_BINDTODEVICE;
	} else if (strcmp(opt, "IP_LOCAL_PORT_RANGE") == 0) {
		/* "LO-HI": the kernel takes both 16-bit bounds packed in one u32 */
		if (sscanf(val, "%ld-%ld", &lo, &hi) != 2 || lo < 0 || hi > 65535)
			return ctx_error(x, "IP_LOCAL_PORT_RANGE takes LO-HI, got '%s'", val), -1;
		iv = (int)((unsigned)hi << 16 | (unsigned)lo);
		p = &iv;
		level = IPPROTO_IP;
		name = IP_LOCAL_PORT_RANGE;
	} else {
		static const struct { const char *n; int level, name; } opts[] = {
			{ "SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR },
			{ "SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT },
			{ "IP_BIND_ADDRESS_NO_PORT", IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT },
			{ "IP_FREEBIND", IPPROTO_IP, IP_FREEBIND },
			{ "IPV6_V6ONLY", IPPROTO_IPV6, IPV6_V6ONLY },
			{ "TCP_LINGER2", IPPROTO_TCP, TCP_LINGER2 },
		};
		size_t i;
		for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
			if (strcmp(opts[i].n, opt) == 0)
				break;
		if (i == sizeof(opts) / sizeof(opts[0]))
			return ctx_error(x, "unknown socket option '%s'", opt), -1;
		if (parse_int(val, -1, 1 << 30, &v) < 0)
			return ctx_error(x, "%s takes a number, got '%s'", opt, val), -1;
		iv = (int)v;
		p = &iv;
		level = opts[i].level;
		name = opts[i].name;
	}
	return setsockopt(fd, level, name, p, len) < 0 ? errno : 0;
}

static enum step_rc v_setsockopt(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct sock_slot *s;
	if (need_sock(x, argv[1], &s) != STEP_OK)
		return STEP_ERROR;
	int e = set_option(x, s->fd, argv[2], argv[3]);
	return e < 0 ? STEP_ERROR : e ? ctx_errno(x, e, argv[2]) : STEP_OK;
}
VERB("setsockopt", v_setsockopt);

/* need-option OPTION VALUE FAMILY: a prerequisite, as LTP's TCONF is: where the kernel
 * does not know the option (setsockopt() on a fresh TCP socket fails with ENOPROTOOPT),
 * the case is skipped, whatever the kernel's version says. */
static enum step_rc v_need_option(struct exec_ctx *x, int argc, char **argv)
{
	int fd = socket(family_parse(argc > 3 ? argv[3] : "inet"), SOCK_STREAM, 0);
	if (fd < 0)
		return ctx_errno(x, errno, "socket");
	int e = set_option(x, fd, argv[1], argv[2]);
	close(fd);
	if (e == ENOPROTOOPT)
		return ctx_skip(x, "the kernel has no socket option %s (setsockopt: ENOPROTOOPT)", argv[1]);
	return e < 0 ? STEP_ERROR : e ? ctx_errno(x, e, argv[1]) : STEP_OK;
}
VERB("need-option", v_need_option);

static enum step_rc parse_port(struct exec_ctx *x, const char *s, unsigned short *port)
{
	long v;
	if (parse_int(s, 0, 65535, &v) < 0)
		return ctx_error(x, "expected a port number, got '%s'", s);
	*port = (unsigned short)v;
	return STEP_OK;
}

/* "VERB NAME ADDRESS PORT": the open socket NAME and the address it is to use. */
static enum step_rc sock_and_address(struct exec_ctx *x, char **argv, struct sock_slot **s,
				     struct sockaddr_storage *ss, socklen_t *len)
{
	unsigned short port = 0;
	if (need_sock(x, argv[1], s) || parse_port(x, argv[3], &port) ||
	    addr_resolve(x, argv[2], (*s)->family, port, ss, len) < 0)
		return STEP_ERROR;
	return STEP_OK;
}

static enum step_rc v_bind(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct sock_slot *s;
	struct sockaddr_storage ss;
	socklen_t len;
	if (sock_and_address(x, argv, &s, &ss, &len))
		return STEP_ERROR;
	if (bind(s->fd, (struct sockaddr *)&ss, len) < 0)
		return ctx_errno(x, errno, "bind");
	slot_record_ports(x, s, false);
	return STEP_OK;
}
VERB("bind", v_bind);

static enum step_rc v_listen(struct exec_ctx *x, int argc, char **argv)
{
	struct sock_slot *s;
	long backlog = 16;
	if (need_sock(x, argv[1], &s))
		return STEP_ERROR;
	if (argc > 2 && parse_int(argv[2], 0, 65535, &backlog) < 0)
		return ctx_error(x, "listen: expected a backlog, got '%s'", argv[2]);
	if (listen(s->fd, (int)backlog) < 0)
		return ctx_errno(x, errno, "listen");
	slot_record_ports(x, s, false);
	return STEP_OK;
}
VERB("listen", v_listen);

static enum step_rc do_connect(struct exec_ctx *x, char **argv, int wait)
{
	struct sock_slot *s;
	struct sockaddr_storage ss;
	socklen_t len;
	if (sock_and_address(x, argv, &s, &ss, &len))
		return STEP_ERROR;
	int e = connect_fd(s->fd, &ss, len, wait);
	slot_set_remote(s, &ss);
	slot_record_ports(x, s, false);
	if (e)
		return ctx_errno(x, e, "connect");
	return STEP_OK;
}

static enum step_rc v_connect(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	return do_connect(x, argv, 1);
}
VERB("connect", v_connect);

static enum step_rc v_connect_nowait(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	return do_connect(x, argv, 0);
}
VERB("connect-nowait", v_connect_nowait);

static enum step_rc v_accept(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct sock_slot *l, *s;
	if (need_sock(x, argv[1], &l))
		return STEP_ERROR;
	int fd = accept_fd(l->fd);
	if (fd == -ETIMEDOUT)
		return ctx_error(x, "accept: no connection arrived on '%s' within %d ms", argv[1], CONNECT_DEADLINE_MS);
	if (fd < 0)
		return ctx_errno(x, -fd, "accept");
	if (slot_adopt(x, argv[2], fd, l, &s))
		return STEP_ERROR;
	slot_record_ports(x, s, false);
	return STEP_OK;
}
VERB("accept", v_accept);

static enum step_rc v_shutdown(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct sock_slot *s;
	int how = strcmp(argv[2], "wr") == 0 ? SHUT_WR : strcmp(argv[2], "rd") == 0 ? SHUT_RD
		: strcmp(argv[2], "rdwr") == 0 ? SHUT_RDWR : -1;
	if (how < 0)
		return ctx_error(x, "shutdown: expected wr, rd or rdwr, got '%s'", argv[2]);
	if (need_sock(x, argv[1], &s))
		return STEP_ERROR;
	if (shutdown(s->fd, how) < 0)
		return ctx_errno(x, errno, "shutdown");
	return STEP_OK;
}
VERB("shutdown", v_shutdown);

static enum step_rc v_close(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct sock_slot *s;
	if (need_sock(x, argv[1], &s))
		return STEP_ERROR;
	/* A socket that held its port with no connection (bound, listening, a UDP socket)
	 * leaves nothing behind once closed, so nothing is left to verify; the slot is kept by
	 * its port alone, which other sockets may share. */
	if (s->declared && (s->want == TCP_CLOSE || s->want == TCP_LISTEN || s->type == SOCK_DGRAM))
		s->declared = false;
	slot_close(s);  /* the slot keeps its ports: an orphan's state is still readable */
	return STEP_OK;
}
VERB("close", v_close);

static int host_parse(const char *s)
{
	return strcmp(s, "a") == 0 ? HOST_A : strcmp(s, "b") == 0 ? HOST_B : -1;
}

static enum step_rc v_host(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	int h = host_parse(argv[1]);
	if (h < 0)
		return ctx_error(x, "host: expected a or b, got '%s'", argv[1]);
	return ctx_enter(x, h);
}
VERB("host", v_host);

/* Sockets created after "uid N" belong to uid N (the kernel takes a socket's owner from
 * the creator's fsuid, which follows the effective uid). */
static enum step_rc v_uid(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	long uid;
	if (parse_int(argv[1], 0, 65535, &uid) < 0)
		return ctx_error(x, "uid: expected a number, got '%s'", argv[1]);
	if (seteuid(0) < 0 || (uid != 0 && seteuid((uid_t)uid) < 0))
		return ctx_skip(x, "cannot switch to uid %ld: %s%s", uid, strerror(errno),
				errno == EINVAL ? " (not mapped: run as root, not in a user namespace, for other users)" : "");
	return STEP_OK;
}
VERB("uid", v_uid);

static enum step_rc v_wait_state(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct sock_slot *s = slot_find(x, argv[1]);
	int st = tcp_state_parse(argv[2]);
	if (!s)
		return ctx_error(x, "no socket named '%s'", argv[1]);
	if (st < 0)
		return ctx_error(x, "unknown TCP state '%s'", argv[2]);
	enum step_rc rc = wait_state(x, s, st);
	/* The case depends on this state from now on, whatever made it before. */
	return rc ? rc : slot_declare(x, s, st, HOLDER_ANY, "wait-state");
}
VERB("wait-state", v_wait_state);

/* "VERB a|b ON|OFF" steps that switch something of one host of the pair topology. */
typedef int (*host_switch_fn)(const struct topo *t, int h, bool on, char *err, size_t errlen);

static enum step_rc switch_host(struct exec_ctx *x, char **argv, const char *on_word, const char *off_word,
				host_switch_fn fn)
{
	char err[256];
	int h = host_parse(argv[1]);
	int on = strcmp(argv[2], on_word) == 0;
	if (h < 0 || (!on && strcmp(argv[2], off_word) != 0))
		return ctx_error(x, "%s: expected '%s a|b %s|%s'", argv[0], argv[0], on_word, off_word);
	if (fn(&x->topo, h, on, err, sizeof(err)) < 0)
		return ctx_error(x, "%s: %s", argv[0], err);
	return STEP_OK;
}

static enum step_rc v_drop(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	return switch_host(x, argv, "on", "off", topo_drop);
}
VERB("drop", v_drop);

static enum step_rc v_link(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	return switch_host(x, argv, "up", "down", topo_link);
}
VERB("link", v_link);

static enum step_rc v_sysctl(struct exec_ctx *x, int argc, char **argv)
{
	char err[256];
	struct buf val = { 0 };
	for (int i = 2; i < argc; i++)  /* a value may be several words: "40000 40010" */
		buf_printf(&val, "%s%s", i > 2 ? " " : "", argv[i]);
	int rc = sysctl_write(x->origin, argv[1], val.s, err, sizeof(err));
	buf_free(&val);
	if (rc == -ENOENT)
		return ctx_skip(x, "%s", err);
	if (rc < 0)
		return ctx_error(x, "%s", err);
	return STEP_OK;
}
VERB("sysctl", v_sysctl);

/* Observes whether a sysctl exists: ok, or ENOENT. For settings that were removed. */
static enum step_rc v_read_sysctl(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	char val[256], err[256];
	int rc = sysctl_read(argv[1], val, sizeof(val), err, sizeof(err));
	if (rc < 0)
		return ctx_errno(x, -rc, "read-sysctl");
	kv_set(x->facts, argv[1], val);
	return STEP_OK;
}
VERB("read-sysctl", v_read_sysctl);

/* Lets time pass. Only for scenarios that are about time passing (a reuse delay, a timer
 * expiring); synchronisation is always wait-state. */
static enum step_rc v_wait_ms(struct exec_ctx *x, int argc, char **argv)
{
	(void)argc;
	long ms;
	if (parse_int(argv[1], 0, 120000, &ms) < 0)
		return ctx_error(x, "wait-ms: expected milliseconds, got '%s'", argv[1]);
	sleep_ms(ms);
	return STEP_OK;
}
VERB("wait-ms", v_wait_ms);


/* The bounds of the section VERB fills, from the linker. */
extern const struct verb __start_sockreuse_verbs[], __stop_sockreuse_verbs[];

const struct verb *verbs_begin(void)
{
	return __start_sockreuse_verbs;
}

const struct verb *verbs_end(void)
{
	return __stop_sockreuse_verbs;
}

const struct verb *verb_find(const char *name)
{
	return TABLE_FIND(__start_sockreuse_verbs, (size_t)(verbs_end() - verbs_begin()), name);
}

/* "try STEP": runs the step and lets the kernel refuse it; what it came to, ok or the errno
 * name, is the fact NAME.VERB (NAME the step's first argument). For a history of calls some
 * of which lose (a sequence of binds on one port) before the step under test. */
static enum step_rc try_step(struct exec_ctx *x, const struct verb *v, const struct step *s)
{
	bool in_test = x->in_test;
	char key[80];
	x->in_test = true;  /* a refused call is an outcome here, not a failed setup */
	enum step_rc rc = v->fn(x, s->argc, s->argv);
	x->in_test = in_test;
	if (rc != STEP_OK && rc != STEP_ERRNO)
		return rc;
	snprintf(key, sizeof(key), "%s.%s", s->argc > 1 ? s->argv[1] : "", s->argv[0]);
	kv_set(x->facts, key, rc == STEP_OK ? "ok" : errno_name(x->err_no));
	return STEP_OK;
}

static enum step_rc run_steps(struct exec_ctx *x, const struct steplist *sl, int *failed_line, const char **verb)
{
	for (size_t i = 0; i < sl->n; i++) {
		const struct step *s = &sl->v[i];
		const struct verb *v = verb_find(s->argv[0]);
		if (!v) {
			*failed_line = s->pos.line;
			*verb = s->argv[0];
			return ctx_error(x, "no implementation of the verb '%s'", s->argv[0]);
		}
		enum step_rc rc = s->may_fail ? try_step(x, v, s) : v->fn(x, s->argc, s->argv);
		if (rc != STEP_OK) {
			*failed_line = s->pos.line;
			*verb = v->name;
			return rc;
		}
	}
	return STEP_OK;
}

static int apply_sysctls(struct exec_ctx *x, struct run_outcome *out)
{
	for (size_t i = 0; i < x->ci->sysctls.n; i++) {
		char err[256];
		const struct kv *s = &x->ci->sysctls.v[i];
		int rc = sysctl_write(x->origin, s->key, s->val, err, sizeof(err));
		if (rc < 0) {
			out->kind = rc == -ENOENT ? RUN_SKIP : RUN_ERROR;
			snprintf(out->detail, sizeof(out->detail), "%s", err);
			return -1;
		}
	}
	return 0;
}

#define ORPHAN_RETRIES_SYSCTL "net.ipv4.tcp_orphan_retries"

void case_prepare(void)
{
	/* The runner's own sysctl writes pass the same guard as a case's: ask the kernel once,
	 * before the cases fork, so that no case has to. */
	sysctl_netns_local(ORPHAN_RETRIES_SYSCTL, NULL, 0);
}

/* Orphaned connections (FIN_WAIT1, CLOSING, LAST_ACK towards a dropped direction) keep
 * retransmitting after the case, and each pins its namespace until it gives up, minutes
 * later. Once the outcome is known, one retry is all they get: they die at their next
 * retransmission timeout and the kernel can free the namespaces. Only the case's own
 * namespaces are written. */
static void release_orphans(struct exec_ctx *x)
{
	/* A namespace that may serve another case keeps its sysctls: the scheduler releases
	 * its orphans (case_release_orphans) only when it is found not empty and dropped. */
	if (x->ci->ns_reusable || seteuid(0) < 0)
		return;
	for (int h = HOST_A; h <= (x->topo.kind == TOPO_PAIR ? HOST_B : HOST_A); h++)
		if (ctx_enter(x, h) == STEP_OK)
			sysctl_write(x->origin, ORPHAN_RETRIES_SYSCTL, "1", NULL, 0);
}

void case_release_orphans(const struct ns_id *origin)
{
	if (seteuid(0) == 0)
		sysctl_write(origin, ORPHAN_RETRIES_SYSCTL, "1", NULL, 0);
}

void case_execute(const struct case_inst *ci, const struct ns_id *origin, bool reused, struct run_outcome *out)
{
	struct exec_ctx x = { .ci = ci, .origin = origin, .host = HOST_A, .facts = &out->facts };
	char err[256];
	int line = 0;
	const char *verb = "";
	enum topo_kind kind = strcmp(ci->topology, "pair") == 0 ? TOPO_PAIR : TOPO_LOOPBACK;

	out->kind = RUN_ERROR;
	out->observed[0] = '\0';
	unsigned flags = (ci->uses_host2 ? 0 : TOPO_NO_SECOND_ADDRESS) | (reused ? TOPO_REUSED : 0);
	if (topo_build_with(kind, flags, origin, &x.topo, err, sizeof(err)) < 0) {
		snprintf(out->detail, sizeof(out->detail), "topology %s: %s", ci->topology, err);
		return;
	}
	if (apply_sysctls(&x, out) < 0)
		return;
	enum step_rc rc = run_steps(&x, &ci->setup, &line, &verb);
	if (rc != STEP_OK) {
		out->kind = rc == STEP_SKIP ? RUN_SKIP : RUN_ERROR;
		snprintf(out->detail, sizeof(out->detail), "line %d (%s): %s", line, verb, x.msg);
		return;
	}
	/* The states the case depends on, read again right before the test: a later setup
	 * step may have moved one. */
	if ((rc = slots_verify(&x)) != STEP_OK) {
		snprintf(out->detail, sizeof(out->detail), "%s", x.msg);
		return;
	}
	x.in_test = true;
	rc = run_steps(&x, &ci->test, &line, &verb);
	release_orphans(&x);
	if (rc == STEP_ERROR || rc == STEP_SKIP) {
		out->kind = rc == STEP_SKIP ? RUN_SKIP : RUN_ERROR;
		snprintf(out->detail, sizeof(out->detail), "line %d (%s): %s", line, verb, x.msg);
		return;
	}
	out->kind = RUN_DONE;
	if (rc == STEP_ERRNO) {
		snprintf(out->observed, sizeof(out->observed), "%s", errno_name(x.err_no));
		snprintf(out->detail, sizeof(out->detail), "line %d: %s", line, x.msg);
		kv_set(&out->facts, "failed_at", verb);
	} else {
		snprintf(out->observed, sizeof(out->observed), "ok");
	}
}
