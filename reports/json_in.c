/* Reads a JSON report back into a struct report, for compare.
 * Strict about what identifies a report (format, a cases array, an id and a status per case,
 * unique ids) and about types; tolerant about everything else: unknown keys are ignored and
 * optional fields may be absent or null, so reports of older and newer suite versions still load. */
#include "reports/report.h"
#include "lib/kversion.h"
#include "lib/util.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FORMAT_PREFIX "sockreuse-report/"

/* Where the problem was, for messages: "case 3", "case \"0110/...\"". */
struct reader {
	const char *path;
	char *err;
	size_t errlen;
};

/* Writes "path: message" into err as one line: jansson's texts and the report's own strings
 * (ids in messages) could hold newlines. */
static int fail(const struct reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const struct reader *rd, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!rd->errlen)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	snprintf(rd->err, rd->errlen, "%s: %s", rd->path, msg ? msg : "out of memory");
	free(msg);
	for (char *p = rd->err; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return -1;
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "something else";
}

/* An optional member: NULL when absent or null. */
static json_t *member(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

/* An optional member of the given kind ("a string", "a number", as json_kind says it): NULL in
 * *out when absent or null, an error when it is of another kind. */
static int member_as(const struct reader *rd, const json_t *obj, const char *key, const char *where,
		     const char *kind, json_t **out)
{
	json_t *v = member(obj, key);
	if (v && strcmp(json_kind(v), kind) != 0)
		return fail(rd, "%s%s\"%s\" is %s, not %s", where, *where ? ": " : "", key, json_kind(v),
			    kind);
	*out = v;
	return 0;
}

/* An optional string member into *out (a copy; "" when absent). where names the enclosing object
 * for messages ("kernel", "case \"x\""). */
static int get_string(const struct reader *rd, const json_t *obj, const char *key,
		      const char *where, char **out)
{
	json_t *v;
	if (member_as(rd, obj, key, where, "a string", &v) < 0)
		return -1;
	*out = xstrdup(v ? json_string_value(v) : "");
	return 0;
}

/* Durations: a number, never negative. */
static int get_duration(const struct reader *rd, const json_t *obj, const char *key,
			const char *where, double *out)
{
	json_t *v;
	if (member_as(rd, obj, key, where, "a number", &v) < 0)
		return -1;
	*out = v ? json_number_value(v) : 0;
	if (*out < 0)
		return fail(rd, "%s%s\"%s\" is %g: a duration is never negative", where, *where ? ": " : "",
			    key, *out);
	return 0;
}

/* An optional object member; NULL in *out when absent. */
static int get_object(const struct reader *rd, const json_t *obj, const char *key,
		      const char *where, json_t **out)
{
	return member_as(rd, obj, key, where, "an object", out);
}

/* An optional {string: string} member (params, facts, properties). Values that are not strings
 * are taken as their JSON text when scalar and skipped otherwise: these maps only inform the
 * reader, and a newer suite writing "port": 40000 must not make an older compare refuse it. */
static int get_kv(const struct reader *rd, const json_t *obj, const char *key, const char *where,
		  struct kvlist *out)
{
	json_t *map, *v;
	const char *k;

	if (get_object(rd, obj, key, where, &map) < 0)
		return -1;
	if (!map)
		return 0;
	json_object_foreach(map, k, v) {
		if (json_is_string(v)) {
			kv_set(out, k, json_string_value(v));
		} else if (json_is_number(v) || json_is_boolean(v)) {
			char *text = json_dumps(v, JSON_ENCODE_ANY);
			if (text)
				kv_set(out, k, text);
			free(text);
		}
	}
	return 0;
}

/* What the schema allows as an expected outcome: "ok", "any", an errno name, an errno name at
 * a step ("EADDRINUSE at listen"), or "" when nothing was asserted (a case file that did not
 * load). */
static int valid_expected(const char *s)
{
	if (!*s || strcmp(s, "ok") == 0 || strcmp(s, "any") == 0)
		return 1;
	if (s[0] != 'E' || !s[1])
		return 0;
	const char *c = s + 1;
	for (; *c && *c != ' '; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			return 0;
	if (!*c)
		return 1;
	/* "EADDRINUSE at listen": the step where the call must fail */
	if (strncmp(c, " at ", 4) != 0 || !(c[4] >= 'a' && c[4] <= 'z'))
		return 0;
	for (c += 5; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
			return 0;
	return 1;
}

/* RFC 3339 date-time, as the schema's "format": "date-time" means it: 2026-11-21T10:11:39Z,
 * optionally with fractions of a second and a numeric zone. */
static int valid_date_time(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
		return 0;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60 ||
	    y < 0 || h < 0 || mi < 0 || sec < 0)
		return 0;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	const char *rest = s + n;
	if (*rest == '.') {
		if (!(rest[1] >= '0' && rest[1] <= '9'))
			return 0;
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	}
	if (strcmp(rest, "Z") == 0 || strcmp(rest, "z") == 0)
		return 1;
	int zh, zm, zn = 0;
	return (*rest == '+' || *rest == '-') && sscanf(rest + 1, "%2d:%2d%n", &zh, &zm, &zn) == 2 && zn == 5 &&
	       !rest[6] && zh <= 23 && zm <= 59 && zh >= 0 && zm >= 0;
}

static int read_info(const struct reader *rd, const json_t *root, struct run_info *info)
{
	json_t *tool, *kernel;

	if (get_object(rd, root, "tool", "", &tool) < 0 ||
	    get_object(rd, root, "kernel", "", &kernel) < 0)
		return -1;
	/* Absent sub-objects read as empty ones. */
	json_t *empty = json_object();
	int rc = get_string(rd, tool ? tool : empty, "name", "tool", &info->tool_name) < 0 ||
		 get_string(rd, tool ? tool : empty, "version", "tool", &info->tool_version) < 0 ||
		 get_string(rd, kernel ? kernel : empty, "release", "kernel", &info->kernel_release) < 0 ||
		 get_string(rd, kernel ? kernel : empty, "version", "kernel", &info->kernel_version) < 0 ||
		 get_string(rd, kernel ? kernel : empty, "machine", "kernel", &info->machine) < 0 ||
		 get_string(rd, kernel ? kernel : empty, "upstream", "kernel", &info->kernel_upstream) < 0 ||
		 get_string(rd, root, "hostname", "", &info->hostname) < 0 ||
		 get_string(rd, root, "started", "", &info->started) < 0 ||
		 get_duration(rd, root, "duration_s", "", &info->duration_s) < 0 ||
		 get_kv(rd, root, "properties", "", &info->properties) < 0 ? -1 : 0;
	json_decref(empty);
	if (rc == 0 && !*info->kernel_upstream) {
		/* Older reports: read it from the release and version strings, as the runner does. */
		char up[64];
		upstream_of_kernel(info->kernel_release, info->kernel_version, up, sizeof(up));
		free(info->kernel_upstream);
		info->kernel_upstream = xstrdup(up);
	}
	if (rc == 0 && member(root, "started") && !valid_date_time(info->started))
		rc = fail(rd, "\"started\" is \"%.40s\", not an RFC 3339 date-time such as 2026-11-21T10:11:39Z",
			  info->started);
	return rc;
}

/* The case's number: the "number" member, else the id's leading digits (older reports). */
static int get_case_number(const struct reader *rd, const json_t *jc, const char *where,
			   const char *id, int *out)
{
	json_t *v = member(jc, "number");
	if (v && !json_is_number(v))
		return fail(rd, "%s: \"number\" is %s, not a number", where, json_kind(v));
	if (v) {
		double n = json_number_value(v);
		if (!json_is_integer(v) || n < 0 || n > 9999)
			return fail(rd, "%s: \"number\" is %g, not a case number from 0 to 9999", where, n);
		*out = (int)n;
	} else {
		*out = (int)strtol(id, NULL, 10);
	}
	return 0;
}

static int get_refs(const struct reader *rd, const json_t *jc, const char *where,
		    struct case_result *c)
{
	json_t *refs = member(jc, "refs"), *v;
	size_t i;

	if (!refs)
		return 0;
	if (!json_is_array(refs))
		return fail(rd, "%s: \"refs\" is %s, not an array", where, json_kind(refs));
	c->refs = xcalloc(json_array_size(refs), sizeof(*c->refs));
	json_array_foreach(refs, i, v) {
		if (!json_is_string(v))
			return fail(rd, "%s: refs[%zu] is %s, not a string", where, i, json_kind(v));
		c->refs[c->nrefs++] = (char *)json_string_value(v);
	}
	return 0;
}

/* The strings of a case being read: owned here until report_add copies them. */
static void free_case_strings(struct case_result *c)
{
	free(c->id);
	free(c->title);
	free(c->group);
	free(c->expected);
	free(c->observed);
	free(c->detail);
	free(c->rationale);
	free(c->known);
	free(c->file);
	free(c->refs); /* the strings themselves belong to the JSON tree */
	kv_free(&c->params);
	kv_free(&c->facts);
}

static int read_case(const struct reader *rd, const json_t *jc, size_t index,
		     struct case_result *c)
{
	char where[96];
	json_t *id = member(jc, "id"), *status;
	double duration;

	if (!json_is_object(jc))
		return fail(rd, "case %zu is %s, not an object", index + 1, json_kind(jc));
	if (!id)
		return fail(rd, "case %zu has no \"id\"", index + 1);
	if (!json_is_string(id) || !*json_string_value(id))
		return fail(rd, "case %zu: \"id\" is %s", index + 1,
			    json_is_string(id) ? "empty" : json_kind(id));
	c->id = xstrdup(json_string_value(id));
	if (isspace((unsigned char)c->id[0]) || isspace((unsigned char)c->id[strlen(c->id) - 1]))
		return fail(rd, "case %zu: \"id\" \"%.60s\" begins or ends with white space", index + 1, c->id);
	snprintf(where, sizeof(where), "case \"%.60s%s\"", c->id, strlen(c->id) > 60 ? "..." : "");

	status = member(jc, "status");
	if (!status)
		return fail(rd, "%s has no \"status\"", where);
	if (!json_is_string(status))
		return fail(rd, "%s: \"status\" is %s, not a string", where, json_kind(status));
	int st = status_parse(json_string_value(status));
	if (st < 0)
		return fail(rd, "%s: unknown status \"%.40s\" (expected pass, fail, skip, error, xfail or xpass)",
			    where, json_string_value(status));
	c->status = (enum status)st;

	if (get_case_number(rd, jc, where, c->id, &c->number) < 0 ||
	    get_string(rd, jc, "title", where, &c->title) < 0 ||
	    get_string(rd, jc, "group", where, &c->group) < 0 ||
	    get_string(rd, jc, "expected", where, &c->expected) < 0 ||
	    get_string(rd, jc, "observed", where, &c->observed) < 0 ||
	    get_string(rd, jc, "detail", where, &c->detail) < 0 ||
	    get_string(rd, jc, "rationale", where, &c->rationale) < 0 ||
	    get_string(rd, jc, "known", where, &c->known) < 0 ||
	    get_duration(rd, jc, "duration_ms", where, &duration) < 0 ||
	    get_kv(rd, jc, "params", where, &c->params) < 0 ||
	    get_kv(rd, jc, "facts", where, &c->facts) < 0 ||
	    get_string(rd, jc, "file", where, &c->file) < 0 ||
	    get_refs(rd, jc, where, c) < 0)
		return -1;
	c->duration_ms = duration;
	if (!valid_expected(c->expected))
		return fail(rd, "%s: \"expected\" is \"%.40s\", not ok, any, an errno name or empty", where,
			    c->expected);
	json_t *line = member(jc, "line");
	if (line && (!json_is_integer(line) || json_integer_value(line) < 0 || json_integer_value(line) > 1000000000))
		return fail(rd, "%s: \"line\" is not a line number", where);
	c->line = line ? (int)json_integer_value(line) : 0;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const struct case_result *const *x = a, *const *y = b;
	return strcmp((*x)->id, (*y)->id);
}

static int check_unique_ids(const struct reader *rd, const struct report *r)
{
	const struct case_result **sorted = xcalloc(r->ncases, sizeof(*sorted));
	int rc = 0;

	for (size_t i = 0; i < r->ncases; i++)
		sorted[i] = &r->cases[i];
	qsort(sorted, r->ncases, sizeof(*sorted), by_id);
	for (size_t i = 1; i < r->ncases && rc == 0; i++)
		if (strcmp(sorted[i]->id, sorted[i - 1]->id) == 0) {
			size_t a = (size_t)(sorted[i - 1] - r->cases) + 1;
			size_t b = (size_t)(sorted[i] - r->cases) + 1;
			rc = fail(rd, "duplicate case id \"%.80s\" (cases %zu and %zu)", sorted[i]->id,
				  a < b ? a : b, a < b ? b : a);
		}
	free(sorted);
	return rc;
}

/* What a schema cannot say: the summary counts the cases the report holds. A summary that
 * contradicts them means the file was edited or cut, and nothing in it can be trusted. */
static int check_summary(const struct reader *rd, const json_t *root, const struct report *r)
{
	json_t *js;
	if (get_object(rd, root, "summary", "", &js) < 0)
		return -1;
	if (!js)
		return 0;
	struct summary s = report_summary(r);
	const struct { const char *key; size_t n; } counts[] = {
		{ "total", s.total }, { "pass", s.pass }, { "fail", s.fail }, { "skip", s.skip }, { "error", s.error },
	};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		json_t *v = member(js, counts[i].key);
		if (!v)
			continue;
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return fail(rd, "summary: \"%s\" is not a count", counts[i].key);
		if ((size_t)json_integer_value(v) != counts[i].n)
			return fail(rd, "summary: \"%s\" is %lld, but the cases say %zu", counts[i].key,
				    (long long)json_integer_value(v), counts[i].n);
	}
	return 0;
}

static int read_report(const struct reader *rd, const json_t *root, struct report *out)
{
	json_t *format, *cases, *jc, *interrupted;
	size_t i;

	if (!json_is_object(root))
		return fail(rd, "not a sockreuse report: the top level is %s, not an object",
			    json_kind(root));
	format = member(root, "format");
	if (!format)
		return fail(rd, "not a sockreuse report: no \"format\"");
	if (!json_is_string(format) ||
	    strncmp(json_string_value(format), FORMAT_PREFIX, strlen(FORMAT_PREFIX)) != 0)
		return fail(rd, "not a sockreuse report: \"format\" is %s%.60s%s, not \"" FORMAT_PREFIX
			    "N\"", json_is_string(format) ? "\"" : json_kind(format),
			    json_is_string(format) ? json_string_value(format) : "",
			    json_is_string(format) ? "\"" : "");
	cases = member(root, "cases");
	if (!json_is_array(cases))
		return fail(rd, "not a sockreuse report: no \"cases\" array");
	interrupted = member(root, "interrupted");
	if (interrupted && !json_is_boolean(interrupted))
		return fail(rd, "\"interrupted\" is %s, not a boolean", json_kind(interrupted));
	out->interrupted = json_is_true(interrupted);
	if (read_info(rd, root, &out->info) < 0)
		return -1;

	json_array_foreach(cases, i, jc) {
		struct case_result c;
		memset(&c, 0, sizeof(c));
		int rc = read_case(rd, jc, i, &c);
		if (rc == 0)
			report_add(out, &c);
		free_case_strings(&c);
		if (rc < 0)
			return -1;
	}
	if (check_unique_ids(rd, out) < 0 || check_summary(rd, root, out) < 0)
		return -1;
	json_t *why = member(root, "interruption");
	if (why && !json_is_string(why))
		return fail(rd, "\"interruption\" is %s, not a string", json_kind(why));
	out->interruption = xstrdup(why ? json_string_value(why) : "");
	return 0;
}

/* Whether the parse stopped because the input ended early: worth saying, since a report cut
 * short (a full disk, a killed run, a serial console that dropped the end) is the usual case. */
static int truncated(const json_error_t *e)
{
	return json_error_code(e) == json_error_premature_end_of_input ||
	       strstr(e->text, "near end of file") != NULL;
}

/* A report is at most this big once decompressed: 40 times today's full report, and a bound on
 * what a hostile .gz (a few KB that inflate to gigabytes) can cost. */
#define REPORT_MAX ((size_t)256 << 20)

/* The whole file, inflated when it is gzip (zlib passes other files through unchanged). */
static int slurp(const struct reader *rd, int fd, struct buf *b)
{
	gzFile gz = gzdopen(fd, "rb");
	char chunk[1 << 16];
	int n, errnum;

	if (!gz) {
		close(fd);
		return fail(rd, "cannot read: out of memory");
	}
	gzbuffer(gz, 1 << 17);
	while ((n = gzread(gz, chunk, sizeof(chunk))) > 0) {
		if (b->len + (size_t)n > REPORT_MAX) {
			gzclose(gz);
			return fail(rd, "larger than %zu MiB once decompressed, not a sockreuse report",
				    REPORT_MAX >> 20);
		}
		buf_addn(b, chunk, (size_t)n);
	}
	const char *msg = gzerror(gz, &errnum);
	if (n < 0 || errnum != Z_OK) {
		/* zlib names the stream "<fd:N>: "; the path is already in the message. */
		const char *why = errnum == Z_ERRNO ? strerror(errno) : msg;
		if (strncmp(why, "<fd:", 4) == 0 && strstr(why, ": "))
			why = strstr(why, ": ") + 2;
		char *copy = xstrdup(why);
		gzclose(gz);
		fail(rd, "bad gzip stream (%s)", copy);
		free(copy);
		return -1;
	}
	gzclose(gz);
	return 0;
}

int json_read(const char *path, struct report *out, char *err, size_t errlen)
{
	struct reader rd = { path, err, errlen };
	struct buf text = { 0 };
	struct stat st;
	json_error_t jerr;
	json_t *root;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(&rd, "%s", strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return fail(&rd, "%s", strerror(EISDIR));
	}
	if (slurp(&rd, fd, &text) < 0) {
		buf_free(&text);
		return -1;
	}
	if (text.len == 0) {
		buf_free(&text);
		return fail(&rd, "empty file, not a sockreuse report");
	}
	root = json_loadb(text.s, text.len, 0, &jerr);
	buf_free(&text);
	if (!root)
		return fail(&rd, "not JSON%s: %s at line %d column %d",
			    truncated(&jerr) ? " (truncated)" : "", jerr.text, jerr.line, jerr.column);
	rc = read_report(&rd, root, out);
	json_decref(root);
	if (rc < 0) {
		report_free(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}
