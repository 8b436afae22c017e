/* Known-issues files (run --known FILE): kernel bugs a reader chooses to waive, as data.
 *
 *   # comment
 *   0205/family=inet/state=CLOSED/family=inet6   fixed upstream by 1234abcd5678 ("tcp: ..."), 6.1.180
 *   0110/TIME_WAIT?old=1?new=1?addr=same         a glob: bug 1234, fixed in 6.12.5
 *
 * One entry per line: a case id or a glob (fnmatch, as --filter: * also matches /), white space, then
 * the reason: free text naming the fixing commit or a link. '#' at the start of a line (after
 * white space) makes it a comment; blank lines are ignored. An entry with no reason is an error
 * (file:line:col): a waiver must say why. */
#ifndef SOCKREUSE_KNOWN_H
#define SOCKREUSE_KNOWN_H
#include <stddef.h>

struct known_entry {
	char *pattern, *reason;
	int line;
};

struct known_list {
	struct known_entry *v;
	size_t n;
	char *path;
};

/* Returns 0, or -1 with "file:line:col: message" in err. */
int known_load(const char *path, struct known_list *out, char *err, size_t errlen);
/* The reason of the first entry that matches id, or NULL. */
const char *known_match(const struct known_list *k, const char *id);
void known_free(struct known_list *k);

#endif
