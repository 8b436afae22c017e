/* Case-file parser. One pass over lines; every error names file:line:column and what was
 * expected, and parsing stops at the first error (the file's cases then report `error`). */
#include "parse/casefile.h"
#include "parse/verbs_spec.h"
#include "parse/vocab.h"
#include "lib/util.h"
#include "netns/netns.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

struct token {
	char *s;
	int col;  /* 1-based */
};

struct line {
	const char *text;  /* the whole line, without its newline */
	size_t len;
	size_t code_len;   /* up to a trailing " # comment" (free text keeps its '#') */
	int no;            /* 1-based */
	int indent;        /* leading blanks */
	struct token *tok;
	size_t ntok, cap;
};

enum block { BLK_NONE, BLK_ABOUT, BLK_SETUP, BLK_TEST, BLK_EXPECT };

struct parser {
	const char *path;
	struct case_file *cf;
	char *err;
	size_t errlen;
	enum block block;
	int saw_case;
};

static int fail(struct parser *p, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct parser *p, int line, int col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d:%d: %s", p->path, line, col, msg);
	return -1;
}

static void tokenize(struct line *l)
{
	size_t i = 0;
	l->tok = NULL;
	l->ntok = l->cap = 0;
	l->code_len = l->len;
	while (i < l->len) {
		while (i < l->len && isspace((unsigned char)l->text[i]))
			i++;
		if (i >= l->len)
			break;
		size_t start = i;
		if (l->text[i] == '#' && l->ntok > 0) {
			/* A word starting with '#' begins a trailing comment. */
			l->code_len = start;
			while (l->code_len && isspace((unsigned char)l->text[l->code_len - 1]))
				l->code_len--;
			return;
		}
		while (i < l->len && !isspace((unsigned char)l->text[i]))
			i++;
		if (l->ntok == l->cap) {  /* doubling: a line may hold 10^5 words */
			l->cap = l->cap ? 2 * l->cap : 16;
			l->tok = xrealloc(l->tok, l->cap * sizeof(*l->tok));
		}
		l->tok[l->ntok].s = xstrndup(l->text + start, i - start);
		l->tok[l->ntok].col = (int)start + 1;
		l->ntok++;
	}
}

static void line_free(struct line *l)
{
	for (size_t i = 0; i < l->ntok; i++)
		free(l->tok[i].s);
	free(l->tok);
}

/* The text of the line from token t on, trimmed. Free text (titles, about, why, ref) may
 * hold '#'; values (sysctl) end at a trailing comment. */
static char *rest_of_text(const struct line *l, size_t t, size_t end)
{
	if (t >= l->ntok)
		return xstrdup("");
	const char *s = l->text + l->tok[t].col - 1;
	size_t n = end - (size_t)(s - l->text);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* Free text: everything to the end of the line. The tokens stop at a '#' word, so text
 * tokens after it are recovered from the raw line. */
static char *rest_of_line(const struct line *l, size_t t)
{
	return rest_of_text(l, t, l->len);
}

static char *rest_of_value(const struct line *l, size_t t)
{
	return rest_of_text(l, t, l->code_len);
}

static void append_text(char **dst, const char *more)
{
	char *s = xasprintf("%s%s%s", *dst ? *dst : "", *dst && **dst ? " " : "", more);
	free(*dst);
	*dst = s;
}

static int is_name(const char *s)
{
	if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

/* X.Y or X.Y.Z, each part a number the kernel's own version code can hold (LINUX_VERSION_CODE
 * has 8 bits for the first two, Debian's patch levels pass 255: 16 bits for the third). */
static int is_kernel_version(const char *s)
{
	static const long max[] = { 255, 255, 65535 };
	int parts = 0;
	for (;;) {
		char digits[8];
		size_t n = strspn(s, "0123456789");
		if (n == 0 || n >= sizeof(digits) || parts == 3)
			return 0;
		memcpy(digits, s, n);
		digits[n] = '\0';
		if (parse_long(digits, 0, max[parts], NULL) < 0)
			return 0;
		parts++;
		s += n;
		if (*s == '\0')
			return parts >= 2;
		if (*s++ != '.')
			return 0;
	}
}

static int is_sysctl_name(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '-'))
			return 0;
	return 1;
}

static char **split_alternatives(const char *s, size_t *n)
{
	char **v = NULL;
	*n = 0;
	const char *p = s;
	for (;;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		v = xrealloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = xstrndup(p, len);
		if (!bar)
			break;
		p = bar + 1;
	}
	return v;
}

/* Parses one condition token: key=a|b, key!=a|b, kernel>=6.14, kernel<6.1 */
static int parse_cond(struct parser *p, const struct line *l, const struct token *t, struct cond *c)
{
	static const struct { const char *op; enum cond_op kind; } ops[] = {
		{ "!=", COND_NE }, { ">=", COND_GE }, { "=", COND_EQ }, { "<", COND_LT },
	};
	memset(c, 0, sizeof(*c));
	c->pos = (struct srcpos){ l->no, t->col };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		const char *at = strstr(t->s, ops[i].op);
		if (!at || at == t->s)
			continue;
		/* "a!=b" also contains "="; take the operator that starts first. */
		const char *bang = strpbrk(t->s, "!<>=");
		if (bang != at)
			continue;
		c->key = xstrndup(t->s, (size_t)(at - t->s));
		c->op = ops[i].kind;
		const char *val = at + strlen(ops[i].op);
		if (!is_name(c->key))
			return fail(p, l->no, t->col, "'%s' is not a parameter name", c->key);
		if (!*val)
			return fail(p, l->no, t->col, "condition '%s' has no value", t->s);
		if ((c->op == COND_GE || c->op == COND_LT) && strcmp(c->key, "kernel") != 0)
			return fail(p, l->no, t->col, "'>=' and '<' compare kernel versions only (kernel>=6.1)");
		if (strcmp(c->key, "kernel") == 0 && (c->op == COND_EQ || c->op == COND_NE))
			return fail(p, l->no, t->col, "compare the kernel with >= or <, e.g. kernel>=6.14");
		c->vals = split_alternatives(val, &c->nvals);
		if (strcmp(c->key, "kernel") == 0 && (c->nvals != 1 || !is_kernel_version(c->vals[0])))
			return fail(p, l->no, t->col, "expected a kernel version like 6.14 or 6.1.120, got '%s'", val);
		return 0;
	}
	return fail(p, l->no, t->col, "expected a condition (name=value, name!=value, kernel>=X.Y, kernel<X.Y), got '%s'",
		    t->s);
}

/* Parses tokens [from, ntok) as a condition list. */
static int parse_conds(struct parser *p, const struct line *l, size_t from, struct condlist *out)
{
	out->v = NULL;
	out->n = 0;
	if (from >= l->ntok)
		return fail(p, l->no, (int)l->len + 1, "expected at least one condition");
	for (size_t i = from; i < l->ntok; i++) {
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->n++;
		if (parse_cond(p, l, &l->tok[i], &out->v[out->n - 1]) < 0)
			return -1;
	}
	return 0;
}

static int need_args(struct parser *p, const struct line *l, size_t min, const char *what)
{
	if (l->ntok < min + 1)
		return fail(p, l->no, (int)l->len + 1, "'%s' needs %s", l->tok[0].s, what);
	return 0;
}

/* A line "KEYWORD NAME VALUE...": at least min words after the keyword, the first a name
 * (said to be "kind" when it is not). */
static int need_name(struct parser *p, const struct line *l, size_t min, const char *what,
		     const char *kind)
{
	if (need_args(p, l, min, what) < 0)
		return -1;
	if (!is_name(l->tok[1].s))
		return fail(p, l->no, l->tok[1].col, "'%s' is not %s", l->tok[1].s, kind);
	return 0;
}

static int parse_number(struct parser *p, const struct line *l)
{
	const struct token *t = &l->tok[1];
	char *end;
	errno = 0;
	long n = strtol(t->s, &end, 10);
	if (*end || errno || n < 1 || n > 9999 || strlen(t->s) != 4)
		return fail(p, l->no, t->col, "expected a four-digit case number like 0110, got '%s'", t->s);
	/* The file is named after its number so that ids and file names agree. */
	const char *base = strrchr(p->path, '/');
	base = base ? base + 1 : p->path;
	if (strncmp(base, t->s, 4) != 0)
		return fail(p, l->no, t->col, "case number %s does not match the file name %s", t->s, base);
	if (l->ntok > 2)
		return fail(p, l->no, l->tok[2].col, "unexpected '%s': 'case' takes the number only", l->tok[2].s);
	p->cf->number = (int)n;
	p->cf->number_pos = (struct srcpos){ l->no, t->col };
	p->saw_case = 1;
	return 0;
}

/* A file's matrix has at most this many cells (before exclusions). The largest in the suite
 * (0201) has 1,920; each cell becomes a case instance of a few KiB, so the cap keeps what one
 * file can make the planner hold to a few hundred MiB and about a second of loading. */
#define MATRIX_MAX_CELLS 100000

struct value_at {
	const char *s;
	size_t i;
};

static int by_value_then_place(const void *a, const void *b)
{
	const struct value_at *x = a, *y = b;
	int c = strcmp(x->s, y->s);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The index of the first value that repeats an earlier one, or n: sorted, not compared
 * pairwise, so that a line of 150,000 values is checked in O(n log n). */
static size_t first_repeat(char *const *v, size_t n)
{
	struct value_at *s = xcalloc(n ? n : 1, sizeof(*s));
	size_t first = n;
	for (size_t i = 0; i < n; i++)
		s[i] = (struct value_at){ v[i], i };
	qsort(s, n, sizeof(*s), by_value_then_place);
	for (size_t i = 1; i < n; i++)
		if (strcmp(s[i - 1].s, s[i].s) == 0 && s[i].i < first)
			first = s[i].i;
	free(s);
	return first;
}

static int parse_axis(struct parser *p, const struct line *l)
{
	struct case_file *cf = p->cf;
	if (need_name(p, l, 2, "a name and at least one value", "a parameter name") < 0)
		return -1;
	for (size_t i = 0; i < cf->naxes; i++)
		if (strcmp(cf->axes[i].name, l->tok[1].s) == 0)
			return fail(p, l->no, l->tok[1].col, "matrix '%s' is declared twice (first at line %d)",
				    l->tok[1].s, cf->axes[i].pos.line);
	if (kv_get(&cf->params, l->tok[1].s))
		return fail(p, l->no, l->tok[1].col, "matrix '%s' has the name of a param: a name is one or the other",
			    l->tok[1].s);
	cf->axes = xrealloc(cf->axes, (cf->naxes + 1) * sizeof(*cf->axes));
	struct axis *a = &cf->axes[cf->naxes++];
	a->name = xstrdup(l->tok[1].s);
	a->pos = (struct srcpos){ l->no, l->tok[1].col };
	a->nvals = l->ntok - 2;
	a->vals = xcalloc(a->nvals, sizeof(char *));
	for (size_t i = 0; i < a->nvals; i++) {
		const struct token *t = &l->tok[i + 2];
		for (const char *c = t->s; *c; c++)
			if (*c == '/' || *c == '{' || *c == '}' || *c == '|' || *c == '=')
				return fail(p, l->no, t->col, "matrix value '%s' may not contain '%c'", t->s, *c);
		a->vals[i] = xstrdup(t->s);
	}
	for (size_t i = 0; i < a->nvals; i++) {
		char m[320];
		if (vocab_check(a->name, a->vals[i], m, sizeof(m)) < 0)
			return fail(p, l->no, l->tok[i + 2].col, "%s", m);
	}
	size_t twice = first_repeat(a->vals, a->nvals);
	if (twice < a->nvals)
		return fail(p, l->no, l->tok[twice + 2].col, "matrix value '%s' is listed twice", a->vals[twice]);
	/* The cells of the file so far: every axis multiplies them. */
	size_t cells = 1;
	for (size_t i = 0; i < cf->naxes; i++) {
		if (cf->axes[i].nvals > MATRIX_MAX_CELLS / cells)
			return fail(p, l->no, l->tok[1].col,
				    "the matrix has more than %d cells with '%s': split the scenario into several files",
				    MATRIX_MAX_CELLS, a->name);
		cells *= cf->axes[i].nvals;
	}
	return 0;
}

static int parse_let(struct parser *p, const struct line *l)
{
	struct case_file *cf = p->cf;
	if (need_name(p, l, 2, "a name and a value", "a name") < 0)
		return -1;
	cf->lets = xrealloc(cf->lets, (cf->nlets + 1) * sizeof(*cf->lets));
	struct let_rule *r = &cf->lets[cf->nlets++];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(l->tok[1].s);
	r->value = xstrdup(l->tok[2].s);
	r->pos = (struct srcpos){ l->no, l->tok[1].col };
	if (l->ntok > 3) {
		if (strcmp(l->tok[3].s, "when") != 0)
			return fail(p, l->no, l->tok[3].col, "expected 'when' after the value, got '%s'", l->tok[3].s);
		return parse_conds(p, l, 4, &r->when);
	}
	return 0;
}

static int parse_expect(struct parser *p, const struct line *l)
{
	struct case_file *cf = p->cf;
	if (need_args(p, l, 1, "an outcome (ok, or an errno name like EADDRINUSE)") < 0)
		return -1;
	const char *o = l->tok[1].s;
	/* Every outcome is asserted: where the kernel looks random, the case finds the clock or
	 * the walk it really uses, or asserts a bound it measures. */
	if (strcmp(o, "any") == 0)
		return fail(p, l->no, l->tok[1].col, "'expect any' asserts nothing: expect the outcome the kernel's clock or "
			    "port walk determines, or a bound the case measures");
	if (strcmp(o, "ok") != 0 && !(o[0] == 'E' && isupper((unsigned char)o[1])))
		return fail(p, l->no, l->tok[1].col, "expected an outcome (ok, or an errno name), got '%s'", o);
	cf->expects = xrealloc(cf->expects, (cf->nexpects + 1) * sizeof(*cf->expects));
	struct expect_rule *r = &cf->expects[cf->nexpects++];
	memset(r, 0, sizeof(*r));
	r->outcome = xstrdup(o);
	r->pos = (struct srcpos){ l->no, l->tok[0].col };
	size_t t = 2;
	if (l->ntok > t && strcmp(l->tok[t].s, "at") == 0) {
		if (l->ntok <= t + 1)
			return fail(p, l->no, (int)l->len + 1, "expected a step after 'at' (the verb that fails, e.g. listen)");
		if (o[0] != 'E')
			return fail(p, l->no, l->tok[t].col, "'at' names the step that fails: it needs an errno outcome");
		if (!verb_spec_find(l->tok[t + 1].s))
			return fail(p, l->no, l->tok[t + 1].col, "'at' takes a verb of the step language, got '%s'",
				    l->tok[t + 1].s);
		r->at = xstrdup(l->tok[t + 1].s);
		t += 2;
	}
	r->label = r->at ? xasprintf("%s at %s", o, r->at) : xstrdup(o);
	if (l->ntok > t) {
		if (strcmp(l->tok[t].s, "when") != 0)
			return fail(p, l->no, l->tok[t].col, "expected 'at STEP' or 'when' after the outcome, got '%s'",
				    l->tok[t].s);
		return parse_conds(p, l, (int)t + 1, &r->when);
	}
	return 0;
}

static int parse_expect_detail(struct parser *p, const struct line *l)
{
	struct expect_rule *r = &p->cf->expects[p->cf->nexpects - 1];
	const char *kw = l->tok[0].s;
	char *text = rest_of_line(l, 1);
	if (!*text) {
		free(text);
		return fail(p, l->no, (int)l->len + 1, "'%s' needs text", kw);
	}
	if (strcmp(kw, "why") == 0) {
		append_text(&r->why, text);
		free(text);
	} else if (strcmp(kw, "ref") == 0) {
		r->refs = xrealloc(r->refs, (r->nrefs + 1) * sizeof(char *));
		r->refs[r->nrefs++] = text;
	} else {
		free(text);
		return fail(p, l->no, l->tok[0].col, "under 'expect', expected 'why' or 'ref', got '%s'", kw);
	}
	return 0;
}

static int add_step(struct parser *p, struct steplist *sl, const struct line *l)
{
	size_t n = 0, first = 0;
	while (n < l->ntok && strcmp(l->tok[n].s, "when") != 0)
		n++;
	sl->v = xrealloc(sl->v, (sl->n + 1) * sizeof(*sl->v));
	struct step *s = &sl->v[sl->n++];
	memset(s, 0, sizeof(*s));
	/* "try STEP": the step may be refused; what it came to is a fact of the case. */
	if (n > 0 && strcmp(l->tok[0].s, "try") == 0) {
		s->may_fail = true;
		first = 1;
	}
	s->argc = (int)(n - first);
	s->argv = xcalloc(n + 1, sizeof(char *));
	s->cols = xcalloc(n + 1, sizeof(int));
	for (size_t i = first; i < n; i++) {
		s->argv[i - first] = xstrdup(l->tok[i].s);
		s->cols[i - first] = l->tok[i].col;
	}
	n -= first;
	if (first && n == 0)
		return fail(p, l->no, l->tok[0].col, "'try' takes a step: try VERB ARGS...");
	s->pos = (struct srcpos){ l->no, l->tok[0].col };
	if (n == 0)
		return fail(p, l->no, l->tok[0].col, "a step starts with its verb, not 'when'");
	const struct verb_spec *v = verb_spec_find(s->argv[0]);
	if (!v) {
		char *names = verb_names();
		fail(p, l->no, l->tok[0].col, "unknown step '%s' (expected one of: %s)", s->argv[0], names);
		free(names);
		return -1;
	}
	/* What is written literally is checked now; words with a {var} once the plan fills them. */
	char m[400];
	int bad;
	if (verb_check(v, s->argc, s->argv, true, &bad, m, sizeof(m)) < 0)
		return fail(p, l->no, bad ? s->cols[bad] : s->cols[0], "%s", m);
	if (v->writes_sysctl && sysctl_netns_local(v->writes_sysctl, m, sizeof(m)) < 0)
		return fail(p, l->no, s->cols[0], "%s: %s", v->name, m);
	if (n + first < l->ntok)
		return parse_conds(p, l, n + first + 1, &s->when);
	return 0;
}

static int parse_continuation(struct parser *p, const struct line *l)
{
	switch (p->block) {
	case BLK_ABOUT: {
		char *text = rest_of_line(l, 0);
		append_text(&p->cf->about, text);
		free(text);
		return 0;
	}
	case BLK_SETUP:
		return add_step(p, &p->cf->setup, l);
	case BLK_TEST:
		return add_step(p, &p->cf->test, l);
	case BLK_EXPECT:
		return parse_expect_detail(p, l);
	case BLK_NONE:
		break;
	}
	return fail(p, l->no, l->indent + 1, "indented line outside a block (about, setup:, test:, expect)");
}

static int set_text_once(struct parser *p, const struct line *l, char **field)
{
	if (*field)
		return fail(p, l->no, l->tok[0].col, "'%s' is given twice", l->tok[0].s);
	*field = rest_of_line(l, 1);
	if (!**field)
		return fail(p, l->no, (int)l->len + 1, "'%s' needs text", l->tok[0].s);
	return 0;
}

static int parse_directive(struct parser *p, const struct line *l)
{
	struct case_file *cf = p->cf;
	const char *d = l->tok[0].s;
	p->block = BLK_NONE;
	if (!p->saw_case && strcmp(d, "case") != 0)
		return fail(p, l->no, 1, "a case file starts with 'case NUMBER', got '%s'", d);
	if (strcmp(d, "case") == 0) {
		if (p->saw_case)
			return fail(p, l->no, 1, "'case' is given twice: one case file per number");
		if (need_args(p, l, 1, "a number") < 0)
			return -1;
		cf->line = l->no;
		return parse_number(p, l);
	}
	if (strcmp(d, "title") == 0) {
		cf->title_pos = (struct srcpos){ l->no, l->ntok > 1 ? l->tok[1].col : 1 };
		return set_text_once(p, l, &cf->title);
	}
	if (strcmp(d, "group") == 0) {
		if (need_args(p, l, 1, "a name") < 0 || set_text_once(p, l, &cf->group) < 0)
			return -1;
		if (!is_name(cf->group))
			return fail(p, l->no, l->tok[1].col, "group '%s' is not a name", cf->group);
		return 0;
	}
	if (strcmp(d, "topology") == 0) {
		if (need_args(p, l, 1, "loopback, pair or {var}") < 0 || set_text_once(p, l, &cf->topology) < 0)
			return -1;
		cf->topology_pos = (struct srcpos){ l->no, l->tok[1].col };
		if (strcmp(cf->topology, "loopback") && strcmp(cf->topology, "pair") && cf->topology[0] != '{')
			return fail(p, l->no, l->tok[1].col, "expected topology loopback or pair, got '%s'", cf->topology);
		return 0;
	}
	if (strcmp(d, "about") == 0) {
		if (set_text_once(p, l, &cf->about) < 0)
			return -1;
		p->block = BLK_ABOUT;
		return 0;
	}
	if (strcmp(d, "timeout") == 0) {
		if (need_args(p, l, 1, "seconds") < 0)
			return -1;
		if (cf->timeout_s)
			return fail(p, l->no, 1, "'timeout' is given twice");
		if (parse_double(l->tok[1].s, TIMEOUT_MIN_S, TIMEOUT_MAX_S, &cf->timeout_s) < 0)
			return fail(p, l->no, l->tok[1].col, "expected a positive number of seconds from %g to %g, got '%s'",
				    TIMEOUT_MIN_S, TIMEOUT_MAX_S, l->tok[1].s);
		if (l->ntok > 2)
			return fail(p, l->no, l->tok[2].col, "unexpected '%s': 'timeout' takes one number", l->tok[2].s);
		return 0;
	}
	if (strcmp(d, "matrix") == 0)
		return parse_axis(p, l);
	if (strcmp(d, "exclude") == 0) {
		if (strcmp(l->ntok > 1 ? l->tok[1].s : "", "when") != 0)
			return fail(p, l->no, l->ntok > 1 ? l->tok[1].col : (int)l->len + 1,
				    "expected 'exclude when CONDITION...'");
		cf->excludes = xrealloc(cf->excludes, (cf->nexcludes + 1) * sizeof(*cf->excludes));
		return parse_conds(p, l, 2, &cf->excludes[cf->nexcludes++]);
	}
	if (strcmp(d, "param") == 0 || strcmp(d, "sysctl") == 0) {
		if (need_args(p, l, 2, "a name and a value") < 0)
			return -1;
		/* A sysctl value may be several words ("32768 60999"); a param is one word. */
		if (d[0] == 'p' && l->ntok > 3)
			return fail(p, l->no, l->tok[3].col, "unexpected '%s': one name and one value", l->tok[3].s);
		/* Sysctl names may hold '-' (fs.file-max); the kernel decides which are the case's. */
		if (d[0] == 'p' ? !is_name(l->tok[1].s) : !is_sysctl_name(l->tok[1].s))
			return fail(p, l->no, l->tok[1].col, "'%s' is not a name", l->tok[1].s);
		struct kvlist *dst = d[0] == 'p' ? &cf->params : &cf->sysctls;
		if (kv_get(dst, l->tok[1].s))
			return fail(p, l->no, l->tok[1].col, "%s '%s' is given twice", d, l->tok[1].s);
		char m[400];
		if (d[0] == 's' && sysctl_netns_local(l->tok[1].s, m, sizeof(m)) < 0)
			return fail(p, l->no, l->tok[1].col, "%s", m);
		/* sysctl.<name> is reported from the sysctl line that writes it: a param would say it
		 * a second time, and nothing would keep the two alike. */
		if (d[0] == 'p' && strncmp(l->tok[1].s, "sysctl.", 7) == 0)
			return fail(p, l->no, l->tok[1].col,
				    "'%s' comes from the sysctl line that sets it: write 'sysctl %s VALUE' instead",
				    l->tok[1].s, l->tok[1].s + 7);
		if (d[0] == 'p') {
			for (size_t i = 0; i < cf->naxes; i++)
				if (strcmp(cf->axes[i].name, l->tok[1].s) == 0)
					return fail(p, l->no, l->tok[1].col,
						    "param '%s' shadows the matrix '%s' of line %d: a name is one or the other",
						    l->tok[1].s, l->tok[1].s, cf->axes[i].pos.line);
		}
		struct srcpos **pos = d[0] == 'p' ? &cf->param_pos : &cf->sysctl_pos;
		*pos = xrealloc(*pos, (dst->n + 1) * sizeof(**pos));
		(*pos)[dst->n] = (struct srcpos){ l->no, l->tok[1].col };
		char *val = rest_of_value(l, 2);
		if (d[0] == 'p' && !strchr(val, '{') && vocab_check(l->tok[1].s, val, m, sizeof(m)) < 0) {
			free(val);
			return fail(p, l->no, l->tok[2].col, "%s", m);
		}
		kv_set(dst, l->tok[1].s, val);
		free(val);
		return 0;
	}
	if (strcmp(d, "let") == 0)
		return parse_let(p, l);
	if (strcmp(d, "setup:") == 0 || strcmp(d, "test:") == 0) {
		if (l->ntok > 1)
			return fail(p, l->no, l->tok[1].col, "steps go on the indented lines below '%s'", d);
		struct steplist *sl = d[0] == 's' ? &cf->setup : &cf->test;
		if (sl->n)
			return fail(p, l->no, 1, "'%s' is given twice", d);
		p->block = d[0] == 's' ? BLK_SETUP : BLK_TEST;
		return 0;
	}
	if (strcmp(d, "expect") == 0) {
		if (parse_expect(p, l) < 0)
			return -1;
		p->block = BLK_EXPECT;
		return 0;
	}
	return fail(p, l->no, 1,
		    "unknown directive '%s' (expected case, title, group, about, topology, timeout, matrix, "
		    "exclude, param, sysctl, let, setup:, test:, expect)", d);
}

/* Checks that hold for the whole file once it is read. */
static int check_complete(struct parser *p, int last_line)
{
	struct case_file *cf = p->cf;
	if (!p->saw_case)
		return fail(p, 1, 1, "empty case file: expected 'case NUMBER'");
	if (!cf->title)
		return fail(p, last_line, 1, "the case has no 'title'");
	if (!cf->group)
		return fail(p, last_line, 1, "the case has no 'group'");
	if (!cf->test.n)
		return fail(p, last_line, 1, "the case has no 'test:' steps");
	if (!cf->nexpects)
		return fail(p, last_line, 1, "the case has no 'expect' rule");
	for (size_t i = 0; i < cf->nexpects; i++) {
		struct expect_rule *r = &cf->expects[i];
		if (!r->why)
			return fail(p, r->pos.line, r->pos.col, "this expectation has no 'why'");
		if (!r->nrefs)
			return fail(p, r->pos.line, r->pos.col, "this expectation has no 'ref'");
	}
	struct expect_rule *last = &cf->expects[cf->nexpects - 1];
	if (last->when.n)
		return fail(p, last->pos.line, last->pos.col,
			    "the last 'expect' must have no 'when': it is the default for every other instance");
	if (!cf->topology)
		cf->topology = xstrdup("loopback");
	return 0;
}

int casefile_parse(const char *path, const char *text, struct case_file *out, char *err, size_t errlen)
{
	struct parser p = { .path = path, .cf = out, .err = err, .errlen = errlen };
	memset(out, 0, sizeof(*out));
	out->path = xstrdup(path);
	int no = 0, rc = 0;
	const char *s = text;
	while (*s && rc == 0) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		struct line l = { .text = s, .len = len, .no = ++no };
		if (len && s[len - 1] == '\r')
			l.len--;
		for (size_t i = 0; i < l.len; i++) {
			size_t n;
			if (s[i] == '\t' || s[i] == ' ')
				continue;
			if (iscntrl((unsigned char)s[i])) {
				rc = fail(&p, no, (int)i + 1, "control character 0x%02x in the text", (unsigned char)s[i]);
				break;
			}
			/* Ids and reports carry the file's words: bytes that are no UTF-8 would turn
			 * into U+FFFD there, and two different values into one id. */
			if ((unsigned char)s[i] < 0x80)
				continue;
			long cp = utf8_decode(s + i, &n);
			if (cp < 0) {
				rc = fail(&p, no, (int)i + 1, "byte 0x%02x is not UTF-8: a case file is UTF-8 text",
					  (unsigned char)s[i]);
				break;
			}
			/* C1 controls and noncharacters: what XML cannot carry, writers would replace,
			 * and two ids could meet again in a report. */
			if (cp <= 0x9F || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE) {
				rc = fail(&p, no, (int)i + 1, "U+%04lX is a control character or a noncharacter", cp);
				break;
			}
			i += n - 1;
		}
		if (rc)
			break;
		while ((size_t)l.indent < l.len && (s[l.indent] == ' ' || s[l.indent] == '\t'))
			l.indent++;
		tokenize(&l);
		if (l.ntok && l.tok[0].s[0] != '#')
			rc = l.indent ? parse_continuation(&p, &l) : parse_directive(&p, &l);
		line_free(&l);
		s = nl ? nl + 1 : s + len;
	}
	if (rc == 0)
		rc = check_complete(&p, no ? no : 1);
	if (rc)
		casefile_free(out);
	return rc;
}

/* A case file is a regular file of at most this size: the largest in the suite is a few
 * KiB, and whatever is bigger (or never ends, like /dev/zero) is no case file. */
#define CASEFILE_MAX_BYTES (1024 * 1024)

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
	     : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

static int load_fail(struct case_file *out, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int load_fail(struct case_file *out, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	memset(out, 0, sizeof(*out));
	return -1;
}

int casefile_load(const char *path, struct case_file *out, char *err, size_t errlen)
{
	struct stat st;
	/* Look before opening: opening a FIFO blocks, and opening a device may do something. */
	if (stat(path, &st) < 0)
		return load_fail(out, err, errlen, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return load_fail(out, err, errlen, "%s: %s, not a case file (a regular file)", path, file_kind(st.st_mode));
	/* Non-blocking and no controlling tty, in case it was replaced since. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return load_fail(out, err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return load_fail(out, err, errlen, "%s: %s, not a case file (a regular file)", path, file_kind(st.st_mode));
	}
	if (st.st_size > CASEFILE_MAX_BYTES) {
		close(fd);
		return load_fail(out, err, errlen, "%s: %lld bytes: a case file may have at most %d", path,
				 (long long)st.st_size, CASEFILE_MAX_BYTES);
	}
	struct buf b = { 0 };
	char chunk[8192];
	ssize_t n;
	/* Read one byte past the limit: a file that grew since fstat is refused too. */
	while (b.len <= CASEFILE_MAX_BYTES && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			buf_free(&b);
			return load_fail(out, err, errlen, "%s: %s", path, strerror(e));
		}
		buf_addn(&b, chunk, (size_t)n);
	}
	close(fd);
	if (b.len > CASEFILE_MAX_BYTES) {
		buf_free(&b);
		return load_fail(out, err, errlen, "%s: more than %d bytes: too big for a case file", path,
				 CASEFILE_MAX_BYTES);
	}
	const char *nul = b.len ? memchr(b.s, '\0', b.len) : NULL;
	if (nul) {
		int line = 1;
		const char *bol = b.s;
		for (const char *c = b.s; c < nul; c++)
			if (*c == '\n')
				line++, bol = c + 1;
		buf_free(&b);
		return load_fail(out, err, errlen, "%s:%d:%d: not a text file (NUL byte)", path, line, (int)(nul - bol) + 1);
	}
	int rc = casefile_parse(path, b.s ? b.s : "", out, err, errlen);
	buf_free(&b);
	return rc;
}

static void conds_free(struct condlist *cl)
{
	for (size_t i = 0; i < cl->n; i++) {
		free(cl->v[i].key);
		strv_free(cl->v[i].vals, cl->v[i].nvals);
	}
	free(cl->v);
}

static void steps_free(struct steplist *sl)
{
	for (size_t i = 0; i < sl->n; i++) {
		strv_free(sl->v[i].argv, (size_t)sl->v[i].argc);
		free(sl->v[i].cols);
		conds_free(&sl->v[i].when);
	}
	free(sl->v);
}

void casefile_free(struct case_file *cf)
{
	free(cf->path);
	free(cf->title);
	free(cf->group);
	free(cf->about);
	free(cf->topology);
	for (size_t i = 0; i < cf->naxes; i++) {
		free(cf->axes[i].name);
		strv_free(cf->axes[i].vals, cf->axes[i].nvals);
	}
	free(cf->axes);
	for (size_t i = 0; i < cf->nexcludes; i++)
		conds_free(&cf->excludes[i]);
	free(cf->excludes);
	kv_free(&cf->params);
	kv_free(&cf->sysctls);
	free(cf->param_pos);
	free(cf->sysctl_pos);
	for (size_t i = 0; i < cf->nlets; i++) {
		free(cf->lets[i].name);
		free(cf->lets[i].value);
		conds_free(&cf->lets[i].when);
	}
	free(cf->lets);
	steps_free(&cf->setup);
	steps_free(&cf->test);
	for (size_t i = 0; i < cf->nexpects; i++) {
		free(cf->expects[i].outcome);
		free(cf->expects[i].at);
		free(cf->expects[i].label);
		free(cf->expects[i].why);
		for (size_t j = 0; j < cf->expects[i].nrefs; j++)
			free(cf->expects[i].refs[j]);
		free(cf->expects[i].refs);
		conds_free(&cf->expects[i].when);
	}
	free(cf->expects);
	memset(cf, 0, sizeof(*cf));
}
