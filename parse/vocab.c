/* The params vocabulary, in one place. */
#include "parse/vocab.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define STATES "CLOSED BOUND LISTEN SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT1 FIN_WAIT2 CLOSE_WAIT CLOSING LAST_ACK TIME_WAIT"
#define BOOL_ "0 1"

const struct vocab_key vocab[] = {
	{ "op", VOCAB_WORDS, "bind listen connect sendto",
	  "the call under test; listen means bind then listen: a conflict can pass bind() and surface at listen()" },
	{ "proto", VOCAB_WORDS, "tcp udp", "the protocol of the sockets" },
	{ "family", VOCAB_WORDS, "inet inet6 dual", "the address family; dual: IPv6 sockets that also reach IPv4" },
	{ "state", VOCAB_WORDS, STATES, "the occupant's TCP state" },
	{ "side", VOCAB_WORDS, "active passive", "which end of the occupant's connection holds the contended port" },
	{ "old_reuseaddr", VOCAB_WORDS, BOOL_, "SO_REUSEADDR on the occupant" },
	{ "new_reuseaddr", VOCAB_WORDS, BOOL_, "SO_REUSEADDR on the new socket" },
	{ "old_reuseport", VOCAB_WORDS, BOOL_, "SO_REUSEPORT on the occupant" },
	{ "new_reuseport", VOCAB_WORDS, BOOL_, "SO_REUSEPORT on the new socket" },
	{ "uid", VOCAB_WORDS, "same different", "the new socket's effective uid against the occupant's" },
	{ "addr", VOCAB_WORDS, "same old_wild new_wild both_wild different", "how the two local addresses relate" },
	{ "remote", VOCAB_WORDS, "same different_port different_addr", "the remote the new socket connects to" },
	{ "local", VOCAB_WORDS, "explicit ephemeral no_port",
	  "how the connecting socket got its local port: bind to a given port, none before connect, "
	  "or bind with IP_BIND_ADDRESS_NO_PORT" },
	{ "tuple_diff", VOCAB_WORDS, "none proto src_addr src_port dst_addr dst_port",
	  "which element of the five-tuple differs from the live connection's" },
	{ "topology", VOCAB_WORDS, "loopback pair", "one namespace, or two joined by a veth pair" },
	{ "old_addr", VOCAB_ADDRESS, NULL, "the occupant's local address as written (dual stack)" },
	{ "new_addr", VOCAB_ADDRESS, NULL, "the new socket's local address as written (dual stack)" },
	{ "old_v6only", VOCAB_WORDS, BOOL_, "IPV6_V6ONLY on the occupant" },
	{ "new_v6only", VOCAB_WORDS, BOOL_, "IPV6_V6ONLY on the new socket" },
	{ "occupants", VOCAB_COUNT, NULL, "how many sockets hold the port before the step under test" },
	{ "dev", VOCAB_NAME, NULL, "the device a socket is bound to (SO_BINDTODEVICE)" },
};
const size_t nvocab = sizeof(vocab) / sizeof(vocab[0]);

const struct vocab_key *vocab_find(const char *key)
{
	return TABLE_FIND(vocab, nvocab, key);
}

const char *vocab_values(const struct vocab_key *k, char *buf, size_t len)
{
	switch (k->kind) {
	case VOCAB_WORDS: {
		snprintf(buf, len, "%s", k->words);
		for (char *c = buf; *c; c++)
			if (*c == ' ')
				*c = '|';
		return buf;
	}
	case VOCAB_ADDRESS: return "<address>";
	case VOCAB_COUNT: return "<count>";
	case VOCAB_NAME: return "<name>";
	}
	return "";
}

int vocab_check(const char *key, const char *value, char *err, size_t errlen)
{
	const struct vocab_key *k = vocab_find(key);
	unsigned char addr[16];
	char vals[256];
	int ok = 1;
	if (!k)
		return 0;
	switch (k->kind) {
	case VOCAB_WORDS:
		ok = words_contain(k->words, value);
		break;
	case VOCAB_ADDRESS:
		ok = inet_pton(AF_INET, value, addr) == 1 || inet_pton(AF_INET6, value, addr) == 1;
		break;
	case VOCAB_COUNT:
		ok = value[0] && strspn(value, "0123456789") == strlen(value) && strlen(value) < 7 &&
		     (value[0] != '0' || !value[1]);
		break;
	case VOCAB_NAME:
		ok = value[0] && strlen(value) < 16 && !strpbrk(value, "/ ");  /* IFNAMSIZ, dev_valid_name() */
		break;
	}
	if (ok)
		return 0;
	snprintf(err, errlen, "param %s is of the vocabulary (docs/DESIGN.md): its value is %s, not '%s'", key,
		 vocab_values(k, vals, sizeof(vals)), value);
	return -1;
}
