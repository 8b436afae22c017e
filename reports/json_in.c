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

/* An optional string member into *out (a copy; "" when absent). where names the enclosing object
 * for messages ("kernel", "case \"x\""). */
static int get_string(const struct reader *rd, const json_t *obj, const char *key,
		      const char *where, char **out)
{
	json_t *v = member(obj, key);
	if (v && !json_is_string(v))
		return fail(rd, "%s%s\"%s\" is %s, not a string", where, *where ? ": " : "", key,
			    json_kind(v));
	*out = xstrdup(v ? json_string_value(v) : "");
	return 0;
}

static int get_number(const struct reader *rd, const json_t *obj, const char *key,
		      const char *where, double *out)
{
	json_t *v = member(obj, key);
	if (v && !json_is_number(v))
		return fail(rd, "%s%s\"%s\" is %s, not a number", where, *where ? ": " : "", key,
			    json_kind(v));
	*out = v ? json_number_value(v) : 0;
	return 0;
}

/* An optional object member; NULL in *out when absent. */
static int get_object(const struct reader *rd, const json_t *obj, const char *key,
		      const char *where, json_t **out)
{
	json_t *v = member(obj, key);
	if (v && !json_is_object(v))
		return fail(rd, "%s%s\"%s\" is %s, not an object", where, *where ? ": " : "", key,
			    json_kind(v));
	*out = v;
	return 0;
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
		 get_number(rd, root, "duration_s", "", &info->duration_s) < 0 ||
		 get_kv(rd, root, "properties", "", &info->properties) < 0 ? -1 : 0;
	json_decref(empty);
	if (rc == 0 && !*info->kernel_upstream) {
		/* Older reports: read it from the release and version strings, as the runner does. */
		char up[64];
		upstream_of_kernel(info->kernel_release, info->kernel_version, up, sizeof(up));
		free(info->kernel_upstream);
		info->kernel_upstream = xstrdup(up);
	}
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
		*out = n >= 0 && n <= 1e6 ? (int)n : 0; /* case numbers are 4 digits */
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
	    get_number(rd, jc, "duration_ms", where, &duration) < 0 ||
	    get_kv(rd, jc, "params", where, &c->params) < 0 ||
	    get_kv(rd, jc, "facts", where, &c->facts) < 0 ||
	    get_refs(rd, jc, where, c) < 0)
		return -1;
	c->duration_ms = duration;
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
	return check_unique_ids(rd, out);
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
