// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * slotap-testd: a small HTTP/1.1 test server for slotap's integration tests.
 *
 * One thread per connection, blocking sockets. The syscalls used to read
 * requests and to write responses are selectable, so the tests can check
 * that the agent follows every one of them.
 *
 *   slotap-testd --port N [--io read|recv|readv|recvmsg]
 *                [--wio write|send|writev|sendmsg] [--split]
 *                [--ready-file PATH] [--access-log PATH]
 *
 * Paths are made of segments, in any order and combination:
 *   /delay/<N>ms    sleep N ms before responding
 *   /status/<code>  respond with that status (200..599, default 200)
 *   /size/<bytes>   body of that many bytes (default: a short text)
 *   /close          read the request, then close without responding
 *   /reset          read the request, then reset the connection (SO_LINGER
 *                   {1, 0} and close: an RST, no FIN) without responding
 * "/" alone answers 200; anything else answers 404. A query string is
 * ignored. Keep-alive (HTTP/1.1 default, "Connection: close" honoured,
 * HTTP/1.0 only with "Connection: keep-alive"), pipelining and request
 * bodies with Content-Length are supported; every response carries a
 * Content-Length. Malformed requests get a 400 and the connection is closed;
 * Transfer-Encoding gets a 501 and a close.
 *
 * --access-log appends "METHOD STATUS" for each response sent, the
 * server's own count of what it answered.
 *
 * Listens on 127.0.0.1 only. --port 0 picks a free port; the ready file
 * (written atomically once listening) holds the port number. SIGTERM or
 * SIGINT: exit 0.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE	16384		/* request head must fit in here */
#define WBUF_SIZE	65536		/* one write syscall at most */
#define MAX_HEADERS	100
#define MAX_DELAY_MS	600000ULL	/* 10 minutes */
#define MAX_BODY_SIZE	(1ULL << 30)	/* /size/<bytes> limit */
#define MAX_REQ_BODY	(1ULL << 40)	/* request Content-Length limit */
#define SPLIT_PAUSE_MS	2
#define THREAD_STACK	(256 * 1024)

enum io_mode { IO_READ, IO_RECV, IO_READV, IO_RECVMSG };
enum wio_mode { WIO_WRITE, WIO_SEND, WIO_WRITEV, WIO_SENDMSG };

static const char *const io_names[] = { "read", "recv", "readv", "recvmsg" };
static const char *const wio_names[] = { "write", "send", "writev", "sendmsg" };

static enum io_mode opt_io = IO_READ;
static enum wio_mode opt_wio = WIO_WRITE;
static bool opt_split;
static int opt_port = -1;
static const char *opt_ready_file;
static FILE *access_log;
static pthread_mutex_t access_log_lock = PTHREAD_MUTEX_INITIALIZER;

static volatile sig_atomic_t stop_requested;

/* body of /size/<bytes> responses: a repeating printable pattern */
static char fill[WBUF_SIZE];

struct conn {
	int fd;
	size_t len;		/* bytes of rbuf holding unprocessed input */
	char rbuf[RBUF_SIZE];
	char wbuf[WBUF_SIZE];
};

struct request {
	char method[40];	/* for the access log, truncated */
	bool head_method;	/* HEAD: no body in the response */
	bool keep_alive;
	bool close_path;	/* /close */
	bool reset_path;	/* /reset */
	int status;
	unsigned long long delay_ms;
	unsigned long long body_size;
	bool body_size_set;
	unsigned long long content_length;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("slotap-testd: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void sleep_ms(unsigned long long ms)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---------------------------------------------------------------- I/O -- */

static ssize_t io_read(struct conn *c, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	do {
		switch (opt_io) {
		case IO_RECV:
			n = recv(c->fd, buf, len, 0);
			break;
		case IO_READV:
			n = readv(c->fd, &iov, 1);
			break;
		case IO_RECVMSG:
			n = recvmsg(c->fd, &msg, 0);
			break;
		case IO_READ:
		default:
			n = read(c->fd, buf, len);
			break;
		}
	} while (n < 0 && errno == EINTR);
	return n;
}

/* One write syscall of the configured kind over iov[0..cnt). write and send
 * take a single buffer: callers hand them one iovec at a time. */
static ssize_t io_write_once(struct conn *c, struct iovec *iov, int cnt)
{
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
	ssize_t n;

	do {
		switch (opt_wio) {
		case WIO_SEND:
			n = send(c->fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
			break;
		case WIO_WRITEV:
			n = writev(c->fd, iov, cnt);
			break;
		case WIO_SENDMSG:
			n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
			break;
		case WIO_WRITE:
		default:
			n = write(c->fd, iov[0].iov_base, iov[0].iov_len);
			break;
		}
	} while (n < 0 && errno == EINTR);
	return n;
}

/*
 * Writes all of iov[0..cnt) (at most 2 entries). For write/send the pieces
 * are first copied into one buffer when they fit, so a small response still
 * leaves in a single syscall. Returns 0, or -1 when the peer went away.
 */
static int io_write_all(struct conn *c, const struct iovec *in, int cnt)
{
	struct iovec iov[2];
	size_t total = 0;
	int i, first = 0;

	for (i = 0; i < cnt; i++) {
		iov[i] = in[i];
		total += in[i].iov_len;
	}
	if ((opt_wio == WIO_WRITE || opt_wio == WIO_SEND) && cnt > 1) {
		if (total <= sizeof(c->wbuf)) {
			size_t off = 0;

			for (i = 0; i < cnt; i++) {
				memcpy(c->wbuf + off, in[i].iov_base, in[i].iov_len);
				off += in[i].iov_len;
			}
			iov[0].iov_base = c->wbuf;
			iov[0].iov_len = total;
			cnt = 1;
		}
	}

	while (first < cnt) {
		ssize_t n;

		if (iov[first].iov_len == 0) {
			first++;
			continue;
		}
		n = io_write_once(c, &iov[first], cnt - first);
		if (n <= 0)
			return -1;
		while (n > 0 && first < cnt) {
			if ((size_t)n >= iov[first].iov_len) {
				n -= (ssize_t)iov[first].iov_len;
				iov[first].iov_len = 0;
				first++;
			} else {
				iov[first].iov_base = (char *)iov[first].iov_base + n;
				iov[first].iov_len -= (size_t)n;
				n = 0;
			}
		}
	}
	return 0;
}

/* ----------------------------------------------------------- response -- */

static const char *reason_phrase(int code)
{
	switch (code) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 418: return "I'm a teapot";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default:  return "Status";
	}
}

/*
 * Sends one response. text is the body unless body_size_set, in which case
 * the body is body_size bytes of the fill pattern. HEAD, 204 and 304 get no
 * body (but the Content-Length of the body a GET would have had, 0 for 204
 * and 304).
 */
static int send_response(struct conn *c, int status, bool head_method,
			 bool keep_alive, bool body_size_set,
			 unsigned long long body_size, const char *text)
{
	char head[512];
	int status_len, head_len;
	unsigned long long clen, sent = 0;
	bool no_body = head_method || status == 204 || status == 304;
	const char *body;
	struct iovec iov[2];

	if (status == 204 || status == 304)
		clen = 0;
	else if (body_size_set)
		clen = body_size;
	else
		clen = strlen(text);

	status_len = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n",
			      status, reason_phrase(status));
	head_len = status_len + snprintf(head + status_len,
			sizeof(head) - (size_t)status_len,
			"Server: slotap-testd\r\n"
			"Content-Type: text/plain\r\n"
			"Content-Length: %llu\r\n"
			"Connection: %s\r\n"
			"\r\n",
			clen, keep_alive ? "keep-alive" : "close");
	if (no_body)
		clen = 0;
	body = body_size_set ? fill : text;

	if (opt_split) {
		iov[0] = (struct iovec){ head, (size_t)status_len };
		if (io_write_all(c, iov, 1) < 0)
			return -1;
		sleep_ms(SPLIT_PAUSE_MS);
		iov[0] = (struct iovec){ head + status_len,
					 (size_t)(head_len - status_len) };
		if (io_write_all(c, iov, 1) < 0)
			return -1;
		if (clen)
			sleep_ms(SPLIT_PAUSE_MS);
	} else {
		size_t first = clen < sizeof(c->wbuf) - (size_t)head_len ?
			(size_t)clen : sizeof(c->wbuf) - (size_t)head_len;

		iov[0] = (struct iovec){ head, (size_t)head_len };
		iov[1] = (struct iovec){ (void *)body, first };
		if (io_write_all(c, iov, first ? 2 : 1) < 0)
			return -1;
		sent = first;
	}
	while (sent < clen) {
		size_t chunk = clen - sent < sizeof(fill) ?
			(size_t)(clen - sent) : sizeof(fill);

		/* text bodies are short: they always fit in the first chunk */
		iov[0] = (struct iovec){ (void *)(body_size_set ? fill : text + sent),
					 chunk };
		if (io_write_all(c, iov, 1) < 0)
			return -1;
		sent += chunk;
	}
	return 0;
}

/*
 * Ends our side of the connection, then reads and drops what the client
 * still sends (bounded, 2 s at most), so the close does not turn into a
 * reset that could destroy the response before the client has read it.
 */
static void linger_close(struct conn *c)
{
	struct timeval tv = { .tv_sec = 2 };
	size_t drained = 0;
	ssize_t n;

	shutdown(c->fd, SHUT_WR);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (drained < (1u << 20) &&
	       (n = io_read(c, c->rbuf, sizeof(c->rbuf))) > 0)
		drained += (size_t)n;
}

static void send_error_and_close(struct conn *c, int status, const char *text)
{
	if (send_response(c, status, false, false, false, 0, text) == 0)
		linger_close(c);
}

/* ------------------------------------------------------------ parsing -- */

static bool parse_ull(const char *s, size_t len, unsigned long long max,
		      unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (ULLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* Fills status/delay/size/close/reset from the path. Returns false for 404. */
static bool parse_path(const char *p, size_t len, struct request *r)
{
	const char *seg[64];
	size_t seglen[64];
	size_t n = 0, i = 0;

	if (len == 0 || p[0] != '/')
		return false;
	/* split on '/', skipping the leading one; "/" has no segments */
	while (i < len) {
		size_t start;

		i++;			/* the '/' */
		start = i;
		while (i < len && p[i] != '/')
			i++;
		if (i == start) {
			/* empty segment: only a trailing one is allowed */
			if (i == len && n > 0)
				break;
			if (len == 1)
				break;
			return false;
		}
		if (n == 64)
			return false;
		seg[n] = p + start;
		seglen[n] = i - start;
		n++;
	}

	for (i = 0; i < n; i++) {
		unsigned long long v;

#define SEG_IS(k) (seglen[i] == sizeof(k) - 1 && !memcmp(seg[i], k, sizeof(k) - 1))
		if (SEG_IS("close")) {
			r->close_path = true;
		} else if (SEG_IS("reset")) {
			r->reset_path = true;
		} else if (SEG_IS("delay") && i + 1 < n) {
			i++;
			if (seglen[i] < 3 || memcmp(seg[i] + seglen[i] - 2, "ms", 2) ||
			    !parse_ull(seg[i], seglen[i] - 2, MAX_DELAY_MS, &v))
				return false;
			r->delay_ms = v;
		} else if (SEG_IS("status") && i + 1 < n) {
			i++;
			if (seglen[i] != 3 || !parse_ull(seg[i], 3, 599, &v) || v < 200)
				return false;
			r->status = (int)v;
		} else if (SEG_IS("size") && i + 1 < n) {
			i++;
			if (!parse_ull(seg[i], seglen[i], MAX_BODY_SIZE, &v))
				return false;
			r->body_size = v;
			r->body_size_set = true;
		} else {
			return false;
		}
#undef SEG_IS
	}
	return true;
}

static bool is_tchar(char ch)
{
	return isalnum((unsigned char)ch) || strchr("!#$%&'*+-.^_`|~", ch);
}

/* case-insensitive: does the comma-separated list v contain token tok? */
static bool has_token(const char *v, size_t len, const char *tok)
{
	size_t tl = strlen(tok), i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && !strncasecmp(v + s, tok, tl))
			return true;
	}
	return false;
}

enum parse_result { PARSE_OK, PARSE_MORE, PARSE_BAD, PARSE_TE };

/*
 * Parses one request head at c->rbuf[0..c->len). On PARSE_OK, *head_len is
 * the length of the head (request line, headers and the empty line).
 * Leading empty lines are skipped (RFC 9112 2.2). Lines may end in CRLF or
 * a bare LF.
 */
static enum parse_result parse_head(struct conn *c, struct request *r,
				    size_t *head_len, bool *path_ok)
{
	const char *buf = c->rbuf, *end = c->rbuf + c->len;
	const char *line = buf, *nl, *eol;
	const char *sp1, *sp2, *target;
	size_t target_len, qlen;
	int minor, nheaders = 0;
	bool cl_seen = false, conn_close = false, conn_ka = false, te = false;

	/* leading empty lines */
	for (;;) {
		if (line < end && *line == '\n') {
			line++;
		} else if (end - line >= 2 && line[0] == '\r' && line[1] == '\n') {
			line += 2;
		} else if (end - line == 1 && line[0] == '\r') {
			return PARSE_MORE;
		} else {
			break;
		}
		if (line - buf > 64)
			return PARSE_BAD;
	}

	/* the whole head must be there before anything is interpreted */
	nl = line;
	for (;;) {
		const char *p = memchr(nl, '\n', (size_t)(end - nl));

		if (!p)
			return c->len >= sizeof(c->rbuf) ? PARSE_BAD : PARSE_MORE;
		if (p == nl || (p == nl + 1 && nl[0] == '\r') ) {
			if (nl == line)		/* impossible: empty lines skipped */
				return PARSE_BAD;
			*head_len = (size_t)(p + 1 - buf);
			break;
		}
		nl = p + 1;
	}

	/* request line: METHOD SP target SP HTTP/1.x */
	nl = memchr(line, '\n', (size_t)(end - line));
	eol = nl > line && nl[-1] == '\r' ? nl - 1 : nl;
	sp1 = memchr(line, ' ', (size_t)(eol - line));
	if (!sp1 || sp1 == line)
		return PARSE_BAD;
	for (const char *q = line; q < sp1; q++)
		if (!is_tchar(*q))
			return PARSE_BAD;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', (size_t)(eol - target));
	if (!sp2 || sp2 == target)
		return PARSE_BAD;
	target_len = (size_t)(sp2 - target);
	for (size_t k = 0; k < target_len; k++)
		if ((unsigned char)target[k] <= ' ' || target[k] == 0x7f)
			return PARSE_BAD;
	if (eol - (sp2 + 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return PARSE_BAD;
	if (target[0] != '/')
		return PARSE_BAD;
	minor = sp2[8] - '0';
	r->head_method = (sp1 - line == 4 && !memcmp(line, "HEAD", 4));
	snprintf(r->method, sizeof(r->method), "%.*s", (int)(sp1 - line), line);

	/* headers */
	line = nl + 1;
	for (;;) {
		const char *colon, *v, *ve;
		size_t name_len;

		nl = memchr(line, '\n', (size_t)(end - line));
		eol = nl > line && nl[-1] == '\r' ? nl - 1 : nl;
		if (eol == line)
			break;
		if (++nheaders > MAX_HEADERS)
			return PARSE_BAD;
		if (*line == ' ' || *line == '\t')	/* obs-fold */
			return PARSE_BAD;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon || colon == line)
			return PARSE_BAD;
		name_len = (size_t)(colon - line);
		for (const char *q = line; q < colon; q++)
			if (!is_tchar(*q))
				return PARSE_BAD;
		v = colon + 1;
		ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (const char *q = v; q < ve; q++)
			if (*q == '\0' || *q == '\r' || *q == '\n')
				return PARSE_BAD;

		if (name_len == 14 && !strncasecmp(line, "Content-Length", 14)) {
			unsigned long long cl;

			if (!parse_ull(v, (size_t)(ve - v), MAX_REQ_BODY, &cl))
				return PARSE_BAD;
			if (cl_seen && cl != r->content_length)
				return PARSE_BAD;
			cl_seen = true;
			r->content_length = cl;
		} else if (name_len == 10 && !strncasecmp(line, "Connection", 10)) {
			if (has_token(v, (size_t)(ve - v), "close"))
				conn_close = true;
			if (has_token(v, (size_t)(ve - v), "keep-alive"))
				conn_ka = true;
		} else if (name_len == 17 &&
			   !strncasecmp(line, "Transfer-Encoding", 17)) {
			te = true;
		}
		line = nl + 1;
	}
	if (te)
		return PARSE_TE;

	r->keep_alive = minor == 1 ? !conn_close : (conn_ka && !conn_close);

	qlen = 0;
	while (qlen < target_len && target[qlen] != '?' && target[qlen] != '#')
		qlen++;
	*path_ok = parse_path(target, qlen, r);
	return PARSE_OK;
}

/* ------------------------------------------------------- connections -- */

/* Drops the first n bytes of the input buffer. */
static void consume(struct conn *c, size_t n)
{
	memmove(c->rbuf, c->rbuf + n, c->len - n);
	c->len -= n;
}

/* Reads and discards the request body: remaining bytes are still to come
 * after what the buffer holds. Returns -1 if the peer went away first. */
static int skip_body(struct conn *c, unsigned long long remaining)
{
	size_t have = c->len < remaining ? c->len : (size_t)remaining;

	consume(c, have);
	remaining -= have;
	while (remaining > 0) {
		size_t want = remaining < sizeof(c->rbuf) ?
			(size_t)remaining : sizeof(c->rbuf);
		ssize_t n = io_read(c, c->rbuf, want);

		if (n <= 0)
			return -1;
		remaining -= (unsigned long long)n;
	}
	return 0;
}

static void serve(struct conn *c)
{
	for (;;) {
		struct request r = { .status = 200 };
		enum parse_result pr;
		size_t head_len = 0;
		bool path_ok = false;
		int status;
		const char *text;

		pr = c->len ? parse_head(c, &r, &head_len, &path_ok) : PARSE_MORE;
		if (pr == PARSE_MORE) {
			ssize_t n;

			if (c->len == sizeof(c->rbuf)) {
				send_error_and_close(c, 400, "request head too large\n");
				return;
			}
			n = io_read(c, c->rbuf + c->len, sizeof(c->rbuf) - c->len);
			if (n <= 0)
				return;
			c->len += (size_t)n;
			continue;
		}
		if (pr == PARSE_BAD) {
			send_error_and_close(c, 400, "bad request\n");
			return;
		}
		if (pr == PARSE_TE) {
			send_error_and_close(c, 501, "transfer-encoding not supported\n");
			return;
		}

		consume(c, head_len);
		if (skip_body(c, r.content_length) < 0)
			return;

		if (path_ok && r.reset_path) {
			/* a zero linger makes the close in conn_thread send an RST */
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			return;
		}
		if (path_ok && r.close_path)
			return;		/* no response at all */
		if (path_ok && r.delay_ms)
			sleep_ms(r.delay_ms);

		if (!path_ok) {
			status = 404;
			text = "not found\n";
			r.body_size_set = false;
		} else {
			status = r.status;
			text = status == 200 ? "hello from slotap-testd\n" : "status\n";
		}
		if (send_response(c, status, r.head_method, r.keep_alive,
				  r.body_size_set, r.body_size, text) < 0)
			return;
		if (access_log) {
			pthread_mutex_lock(&access_log_lock);
			fprintf(access_log, "%s %d\n", r.method, status);
			fflush(access_log);
			pthread_mutex_unlock(&access_log_lock);
		}
		if (!r.keep_alive) {
			linger_close(c);
			return;
		}
	}
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;

	serve(c);
	close(c->fd);
	free(c);
	return NULL;
}

/* --------------------------------------------------------------- main -- */

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: slotap-testd --port N [--io read|recv|readv|recvmsg]\n"
		"                    [--wio write|send|writev|sendmsg] [--split]\n"
		"                    [--ready-file PATH] [--access-log PATH]\n"
		"paths: /delay/<N>ms /status/<code> /size/<bytes> /close /reset, combined\n");
}

static int lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static void write_ready_file(int port)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", opt_ready_file) >= (int)sizeof(tmp))
		die("ready file path too long");
	f = fopen(tmp, "w");
	if (!f)
		die("%s: %s", tmp, strerror(errno));
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, opt_ready_file) != 0)
		die("%s: %s", opt_ready_file, strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "io", required_argument, NULL, 'i' },
		{ "wio", required_argument, NULL, 'w' },
		{ "split", no_argument, NULL, 's' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "access-log", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t alen = sizeof(addr);
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, orig;
	pthread_attr_t attr;
	int opt, lfd, one = 1, v;
	char *endp;
	long port;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			errno = 0;
			port = strtol(optarg, &endp, 10);
			if (errno || *endp || endp == optarg || port < 0 || port > 65535) {
				fprintf(stderr, "slotap-testd: bad --port '%s'\n", optarg);
				return 2;
			}
			opt_port = (int)port;
			break;
		case 'i':
			v = lookup(io_names, 4, optarg);
			if (v < 0) {
				fprintf(stderr, "slotap-testd: bad --io '%s'\n", optarg);
				return 2;
			}
			opt_io = (enum io_mode)v;
			break;
		case 'w':
			v = lookup(wio_names, 4, optarg);
			if (v < 0) {
				fprintf(stderr, "slotap-testd: bad --wio '%s'\n", optarg);
				return 2;
			}
			opt_wio = (enum wio_mode)v;
			break;
		case 's':
			opt_split = true;
			break;
		case 'r':
			opt_ready_file = optarg;
			break;
		case 'a':
			access_log = fopen(optarg, "a");
			if (!access_log) {
				fprintf(stderr, "slotap-testd: %s: %s\n", optarg, strerror(errno));
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || opt_port < 0) {
		usage(stderr);
		return 2;
	}

	for (size_t i = 0; i < sizeof(fill); i++)
		fill[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
	fill[sizeof(fill) - 1] = '\n';

	/* Signals are blocked everywhere except inside the accept loop's
	 * ppoll, so connection threads never see EINTR from them. */
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &orig);
	sigdelset(&orig, SIGTERM);
	sigdelset(&orig, SIGINT);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((uint16_t)opt_port);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("bind 127.0.0.1:%d: %s", opt_port, strerror(errno));
	if (listen(lfd, 4096) < 0)
		die("listen: %s", strerror(errno));
	if (getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0)
		die("getsockname: %s", strerror(errno));

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, THREAD_STACK);

	if (opt_ready_file)
		write_ready_file(ntohs(addr.sin_port));
	fprintf(stderr, "slotap-testd: listening on 127.0.0.1:%d (io=%s wio=%s%s)\n",
		ntohs(addr.sin_port), io_names[opt_io], wio_names[opt_wio],
		opt_split ? " split" : "");

	while (!stop_requested) {
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };
		struct conn *c;
		pthread_t tid;
		int fd, err;

		if (ppoll(&pfd, 1, NULL, &orig) < 0) {
			if (errno == EINTR)
				continue;
			die("ppoll: %s", strerror(errno));
		}
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				fprintf(stderr, "slotap-testd: accept: %s\n", strerror(errno));
				sleep_ms(10);
				continue;
			}
			die("accept: %s", strerror(errno));
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		err = pthread_create(&tid, &attr, conn_thread, c);
		if (err) {
			fprintf(stderr, "slotap-testd: pthread_create: %s\n", strerror(err));
			close(fd);
			free(c);
		}
	}

	close(lfd);
	if (opt_ready_file)
		unlink(opt_ready_file);
	fprintf(stderr, "slotap-testd: exiting\n");
	return 0;
}
