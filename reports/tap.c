/* TAP version 13 (not 14: Debian's prove rejects a "TAP version 14" line).
 * The plan comes last because cases stream out as they finish and an interrupted run must
 * still end with a plan that matches what was emitted. */
#include "reports/report.h"
#include "reports/escape.h"
#include "lib/util.h"

#include <string.h>

void tap_begin(FILE *f)
{
	fputs("TAP version 13\n", f);
}

static void yaml_pair(struct buf *b, const char *indent, const char *key, const char *val)
{
	buf_add(b, indent);
	esc_yaml_key(b, key);
	buf_add(b, ": ");
	esc_yaml_scalar(b, val);
	buf_add(b, "\n");
}

/* Empty collections are left out: the YAMLish reader has no use for "{}" lines and they say
 * nothing a reader needs. */
static void yaml_mapping(struct buf *b, const char *key, const struct kvlist *l)
{
	if (l->n == 0)
		return;
	buf_printf(b, "  %s:\n", key);
	for (size_t i = 0; i < l->n; i++)
		yaml_pair(b, "    ", l->v[i].key, l->v[i].val);
}

static void yaml_diagnostic(struct buf *b, const struct case_result *c)
{
	buf_add(b, "  ---\n");
	yaml_pair(b, "  ", "expected", c->expected);
	yaml_pair(b, "  ", "observed", c->observed);
	yaml_pair(b, "  ", "status", status_name(c->status));
	if (c->known && *c->known)
		yaml_pair(b, "  ", "known", c->known);
	yaml_pair(b, "  ", "detail", c->detail);
	yaml_pair(b, "  ", "rationale", c->rationale);
	yaml_mapping(b, "params", &c->params);
	if (c->nrefs) {
		buf_add(b, "  refs:\n");
		for (size_t i = 0; i < c->nrefs; i++) {
			buf_add(b, "    - ");
			esc_yaml_item(b, c->refs[i]);
			buf_add(b, "\n");
		}
	}
	yaml_mapping(b, "facts", &c->facts);
	buf_add(b, "  ...\n");
}

void tap_case(FILE *f, size_t n, const struct case_result *c)
{
	struct buf b = { 0 };
	/* A known issue is a TODO: "not ok ... # TODO reason" when it fails as listed, "ok ...
	 * # TODO reason" when it passes (prove reports that as "TODO passed"). */
	int ok = c->status == ST_PASS || c->status == ST_SKIP || c->status == ST_XPASS;
	int todo = c->status == ST_XFAIL || c->status == ST_XPASS;

	buf_printf(&b, "%s %zu", ok ? "ok" : "not ok", n);
	if (c->id && *c->id) {
		buf_add(&b, " - ");
		esc_tap_text(&b, c->id);
	}
	if (todo) {
		buf_add(&b, " # TODO ");
		esc_tap_text(&b, c->known && *c->known ? c->known : "known issue");
	}
	if (c->status == ST_SKIP) {
		buf_add(&b, " # SKIP");
		if (c->detail && *c->detail) {
			buf_add(&b, " ");
			esc_tap_text(&b, c->detail);
		}
	}
	buf_add(&b, "\n");
	if (!ok || c->status == ST_XPASS)
		yaml_diagnostic(&b, c);
	fwrite(b.s, 1, b.len, f);
	buf_free(&b);
}

void tap_end(FILE *f, size_t n, const struct report *r)
{
	fprintf(f, "1..%zu\n", n);
	if (!r)
		return;
	struct summary s = report_summary(r);
	fprintf(f, "# %zu passed, %zu failed, %zu skipped, %zu errors", s.pass, s.fail, s.skip, s.error);
	if (s.xfail || s.xpass)
		fprintf(f, ", %zu known issues (xfail), %zu known issues passed (xpass)", s.xfail, s.xpass);
	fputc('\n', f);
	/* A plan that matches the lines emitted would read as a pass: a bail-out is what makes
	 * every TAP consumer (prove, kselftest's runner) fail a run that did not finish. */
	if (r->interrupted)
		fprintf(f, "Bail out! %s\n", r->interruption && *r->interruption ? r->interruption
									  : "interrupted");
}

int tap_write(FILE *f, const struct report *r)
{
	tap_begin(f);
	for (size_t i = 0; i < r->ncases; i++)
		tap_case(f, i + 1, &r->cases[i]);
	tap_end(f, r->ncases, r);
	return fflush(f) != 0 || ferror(f) ? -1 : 0;
}
