/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What tests/bpf/parser_test.bpf.c shares with the programs that drive it:
 * the connection as its .bss shows it after each call.
 */
#ifndef SLOTAP_PARSER_TEST_H
#define SLOTAP_PARSER_TEST_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* slotap_test_feed's dir values besides DIR_REQUEST (0) and DIR_RESPONSE (1) */
#define TEST_RESET	2	/* start a fresh HTTP/1 connection */
#define TEST_RESET_NEW	3	/* start a fresh connection, its protocol not told yet */
#define TEST_CLOSE	4	/* the connection ends: an orderly close */
#define TEST_ABORT	5	/* the connection ends: a reset */
#define TEST_RESET_REDIS 6	/* start a fresh Redis connection */
/*
 * Or'ed with DIR_REQUEST or DIR_RESPONSE: a readv or writev, ubuf its
 * iovec array of TEST_VEC_COUNT(dir) entries, len the bytes it moved.
 */
#define TEST_VEC	0x100
#define TEST_VEC_DIR(n)	(TEST_VEC | (__u64)(n) << 16)
#define TEST_VEC_COUNT(dir)	((dir) >> 16)

/*
 * The connection after each call (tests/fuzz/fuzz_http_parser.c): its
 * requests (started; done with) and parser states, read through the
 * skeleton's mapped .bss without a syscall.
 */
struct test_conn_view {
	__u32 req_seq;
	__u32 resp_seq;
	__u8 state;		/* enum conn_state */
	__u8 proto;		/* enum slotap_protocol */
	__u8 req_state;		/* enum parse_state; Redis: enum resp_state */
	__u8 resp_state;
	__u8 pipelined;
	__u8 responses_given_up;
	__u8 undecided;		/* client reads no module took yet (HTTP/2 mid-stream) */
	__u8 __pad;
};

#endif /* SLOTAP_PARSER_TEST_H */
