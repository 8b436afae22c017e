/* Which process holds each socket: /proc/PID/fd links read "socket:[INODE]". Processes of
 * other users are unreadable without privilege; the observation says so. */
#include "observe/observe.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct wanted {
	unsigned int inode;
	size_t index;
};

static int cmp_inode(const void *a, const void *b)
{
	unsigned int x = ((const struct wanted *)a)->inode, y = ((const struct wanted *)b)->inode;
	return x < y ? -1 : x > y;
}

static void read_comm(int pid, char *out, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	FILE *f = fopen(path, "r");
	out[0] = '\0';
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* Looks at each fd of one process. Returns -1 when its fds could not be read. */
static int scan_process(struct observation *o, int pid, const struct wanted *w, size_t nw)
{
	char path[64], link[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -1;  /* ENOENT: it just exited */
	struct dirent *de;
	char comm[32] = "";
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char fdpath[320];
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
		ssize_t n = readlink(fdpath, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		unsigned int inode;
		if (sscanf(link, "socket:[%u]", &inode) != 1)
			continue;
		struct wanted key = { .inode = inode };
		const struct wanted *hit = bsearch(&key, w, nw, sizeof(*w), cmp_inode);
		if (!hit)
			continue;
		struct seen_sock *s = &o->v[hit->index];
		if (s->pid >= 0)
			continue;  /* shared by a fork: the first (lowest) pid is named */
		if (!comm[0])
			read_comm(pid, comm, sizeof(comm));
		s->pid = pid;
		snprintf(s->command, sizeof(s->command), "%s", comm);
	}
	closedir(d);
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void observe_owners(struct observation *o, bool (*want)(const struct seen_sock *s, void *arg), void *arg)
{
	struct wanted *w = xcalloc(o->n ? o->n : 1, sizeof(*w));
	size_t nw = 0;
	for (size_t i = 0; i < o->n; i++)
		if (o->v[i].inode && want(&o->v[i], arg))
			w[nw++] = (struct wanted){ o->v[i].inode, i };
	o->owners_all_seen = true;
	if (!nw) {
		free(w);
		return;
	}
	qsort(w, nw, sizeof(*w), cmp_inode);
	DIR *d = opendir("/proc");
	int *pids = NULL;
	size_t npids = 0, cap = 0, unreadable = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		if (npids == cap) {
			cap = cap ? cap * 2 : 256;
			pids = xrealloc(pids, cap * sizeof(*pids));
		}
		pids[npids++] = (int)pid;
	}
	if (d)
		closedir(d);
	qsort(pids, npids, sizeof(*pids), cmp_pid);
	for (size_t i = 0; i < npids; i++)
		if (scan_process(o, pids[i], w, nw) < 0)
			unreadable++;
	if (unreadable) {
		o->owners_all_seen = false;
		snprintf(o->owners_why, sizeof(o->owners_why),
			 "the open files of %zu processes could not be read (other users' processes need root)", unreadable);
	}
	free(pids);
	free(w);
}
