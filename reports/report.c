/* The report model: statuses, copying and freeing results, and writing a report file
 * (lib/outfile.c decides how). The format writers live in tap.c, junit.c and json_out.c. */
#include "reports/report.h"
#include "reports/escape.h"
#include "lib/util.h"
#include "lib/outfile.h"

#include <stdlib.h>
#include <string.h>

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
	case_result_copy(&r->cases[r->ncases++], c);
}

void case_result_copy(struct case_result *d, const struct case_result *c)
{
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
	d->file = dup_or_empty(c->file);
	d->line = c->line;
}

void case_result_borrow(struct case_result *d, const struct case_result *c)
{
	*d = *c;
	char **strs[] = { &d->id, &d->title, &d->group, &d->expected, &d->observed, &d->rationale, &d->known, &d->file };
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (!*strs[i])
			*strs[i] = (char *)"";   /* where a copy holds "", so writers see the same either way; never written */
	d->detail = dup_or_empty(c->detail);
	d->borrowed = 1;
}

/* Frees what c owns, not c itself (results live inside report->cases). */

void case_result_free(struct case_result *c)
{
	if (c->borrowed) {
		free(c->detail);
		memset(c, 0, sizeof(*c));
		return;
	}
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
	free(c->file);
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
	free(r->interruption);
	kv_free(&r->info.properties);
	memset(r, 0, sizeof(*r));
}

/* The writer and its report, through outfile_write's one argument. */
struct report_job {
	int (*writer)(FILE *, const struct report *);
	const struct report *report;
};

static int run_job(FILE *f, const void *arg)
{
	const struct report_job *job = arg;
	return job->writer(f, job->report);
}

int report_write_file(const char *path, int (*writer)(FILE *, const struct report *),
		      const struct report *r, char *err, size_t errlen)
{
	struct report_job job = { writer, r };
	return outfile_write(path, run_job, &job, err, errlen);
}
