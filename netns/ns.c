/* Which network namespace this thread is in, and the guard built on it. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "netns/netns.h"
#include "netns/priv.h"

/* thread-self, not self: setns() moves only the calling thread. */
#define NS_NET_PATH "/proc/thread-self/ns/net"

int ns_current(struct ns_id *out)
{
	struct stat st;

	if (stat(NS_NET_PATH, &st) < 0)
		return -errno;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	return 0;
}

bool ns_is_private(const struct ns_id *origin)
{
	struct ns_id now;

	/* When in doubt, say "not private": the callers refuse to write then. */
	if (!origin || ns_current(&now) < 0)
		return false;
	return now.dev != origin->dev || now.ino != origin->ino;
}

int ns_open_current(void)
{
	int fd = open(NS_NET_PATH, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}
