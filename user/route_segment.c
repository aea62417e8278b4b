// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The folding rule. A false positive merges two routes (an operator's
 * template undoes it); a false negative stores a secret in every
 * Prometheus that scrapes the node. So the rule leans towards folding,
 * but keeps words, slugs, file names and version segments as they are.
 */
#include <stdint.h>
#include <string.h>

#include "route_bigrams.h"
#include "route_segment.h"

/*
 * A run of letters is random when its letter pairs are, on average, more
 * surprising than this in English (eighths of a bit): 5.5 bits keeps all
 * but 8 of the 74,585 words of the list the table came from, and catches
 * 90-96% of random lower-case strings of 8-19 letters. Over longer runs
 * the average varies less, and 5 bits keeps all but 0.04% of words run
 * together ("userprofilesettings") of 20 letters or more, while catching
 * 99.9% of random strings as long (scripts/route-fold-rates.py).
 */
#define RANDOM_COST_SHORT	(55 * ROUTE_BIGRAM_SCALE / 10)
#define RANDOM_COST_LONG	(5 * ROUTE_BIGRAM_SCALE)
#define RANDOM_LONG_PAIRS	19
/*
 * Runs this long of pieces 2.5 characters long on average are random:
 * camelCase words are longer (GetUserProfilePictureById: 4.2).
 */
#define RANDOM_SHORT_PIECES_MIN	16
/* fewer letter pairs than this say nothing either way */
#define RANDOM_MIN_PAIRS	5

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_alpha(unsigned char c)
{
	return is_lower(c) || is_upper(c);
}

static bool is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static int hex_value(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %XX escapes decoded; a '%' without two hex digits is itself. Returns the length. */
static size_t percent_decode(const char *s, size_t len, unsigned char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < len && (hi = hex_value(s[i + 1])) >= 0 &&
		    (lo = hex_value(s[i + 2])) >= 0) {
			out[o++] = hi << 4 | lo;
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

/* Control bytes, or bytes above 0x7f that are not UTF-8: binary data, not a name. */
static bool is_binary(const unsigned char *s, size_t len)
{
	size_t i, follow;

	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			follow = 1;
		else if (c >= 0xe0 && c <= 0xef)
			follow = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			follow = 3;
		else
			return true;
		for (; follow; follow--)
			if (++i >= len || (s[i] & 0xc0) != 0x80)
				return true;
	}
	return false;
}

static bool is_uuid(const unsigned char *s, size_t len)
{
	size_t i;

	if (len != 36)	/* 8-4-4-4-12 */
		return false;
	for (i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : hex_value(s[i]) < 0)
			return false;
	}
	return true;
}

/*
 * At least 8 digits and no letter: numbers with separators, such as dates,
 * phone and card numbers, IP addresses. Versions ("1.2.3") have fewer.
 */
static bool is_number(const unsigned char *s, size_t len)
{
	size_t i, digits = 0;

	for (i = 0; i < len; i++) {
		if (is_alpha(s[i]))
			return false;
		digits += is_digit(s[i]);
	}
	return digits >= 8 || (digits && digits == len);
}

/*
 * An '@' after the first byte: e-mail addresses, user@host. "@2x" before
 * an extension or at the end is an image density (logo@2x.png), and a
 * leading '@' a scope or handle (@babel, @vite).
 */
static bool has_address(const unsigned char *s, size_t len)
{
	size_t i, j;

	for (i = 1; i < len; i++) {
		if (s[i] != '@')
			continue;
		for (j = i + 1; j < len && is_digit(s[j]); j++)
			;
		if (j > i + 1 && j < len && s[j] == 'x' && (j + 1 == len || s[j + 1] == '.'))
			continue;
		return true;
	}
	return false;
}

static bool is_base64url(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '_';
}

/* "eyJ" is base64 of '{"': JWTs and other encoded JSON. */
static bool has_json_token(const unsigned char *s, size_t len)
{
	size_t i, j;

	for (i = 0; i + 3 <= len; i++) {
		if (memcmp(s + i, "eyJ", 3))
			continue;
		for (j = i + 3; j < len && is_base64url(s[j]); j++)
			;
		if (j - i >= 3 + 8)
			return true;
	}
	return false;
}

/*
 * Known key and token formats, by prefix. Caught because test keys and
 * documentation examples can be low-entropy ("sk_test_abcdefghij1");
 * most real ones would be judged random anyway.
 */
static const struct key_prefix {
	const char *prefix;
	size_t min_rest;
} key_prefixes[] = {
	{ "sk_live_", 10 }, { "sk_test_", 10 }, { "pk_live_", 10 }, { "pk_test_", 10 },
	{ "rk_live_", 10 }, { "rk_test_", 10 }, { "whsec_", 10 },		/* Stripe */
	{ "ghp_", 20 }, { "gho_", 20 }, { "ghu_", 20 }, { "ghs_", 20 }, { "ghr_", 20 },
	{ "github_pat_", 20 },							/* GitHub */
	{ "glpat-", 16 }, { "gldt-", 16 }, { "glrt-", 16 },			/* GitLab */
	{ "xoxb-", 10 }, { "xoxp-", 10 }, { "xoxa-", 10 }, { "xoxr-", 10 },
	{ "xoxs-", 10 }, { "xoxe-", 10 }, { "xapp-", 10 },			/* Slack */
	{ "AIza", 20 }, { "ya29.", 20 }, { "GOCSPX-", 20 },			/* Google */
	{ "sk-", 20 },						/* OpenAI, Anthropic, ... */
	{ "SG.", 20 },								/* SendGrid */
	{ "npm_", 20 }, { "pypi-", 20 },
	{ "shpat_", 20 }, { "shpss_", 20 }, { "shpca_", 20 }, { "shppa_", 20 },	/* Shopify */
	{ "dop_v1_", 20 }, { "hf_", 20 }, { "glsa_", 20 }, { "lin_api_", 20 },
	{ "sq0atp-", 20 }, { "sq0csp-", 20 },					/* Square */
};

/* AWS access key ids: AKIA (or ASIA, ABIA, ACCA) and 16 of [A-Z0-9]. */
static bool is_aws_key_id(const unsigned char *s, size_t len)
{
	size_t i;

	if (len < 20 || (memcmp(s, "AKIA", 4) && memcmp(s, "ASIA", 4) && memcmp(s, "ABIA", 4) &&
			 memcmp(s, "ACCA", 4)))
		return false;
	for (i = 4; i < 20; i++)
		if (!is_upper(s[i]) && !is_digit(s[i]))
			return false;
	return len == 20 || !is_alnum(s[20]);
}

/*
 * A prefix at the start of a run (after a non-alphanumeric byte), then at
 * least min_rest key bytes of which one is a digit or a capital: a slug
 * that happens to start like a key ("sk-ski-guide-for-beginners") stays.
 */
static bool has_key_prefix(const unsigned char *s, size_t len)
{
	size_t i, j, k;

	for (i = 0; i < len; i++) {
		if (i && is_alnum(s[i - 1]))
			continue;
		if (is_aws_key_id(s + i, len - i))
			return true;
		for (k = 0; k < sizeof(key_prefixes) / sizeof(key_prefixes[0]); k++) {
			const struct key_prefix *p = &key_prefixes[k];
			size_t plen = strlen(p->prefix);
			bool mixed = false;

			if (len - i < plen || memcmp(s + i, p->prefix, plen))
				continue;
			for (j = i + plen; j < len && (is_base64url(s[j]) || s[j] == '.'); j++)
				mixed |= is_upper(s[j]) || is_digit(s[j]);
			if (j - i - plen >= p->min_rest && mixed)
				return true;
		}
	}
	return false;
}

/* Base64 with its padding: 8 or more characters, then '=' or "==" at the end. */
static bool is_padded_base64(const unsigned char *s, size_t len)
{
	size_t i, pad = 0;

	while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
		pad++;
	if (!pad || len - pad < 8)
		return false;
	for (i = 0; i < len - pad; i++)
		if (!is_base64url(s[i]) && s[i] != '+')
			return false;
	return true;
}

/* 8 or more hex digits with at least one decimal digit ("deadbeef" is a word). */
static bool is_hex_id(const unsigned char *s, size_t len)
{
	size_t i;
	bool digit = false;

	if (len < 8)
		return false;
	for (i = 0; i < len; i++) {
		if (hex_value(s[i]) < 0)
			return false;
		digit |= is_digit(s[i]);
	}
	return digit;
}

/*
 * Whether the letters and digits of s (other bytes skipped) look random.
 * Read as a programmer writes words: digit runs, lower-case runs,
 * Capitalised runs and ACRONYMs (XMLHttpRequest: XML, Http, Request).
 * Random text shows as
 * - letters and digits changing places three or more times (a1b2c3);
 * - two or more one-letter pieces (aZ3kP9: a, Z, k, P), where camelCase
 *   has words (getUserById: get, User, By, Id);
 * - letter pairs that are unusual in English (route_bigrams.h), averaged
 *   over the pieces: pairs across a skipped byte or a piece boundary are
 *   not counted, so words joined by '-' or in camelCase are judged as words.
 */
static bool looks_random(const unsigned char *s, size_t len)
{
	unsigned char c[ROUTE_SEGMENT_KEEP_MAX];
	bool gap[ROUTE_SEGMENT_KEEP_MAX];	/* a skipped byte before c[i] */
	size_t i, n = 0, flips = 0, pieces = 0, singles = 0, pairs = 0;
	unsigned int cost = 0;

	for (i = 0; i < len && n < sizeof(c); i++) {
		if (!is_alnum(s[i]))
			continue;
		gap[n] = i && !is_alnum(s[i - 1]);
		c[n++] = s[i];
	}
	if (n < ROUTE_SEGMENT_RANDOM_MIN)
		return false;
	for (i = 1; i < n; i++)
		flips += is_digit(c[i]) != is_digit(c[i - 1]);
	if (flips >= 3)
		return true;

	for (i = 0; i < n;) {
		size_t start = i, end, k;

		pieces++;
		if (is_digit(c[i])) {
			while (i < n && is_digit(c[i]))
				i++;
			continue;
		}
		if (is_upper(c[i])) {
			for (end = i; end < n && is_upper(c[end]); end++)
				;
			if (end < n && is_lower(c[end])) {
				if (end - i >= 2) {
					end--;	/* ACRONYMWord: the last capital starts the word */
				} else {
					while (end < n && is_lower(c[end]))
						end++;
				}
			}
		} else {
			for (end = i; end < n && is_lower(c[end]); end++)
				;
		}
		i = end;
		if (end - start == 1) {
			singles++;
			continue;
		}
		for (k = start + 1; k < end; k++) {
			if (gap[k])
				continue;
			cost += route_bigram_cost[(c[k - 1] | 0x20) - 'a'][(c[k] | 0x20) - 'a'];
			pairs++;
		}
	}
	if (singles >= 2 || (n >= RANDOM_SHORT_PIECES_MIN && pieces * 5 > n * 2))
		return true;
	if (pairs < RANDOM_MIN_PAIRS)
		return false;
	return cost > pairs * (pairs >= RANDOM_LONG_PAIRS ? RANDOM_COST_LONG : RANDOM_COST_SHORT);
}

bool route_segment__is_id(const char *seg, size_t len)
{
	unsigned char d[ROUTE_SEGMENT_KEEP_MAX];
	size_t i, n, runs = 0;
	bool base64 = true, mixed = false;

	if (!len)
		return false;
	if (len > ROUTE_SEGMENT_KEEP_MAX)
		return true;
	n = percent_decode(seg, len, d);
	if (is_binary(d, n) || is_number(d, n) || is_uuid(d, n) || has_address(d, n) ||
	    has_json_token(d, n) || has_key_prefix(d, n) || is_padded_base64(d, n))
		return true;
	for (i = 0; i < n;) {
		size_t start;

		base64 &= is_base64url(d[i]) || d[i] == '+' || d[i] == '/' || d[i] == '=';
		mixed |= is_upper(d[i]) || is_digit(d[i]);
		if (!is_alnum(d[i])) {
			i++;
			continue;
		}
		for (start = i; i < n && is_alnum(d[i]); i++)
			;
		if (is_hex_id(d + start, i - start) || looks_random(d + start, i - start))
			return true;
		runs++;
	}
	/*
	 * base64 and base64url split random text at '+', '/' (sent as %2F),
	 * '-' and '_' into runs too short to judge: judge them together, when
	 * there are capitals or digits as random base64 has (a slug of words
	 * and abbreviations has none).
	 */
	return runs > 1 && base64 && mixed && looks_random(d, n);
}
