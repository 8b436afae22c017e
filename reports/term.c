/* The terminal view. The progress line is redrawn in place with a carriage return and
 * blanks (no cursor control, so a dumb terminal shows it too); every other line is
 * printed above it. Colours are SGR codes, only when asked for. */
#include "reports/term.h"
#include "lib/util.h"

#include <stdlib.h>
#include <string.h>

/* A terminal redraws far slower than cases finish: at most this often. */
#define REDRAW_MS 100.0

struct term_view {
	FILE *f;
	struct term_opts o;
	size_t total, done, fail, error;
	double t0, drawn_at;
	int shown;          /* width of the progress line on screen, 0 when none */
};

static const char *const status_label[] = {
	[ST_PASS] = "PASS", [ST_FAIL] = "FAIL", [ST_SKIP] = "SKIP", [ST_ERROR] = "ERROR",
	[ST_XFAIL] = "XFAIL", [ST_XPASS] = "XPASS",
};
static const char *const status_sgr[] = {
	[ST_PASS] = "32", [ST_FAIL] = "1;31", [ST_SKIP] = "33", [ST_ERROR] = "1;35",
	[ST_XFAIL] = "33", [ST_XPASS] = "1;33",
};
#define NSTATUS (sizeof(status_label) / sizeof(status_label[0]))

static void paint(struct buf *b, const struct term_view *v, const char *sgr, const char *text)
{
	if (v->o.color)
		buf_printf(b, "\033[%sm%s\033[0m", sgr, text);
	else
		buf_add(b, text);
}

static void label(struct buf *b, const struct term_view *v, enum status s)
{
	if ((unsigned)s >= NSTATUS)
		s = ST_ERROR;
	paint(b, v, status_sgr[s], status_label[s]);
	buf_printf(b, "%*s", 6 - (int)strlen(status_label[s]), "");
}

static void clear_progress(struct term_view *v)
{
	if (v->shown)
		fprintf(v->f, "\r%*s\r", v->shown, "");
	v->shown = 0;
}

static void draw_progress(struct term_view *v)
{
	char line[160];
	double s = (now_ms() - v->t0) / 1000.0;
	int n = snprintf(line, sizeof(line), "%zu/%zu cases, %zu failed, %zu error%s, %.1f s", v->done, v->total,
			 v->fail, v->error, v->error == 1 ? "" : "s", s);
	/* Blanks over the rest of a longer previous line. */
	fprintf(v->f, "\r%s%*s", line, v->shown > n ? v->shown - n : 0, "");
	if (v->shown > n)
		fprintf(v->f, "\r%s", line);
	v->shown = n;
	v->drawn_at = now_ms();
	fflush(v->f);
}

struct term_view *term_open(FILE *f, size_t total, const struct term_opts *o)
{
	struct term_view *v = xcalloc(1, sizeof(*v));
	v->f = f;
	v->o = *o;
	v->total = total;
	v->t0 = now_ms();
	if (v->o.verbosity > TERM_QUIET)
		draw_progress(v);
	return v;
}

/* "expected EADDRINUSE, observed ok", or what stopped the case before its step under test. */
static void outcome_line(struct buf *b, const struct case_result *c)
{
	if (*c->observed)
		buf_printf(b, "expected %s, observed %s", *c->expected ? c->expected : "nothing", c->observed);
	else
		buf_printf(b, "expected %s, not reached", *c->expected ? c->expected : "nothing");
}

static void case_block(struct term_view *v, const struct case_result *c)
{
	struct buf b = { 0 };
	label(&b, v, c->status);
	buf_printf(&b, "%s\n", c->id);
	if (c->status != ST_PASS && c->status != ST_SKIP) {
		buf_add(&b, "      ");
		outcome_line(&b, c);
		buf_add(&b, "\n");
	}
	if (*c->detail && c->status != ST_PASS)
		buf_printf(&b, "      %s\n", c->detail);
	if (v->o.verbosity >= TERM_VERBOSE && c->status != ST_PASS && *c->rationale)
		buf_printf(&b, "      why: %s\n", c->rationale);
	fwrite(b.s, 1, b.len, v->f);
	buf_free(&b);
}

void term_case(struct term_view *v, const struct case_result *c)
{
	v->done++;
	v->fail += c->status == ST_FAIL;
	v->error += c->status == ST_ERROR;
	if (v->o.verbosity == TERM_QUIET)
		return;
	/* An xpass is news too: the known bug may be fixed on this kernel. */
	int bad = c->status == ST_FAIL || c->status == ST_ERROR;
	if (bad || c->status == ST_XPASS || v->o.verbosity >= TERM_VERBOSE) {
		clear_progress(v);
		case_block(v, c);
	}
	if (bad || !v->shown || v->done == v->total || now_ms() - v->drawn_at >= REDRAW_MS)
		draw_progress(v);
}

void term_tick(struct term_view *v)
{
	if (v->o.verbosity > TERM_QUIET && now_ms() - v->drawn_at >= 1000.0)
		draw_progress(v);
}

void term_close(struct term_view *v, const struct report *r, const char *note)
{
	struct summary s = report_summary(r);
	struct buf b = { 0 };
	clear_progress(v);
	if (s.fail + s.error) {
		buf_printf(&b, "\n%zu failed, %zu error%s:\n", s.fail, s.error, s.error == 1 ? "" : "s");
		for (size_t i = 0; i < r->ncases; i++) {
			const struct case_result *c = &r->cases[i];
			if (c->status != ST_FAIL && c->status != ST_ERROR)
				continue;
			buf_add(&b, "  ");
			label(&b, v, c->status);
			buf_printf(&b, "%s (", c->id);
			outcome_line(&b, c);
			buf_add(&b, ")\n");
		}
	}
	if (note)
		buf_printf(&b, "\n%s\n", note);
	const struct { size_t n; const char *what; enum status st; } parts[] = {
		{ s.pass, "passed", ST_PASS }, { s.fail, "failed", ST_FAIL },
		{ s.skip, "skipped", ST_SKIP }, { s.error, "errors", ST_ERROR },
		{ s.xfail, "xfail", ST_XFAIL }, { s.xpass, "xpass", ST_XPASS },
	};
	/* xfail and xpass only when there are any, as in the stderr summary. */
	size_t nparts = s.xfail || s.xpass ? 6 : 4;
	for (size_t i = 0; i < nparts; i++) {
		char part[64];
		snprintf(part, sizeof(part), "%zu %s", parts[i].n, parts[i].what);
		buf_add(&b, i ? ", " : "");
		/* Green only for a clean run: passes beside failures are no good news. */
		if (parts[i].n && (parts[i].st != ST_PASS || !(s.fail + s.error)))
			paint(&b, v, status_sgr[parts[i].st], part);
		else
			buf_add(&b, part);
	}
	buf_printf(&b, " in %.1f s\n", (now_ms() - v->t0) / 1000.0);
	fwrite(b.s, 1, b.len, v->f);
	fflush(v->f);
	buf_free(&b);
	free(v);
}
