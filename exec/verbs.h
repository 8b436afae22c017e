/* Implementations of the step verbs, in tables, one per file that implements them: steps.c
 * (sockets, hosts, states, sysctls), verbs_conn.c (connections and five-tuples),
 * verbs_ports.c (ephemeral ports and their exhaustion). What a verb takes is declared once,
 * in the language (parse/verbs_spec.c), under the same name; the planner has checked every
 * step against it and filled in what the case decides (its family, its RPORT), so an
 * implementation reads its words and nothing else. A table ends with a NULL name. */
#ifndef SOCKREUSE_VERBS_H
#define SOCKREUSE_VERBS_H
#include "exec/exec.h"

typedef enum step_rc (*verb_fn)(struct exec_ctx *x, int argc, char **argv);

struct verb {
	const char *name;
	verb_fn fn;
};

extern const struct verb core_verbs[];
extern const struct verb conn_verbs[];
extern const struct verb port_verbs[];

/* The verb of that name in any table, or NULL. */
const struct verb *verb_find(const char *name);

#endif
