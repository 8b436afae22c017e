/* Output files: atomic replacement of regular files, writing through everything else. */
#include "lib/outfile.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

int outfile_is_stdout(const char *path)
{
	return path && strcmp(path, "-") == 0;
}

static int fail(char *err, size_t errlen, const char *path, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "cannot write %s: %s", outfile_is_stdout(path) ? "standard output" : path,
			 why);
	return -1;
}

static int fail_errno(char *err, size_t errlen, const char *path, int e)
{
	return fail(err, errlen, path, strerror(e ? e : EIO));
}

/* Replaced atomically: a regular file, or nothing yet. A symlink is written through even when
 * it points at a regular file: replacing it would cut the link. */
static int replaced(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT;
	return S_ISREG(st.st_mode);
}

static char *dir_of(const char *path)
{
	char *copy = xstrdup(path);
	char *dir = xstrdup(dirname(copy));
	free(copy);
	return dir;
}

int outfile_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (!path || !*path)
		return fail(err, errlen, "''", "an empty path names no file");
	if (outfile_is_stdout(path))
		return 0;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return fail_errno(err, errlen, path, EISDIR);
	if (!replaced(path)) {
		if (access(path, W_OK) < 0 && errno != ENOENT)
			return fail_errno(err, errlen, path, errno);
		return 0;
	}
	/* The file will be a new one in its directory: probe that the directory takes it. */
	char *dir = dir_of(path);
	char *probe = xasprintf("%s/.sockreuse-probe-XXXXXX", dir);
	int fd = mkstemp(probe), e = errno;
	if (fd >= 0) {
		close(fd);
		unlink(probe);
	}
	free(probe);
	free(dir);
	return fd < 0 ? fail_errno(err, errlen, path, e) : 0;
}

/* The canonical name of a file that does not exist yet: its directory resolved, then its name. */
static char *canonical_missing(const char *path)
{
	char *dir = dir_of(path), *copy = xstrdup(path), real[PATH_MAX], *out = NULL;
	if (realpath(dir, real))
		out = xasprintf("%s/%s", real, basename(copy));
	free(dir);
	free(copy);
	return out;
}

static int stat_of(const char *path, struct stat *st)
{
	return outfile_is_stdout(path) ? fstat(STDOUT_FILENO, st) : stat(path, st);
}

int outfile_same(const char *a, const char *b)
{
	struct stat sa, sb;
	int ha, hb;
	if (!a || !b)
		return 0;
	if (outfile_is_stdout(a) && outfile_is_stdout(b))
		return 1;
	if (strcmp(a, b) == 0)
		return !(stat(a, &sa) == 0 && S_ISCHR(sa.st_mode));
	ha = stat_of(a, &sa) == 0;
	hb = stat_of(b, &sb) == 0;
	if (ha && hb)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && !S_ISCHR(sa.st_mode);
	if (ha || hb || outfile_is_stdout(a) || outfile_is_stdout(b))
		return 0;
	char *ca = canonical_missing(a), *cb = canonical_missing(b);
	int same = ca && cb && strcmp(ca, cb) == 0;
	free(ca);
	free(cb);
	return same;
}

/* Creates "<path>.tmp.<pid>.<k>" exclusively. Living next to the target keeps rename(2) on
 * one filesystem; 0666 lets the umask decide the final mode, as for any new file. */
static int open_temp_beside(const char *path, char **tmp)
{
	for (unsigned k = 0; k < 100; k++) {
		*tmp = xasprintf("%s.tmp.%ld.%u", path, (long)getpid(), k);
		int fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd;
		free(*tmp);
		*tmp = NULL;
	}
	errno = EEXIST;
	return -1;
}

/* A FIFO nobody reads would block open(2) for ever: open without blocking (ENXIO then says
 * so), and write blocking as usual. */
static int open_through(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0666);
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	return fd;
}

int outfile_open(struct outfile *o, const char *path, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	if (!path || !*path)
		return outfile_check(path, err, errlen);
	if (outfile_is_stdout(path)) {
		o->is_stdout = 1;
		o->f = stdout;
		return 0;
	}
	int fd = replaced(path) ? open_temp_beside(path, &o->tmp) : open_through(path);
	if (fd < 0) {
		int e = errno;
		free(o->tmp);
		o->tmp = NULL;
		return e == ENXIO ? fail(err, errlen, path, "a FIFO that no process reads")
				  : fail_errno(err, errlen, path, e);
	}
	o->f = fdopen(fd, "w");
	if (!o->f) {
		int e = errno;
		close(fd);
		outfile_abort(o);
		return fail_errno(err, errlen, path, e);
	}
	return 0;
}

void outfile_abort(struct outfile *o)
{
	if (o->f && !o->is_stdout)
		fclose(o->f);
	if (o->tmp) {
		unlink(o->tmp);
		free(o->tmp);
	}
	memset(o, 0, sizeof(*o));
}

/* Best effort: makes the rename itself durable. Some filesystems refuse fsync on a
 * directory, and by now the file is complete either way, so errors are ignored. */
static void sync_parent_dir(const char *path)
{
	char *dir = dir_of(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

int outfile_commit(struct outfile *o, char *err, size_t errlen)
{
	int e = 0;
	if (fflush(o->f) != 0 || ferror(o->f))
		e = errno ? errno : EIO;
	if (o->is_stdout) {
		const char *path = o->path;
		memset(o, 0, sizeof(*o));
		return e ? fail_errno(err, errlen, path, e) : 0;
	}
	/* Only a file's contents can be made durable; a pipe or a device says EINVAL. */
	if (!e && fsync(fileno(o->f)) != 0 && errno != EINVAL && errno != EROFS)
		e = errno;
	if (fclose(o->f) != 0 && !e)
		e = errno ? errno : EIO;
	o->f = NULL;
	if (!e && o->tmp && rename(o->tmp, o->path) != 0)
		e = errno;
	if (e) {
		const char *path = o->path;
		outfile_abort(o);
		return fail_errno(err, errlen, path, e);
	}
	if (o->tmp)
		sync_parent_dir(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	return 0;
}

int outfile_write(const char *path, int (*write)(FILE *f, const void *arg), const void *arg,
		  char *err, size_t errlen)
{
	struct outfile o;
	if (outfile_open(&o, path, err, errlen) < 0)
		return -1;
	/* A writer reports failure without an errno of its own; clear it so a stale value from
	 * earlier is not blamed. */
	errno = 0;
	if (write(o.f, arg) < 0) {
		int e = errno;
		outfile_abort(&o);
		return fail_errno(err, errlen, path, e);
	}
	return outfile_commit(&o, err, errlen);
}
