/* Facts about the machine a run happens on, for the reports. */
#ifndef SOCKREUSE_RUNINFO_H
#define SOCKREUSE_RUNINFO_H
#include "reports/report.h"
#include "netns/netns.h"

/* Fills tool, kernel, hostname, start time, and the defaults of the reuse-related
 * sysctls as a fresh namespace sees them (read in a forked child, never written). */
void runinfo_fill(struct run_info *info, const struct ns_id *origin);
/* Enters a user namespace when not root, so that namespaces can be created.
 * Returns 0, or -1 with the reason in err. */
int become_ns_root(char *err, size_t errlen);

#endif
