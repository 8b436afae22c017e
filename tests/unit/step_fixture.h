/* Runs one step written as in a case file ("connect-peer new old host2") against a test's
 * exec context. The words go to the implementation as written, unchecked by the language,
 * so that tests can see what the verb itself refuses. */
#ifndef SOCKREUSE_STEP_FIXTURE_H
#define SOCKREUSE_STEP_FIXTURE_H
#include "fixture.h"
#include "exec/verbs.h"
#include "parse/verbs_spec.h"

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

#endif
