// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "grpc.h"
#include "http_server.h"

static const char *const code_names[GRPC_CODE_MAX] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
};

/* RFC 9113 section 7 */
enum {
	H2_REFUSED_STREAM = 0x7,
	H2_CANCEL = 0x8,
	H2_ENHANCE_YOUR_CALM = 0xb,
	H2_INADEQUATE_SECURITY = 0xc,
};

const char *grpc_code__name(unsigned int code)
{
	return code < GRPC_CODE_MAX ? code_names[code] : NULL;
}

static int parse_digits(const char *v, size_t len, size_t max_digits, __u64 *out)
{
	__u64 n = 0;

	if (!len || len > max_digits)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		n = n * 10 + (v[i] - '0');
	}
	*out = n;
	return 0;
}

int grpc_code__parse(const char *s)
{
	__u64 n;

	for (unsigned int c = 0; c < GRPC_CODE_MAX; c++)
		if (!strcasecmp(s, code_names[c]))
			return c;
	if (parse_digits(s, strlen(s), 2, &n) || n >= GRPC_CODE_MAX)
		return -EINVAL;
	return n;
}

int grpc_status__parse(const char *v, size_t len)
{
	__u64 n;

	if (parse_digits(v, len, 3, &n) || n >= GRPC_CODE_MAX)
		return -EINVAL;
	return n;
}

enum grpc_code grpc_code__from_http(unsigned int http_status)
{
	switch (http_status) {
	case 400:
	case 431:
		return GRPC_INTERNAL;
	case 401:
		return GRPC_UNAUTHENTICATED;
	case 403:
		return GRPC_PERMISSION_DENIED;
	case 404:
		return GRPC_UNIMPLEMENTED;
	case 429:
	case 502:
	case 503:
	case 504:
		return GRPC_UNAVAILABLE;
	}
	return GRPC_UNKNOWN;
}

enum grpc_code grpc_code__from_rst(__u32 h2_error)
{
	switch (h2_error) {
	case H2_REFUSED_STREAM:
		return GRPC_UNAVAILABLE;
	case H2_CANCEL:
		return GRPC_CANCELLED;
	case H2_ENHANCE_YOUR_CALM:
		return GRPC_RESOURCE_EXHAUSTED;
	case H2_INADEQUATE_SECURITY:
		return GRPC_PERMISSION_DENIED;
	}
	return GRPC_INTERNAL;
}

int grpc_timeout__parse(const char *v, size_t len, __u64 *ns)
{
	static const struct { char unit; __u64 ns; } units[] = {
		{ 'H', 3600000000000ull }, { 'M', 60000000000ull }, { 'S', 1000000000ull },
		{ 'm', 1000000ull }, { 'u', 1000ull }, { 'n', 1ull },
	};
	__u64 n;

	if (len < 2 || parse_digits(v, len - 1, 8, &n))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].unit != v[len - 1])
			continue;
		/* 99999999H is 3.6e20 ns, beyond 2^64 */
		*ns = n > ~0ull / units[i].ns ? ~0ull : n * units[i].ns;
		return 0;
	}
	return -EINVAL;
}

enum grpc_code grpc_code__client_cancel(__u64 elapsed_ns, __u64 timeout_ns)
{
	/* elapsed >= 99 % of the timeout, without overflow: elapsed / 99 >= timeout / 100 */
	if (timeout_ns && (unsigned __int128)elapsed_ns * 100 >= (unsigned __int128)timeout_ns * 99)
		return GRPC_DEADLINE_EXCEEDED;
	return GRPC_CANCELLED;
}

__u8 grpc_code__status_class(unsigned int code)
{
	if (code == GRPC_OK)
		return STATUS_CLASS_OK;
	if (code >= GRPC_CODE_MAX)
		return STATUS_CLASS_INVALID;
	return GRPC_BAD_CODES_DEFAULT & GRPC_CODE_BIT(code) ? STATUS_CLASS_SERVER_ERROR
							     : STATUS_CLASS_CLIENT_ERROR;
}
