#include "cmd/runinfo.h"
#include "lib/kversion.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <sys/wait.h>

/* The sysctls whose defaults decide outcomes; reports carry them so that two runs can be
 * told apart by configuration as well as by kernel. */
static const char *const reported_sysctls[] = {
	"net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_tw_reuse_delay", "net.ipv4.tcp_timestamps",
	"net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.ip_autobind_reuse",
	"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_max_tw_buckets", "net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ip_nonlocal_bind",
};

static void read_defaults_in_child(int wfd)
{
	if (unshare(CLONE_NEWNET) < 0)
		_exit(1);
	for (size_t i = 0; i < sizeof(reported_sysctls) / sizeof(reported_sysctls[0]); i++) {
		char val[256];
		if (sysctl_read(reported_sysctls[i], val, sizeof(val), NULL, 0) < 0)
			snprintf(val, sizeof(val), "(absent)");
		for (char *c = val; *c; c++)
			if (*c == '\t' || *c == '\n')
				*c = ' ';
		dprintf(wfd, "%s\t%s\n", reported_sysctls[i], val);
	}
	_exit(0);
}

static void read_sysctl_defaults(struct kvlist *props)
{
	int fds[2];
	if (pipe(fds) < 0)
		return;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		read_defaults_in_child(fds[1]);
	}
	close(fds[1]);
	struct buf b = { 0 };
	char chunk[1024];
	ssize_t n;
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
		buf_addn(&b, chunk, (size_t)n);
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	for (char *line = b.s, *nl; line && (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		char *key = xasprintf("sysctl.%s", line);
		kv_set(props, key, tab + 1);
		free(key);
	}
	buf_free(&b);
}

void runinfo_fill(struct run_info *info, const struct ns_id *origin)
{
	(void)origin;
	struct utsname u;
	char host[256] = "localhost", when[32];
	uname(&u);
	gethostname(host, sizeof(host) - 1);
	time_t now = time(NULL);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	info->tool_name = xstrdup("sockreuse");
	info->tool_version = xstrdup(SOCKREUSE_VERSION);
	info->kernel_release = xstrdup(u.release);
	info->kernel_version = xstrdup(u.version);
	info->machine = xstrdup(u.machine);
	char upstream[64];
	upstream_of_kernel(u.release, u.version, upstream, sizeof(upstream));
	info->kernel_upstream = xstrdup(upstream);
	info->hostname = xstrdup(host);
	info->started = xstrdup(when);
	read_sysctl_defaults(&info->properties);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

int become_ns_root(char *err, size_t errlen)
{
	if (geteuid() == 0)
		return 0;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	if (unshare(CLONE_NEWUSER) < 0) {
		snprintf(err, errlen,
			 "not root, and a user namespace cannot be created (%s): run as root, or allow "
			 "unprivileged user namespaces (kernel.unprivileged_userns_clone=1)", strerror(errno));
		return -1;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (write_file("/proc/self/setgroups", "deny") < 0 || write_file("/proc/self/uid_map", map) < 0) {
		snprintf(err, errlen, "not root, and the user namespace's uid map cannot be written: %s", strerror(errno));
		return -1;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	write_file("/proc/self/gid_map", map);
	return 0;
}
