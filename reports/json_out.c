/* The JSON report (reports/schema.json): 2-space indented, keys always in the same order, so
 * reports from two kernels diff cleanly. Written by hand rather than through jansson because
 * jansson refuses strings that are not valid UTF-8, and a report must never be lost to one bad
 * byte: esc_json replaces it instead. */
#include "reports/report.h"
#include "reports/escape.h"
#include "lib/util.h"

#include <stdio.h>
#include <string.h>

#define JSON_FORMAT "sockreuse-report/1"

static void indent(struct buf *b, int level)
{
	for (int i = 0; i < level; i++)
		buf_add(b, "  ");
}

/* Starts a member: indentation, "key": */
static void key(struct buf *b, int level, const char *k)
{
	indent(b, level);
	esc_json(b, k);
	buf_add(b, ": ");
}

/* Ends a member: a comma unless it is the last one. */
static void end(struct buf *b, int last)
{
	buf_add(b, last ? "\n" : ",\n");
}

static void str_member(struct buf *b, int level, const char *k, const char *v, int last)
{
	key(b, level, k);
	esc_json(b, v);
	end(b, last);
}

static void num_member(struct buf *b, int level, const char *k, double v, int last)
{
	char num[FIXED3_LEN];
	fmt_fixed3(num, v);
	key(b, level, k);
	buf_add(b, num);
	end(b, last);
}

static void count_member(struct buf *b, int level, const char *k, size_t v, int last)
{
	key(b, level, k);
	buf_printf(b, "%zu", v);
	end(b, last);
}

static void map_member(struct buf *b, int level, const char *k, const struct kvlist *l, int last)
{
	key(b, level, k);
	if (l->n == 0) {
		buf_add(b, "{}");
	} else {
		buf_add(b, "{\n");
		for (size_t i = 0; i < l->n; i++)
			str_member(b, level + 1, l->v[i].key, l->v[i].val, i + 1 == l->n);
		indent(b, level);
		buf_add(b, "}");
	}
	end(b, last);
}

static void list_member(struct buf *b, int level, const char *k, char *const *v, size_t n,
			int last)
{
	key(b, level, k);
	if (n == 0) {
		buf_add(b, "[]");
	} else {
		buf_add(b, "[\n");
		for (size_t i = 0; i < n; i++) {
			indent(b, level + 1);
			esc_json(b, v[i]);
			end(b, i + 1 == n);
		}
		indent(b, level);
		buf_add(b, "]");
	}
	end(b, last);
}

static void case_object(struct buf *b, const struct case_result *c, int last)
{
	const int l = 3;

	indent(b, 2);
	buf_add(b, "{\n");
	str_member(b, l, "id", c->id, 0);
	key(b, l, "number");
	buf_printf(b, "%d", c->number);
	end(b, 0);
	str_member(b, l, "file", c->file ? c->file : "", 0);
	count_member(b, l, "line", c->line > 0 ? (size_t)c->line : 0, 0);
	str_member(b, l, "title", c->title, 0);
	str_member(b, l, "group", c->group, 0);
	map_member(b, l, "params", &c->params, 0);
	str_member(b, l, "expected", c->expected, 0);
	str_member(b, l, "observed", c->observed, 0);
	str_member(b, l, "status", status_name(c->status), 0);
	num_member(b, l, "duration_ms", c->duration_ms, 0);
	str_member(b, l, "detail", c->detail, 0);
	str_member(b, l, "rationale", c->rationale, 0);
	list_member(b, l, "refs", c->refs, c->nrefs, 0);
	map_member(b, l, "facts", &c->facts, !(c->known && *c->known));
	if (c->known && *c->known)
		str_member(b, l, "known", c->known, 1);
	indent(b, 2);
	buf_add(b, "}");
	end(b, last);
}

int json_case_line(FILE *f, const struct case_result *c)
{
	struct buf b = { 0 }, line = { 0 };
	case_object(&b, c, 1);
	/* esc_json escapes every newline inside a string, so each one here is layout: drop it
	 * with the indentation that follows. */
	for (size_t i = 0; i < b.len; i++) {
		if (b.s[i] != '\n') {
			buf_addn(&line, &b.s[i], 1);
			continue;
		}
		while (i + 1 < b.len && b.s[i + 1] == ' ')
			i++;
	}
	buf_add(&line, "\n");
	size_t start = strspn(line.s, " ");
	size_t written = fwrite(line.s + start, 1, line.len - start, f);
	int rc = written != line.len - start || fflush(f) != 0 || ferror(f) ? -1 : 0;
	buf_free(&b);
	buf_free(&line);
	return rc;
}

int json_write(FILE *f, const struct report *r)
{
	struct buf b = { 0 };
	struct summary s = report_summary(r);

	buf_add(&b, "{\n");
	str_member(&b, 1, "format", JSON_FORMAT, 0);

	key(&b, 1, "tool");
	buf_add(&b, "{\n");
	str_member(&b, 2, "name", r->info.tool_name, 0);
	str_member(&b, 2, "version", r->info.tool_version, 1);
	indent(&b, 1);
	buf_add(&b, "}");
	end(&b, 0);

	key(&b, 1, "kernel");
	buf_add(&b, "{\n");
	str_member(&b, 2, "release", r->info.kernel_release, 0);
	str_member(&b, 2, "version", r->info.kernel_version, 0);
	str_member(&b, 2, "machine", r->info.machine, 0);
	str_member(&b, 2, "upstream", r->info.kernel_upstream, 1);
	indent(&b, 1);
	buf_add(&b, "}");
	end(&b, 0);

	str_member(&b, 1, "hostname", r->info.hostname, 0);
	str_member(&b, 1, "started", r->info.started, 0);
	num_member(&b, 1, "duration_s", r->info.duration_s, 0);
	key(&b, 1, "interrupted");
	buf_add(&b, r->interrupted ? "true" : "false");
	end(&b, 0);
	str_member(&b, 1, "interruption", r->interrupted && r->interruption ? r->interruption : "", 0);
	map_member(&b, 1, "properties", &r->info.properties, 0);

	key(&b, 1, "summary");
	buf_add(&b, "{\n");
	count_member(&b, 2, "total", s.total, 0);
	count_member(&b, 2, "pass", s.pass, 0);
	count_member(&b, 2, "fail", s.fail, 0);
	count_member(&b, 2, "skip", s.skip, 0);
	count_member(&b, 2, "error", s.error, !(s.xfail || s.xpass));
	if (s.xfail || s.xpass) {
		count_member(&b, 2, "xfail", s.xfail, 0);
		count_member(&b, 2, "xpass", s.xpass, 1);
	}
	indent(&b, 1);
	buf_add(&b, "}");
	end(&b, 0);

	key(&b, 1, "cases");
	if (r->ncases == 0) {
		buf_add(&b, "[]");
	} else {
		buf_add(&b, "[\n");
		for (size_t i = 0; i < r->ncases; i++)
			case_object(&b, &r->cases[i], i + 1 == r->ncases);
		indent(&b, 1);
		buf_add(&b, "]");
	}
	end(&b, 1);
	buf_add(&b, "}\n");

	size_t written = fwrite(b.s, 1, b.len, f);
	int rc = written != b.len || fflush(f) != 0 || ferror(f) ? -1 : 0;
	buf_free(&b);
	return rc;
}
