/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * gRPC's status codes and the rules that turn what HTTP/2 shows of a call
 * into one (docs/design-http2.md, section 7): the code's names, the
 * grpc-status and grpc-timeout values as sent, gRPC's own mapping of HTTP
 * statuses (a proxy's 503 with no grpc-status) and of RST_STREAM error
 * codes, and when a cancelled call is a deadline exceeded. Pure functions.
 */
#ifndef SLOTAP_GRPC_H
#define SLOTAP_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* grpc/grpc doc/statuscodes.md */
enum grpc_code {
	GRPC_OK = 0,
	GRPC_CANCELLED,
	GRPC_UNKNOWN,
	GRPC_INVALID_ARGUMENT,
	GRPC_DEADLINE_EXCEEDED,
	GRPC_NOT_FOUND,
	GRPC_ALREADY_EXISTS,
	GRPC_PERMISSION_DENIED,
	GRPC_RESOURCE_EXHAUSTED,
	GRPC_FAILED_PRECONDITION,
	GRPC_ABORTED,
	GRPC_OUT_OF_RANGE,
	GRPC_UNIMPLEMENTED,
	GRPC_INTERNAL,
	GRPC_UNAVAILABLE,
	GRPC_DATA_LOSS,
	GRPC_UNAUTHENTICATED,
	GRPC_CODE_MAX,
};

/* A set of codes: bit c for code c. */
#define GRPC_CODE_BIT(c)	(1u << (c))
/* bad_grpc_codes when an availability SLO does not say: 2, 4, 12, 13, 14, 15 */
#define GRPC_BAD_CODES_DEFAULT						\
	(GRPC_CODE_BIT(GRPC_UNKNOWN) | GRPC_CODE_BIT(GRPC_DEADLINE_EXCEEDED) |	\
	 GRPC_CODE_BIT(GRPC_UNIMPLEMENTED) | GRPC_CODE_BIT(GRPC_INTERNAL) |	\
	 GRPC_CODE_BIT(GRPC_UNAVAILABLE) | GRPC_CODE_BIT(GRPC_DATA_LOSS))

/* "OK", "DEADLINE_EXCEEDED", ...; NULL beyond GRPC_CODE_MAX. */
const char *grpc_code__name(unsigned int code);
/*
 * A code as a config writes it: its name (any case: "unavailable") or its
 * number, 0..16 ("14"). The code, or -EINVAL.
 */
int grpc_code__parse(const char *s);
/*
 * A grpc-status header's value as sent (len bytes, not NUL-terminated): 1
 * to 3 decimal digits. The code 0..16, or -EINVAL for anything else (a
 * number gRPC does not define included: the status is invalid).
 */
int grpc_status__parse(const char *v, size_t len);
/*
 * The code of a response that ended without grpc-status (a proxy or a
 * server that is no gRPC one answered): gRPC's doc/http-grpc-status-mapping.md.
 */
enum grpc_code grpc_code__from_http(unsigned int http_status);
/*
 * The code of a call the server reset (RST_STREAM before its response
 * ended), from the HTTP/2 error code: doc/PROTOCOL-HTTP2.md.
 */
enum grpc_code grpc_code__from_rst(__u32 h2_error);
/*
 * grpc-timeout's value as sent ("1*8DIGIT unit", unit H M S m u n), in
 * nanoseconds, saturated at ~584 years. 0, or -EINVAL (*ns untouched).
 */
int grpc_timeout__parse(const char *v, size_t len, __u64 *ns);
/*
 * A call the client cancelled elapsed_ns after it started, which had a
 * grpc-timeout of timeout_ns (0: none): its deadline passed (at least 99 %
 * of it: the client's clock started before the server saw the call), so
 * DEADLINE_EXCEEDED, else CANCELLED.
 */
enum grpc_code grpc_code__client_cancel(__u64 elapsed_ns, __u64 timeout_ns);
/*
 * Which status class an availability view gives a code: OK, a server
 * error (the codes GRPC_BAD_CODES_DEFAULT names: dependency blame reads
 * it), else a client error.
 */
__u8 grpc_code__status_class(unsigned int code);

#endif /* SLOTAP_GRPC_H */
