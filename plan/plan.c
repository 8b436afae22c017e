#include "plan/plan.h"
#include "parse/expect.h"
#include "parse/verbs_spec.h"
#include "parse/vocab.h"
#include "lib/util.h"
#include "netns/netns.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values every case can use without declaring them. */
#define STR_(x) #x
#define STR(x) STR_(x)
static const struct kv builtins[] = {
	{ "PORT", STR(CASE_PORT) },
	{ "PORT2", STR(CASE_PORT2) },
	{ "RPORT", STR(CASE_RPORT) },
	{ "RPORT2", STR(CASE_RPORT2) },
};

char *subst_vars(const char *s, const struct kvlist *vars, char *err, size_t errlen)
{
	struct buf b = { 0 };
	buf_add(&b, "");
	while (*s) {
		const char *open = strchr(s, '{');
		if (!open) {
			buf_add(&b, s);
			break;
		}
		buf_addn(&b, s, (size_t)(open - s));
		const char *close = strchr(open, '}');
		if (!close) {
			snprintf(err, errlen, "unclosed '{' in '%s'", open);
			buf_free(&b);
			return NULL;
		}
		char *name = xstrndup(open + 1, (size_t)(close - open - 1));
		const char *val = kv_get(vars, name);
		if (!val) {
			snprintf(err, errlen, "unknown variable {%s}", name);
			free(name);
			buf_free(&b);
			return NULL;
		}
		free(name);
		buf_add(&b, val);
		s = close + 1;
	}
	return b.s;
}

static void steplist_free(struct steplist *sl)
{
	for (size_t i = 0; i < sl->n; i++) {
		for (int j = 0; j < sl->v[i].argc; j++)
			free(sl->v[i].argv[j]);
		free(sl->v[i].argv);
		free(sl->v[i].cols);
	}
	free(sl->v);
}

static int pos_failf(const struct case_file *cf, struct srcpos pos, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int pos_failf(const struct case_file *cf, struct srcpos pos, char *err, size_t errlen, const char *fmt, ...)
{
	char m[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%d:%d: %s", cf->path, pos.line, pos.col, m);
	return -1;
}

static int pos_fail(const struct case_file *cf, struct srcpos pos, char *err, size_t errlen, const char *msg)
{
	return pos_failf(cf, pos, err, errlen, "%s", msg);
}

/* A name a condition may test: a matrix axis, a param, a let, a sysctl.<name>, a built-in. */
static int name_known(const struct case_file *cf, const char *name)
{
	if (strcmp(name, "kernel") == 0 || strcmp(name, "topology") == 0)
		return 1;
	for (size_t i = 0; i < cf->naxes; i++)
		if (strcmp(cf->axes[i].name, name) == 0)
			return 1;
	if (kv_get(&cf->params, name))
		return 1;
	for (size_t i = 0; i < cf->nlets; i++)
		if (strcmp(cf->lets[i].name, name) == 0)
			return 1;
	if (strncmp(name, "sysctl.", 7) == 0 && kv_get(&cf->sysctls, name + 7))
		return 1;
	return 0;
}

/* Conditions outside `expect` decide what an instance is, which cannot depend on the kernel. */
static int check_static_conds(const struct case_file *cf, const struct condlist *cl, char *err, size_t errlen)
{
	for (size_t i = 0; i < cl->n; i++)
		if (strcmp(cl->v[i].key, "kernel") == 0)
			return pos_fail(cf, cl->v[i].pos, err, errlen,
					"kernel conditions belong in 'expect' rules only: what a case is may not "
					"depend on the kernel it runs on");
	return 0;
}

/* A condition on a matrix axis names values of that axis: any other never holds, and an
 * exclude or a rule that can never hold is a mistake the file should not keep. */
static int check_axis_values(const struct case_file *cf, const struct condlist *cl, char *err, size_t errlen)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct cond *c = &cl->v[i];
		for (size_t a = 0; a < cf->naxes; a++) {
			const struct axis *ax = &cf->axes[a];
			if (strcmp(ax->name, c->key) != 0)
				continue;
			for (size_t k = 0; k < c->nvals; k++) {
				size_t j = 0;
				while (j < ax->nvals && strcmp(ax->vals[j], c->vals[k]) != 0)
					j++;
				if (j == ax->nvals)
					return pos_failf(cf, c->pos, err, errlen, "'%s' is no value of the matrix '%s' (line %d)",
							 c->vals[k], ax->name, ax->pos.line);
			}
		}
	}
	return 0;
}

static int check_conds(const struct case_file *cf, const struct condlist *cl, char *err, size_t errlen)
{
	if (check_axis_values(cf, cl, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < cl->n; i++) {
		if (!name_known(cf, cl->v[i].key)) {
			char m[256];
			snprintf(m, sizeof(m), "condition on '%s', which is no matrix, param, let or sysctl of this case",
				 cl->v[i].key);
			return pos_fail(cf, cl->v[i].pos, err, errlen, m);
		}
	}
	return 0;
}

static int check_file(const struct case_file *cf, char *err, size_t errlen)
{
	for (size_t i = 0; i < cf->nexcludes; i++)
		if (check_conds(cf, &cf->excludes[i], err, errlen) < 0 ||
		    check_static_conds(cf, &cf->excludes[i], err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < cf->nlets; i++)
		if (check_conds(cf, &cf->lets[i].when, err, errlen) < 0 ||
		    check_static_conds(cf, &cf->lets[i].when, err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < cf->nexpects; i++)
		if (check_conds(cf, &cf->expects[i].when, err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < cf->setup.n; i++)
		if (check_conds(cf, &cf->setup.v[i].when, err, errlen) < 0 ||
		    check_static_conds(cf, &cf->setup.v[i].when, err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < cf->test.n; i++)
		if (check_conds(cf, &cf->test.v[i].when, err, errlen) < 0 ||
		    check_static_conds(cf, &cf->test.v[i].when, err, errlen) < 0)
			return -1;
	return 0;
}

/* The words the planner writes into a step for the verb: a missing argument that the case
 * decides (its family, its RPORT) is taken from the case's variables, so that verbs read
 * their words only. */
static void fill_args(const struct verb_spec *v, struct step *d, const struct kvlist *vars)
{
	int min, max, npos = 0;
	verb_arity(v, &min, &max);
	for (int j = 1; j < d->argc; j++)
		npos += !(v->opts[0].kind != ARG_END && strchr(d->argv[j], '='));
	for (size_t k = 0; k < VERB_MAX_ARGS && v->args[k].kind != ARG_END; k++) {
		const struct arg_spec *a = &v->args[k];
		if (!a->fill || (int)k != npos)
			continue;
		const char *val = kv_get(vars, a->fill);
		d->argv = xrealloc(d->argv, (size_t)(d->argc + 2) * sizeof(char *));
		d->cols = xrealloc(d->cols, (size_t)(d->argc + 2) * sizeof(int));
		d->argv[d->argc] = xstrdup(val ? val : a->dflt);
		d->cols[d->argc] = d->cols[0];
		d->argv[++d->argc] = NULL;
		npos++;
	}
	for (size_t k = 0; k < VERB_MAX_ARGS && v->opts[k].kind != ARG_END; k++) {
		const struct arg_spec *o = &v->opts[k];
		size_t n = strlen(o->key);
		int given = 0;
		for (int j = 1; j < d->argc; j++)
			given |= strncmp(d->argv[j], o->key, n) == 0 && d->argv[j][n] == '=';
		const char *val = o->fill ? kv_get(vars, o->fill) : NULL;
		if (given || !o->fill || !(val || o->dflt))
			continue;
		d->argv = xrealloc(d->argv, (size_t)(d->argc + 2) * sizeof(char *));
		d->cols = xrealloc(d->cols, (size_t)(d->argc + 2) * sizeof(int));
		d->argv[d->argc] = xasprintf("%s=%s", o->key, val ? val : o->dflt);
		d->cols[d->argc] = d->cols[0];
		d->argv[++d->argc] = NULL;
	}
}

static int subst_steps(const struct case_file *cf, const char *id, const struct steplist *in, const struct kvlist *vars,
		       struct steplist *out, char *err, size_t errlen)
{
	out->n = 0;
	out->v = xcalloc(in->n, sizeof(*out->v));
	for (size_t i = 0; i < in->n; i++) {
		const struct step *s = &in->v[i];
		if (!conds_hold_any_kernel(&s->when, vars))
			continue;
		struct step *d = &out->v[out->n++];
		d->pos = s->pos;
		d->may_fail = s->may_fail;
		d->argc = s->argc;
		d->argv = xcalloc((size_t)s->argc + 1, sizeof(char *));
		d->cols = xcalloc((size_t)s->argc + 1, sizeof(int));
		for (int j = 0; j < s->argc; j++) {
			char m[256];
			d->cols[j] = s->cols ? s->cols[j] : s->pos.col;
			d->argv[j] = subst_vars(s->argv[j], vars, m, sizeof(m));
			if (!d->argv[j])
				return pos_fail(cf, (struct srcpos){ s->pos.line, d->cols[j] }, err, errlen, m);
		}
		const struct verb_spec *v = verb_spec_find(d->argv[0]);
		char m[400];
		int bad;
		if (!v)
			return pos_fail(cf, s->pos, err, errlen, "unknown step");
		fill_args(v, d, vars);
		if (verb_check(v, d->argc, d->argv, false, &bad, m, sizeof(m)) < 0)
			return pos_failf(cf, (struct srcpos){ s->pos.line, d->cols[bad] }, err, errlen, "%s (in case %s)", m, id);
	}
	return 0;
}

static int resolve_lets(const struct case_file *cf, struct kvlist *vars, char *err, size_t errlen)
{
	for (size_t i = 0; i < cf->nlets; i++) {
		const struct let_rule *r = &cf->lets[i];
		int done = 0;
		/* The first rule for a name whose conditions hold wins: skip names already set by a let. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(cf->lets[j].name, r->name) == 0 && conds_hold_any_kernel(&cf->lets[j].when, vars))
				done = 1;
		if (done || !conds_hold_any_kernel(&r->when, vars))
			continue;
		char m[256];
		char *v = subst_vars(r->value, vars, m, sizeof(m));
		if (!v)
			return pos_fail(cf, r->pos, err, errlen, m);
		kv_set(vars, r->name, v);
		free(v);
	}
	return 0;
}

static int build_instance(struct plan *p, const struct case_file *cf, const size_t *cell, char *err, size_t errlen)
{
	struct case_inst ci = { .cf = cf, .timeout_s = cf->timeout_s };
	struct buf id = { 0 };
	char m[256];
	int rc = -1;

	buf_printf(&id, "%04d", cf->number);
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		kv_set(&ci.vars, builtins[i].key, builtins[i].val);
	for (size_t a = 0; a < cf->naxes; a++) {
		const char *v = cf->axes[a].vals[cell[a]];
		kv_set(&ci.vars, cf->axes[a].name, v);
		kv_set(&ci.params, cf->axes[a].name, v);
		buf_printf(&id, "/%s=%s", cf->axes[a].name, v);
	}
	for (size_t i = 0; i < cf->nexcludes; i++) {
		if (conds_hold_any_kernel(&cf->excludes[i], &ci.vars)) {
			rc = 0;  /* not an error: this cell is not a scenario */
			goto out;
		}
	}
	/* Params first, so that lets can use them; a param that names a let (a value derived
	 * from the cell, such as the state a close leaves) once the lets are known. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < cf->params.n; i++) {
			if (kv_get(&ci.params, cf->params.v[i].key))
				continue;
			char *v = subst_vars(cf->params.v[i].val, &ci.vars, m, sizeof(m));
			if (!v && pass == 0)
				continue;
			if (!v) {
				pos_failf(cf, cf->param_pos[i], err, errlen, "param %s: %s", cf->params.v[i].key, m);
				goto out;
			}
			if (vocab_check(cf->params.v[i].key, v, m, sizeof(m)) < 0) {
				pos_failf(cf, cf->param_pos[i], err, errlen, "%s", m);
				free(v);
				goto out;
			}
			kv_set(&ci.vars, cf->params.v[i].key, v);
			kv_set(&ci.params, cf->params.v[i].key, v);
			free(v);
		}
		if (pass == 0 && resolve_lets(cf, &ci.vars, err, errlen) < 0)
			goto out;
	}
	ci.topology = subst_vars(cf->topology, &ci.vars, m, sizeof(m));
	if (!ci.topology || (strcmp(ci.topology, "loopback") && strcmp(ci.topology, "pair"))) {
		pos_failf(cf, cf->topology_pos, err, errlen, "topology: %s",
			  ci.topology ? "expected loopback or pair" : m);
		goto out;
	}
	kv_set(&ci.vars, "topology", ci.topology);
	kv_set(&ci.params, "topology", ci.topology);
	for (size_t i = 0; i < cf->sysctls.n; i++) {
		char *v = subst_vars(cf->sysctls.v[i].val, &ci.vars, m, sizeof(m));
		if (!v) {
			pos_failf(cf, cf->sysctl_pos[i], err, errlen, "sysctl %s: %s", cf->sysctls.v[i].key, m);
			goto out;
		}
		char *pname = xasprintf("sysctl.%s", cf->sysctls.v[i].key);
		kv_set(&ci.sysctls, cf->sysctls.v[i].key, v);
		kv_set(&ci.params, pname, v);
		kv_set(&ci.vars, pname, v);
		free(pname);
		free(v);
	}
	ci.title = subst_vars(cf->title, &ci.vars, m, sizeof(m));
	if (!ci.title) {
		pos_failf(cf, cf->title_pos, err, errlen, "title: %s", m);
		goto out;
	}
	if (subst_steps(cf, id.s, &cf->setup, &ci.vars, &ci.setup, err, errlen) < 0 ||
	    subst_steps(cf, id.s, &cf->test, &ci.vars, &ci.test, err, errlen) < 0)
		goto out;
	int changes_ns = 0;
	for (size_t i = 0; i < ci.test.n + ci.setup.n; i++) {
		const struct step *st = i < ci.setup.n ? &ci.setup.v[i] : &ci.test.v[i - ci.setup.n];
		const struct verb_spec *v = verb_spec_find(st->argv[0]);
		ci.waits_on_timer |= v && (v->flags & VERB_WAITS_ON_TIMER);
		changes_ns |= !v || (v->flags & VERB_CHANGES_NETNS) || v->writes_sysctl;
		for (int a = 1; a < st->argc; a++)
			ci.uses_host2 |= strncmp(st->argv[a], "host2", 5) == 0 || strcmp(st->argv[a], TOPO_A6_SECOND) == 0;
	}
	ci.ns_reusable = strcmp(ci.topology, "loopback") == 0 && !ci.sysctls.n && !ci.uses_host2 && !changes_ns;
	ci.id = id.s;
	id.s = NULL;
	p->cases = xrealloc(p->cases, (p->ncases + 1) * sizeof(*p->cases));
	p->cases[p->ncases++] = ci;
	return 0;
out:
	buf_free(&id);
	free(ci.title);
	free(ci.topology);
	kv_free(&ci.vars);
	kv_free(&ci.params);
	kv_free(&ci.sysctls);
	steplist_free(&ci.setup);
	steplist_free(&ci.test);
	return rc;
}

int plan_expand(struct plan *p, const struct case_file *cf, char *err, size_t errlen)
{
	if (p->frozen.base)
		abort();   /* a frozen plan is read-only */
	if (check_file(cf, err, errlen) < 0)
		return -1;
	size_t *cell = xcalloc(cf->naxes + 1, sizeof(size_t));
	size_t before = p->ncases;
	int rc = 0;
	for (;;) {
		if (build_instance(p, cf, cell, err, errlen) < 0) {
			rc = -1;
			break;
		}
		/* Odometer over the axes, the last one turning fastest. */
		size_t a = cf->naxes;
		while (a > 0) {
			if (++cell[a - 1] < cf->axes[a - 1].nvals)
				break;
			cell[a - 1] = 0;
			a--;
		}
		if (a == 0)
			break;
	}
	free(cell);
	if (rc == 0 && p->ncases == before) {
		pos_failf(cf, cf->nexcludes ? cf->excludes[0].v[0].pos : cf->number_pos, err, errlen,
			  "every matrix cell is excluded: the file has no case");
		rc = -1;
	}
	return rc;
}

static int is_case_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".case") == 0;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Ids are unique by construction (file numbers are, and so are the values of an axis); this
 * says so, in O(n log n), so that no report ever holds two cases under one id. Ids are UTF-8
 * without controls (the parser sees to it), so every writer's escaping keeps them apart. */
static int duplicate_id(const struct plan *p, char *err, size_t errlen)
{
	char **ids = xcalloc(p->ncases + 1, sizeof(char *));
	int dup = 0;
	for (size_t i = 0; i < p->ncases; i++)
		ids[i] = p->cases[i].id;
	qsort(ids, p->ncases, sizeof(char *), by_id);
	for (size_t i = 1; i < p->ncases && !dup; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0) {
			snprintf(err, errlen, "two cases have the id '%s'", ids[i]);
			dup = 1;
		}
	free(ids);
	return dup;
}

/* All files are parsed before any is expanded, so that the parsed files, which the plan
 * keeps, lie together at the bottom of the heap, below the expansion that plan_freeze moves
 * out and frees: the heap then shrinks back instead of keeping every page that one small
 * parsed object pins (what a fork copies). Messages still come in file order. */
int plan_load(const char *dir, struct plan *p, int keep_going, char **bad, char *err, size_t errlen)
{
	struct dirent **names;
	memset(p, 0, sizeof(*p));
	int n = scandir(dir, &names, is_case_file, alphasort);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	char **why = xcalloc((size_t)n + 1, sizeof(char *));   /* each file's message, or NULL */
	int *file_of = xcalloc((size_t)n + 1, sizeof(int));    /* p->files index -> names index */
	int stop = n;                                          /* without keep_going: the first bad file */
	p->files = xcalloc((size_t)n, sizeof(*p->files));
	for (int i = 0; i < stop; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]->d_name);
		struct case_file *cf = &p->files[p->nfiles];
		int ok = casefile_load(path, cf, err, errlen) == 0;
		for (size_t j = 0; ok && j < p->nfiles; j++) {
			if (p->files[j].number == cf->number) {
				pos_failf(cf, cf->number_pos, err, errlen, "case number %04d is also used by %s", cf->number,
					  p->files[j].path);
				ok = 0;
				casefile_free(cf);
			}
		}
		free(path);
		if (ok) {
			file_of[p->nfiles++] = i;
		} else {
			why[i] = xstrdup(err);
			if (!keep_going)
				stop = i;
		}
	}
	for (size_t f = 0; f < p->nfiles; f++) {
		int i = file_of[f];
		if (i >= stop)
			break;
		size_t before = p->ncases;
		if (plan_expand(p, &p->files[f], err, errlen) < 0) {
			p->ncases = before;  /* instances of a half-expanded file are dropped */
			why[i] = xstrdup(err);
			if (!keep_going)
				stop = i;
		}
	}
	int rc = 0;
	if (stop < n) {
		snprintf(err, errlen, "%s", why[stop]);
		rc = -1;
	}
	struct buf badlist = { 0 };
	for (int i = 0; i < n; i++) {
		if (why[i] && keep_going)
			buf_printf(&badlist, "%s\n", why[i]);
		free(why[i]);
		free(names[i]);
	}
	free(why);
	free(file_of);
	free(names);
	if (bad)
		*bad = badlist.s;
	else
		buf_free(&badlist);
	if (rc == 0 && duplicate_id(p, err, errlen))
		rc = -1;
	if (rc == 0 && p->ncases == 0 && !badlist.len) {
		snprintf(err, errlen, "%s: no *.case files", dir);
		rc = -1;
	}
	return rc;
}

static int matches_any(const char *id, char **globs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(globs[i], id, 0) == 0)
			return 1;
	return 0;
}

/* One of the '|'-separated globs of alts matches v, as in a case file's key=a|b. */
static int matches_alt(const char *alts, const char *v)
{
	for (const char *a = alts;;) {
		size_t n = strcspn(a, "|");
		char *glob = xstrndup(a, n);
		int m = fnmatch(glob, v, 0) == 0;
		free(glob);
		if (m)
			return 1;
		if (!a[n])
			return 0;
		a += n + 1;
	}
}

/* Every KEY=VALUE holds: the instance has the param and its value matches (a case without
 * the param is not selected by it). */
static int params_match(const struct kvlist *params, const struct kvlist *want)
{
	for (size_t i = 0; i < want->n; i++) {
		const char *v = kv_get(params, want->v[i].key);
		if (!v || !matches_alt(want->v[i].val, v))
			return 0;
	}
	return 1;
}

void plan_filter(struct plan *p, const struct plan_select *sel)
{
	size_t keep = 0;
	if (p->frozen.base)
		abort();   /* a frozen plan is read-only: filter before plan_freeze */
	for (size_t i = 0; i < p->ncases; i++) {
		struct case_inst *c = &p->cases[i];
		int in = (!sel->ninclude || matches_any(c->id, sel->include, sel->ninclude)) &&
			 !matches_any(c->id, sel->exclude, sel->nexclude) && params_match(&c->params, &sel->params);
		if (in)
			p->cases[keep++] = *c;
		else
			free(c->id), free(c->title), free(c->topology), kv_free(&c->vars), kv_free(&c->params),
				kv_free(&c->sysctls), steplist_free(&c->setup), steplist_free(&c->test);
	}
	p->ncases = keep;
}

const struct case_inst *plan_find(const struct plan *p, const char *id)
{
	for (size_t i = 0; i < p->ncases; i++)
		if (strcmp(p->cases[i].id, id) == 0)
			return &p->cases[i];
	return NULL;
}

void plan_free(struct plan *p)
{
	if (p->frozen.base) {
		arena_free(&p->frozen);   /* the cases and all they point to */
	} else {
		for (size_t i = 0; i < p->ncases; i++) {
			struct case_inst *c = &p->cases[i];
			free(c->id);
			free(c->title);
			free(c->topology);
			kv_free(&c->vars);
			kv_free(&c->params);
			kv_free(&c->sysctls);
			steplist_free(&c->setup);
			steplist_free(&c->test);
		}
		free(p->cases);
	}
	for (size_t i = 0; i < p->nfiles; i++)
		casefile_free(&p->files[i]);
	free(p->files);
	memset(p, 0, sizeof(*p));
}
