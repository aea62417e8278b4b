/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/1's per-connection parser state, a member of struct conn
 * (state.bpf.h); its code is http1.bpf.h. Uses nothing.
 */
#ifndef SLOTAP_HTTP1_STATE_BPF_H
#define SLOTAP_HTTP1_STATE_BPF_H

/* Parser states; the same machine parses both directions. */
enum parse_state {
	P_IDLE = 0,		/* at the start of a message */
	P_METHOD,		/* request: method token */
	P_PATH,			/* request: target, copied up to HTTP_PATH_MAX */
	P_QUERY,		/* request: query string, skipped */
	P_VERSION,		/* response: "HTTP/1.x " */
	P_STATUS,		/* response: three digits */
	P_LINE,			/* rest of the start line */
	P_HSTART,		/* start of a header line */
	P_HNAME,		/* header name, matched against the two we need */
	P_CLEN,			/* Content-Length value */
	P_TENC,			/* Transfer-Encoding value */
	P_HSKIP,		/* rest of an uninteresting header line */
	P_HEND,			/* saw "\r" on an empty line */
	P_BODY,			/* body or chunk of known length: parser.left bytes to go */
	P_UNKNOWN,		/* not followed: a lone response's rest, or framing lost */
	P_CHUNK_SIZE,		/* chunked: the hex size of the next chunk */
	P_CHUNK_EXT,		/* chunked: the rest of a chunk-size line */
	P_CHUNK_END,		/* chunked: the CRLF after a chunk's data */
	/* from here on, nothing is parsed: */
	P_UNTIL_CLOSE,		/* response: a body delimited by the connection's close */
	P_LOST,			/* framing lost with requests in flight: handle_io() gives up */
	P_GIVEN_UP,		/* response: given up; each request is lost as it comes */
};

/* The stream is not parsed any more (for now, or for good). */
static __always_inline bool parser_stopped(__u8 state)
{
	return state >= P_UNTIL_CLOSE;
}

/* parser.flags */
#define PF_CLEN		0x01	/* saw Content-Length */
#define PF_CHUNKED	0x02	/* saw Transfer-Encoding: chunked */
#define PF_TRAILERS	0x04	/* chunked: in the trailer section after the last chunk */
#define PF_EMIT_DUE	0x10	/* response: status parsed, event not yet sent */

struct parser {
	__u64 left;		/* P_BODY: body bytes still to come */
	__u64 clen;		/* Content-Length being parsed */
	__u64 head_bytes;	/* bytes of the current head so far */
	__u64 token;		/* method or version bytes, header name or value hash */
	__u16 status;
	__u8 state;		/* enum parse_state */
	__u8 flags;
	__u8 pos;		/* position in the current token or header name */
	/*
	 * Response: the method of the request it answers (a reply to HEAD has
	 * no body), read when its status is parsed. Its own field: the header
	 * scan and the pairing share nothing.
	 */
	__u8 req_method;
	__u8 __pad[2];
};

#endif /* SLOTAP_HTTP1_STATE_BPF_H */
