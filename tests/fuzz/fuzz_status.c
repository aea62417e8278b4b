// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fuzz target: `slotap status`'s reading of a /metrics reply
 * (status__render), which any process that took the agent's port could
 * have written. Byte 0, bit 0: JSON rather than the tables; the rest is
 * the reply.
 *
 * Checked: it renders (0); the tables are text for a terminal, no control
 * byte but their own newlines; the JSON parses, with the documented
 * arrays at its top, every number finite.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "fuzz.h"
#include "status.h"

const char fuzz_target_name[] = "status";

/* Numbers are finite (JSON has no NaN): cJSON would have written null. */
static void check_numbers(const cJSON *item)
{
	for (const cJSON *c = item->child; c; c = c->next) {
		if (cJSON_IsNumber(c))
			FUZZ_CHECK(c->valuedouble == c->valuedouble, "NaN in the JSON");
		check_numbers(c);
	}
}

static void check_json(const char *out, size_t len)
{
	static const char *const arrays[] = { "slos", "least_available", "slowest" };
	cJSON *root = cJSON_ParseWithLength(out, len);

	FUZZ_CHECK(root && cJSON_IsObject(root), "not a JSON object: %.200s", out);
	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
		FUZZ_CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, arrays[i])),
			   "no array %s", arrays[i]);
	check_numbers(root);
	cJSON_Delete(root);
}

static void check_tables(const char *out, size_t len)
{
	FUZZ_CHECK(len && out[len - 1] == '\n', "tables do not end a line");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = out[i];

		FUZZ_CHECK(c == '\n' || (c >= 0x20 && c != 0x7f),
			   "control byte 0x%02x at %zu of the tables: \"%.*s\"", c, i,
			   (int)(len - i < 80 ? len - i : 80), out + i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t len = 0;
	bool json;
	FILE *f;
	int ret;

	if (!size)
		return 0;
	json = data[0] & 1;
	f = open_memstream(&out, &len);
	FUZZ_CHECK(f, "open_memstream");
	ret = status__render((const char *)data + 1, size - 1, json, f);
	FUZZ_CHECK(!fclose(f), "fclose");
	FUZZ_CHECK(!ret, "status__render: %d", ret);
	if (json)
		check_json(out, len);
	else
		check_tables(out, len);
	free(out);
	return 0;
}
