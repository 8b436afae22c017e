/* Expectation logic: conditions over a case instance's parameters and the kernel version,
 * and the choice of the expected outcome (the first rule whose conditions hold). */
#ifndef SOCKREUSE_EXPECT_H
#define SOCKREUSE_EXPECT_H
#include <stdbool.h>
#include "parse/casefile.h"
#include "lib/kv.h"

/* An upstream kernel version: major.minor.patch. */
struct kver {
	int major, minor, patch;
};

/* Parses "6.18.44-fc-v657", "6.1.32" or "6.14" (patch 0). Returns 0, or -1 when it is not
 * a version. */
int kver_parse(const char *release, struct kver *out);
/* The upstream version of a kernel from uname's release and version (the text
 * /proc/version holds), as the reports give it (lib/kversion.h): Debian's
 * "6.1.0-56-cloud-amd64" says "... Debian 6.1.192-2 (2026-11-16)" in its version string,
 * upstream 6.1.192. Conditions compare that. Returns 0, or -1. */
int kver_upstream(const char *release, const char *version, struct kver *out);
/* <0, 0, >0 like strcmp. */
int kver_cmp(struct kver a, struct kver b);

/* Does the condition hold? Names are looked up in vars; a name that is not there never
 * equals anything (and so always satisfies !=). kernel conditions compare with k. */
bool cond_holds(const struct cond *c, const struct kvlist *vars, struct kver k);
bool conds_hold(const struct condlist *cl, const struct kvlist *vars, struct kver k);
/* Like conds_hold, but conditions on the kernel are taken to hold: for questions that do not
 * depend on the kernel (exclusions, lets) and for listing every rule that may apply. */
bool conds_hold_any_kernel(const struct condlist *cl, const struct kvlist *vars);

/* The expectation for an instance with these vars on kernel k: the first matching rule.
 * Never NULL for a parsed file (its last rule is unconditional). */
const struct expect_rule *expect_pick(const struct case_file *cf, const struct kvlist *vars, struct kver k);

/* Does an observed outcome satisfy the expected one? */
bool outcome_matches(const char *expected, const char *observed);
/* Does a run meet the rule: its outcome, and with "at STEP" the verb that failed
 * (failed_at; NULL when nothing failed)? */
bool expect_met(const struct expect_rule *r, const char *observed, const char *failed_at);

/* The condition as text, e.g. "state=LISTEN|TIME_WAIT" or "kernel>=6.14". Caller frees. */
char *cond_str(const struct cond *c);

#endif
