/* Making arbitrary strings safe for each report format.
 *
 * Case data comes from case files, kernel strings and errno text, so any byte can show up.
 * Every function here appends to a struct buf and guarantees its output is valid UTF-8 and
 * well-formed in its target syntax, whatever the input: a report that a CI parser rejects is
 * worse than one with a replaced character. Invalid UTF-8 bytes become U+FFFD; characters a
 * format cannot carry at all become a visible "\xNN" so a reader can still see what was there.
 * NULL is treated as the empty string everywhere. */
#ifndef SOCKREUSE_ESCAPE_H
#define SOCKREUSE_ESCAPE_H
#include <stddef.h>
#include "lib/util.h"

/* UTF-8 encoding of U+FFFD REPLACEMENT CHARACTER. */
#define UTF8_REPLACEMENT "\xEF\xBF\xBD"

static inline const char *or_empty(const char *s)
{
	return s ? s : "";
}

enum xml_context { XML_TEXT, XML_ATTR };

/* XML 1.0 character data or a double-quoted attribute value. Tab, newline and CR in attributes
 * become character references so attribute normalisation does not turn them into spaces;
 * other C0 controls, U+FFFE and U+FFFF are not XML 1.0 characters even as references, so
 * controls become a visible "\xNN" and the two non-characters U+FFFD. */
void esc_xml(struct buf *b, const char *s, enum xml_context ctx);

/* A complete JSON string literal, quotes included (RFC 8259): control characters and DEL as
 * \u00XX (or their short forms), invalid UTF-8 replaced. */
void esc_json(struct buf *b, const char *s);

/* A YAML scalar for a TAP diagnostic block: written plain when that is unambiguous (ASCII
 * words, no indicator characters, not a boolean/null/number lookalike), otherwise
 * double-quoted with only the escapes both YAML 1.2 and TAP::Parser's YAMLish reader know
 * (\" \\ \t \n \r \xNN), so it always reads back as the same string. */
void esc_yaml_scalar(struct buf *b, const char *s);
/* The same for a mapping key; plain keys are restricted further because the YAMLish reader
 * only recognises a key that starts with a word character. */
void esc_yaml_key(struct buf *b, const char *s);

/* The same for a sequence entry ("- value"). TAP::Parser's YAMLish reader takes an entry whose
 * first word ends in ':' for a mapping even inside quotes, and then fails on the whole TAP
 * stream; so a quoted entry also writes ':' before a space as "\x3a", which every YAML
 * reader decodes back to ':'. */
void esc_yaml_item(struct buf *b, const char *s);

/* Text for a TAP test line (description or SKIP reason): stays on one line and never ends the
 * description early: '#' becomes "\#", '\' becomes "\\", control characters "\xNN". */
void esc_tap_text(struct buf *b, const char *s);

/* A non-negative decimal with exactly three fractional digits, independent of the locale.
 * NaN, infinities and negative values become "0.000" so JSON and XML stay valid. */
#define FIXED3_LEN 32
void fmt_fixed3(char out[FIXED3_LEN], double x);

#endif
