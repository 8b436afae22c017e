/* Whether a namespace a case has finished with may serve the next case: only when the
 * kernel shows it as it was made. The cases that may be asked about (plan/: loopback, no
 * sysctl, no second address, no verb that changes links, addresses, neighbours or sysctls)
 * change nothing but sockets, so sockets are what is looked at: every TCP socket in any
 * state (TIME_WAIT and request sockets have no file but are in the dump), every UDP socket,
 * and raw ones (/proc/net/raw, raw6: no case makes them, but nothing may hide there). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "netns/netns.h"
#include "netns/priv.h"

/* Lines after the header of a /proc/net table of this thread's namespace, or -errno. */
static int proc_net_rows(const char *table)
{
	char path[64], line[256];
	int rows = -1;

	snprintf(path, sizeof(path), "/proc/thread-self/net/%s", table);
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f))
		rows++;
	fclose(f);
	return rows < 0 ? 0 : rows;
}

static int first_one(const struct diag_entry *e, void *data)
{
	*(struct diag_entry *)data = *e;
	return 1;
}

int ns_left_empty(char *why, size_t whylen)
{
	static const int protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	static const char *const raw[] = { "raw", "raw6" };
	char err[256];

	for (size_t i = 0; i < 2; i++) {
		struct diag_entry e = { .proto = 0 };
		int rc = diag_each(protos[i], AF_UNSPEC, first_one, &e, err, sizeof(err));
		if (rc < 0)
			return ns_failmsg(why, whylen, rc, "%s", err);
		if (e.proto)
			return ns_failmsg(why, whylen, 0, "a %s socket left on port %u in state %d",
					  e.proto == IPPROTO_UDP ? "UDP" : "TCP", e.sport, e.state);
	}
	for (size_t i = 0; i < 2; i++) {
		int rows = proc_net_rows(raw[i]);
		if (rows != 0)
			return ns_failmsg(why, whylen, rows < 0 ? rows : 0, "/proc/net/%s: %d row(s)", raw[i], rows);
	}
	return 1;
}
