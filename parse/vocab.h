/* The params vocabulary: the keys by which reports are filtered, matched and compared across
 * cases and kernels, and the values each may carry (docs/DESIGN.md explains them). A case may
 * add keys of its own; a key of the vocabulary carries one of its values, which the parser
 * checks for matrix values and params. This table is the one list: `sockreuse doc
 * --vocabulary` prints it for the tests and the docs. */
#ifndef SOCKREUSE_VOCAB_H
#define SOCKREUSE_VOCAB_H
#include <stddef.h>

enum vocab_kind {
	VOCAB_WORDS,    /* one of .words */
	VOCAB_ADDRESS,  /* an address as written: 0.0.0.0, ::, ::ffff:127.0.0.1 */
	VOCAB_COUNT,    /* a whole number, 0 or more */
	VOCAB_NAME,     /* an interface name (IFNAMSIZ) */
};

struct vocab_key {
	const char *key;
	enum vocab_kind kind;
	const char *words;  /* VOCAB_WORDS: the values, space-separated */
	const char *about;
};

extern const struct vocab_key vocab[];
extern const size_t nvocab;

const struct vocab_key *vocab_find(const char *key);
/* 0 when value is one that key may carry (any value for a key outside the vocabulary, and
 * for sysctl.<name>); -1 with a message. */
int vocab_check(const char *key, const char *value, char *err, size_t errlen);
/* What a key's values are, as one line: "bind|listen|connect|sendto", "<address>" ... */
const char *vocab_values(const struct vocab_key *k, char *buf, size_t len);

#endif
