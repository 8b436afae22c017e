/* Sysctls by dotted name, through /proc/sys. A net.* sysctl file shows the namespace of
 * the thread that opens it, so these act on the namespace the thread is in. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

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

/* ---- which sysctls belong to a network namespace ----
 *
 * The kernel decides, not the name: a sysctl file under /proc/sys/net is looked up in the
 * table set of the opener's network namespace (net_ctl_header_lookup(), net/sysctl_net.c),
 * and net_ctl_permissions() grants its owner bits to whoever has CAP_NET_ADMIN in the user
 * namespace owning that network namespace. Every other table (kernel.*, vm.*, fs.*, and
 * net.* tables registered for init_net only) is checked against the global root uid
 * (test_perm(), fs/proc/proc_sysctl.c). So a process that is not the global root, in a
 * fresh user namespace with a fresh network namespace of its own, may open for writing
 * exactly the sysctls of its network namespace. The probe does that in a throwaway child,
 * writes nothing, and caches the answer for the run (children inherit it). */

enum probe_verdict { PROBE_LOCAL = 0, PROBE_GLOBAL = 1, PROBE_HIDDEN = 2, PROBE_FAILED = 3 };

/* Is this process the global root (uid 0 mapped to kernel uid 0)? */
static bool global_root(void)
{
	char line[128];
	unsigned inside, outside;
	bool root = false;
	FILE *f = fopen("/proc/self/uid_map", "r");
	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %u", &inside, &outside) == 2 && inside == geteuid() && outside == 0)
			root = true;
	fclose(f);
	return root;
}

/* In a child: the verdict as the exit status (enum probe_verdict). own_userns: a user
 * namespace too; without one (the fallback for tables the kernel hides from unprivileged
 * namespaces) only whether the file exists in a fresh network namespace is asked. */
static int probe_child(const char *path, bool own_userns)
{
	if (own_userns && global_root()) {
		/* nobody: the kernel's overflow uid, never a table's owner */
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			return PROBE_FAILED;
	}
	if (unshare(CLONE_NEWNET | (own_userns ? CLONE_NEWUSER : 0)) < 0)
		return PROBE_FAILED;
	if (!own_userns)
		return access(path, F_OK) == 0 ? PROBE_LOCAL : PROBE_HIDDEN;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0)
		return PROBE_LOCAL;
	return errno == ENOENT ? PROBE_HIDDEN : PROBE_GLOBAL;
}

static int probe(const char *path, bool own_userns)
{
	int status;
	pid_t pid = fork();
	if (pid < 0)
		return PROBE_FAILED;
	if (pid == 0)
		_exit(probe_child(path, own_userns));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return PROBE_FAILED;
	return WIFEXITED(status) ? WEXITSTATUS(status) : PROBE_FAILED;
}

struct netns_verdict {
	char *name;
	int rc;
};
/* Filled before cases fork (by the plan), read by them: a child that adds to it adds to
 * its own copy only. */
static struct netns_verdict *verdicts;
static size_t nverdicts;

static int decide(const char *name, const char *path, char *err, size_t errlen)
{
	switch (probe(path, true)) {
	case PROBE_LOCAL:
		return 1;
	case PROBE_GLOBAL:
		return ns_failmsg(err, errlen, 0,
				  "sysctl %s is not one of a network namespace's own (a fresh user and network "
				  "namespace may not write it): a case may write only its namespace's sysctls", name);
	case PROBE_HIDDEN:
		break;
	default:
		return ns_failmsg(err, errlen, -EPERM,
				  "cannot tell whether sysctl %s belongs to a network namespace: a user and network "
				  "namespace could not be created to ask the kernel", name);
	}
	/* Not seen from a namespace of an unprivileged user: absent from this kernel, a table
	 * the kernel keeps from unprivileged namespaces (net.core's), or init_net's only. */
	if (access(path, F_OK) < 0)
		return 1;  /* absent here: a write finds nothing (-ENOENT), which a case reports as skip */
	if (probe(path, false) == PROBE_LOCAL)
		return 1;
	return ns_failmsg(err, errlen, 0,
			  "sysctl %s exists only in the initial network namespace: a case may write only its "
			  "namespace's sysctls", name);
}

static void remember(const char *name, int rc)
{
	struct netns_verdict *v = realloc(verdicts, (nverdicts + 1) * sizeof(*v));
	if (!v)
		return;
	verdicts = v;
	if ((verdicts[nverdicts].name = strdup(name)))
		verdicts[nverdicts++].rc = rc;
}

int sysctl_netns_local(const char *name, char *err, size_t errlen)
{
	char path[SYSCTL_PATH_MAX];
	int rc = sysctl_path(name, path, sizeof(path), err, errlen);
	if (rc)
		return rc;
	for (size_t i = 0; i < nverdicts; i++)
		if (strcmp(verdicts[i].name, name) == 0)
			return verdicts[i].rc ? 1
			       : ns_failmsg(err, errlen, -EPERM, "sysctl %s is not one of a network namespace's own: "
					    "a case may write only its namespace's sysctls", name);
	rc = decide(name, path, err, errlen);
	if (rc >= 0)  /* a probe that could not run is asked again */
		remember(name, rc);
	return rc == 0 ? -EPERM : rc;
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
	rc = sysctl_netns_local(name, err, errlen);
	if (rc < 0)
		return rc;
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
