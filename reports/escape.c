#include "reports/escape.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void add_hex_escape(struct buf *b, const char *prefix, long cp, int width)
{
	buf_printf(b, "%s%0*lx", prefix, width, (unsigned long)cp);
}

void esc_xml(struct buf *b, const char *s, enum xml_context ctx)
{
	s = or_empty(s);
	while (*s) {
		size_t n;
		long cp = utf8_decode(s, &n);

		if (cp < 0 || cp == 0xFFFE || cp == 0xFFFF)
			buf_add(b, UTF8_REPLACEMENT);
		else if (cp == '<')
			buf_add(b, "&lt;");
		else if (cp == '>') /* always, so "]]>" can never appear in text */
			buf_add(b, "&gt;");
		else if (cp == '&')
			buf_add(b, "&amp;");
		else if (cp == '"' && ctx == XML_ATTR)
			buf_add(b, "&quot;");
		else if ((cp == '\t' || cp == '\n') && ctx == XML_ATTR)
			buf_printf(b, "&#%ld;", cp);
		else if (cp == '\r') /* parsers turn a raw CR into LF */
			buf_add(b, "&#13;");
		else if (cp < 0x20 && cp != '\t' && cp != '\n')
			add_hex_escape(b, "\\x", cp, 2);
		else
			buf_addn(b, s, n);
		s += n;
	}
}

void esc_json(struct buf *b, const char *s)
{
	s = or_empty(s);
	buf_add(b, "\"");
	while (*s) {
		size_t n;
		long cp = utf8_decode(s, &n);

		switch (cp) {
		case -1: buf_add(b, UTF8_REPLACEMENT); break;
		case '"': buf_add(b, "\\\""); break;
		case '\\': buf_add(b, "\\\\"); break;
		case '\b': buf_add(b, "\\b"); break;
		case '\f': buf_add(b, "\\f"); break;
		case '\n': buf_add(b, "\\n"); break;
		case '\r': buf_add(b, "\\r"); break;
		case '\t': buf_add(b, "\\t"); break;
		default:
			/* DEL is legal JSON but invisible in a terminal or a diff. */
			if (cp < 0x20 || cp == 0x7F)
				add_hex_escape(b, "\\u", cp, 4);
			else
				buf_addn(b, s, n);
		}
		s += n;
	}
	buf_add(b, "\"");
}

/* Words YAML 1.1 resolvers (the ones most CI tools use) read as booleans or null. */
static int yaml_reserved_word(const char *s)
{
	static const char *const words[] = {
		"y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf",
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i]) == 0)
			return 1;
	return 0;
}

static int is_ascii_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_ascii_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* A plain scalar must start with a letter, '_' or '/': that excludes every YAML indicator
 * character and every number, so "0" stays the string "0" and never becomes an integer. The
 * rest avoids ':' and '#' (": " and " #" end or split a plain scalar) and anything non-ASCII. */
static int yaml_plain_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || s[len - 1] == ' ' || yaml_reserved_word(s))
		return 0;
	if (!is_ascii_alpha(s[0]) && s[0] != '_' && s[0] != '/')
		return 0;
	for (const char *p = s; *p; p++)
		if (!is_ascii_alpha(*p) && !is_ascii_digit(*p) && !strchr(" _-./+=,;()@%", *p))
			return 0;
	return 1;
}

/* The YAMLish reader takes a key that starts with a word character, up to whitespace or ':'. */
static int yaml_plain_key_ok(const char *s)
{
	if (!*s || yaml_reserved_word(s) || (!is_ascii_alpha(s[0]) && s[0] != '_'))
		return 0;
	for (const char *p = s; *p; p++)
		if (!is_ascii_alpha(*p) && !is_ascii_digit(*p) && !strchr("_.-", *p))
			return 0;
	return 1;
}

static void yaml_quoted(struct buf *b, const char *s, int escape_colon_space)
{
	buf_add(b, "\"");
	while (*s) {
		size_t n;
		long cp = utf8_decode(s, &n);

		if (cp < 0 || cp == 0xFFFE || cp == 0xFFFF)
			buf_add(b, UTF8_REPLACEMENT);
		else if (cp == '"')
			buf_add(b, "\\\"");
		else if (cp == '\\')
			buf_add(b, "\\\\");
		else if (cp == '\t')
			buf_add(b, "\\t");
		else if (cp == '\n')
			buf_add(b, "\\n");
		else if (cp == '\r')
			buf_add(b, "\\r");
		else if (cp == ':' && escape_colon_space && s[1] == ' ')
			buf_add(b, "\\x3a");
		else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) /* not YAML-printable */
			add_hex_escape(b, "\\x", cp, 2);
		else
			buf_addn(b, s, n);
		s += n;
	}
	buf_add(b, "\"");
}

/* s as it is when plain_ok says YAML reads it back unchanged, else quoted. */
static void yaml_plain_or_quoted(struct buf *b, const char *s, int (*plain_ok)(const char *),
				 int escape_colon_space)
{
	s = or_empty(s);
	if (plain_ok(s))
		buf_add(b, s);
	else
		yaml_quoted(b, s, escape_colon_space);
}

void esc_yaml_scalar(struct buf *b, const char *s)
{
	yaml_plain_or_quoted(b, s, yaml_plain_ok, 0);
}

void esc_yaml_item(struct buf *b, const char *s)
{
	yaml_plain_or_quoted(b, s, yaml_plain_ok, 1);
}

void esc_yaml_key(struct buf *b, const char *s)
{
	yaml_plain_or_quoted(b, s, yaml_plain_key_ok, 0);
}

void esc_tap_text(struct buf *b, const char *s)
{
	s = or_empty(s);
	while (*s) {
		size_t n;
		long cp = utf8_decode(s, &n);

		if (cp < 0)
			buf_add(b, UTF8_REPLACEMENT);
		else if (cp == '#')
			buf_add(b, "\\#");
		else if (cp == '\\')
			buf_add(b, "\\\\");
		else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
			add_hex_escape(b, "\\x", cp, 2);
		else
			buf_addn(b, s, n);
		s += n;
	}
}

void fmt_fixed3(char out[FIXED3_LEN], double x)
{
	/* Integer arithmetic instead of "%.3f": no locale decimal comma, no libm. The clamp keeps
	 * the product inside long long; no duration comes anywhere near it. */
	if (!isfinite(x) || x < 0)
		x = 0;
	if (x > 1e12)
		x = 1e12;
	long long milli = (long long)(x * 1000.0 + 0.5);
	snprintf(out, FIXED3_LEN, "%lld.%03lld", milli / 1000, milli % 1000);
}
