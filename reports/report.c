/* The report model: statuses, copying and freeing results, and writing a report file
 * atomically. The format writers live in tap.c, junit.c and json_out.c. */
#include "reports/report.h"
#include "reports/escape.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const status_names[] = {
	[ST_PASS] = "pass", [ST_FAIL] = "fail", [ST_SKIP] = "skip", [ST_ERROR] = "error",
	[ST_XFAIL] = "xfail", [ST_XPASS] = "xpass",
};
#define NSTATUS (sizeof(status_names) / sizeof(status_names[0]))

/* A value outside the enum can only come from a bug or corrupt input; calling it "error"
 * keeps it from ever being counted or reported as a pass. */
const char *status_name(enum status s)
{
	if ((unsigned)s >= NSTATUS)
		return status_names[ST_ERROR];
	return status_names[s];
}

int status_parse(const char *s)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < NSTATUS; i++)
		if (strcmp(s, status_names[i]) == 0)
			return (int)i;
	return -1;
}

struct summary report_summary(const struct report *r)
{
	struct summary s = { 0 };
	for (size_t i = 0; i < r->ncases; i++) {
		s.total++;
		switch (r->cases[i].status) {
		case ST_PASS: s.pass++; break;
		case ST_FAIL: s.fail++; break;
		case ST_SKIP: s.skip++; break;
		case ST_XFAIL: s.xfail++; break;
		case ST_XPASS: s.xpass++; break;
		default: s.error++; break;
		}
	}
	return s;
}

/* Copies never hold NULL strings, so the writers see "" for a field nobody set. */
static char *dup_or_empty(const char *s)
{
	return xstrdup(or_empty(s));
}

void report_add(struct report *r, const struct case_result *c)
{
	if (r->ncases == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->cases = xrealloc(r->cases, r->cap * sizeof(*r->cases));
	}
	struct case_result *d = &r->cases[r->ncases++];
	memset(d, 0, sizeof(*d));
	d->id = dup_or_empty(c->id);
	d->number = c->number;
	d->title = dup_or_empty(c->title);
	d->group = dup_or_empty(c->group);
	kv_copy(&d->params, &c->params);
	d->expected = dup_or_empty(c->expected);
	d->observed = dup_or_empty(c->observed);
	d->status = c->status;
	d->duration_ms = c->duration_ms;
	d->detail = dup_or_empty(c->detail);
	d->rationale = dup_or_empty(c->rationale);
	if (c->nrefs) {
		d->refs = xcalloc(c->nrefs, sizeof(*d->refs));
		for (size_t i = 0; i < c->nrefs; i++)
			d->refs[i] = dup_or_empty(c->refs[i]);
		d->nrefs = c->nrefs;
	}
	kv_copy(&d->facts, &c->facts);
	d->known = dup_or_empty(c->known);
}

/* Frees what c owns, not c itself (results live inside report->cases). */
void case_result_free(struct case_result *c)
{
	free(c->id);
	free(c->title);
	free(c->group);
	kv_free(&c->params);
	free(c->expected);
	free(c->observed);
	free(c->detail);
	free(c->rationale);
	for (size_t i = 0; i < c->nrefs; i++)
		free(c->refs[i]);
	free(c->refs);
	kv_free(&c->facts);
	free(c->known);
	memset(c, 0, sizeof(*c));
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->ncases; i++)
		case_result_free(&r->cases[i]);
	free(r->cases);
	free(r->info.tool_name);
	free(r->info.tool_version);
	free(r->info.kernel_release);
	free(r->info.kernel_version);
	free(r->info.kernel_upstream);
	free(r->info.machine);
	free(r->info.hostname);
	free(r->info.started);
	kv_free(&r->info.properties);
	memset(r, 0, sizeof(*r));
}

static int set_err(char *err, size_t errlen, const char *path, int e)
{
	if (err && errlen)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e ? e : EIO));
	return -1;
}

/* Creates "<path>.tmp.<pid>.<k>" exclusively. Living next to the target keeps rename(2) on
 * one filesystem; open(2) with 0666 lets the umask decide the final mode, as for any file. */
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

/* Best effort: makes the rename itself durable. Some filesystems refuse fsync on a
 * directory, and by now the report is complete either way, so errors are ignored. */
static void sync_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

int report_write_file(const char *path, int (*writer)(FILE *, const struct report *),
		      const struct report *r, char *err, size_t errlen)
{
	char *tmp = NULL;
	int fd = open_temp_beside(path, &tmp);
	if (fd < 0) {
		int e = errno;
		free(tmp);
		return set_err(err, errlen, path, e);
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int e = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		return set_err(err, errlen, path, e);
	}

	/* A writer reports failure without an errno of its own; clear it so a stale value from
	 * earlier is not blamed, and fall back to EIO. */
	errno = 0;
	int rc = writer(f, r);
	int e = errno;
	if (rc == 0 && fflush(f) != 0)
		rc = -1, e = errno;
	if (rc == 0 && fsync(fileno(f)) != 0)
		rc = -1, e = errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -1, e = errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1, e = errno;
	if (rc != 0) {
		unlink(tmp);
		free(tmp);
		return set_err(err, errlen, path, e);
	}
	free(tmp);
	sync_parent_dir(path);
	return 0;
}
