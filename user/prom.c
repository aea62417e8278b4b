// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>

#include "prom.h"

static void write_escaped(FILE *out, const char *s, bool quote)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '"':
			/* HELP text keeps its quotes: the spec escapes them in label values only */
			fputs(quote ? "\\\"" : "\"", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

void prom__header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s ", name);
	write_escaped(out, help, false);
	fprintf(out, "\n# TYPE %s %s\n", name, type);
}

void prom__label_value(FILE *out, const char *s)
{
	fputc('"', out);
	write_escaped(out, s, true);
	fputc('"', out);
}

void prom__seconds(FILE *out, __u64 ns)
{
	char digits[24];
	int d, m, exp10, i;

	if (!ns) {
		fputc('0', out);
		return;
	}
	/*
	 * Decimal digits of ns shifted by nine places, never through a double:
	 * a double would print 0.3 s as 0.29999999999999999 at full precision,
	 * and le values must compare equal as strings across scrapes.
	 */
	d = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)ns);
	exp10 = d - 10;		/* value = 0.digits * 10^(exp10 + 1) */
	for (m = d; m > 1 && digits[m - 1] == '0'; m--)
		;
	digits[m] = '\0';

	if (exp10 < -4) {
		fputc(digits[0], out);
		if (m > 1)
			fprintf(out, ".%s", digits + 1);
		fprintf(out, "e-%02d", -exp10);
	} else if (exp10 < 0) {
		fputs("0.", out);
		for (i = 0; i < -exp10 - 1; i++)
			fputc('0', out);
		fputs(digits, out);
	} else {
		for (i = 0; i <= exp10; i++)
			fputc(i < m ? digits[i] : '0', out);
		if (m > exp10 + 1)
			fprintf(out, ".%s", digits + exp10 + 1);
	}
}
