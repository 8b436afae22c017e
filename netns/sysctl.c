/* Sysctls by dotted name, through /proc/sys. A net.* sysctl file shows the namespace of
 * the thread that opens it, so these act on the namespace the thread is in. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "netns/netns.h"
#include "netns/priv.h"

#define SYSCTL_PATH_MAX 256

static bool name_is_safe(const char *name)
{
	return name[0] && name[0] != '.' && name[0] != '/' && !strstr(name, "..") && !strstr(name, "//");
}

/* "net.ipv4.tcp_tw_reuse" -> "/proc/sys/net/ipv4/tcp_tw_reuse". A name written with slashes
 * is taken as is, as sysctl(8) does, for interface names that contain a dot
 * ("net/ipv4/conf/eth0.100/rp_filter"). */
static int sysctl_path(const char *name, char *path, size_t len, char *err, size_t errlen)
{
	bool slashed = strchr(name, '/') != NULL;
	int n;
	char *p;

	if (!name_is_safe(name))
		return ns_failmsg(err, errlen, -EINVAL, "sysctl \"%s\": not a sysctl name", name);
	n = snprintf(path, len, "/proc/sys/%s", name);
	if (n < 0 || (size_t)n >= len)
		return ns_failmsg(err, errlen, -ENAMETOOLONG, "sysctl %.64s...: name too long", name);
	for (p = path + strlen("/proc/sys/"); !slashed && *p; p++)
		if (*p == '.')
			*p = '/';
	return 0;
}

static int open_failed(const char *name, char *err, size_t errlen)
{
	if (errno == ENOENT)
		return ns_failmsg(err, errlen, -ENOENT, "sysctl %s: not present on this kernel", name);
	return ns_fail(err, errlen, -errno, "sysctl %s", name);
}

static void chomp(char *s, size_t *len)
{
	while (*len && (s[*len - 1] == '\n' || s[*len - 1] == ' '))
		s[--*len] = '\0';
}

int sysctl_read(const char *name, char *val, size_t vallen, char *err, size_t errlen)
{
	char path[SYSCTL_PATH_MAX];
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	rc = sysctl_path(name, path, sizeof(path), err, errlen);
	if (rc)
		return rc;
	if (!vallen)
		return ns_failmsg(err, errlen, -EINVAL, "sysctl %s: no room for the value", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return open_failed(name, err, errlen);
	/* One byte more than fits, to tell a full buffer from a truncated value. */
	while (len < vallen && (n = read(fd, val + len, vallen - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ns_fail(err, errlen, -errno, "sysctl %s: read", name);
			close(fd);
			return rc;
		}
		len += (size_t)n;
	}
	close(fd);
	if (len == vallen && val[len - 1] != '\n')
		return ns_failmsg(err, errlen, -EOVERFLOW, "sysctl %s: value longer than %zu bytes", name,
				  vallen - 1);
	if (len == vallen)
		len--;
	val[len] = '\0';
	chomp(val, &len);
	return 0;
}

int sysctl_write(const struct ns_id *origin, const char *name, const char *val, char *err, size_t errlen)
{
	char path[SYSCTL_PATH_MAX];
	size_t len = strlen(val);
	ssize_t n;
	int fd, rc;

	if (!ns_is_private(origin))
		return ns_failmsg(err, errlen, -EPERM, "refusing to write sysctl %s in the runner's own namespace",
				  name);
	rc = sysctl_path(name, path, sizeof(path), err, errlen);
	if (rc)
		return rc;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return open_failed(name, err, errlen);
	/* One write: the kernel parses a sysctl write from the start of each call. */
	do
		n = write(fd, val, len);
	while (n < 0 && errno == EINTR);
	rc = 0;
	if (n < 0)
		rc = ns_fail(err, errlen, -errno, "sysctl %s = %s", name, val);
	else if ((size_t)n != len)
		rc = ns_failmsg(err, errlen, -EIO, "sysctl %s = %s: short write", name, val);
	close(fd);
	return rc;
}
