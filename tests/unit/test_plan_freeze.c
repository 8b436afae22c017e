/* plan_freeze: the frozen plan holds the same cases as the one it was made from, cannot be
 * written, and lives in a mapping that fork() does not copy. */
#include "fixture.h"
#include "plan/plan.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

static void load(struct plan *p)
{
	char err[512] = "", *bad = NULL;
	ck_assert_msg(plan_load("cases", p, 0, &bad, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_gt(p->ncases, 1000);
	free(bad);
}

static void same_kv(const struct kvlist *a, const struct kvlist *b, const char *id)
{
	ck_assert_msg(a->n == b->n, "%s: %zu against %zu pairs", id, a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		ck_assert_str_eq(a->v[i].key, b->v[i].key);
		ck_assert_str_eq(a->v[i].val, b->v[i].val);
	}
}

static void same_steps(const struct steplist *a, const struct steplist *b, const char *id)
{
	ck_assert_msg(a->n == b->n, "%s: %zu against %zu steps", id, a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct step *x = &a->v[i], *y = &b->v[i];
		ck_assert_int_eq(x->argc, y->argc);
		ck_assert_int_eq(x->pos.line, y->pos.line);
		ck_assert_int_eq(x->may_fail, y->may_fail);
		for (int j = 0; j < x->argc; j++) {
			ck_assert_str_eq(x->argv[j], y->argv[j]);
			ck_assert_int_eq(x->cols[j], y->cols[j]);
		}
		ck_assert_ptr_null(y->argv[y->argc]);
	}
}

TCASE(freeze, .timeout = 60);

TEST(freeze, keeps_every_case_as_it_was)
{
	struct plan live = { 0 }, frozen = { 0 };
	load(&live);
	load(&frozen);
	ck_assert_int_eq(plan_freeze(&frozen), 0);
	ck_assert_uint_eq(frozen.ncases, live.ncases);
	ck_assert(arena_holds(&frozen.frozen, frozen.cases));
	for (size_t i = 0; i < live.ncases; i++) {
		const struct case_inst *a = &live.cases[i], *b = &frozen.cases[i];
		ck_assert_str_eq(a->id, b->id);
		ck_assert(arena_holds(&frozen.frozen, b->id) && arena_holds(&frozen.frozen, b->title));
		ck_assert_str_eq(a->title, b->title);
		ck_assert_str_eq(a->topology, b->topology);
		ck_assert_str_eq(a->cf->path, b->cf->path);
		ck_assert(a->timeout_s == b->timeout_s);
		ck_assert_int_eq(a->waits_on_timer, b->waits_on_timer);
		ck_assert_int_eq(a->uses_host2, b->uses_host2);
		ck_assert_int_eq(a->ns_reusable, b->ns_reusable);
		same_kv(&a->vars, &b->vars, a->id);
		same_kv(&a->params, &b->params, a->id);
		same_kv(&a->sysctls, &b->sysctls, a->id);
		same_steps(&a->setup, &b->setup, a->id);
		same_steps(&a->test, &b->test, a->id);
	}
	ck_assert_ptr_eq(plan_find(&frozen, live.cases[7].id), &frozen.cases[7]);
	plan_free(&live);
	plan_free(&frozen);
	ck_assert_ptr_null(frozen.frozen.base);
}
END_TEST

TEST(freeze, a_write_into_the_frozen_plan_is_a_crash_not_a_change)
{
	struct plan p = { 0 };
	load(&p);
	ck_assert_int_eq(plan_freeze(&p), 0);
	char before = p.cases[0].id[0];
	pid_t pid = fork();
	if (pid == 0) {
		p.cases[0].id[0] = 'X';
		_exit(0);
	}
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "the child's write went through");
	ck_assert_int_eq(p.cases[0].id[0], before);
	plan_free(&p);
}
END_TEST

/* fork() copies the page tables of a mapping only when it holds anonymous pages
 * (vma_needs_copy(), mm/memory.c): the arena must be shared and hold none. */
TEST(freeze, the_plan_is_in_a_mapping_that_fork_does_not_copy)
{
	struct plan p = { 0 };
	load(&p);
	ck_assert_int_eq(plan_freeze(&p), 0);
	FILE *f = fopen("/proc/self/smaps", "r");
	ck_assert_ptr_nonnull(f);
	char line[512], perms[8] = "";
	int inside = 0, seen = 0;
	unsigned long lo, hi, anon = 99;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3)
			inside = lo == (unsigned long)p.frozen.base;
		else if (inside && sscanf(line, "Anonymous: %lu kB", &anon) == 1) {
			seen = 1;
			ck_assert_str_eq(perms, "r--s");
		}
	}
	fclose(f);
	ck_assert_msg(seen, "no smaps entry for the arena");
	ck_assert_uint_eq(anon, 0);
	plan_free(&p);
}
END_TEST

UNIT_MAIN("plan_freeze")
