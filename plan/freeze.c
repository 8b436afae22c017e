/* plan_freeze: the expanded cases, copied into one read-only shared arena. Two passes over
 * the same walk: the first adds up what the second allocates, so the arena is sized once. */
#include "plan/plan.h"
#include "lib/arena.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

/* With a == NULL, only counts bytes into *size. */
struct mover {
	struct arena *a;
	size_t size;
};

static void *mv_alloc(struct mover *m, size_t n)
{
	m->size += ARENA_SIZE(n);
	return m->a ? arena_alloc(m->a, n) : NULL;
}

static char *mv_str(struct mover *m, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = mv_alloc(m, n);
	return d ? memcpy(d, s, n) : NULL;
}

static struct kvlist mv_kv(struct mover *m, const struct kvlist *l)
{
	struct kvlist out = { .n = l->n, .cap = l->n };
	out.v = mv_alloc(m, l->n * sizeof(*l->v));
	for (size_t i = 0; i < l->n; i++) {
		char *k = mv_str(m, l->v[i].key), *v = mv_str(m, l->v[i].val);
		if (out.v)
			out.v[i] = (struct kv){ k, v };
	}
	return out;
}

static struct steplist mv_steps(struct mover *m, const struct steplist *l)
{
	struct steplist out = { .n = l->n };
	out.v = mv_alloc(m, l->n * sizeof(*l->v));
	for (size_t i = 0; i < l->n; i++) {
		const struct step *s = &l->v[i];
		char **argv = mv_alloc(m, ((size_t)s->argc + 1) * sizeof(char *));
		int *cols = s->cols ? mv_alloc(m, ((size_t)s->argc + 1) * sizeof(int)) : NULL;
		for (int j = 0; j < s->argc; j++) {
			char *arg = mv_str(m, s->argv[j]);
			if (argv)
				argv[j] = arg;
		}
		if (cols)
			memcpy(cols, s->cols, (size_t)s->argc * sizeof(int));
		/* An expanded step keeps no condition: plan_expand already applied it. */
		if (out.v)
			out.v[i] = (struct step){ .argv = argv, .argc = s->argc, .cols = cols, .pos = s->pos,
						  .may_fail = s->may_fail };
	}
	return out;
}

static struct case_inst *mv_cases(struct mover *m, const struct plan *p)
{
	struct case_inst *out = mv_alloc(m, p->ncases * sizeof(*out));
	for (size_t i = 0; i < p->ncases; i++) {
		const struct case_inst *c = &p->cases[i];
		struct case_inst d = *c;   /* the scalars, and cf: the parsed files stay where they are */
		d.id = mv_str(m, c->id);
		d.title = mv_str(m, c->title);
		d.topology = mv_str(m, c->topology);
		d.vars = mv_kv(m, &c->vars);
		d.params = mv_kv(m, &c->params);
		d.sysctls = mv_kv(m, &c->sysctls);
		d.setup = mv_steps(m, &c->setup);
		d.test = mv_steps(m, &c->test);
		if (out)
			out[i] = d;
	}
	return out;
}

int plan_freeze(struct plan *p)
{
	if (p->frozen.base)
		return 0;
	struct mover count = { 0 };
	mv_cases(&count, p);
	struct arena a;
	if (arena_init(&a, count.size) < 0)
		return -1;
	struct mover move = { .a = &a };
	struct case_inst *cases = mv_cases(&move, p);
	if (arena_freeze(&a) < 0) {
		arena_free(&a);
		return -1;
	}
	size_t n = p->ncases;
	struct case_file *files = p->files;
	size_t nfiles = p->nfiles;
	p->nfiles = 0;   /* plan_free of the originals only: the parsed files stay */
	p->files = NULL;
	plan_free(p);
	*p = (struct plan){ .files = files, .nfiles = nfiles, .cases = cases, .ncases = n, .frozen = a };
	/* Hand the freed pages back, so that fork() has no empty heap to copy either. */
	malloc_trim(0);
	return 0;
}
