/* Step verbs for connections and five-tuples. */
#include "verbs.h"

const struct verb conn_verbs[] = {
	{ NULL, 0, 0, NULL, NULL },
};
