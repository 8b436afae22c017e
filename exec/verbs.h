/* Implementations of the step verbs, each registered with VERB where it is written: steps.c
 * (sockets, hosts, states, sysctls), verbs_conn.c (connections and five-tuples),
 * verbs_ports.c (ephemeral ports and their exhaustion). What a verb takes is declared once,
 * in the language (parse/verbs_spec.c), under the same name; the planner has checked every
 * step against it and filled in what the case decides (its family, its RPORT), so an
 * implementation reads its words and nothing else. */
#ifndef SOCKREUSE_VERBS_H
#define SOCKREUSE_VERBS_H
#include "exec/exec.h"

typedef enum step_rc (*verb_fn)(struct exec_ctx *x, int argc, char **argv);

struct verb {
	const char *name;
	verb_fn fn;
};

/* Registers fn as the implementation of the verb name, right where fn is written: the entries
 * gather in one section of the binary (as the kernel's initcalls do), so no table lists the
 * verbs a second time. */
#define VERB(name, fn)                                                                            \
	static const struct verb fn##_verb                                                        \
		__attribute__((used, section("sockreuse_verbs"), aligned(__alignof__(struct verb)))) = \
			{ name, fn }

/* Every verb implemented, from verbs_begin() up to verbs_end(), in no particular order. */
const struct verb *verbs_begin(void);
const struct verb *verbs_end(void);

/* The verb of that name, or NULL. */
const struct verb *verb_find(const char *name);

#endif
