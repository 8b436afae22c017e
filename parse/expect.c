#include "parse/expect.h"
#include "lib/kversion.h"
#include "lib/util.h"

#include <stdio.h>
#include <string.h>

int kver_parse(const char *release, struct kver *out)
{
	struct upstream u;
	if (upstream_parse(release, &u) < 0)
		return -1;
	*out = (struct kver){ (int)u.v[0], (int)u.v[1], (int)u.v[2] };
	return 0;
}

int kver_upstream(const char *release, const char *version, struct kver *out)
{
	char up[64];
	upstream_of_kernel(release, version, up, sizeof(up));
	return kver_parse(up, out);
}

int kver_cmp(struct kver a, struct kver b)
{
	if (a.major != b.major)
		return a.major < b.major ? -1 : 1;
	if (a.minor != b.minor)
		return a.minor < b.minor ? -1 : 1;
	if (a.patch != b.patch)
		return a.patch < b.patch ? -1 : 1;
	return 0;
}

static bool value_in(const struct cond *c, const char *v)
{
	if (!v)
		return false;
	for (size_t i = 0; i < c->nvals; i++)
		if (strcmp(c->vals[i], v) == 0)
			return true;
	return false;
}

static bool kernel_cond_holds(const struct cond *c, struct kver k)
{
	struct kver want;
	if (kver_parse(c->vals[0], &want) < 0)
		return false;
	int cmp = kver_cmp(k, want);
	return c->op == COND_GE ? cmp >= 0 : cmp < 0;
}

bool cond_holds(const struct cond *c, const struct kvlist *vars, struct kver k)
{
	if (strcmp(c->key, "kernel") == 0)
		return kernel_cond_holds(c, k);
	bool in = value_in(c, kv_get(vars, c->key));
	return c->op == COND_EQ ? in : !in;
}

bool conds_hold(const struct condlist *cl, const struct kvlist *vars, struct kver k)
{
	for (size_t i = 0; i < cl->n; i++)
		if (!cond_holds(&cl->v[i], vars, k))
			return false;
	return true;
}

bool conds_hold_any_kernel(const struct condlist *cl, const struct kvlist *vars)
{
	for (size_t i = 0; i < cl->n; i++) {
		if (strcmp(cl->v[i].key, "kernel") == 0)
			continue;
		if (!cond_holds(&cl->v[i], vars, (struct kver){ 0, 0, 0 }))
			return false;
	}
	return true;
}

const struct expect_rule *expect_pick(const struct case_file *cf, const struct kvlist *vars, struct kver k)
{
	for (size_t i = 0; i < cf->nexpects; i++)
		if (conds_hold(&cf->expects[i].when, vars, k))
			return &cf->expects[i];
	return NULL;
}

bool outcome_matches(const char *expected, const char *observed)
{
	return strcmp(expected, observed) == 0;
}

bool expect_met(const struct expect_rule *r, const char *observed, const char *failed_at)
{
	if (!outcome_matches(r->outcome, observed))
		return false;
	return !r->at || (failed_at && strcmp(r->at, failed_at) == 0);
}

char *cond_str(const struct cond *c)
{
	static const char *ops[] = { [COND_EQ] = "=", [COND_NE] = "!=", [COND_GE] = ">=", [COND_LT] = "<" };
	struct buf b = { 0 };
	buf_printf(&b, "%s%s", c->key, ops[c->op]);
	for (size_t i = 0; i < c->nvals; i++)
		buf_printf(&b, "%s%s", i ? "|" : "", c->vals[i]);
	return b.s;
}
