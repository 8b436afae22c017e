/* Step verbs are declared in tables, one per file that implements them: steps.c (sockets,
 * hosts, states, sysctls), verbs_conn.c (connections and five-tuples), verbs_ports.c
 * (ephemeral ports and their exhaustion). A table ends with an entry whose name is NULL. */
#ifndef SOCKREUSE_VERBS_H
#define SOCKREUSE_VERBS_H
#include "exec/exec.h"

typedef enum step_rc (*verb_fn)(struct exec_ctx *x, int argc, char **argv);

struct verb {
	const char *name;
	int min_args, max_args;   /* not counting the verb */
	verb_fn fn;
	const char *usage;
};

extern const struct verb core_verbs[];
extern const struct verb conn_verbs[];
extern const struct verb port_verbs[];

/* The verb of that name in any table, or NULL. */
const struct verb *verb_find(const char *name);

#endif
