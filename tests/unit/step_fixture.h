/* Runs one step written as in a case file ("connect-peer new old host2") against a test's
 * exec context. The words go to the implementation as written, unchecked by the language,
 * so that tests can see what the verb itself refuses. */
#ifndef SOCKREUSE_STEP_FIXTURE_H
#define SOCKREUSE_STEP_FIXTURE_H
#include "fixture.h"
#include "exec/verbs.h"
#include "parse/verbs_spec.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

static inline enum step_rc run_step_line(struct exec_ctx *x, const char *line)
{
	char buf[256], *argv[12];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *tok = strtok(buf, " "); tok && argc < 12; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	const struct verb *v = verb_find(argv[0]);
	ck_assert_msg(v && verb_spec_find(argv[0]), "no verb '%s'", argv[0]);
	x->msg[0] = '\0';
	return v->fn(x, argc, argv);
}

/* The context a test's steps run in, one per test process (Check forks each test): the
 * case (no vars: sockets default to inet), its facts, the runner's namespace, the state. */
static struct case_inst ci;
static struct kvlist facts;
static struct ns_id origin;
static struct exec_ctx x;

/* Moves the test into a fresh network namespace with the topology a case's child would
 * have, and readies x to run steps there. */
static inline void fixture_ns(enum topo_kind kind)
{
	char err[256];
	ck_assert_int_eq(ns_current(&origin), 0);
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s (the unit tests need root)", strerror(errno));
	memset(&x, 0, sizeof(x));
	memset(&facts, 0, sizeof(facts));
	x.ci = &ci;
	x.origin = &origin;
	x.facts = &facts;
	x.host = HOST_A;
	ck_assert_msg(topo_build(kind, &origin, &x.topo, err, sizeof(err)) == 0, "%s", err);
}

static inline enum step_rc step(const char *line)
{
	return run_step_line(&x, line);
}

#define STEP_OK_(line) ck_assert_msg(step(line) == STEP_OK, "%s: %s", line, x.msg)

#endif
