// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * slotap-client: a small HTTP/1.1 client for slotap's integration tests, the
 * outbound side (its process name, "slotap-client", fits the 15 bytes of a
 * kernel comm, so a config can match it with `match: {process: slotap-client}`).
 *
 *   slotap-client --port N [--host ADDR] [--conns N] [--repeat N]
 *                 [--method M] [--timeout-ms MS] PATH...
 *
 * Sends the PATHs in order, the whole list --repeat times, one request at a
 * time: request k goes over keep-alive connection k % --conns. A connection
 * is opened when a request needs it, so at most --conns are open at once;
 * one the server closed (or that failed) is reopened by its next request.
 * A request whose connect fails is not sent.
 *
 * It prints one JSON object on stdout, exactly what it observed:
 *   requests          requests planned (paths x repeat)
 *   responses         {"status": count} of complete responses
 *   by_path           {"path": {"status": count}}
 *   no_response       requests sent that got no complete response:
 *                     reset (ECONNRESET), closed (EOF), timeout (no answer
 *                     within --timeout-ms), bad_response (not HTTP/1.x),
 *                     error (any other socket error)
 *   connects          connections established
 *   connect_failures  {"ERRNO_NAME": count} of failed connects (ECONNREFUSED,
 *                     ETIMEDOUT after --timeout-ms, ...); those requests
 *                     were not sent
 *
 * Responses are framed by Content-Length, chunked encoding, or the close;
 * 1xx interim responses are skipped. Exit status: 0 when the plan ran
 * (whatever the server did), 2 on bad arguments, 1 on a local error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BUF_SIZE	65536		/* a response head must fit in here */
#define MAX_CONNS	1000
#define MAX_REPEAT	1000000UL
#define MAX_TIMEOUT_MS	600000UL
#define MAX_PATH_LEN	2048
#define MAX_ERRNO	4096		/* connect failures are counted per errno */
#define STATUS_MAX	600

enum outcome {
	OUT_RESPONSE,
	OUT_RESET,
	OUT_CLOSED,
	OUT_TIMEOUT,
	OUT_BAD_RESPONSE,
	OUT_ERROR,
	OUT_MAX,
};

static const char *const outcome_names[OUT_MAX] = {
	[OUT_RESPONSE] = "response",
	[OUT_RESET] = "reset",
	[OUT_CLOSED] = "closed",
	[OUT_TIMEOUT] = "timeout",
	[OUT_BAD_RESPONSE] = "bad_response",
	[OUT_ERROR] = "error",
};

struct slot {
	int fd;			/* -1: not connected */
	size_t len;		/* bytes of buf not consumed yet */
	char buf[BUF_SIZE];
};

struct target {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char host_header[INET6_ADDRSTRLEN + 8];
	int timeout_ms;
};

struct path_stats {
	const char *path;
	unsigned long status[STATUS_MAX];
};

static struct {
	unsigned long requests;
	unsigned long status[STATUS_MAX];
	unsigned long outcome[OUT_MAX];
	unsigned long connects;
	unsigned long connect_errno[MAX_ERRNO];
} stats;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: slotap-client --port N [--host ADDR] [--conns N] [--repeat N]\n"
		"                     [--method M] [--timeout-ms MS] PATH...\n"
		"  sends the PATHs (each starting with '/') --repeat times over --conns\n"
		"  keep-alive connections to ADDR:N (default 127.0.0.1), one request at\n"
		"  a time, and prints what it observed as one JSON object\n");
}

static bool parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* A method is an HTTP token; a path starts with '/' and has no spaces or
 * control bytes (it goes into the request line as given). */
static bool valid_method(const char *m)
{
	if (!*m || strlen(m) > 32)
		return false;
	for (const char *p = m; *p; p++)
		if (*p < 'A' || *p > 'Z')
			return false;
	return true;
}

static bool valid_path(const char *p)
{
	if (p[0] != '/' || strlen(p) > MAX_PATH_LEN)
		return false;
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

static void slot_close(struct slot *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->len = 0;
}

/* Connects s with a timeout. Returns 0, or the errno of the failure. */
static int slot_connect(struct slot *s, const struct target *t)
{
	struct timeval tv = { .tv_sec = t->timeout_ms / 1000,
			      .tv_usec = (t->timeout_ms % 1000) * 1000 };
	struct pollfd pfd;
	socklen_t elen = sizeof(int);
	int fd, err = 0, one = 1, flags, n;

	fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addr_len) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto fail;
		}
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		do {
			n = poll(&pfd, 1, t->timeout_ms);
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			err = errno;
			goto fail;
		}
		if (n == 0) {
			err = ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			err = errno;
		if (err)
			goto fail;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		err = errno;
		goto fail;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->fd = fd;
	s->len = 0;
	return 0;
fail:
	close(fd);
	return err ? err : EIO;
}

static enum outcome errno_outcome(int err)
{
	switch (err) {
	case ECONNRESET:
	case EPIPE:
		return OUT_RESET;
	case EAGAIN:
	case ETIMEDOUT:
		return OUT_TIMEOUT;
	default:
		return OUT_ERROR;
	}
}

/* Reads more input into s->buf. Returns OUT_RESPONSE when bytes came. */
static enum outcome slot_fill(struct slot *s)
{
	ssize_t n;

	if (s->len == sizeof(s->buf))
		return OUT_BAD_RESPONSE;
	do {
		n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno_outcome(errno);
	if (n == 0)
		return OUT_CLOSED;
	s->len += (size_t)n;
	return OUT_RESPONSE;
}

static void slot_consume(struct slot *s, size_t n)
{
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
}

/* Reads one line (without its CRLF or LF) into line. */
static enum outcome read_line(struct slot *s, char *line, size_t size)
{
	enum outcome o;

	for (;;) {
		char *nl = memchr(s->buf, '\n', s->len);

		if (nl) {
			size_t n = (size_t)(nl - s->buf), keep = n;

			if (keep && s->buf[keep - 1] == '\r')
				keep--;
			if (keep >= size)
				return OUT_BAD_RESPONSE;
			memcpy(line, s->buf, keep);
			line[keep] = '\0';
			slot_consume(s, n + 1);
			return OUT_RESPONSE;
		}
		o = slot_fill(s);
		if (o != OUT_RESPONSE)
			return o;
	}
}

/* Drops n body bytes; until the close when n is -1 (returns closed as ok). */
static enum outcome skip_bytes(struct slot *s, long long n)
{
	while (n != 0) {
		size_t take;

		if (!s->len) {
			enum outcome o = slot_fill(s);

			if (o == OUT_CLOSED && n < 0)
				return OUT_RESPONSE;
			if (o != OUT_RESPONSE)
				return o;
		}
		take = n < 0 || (unsigned long long)n > s->len ? s->len : (size_t)n;
		slot_consume(s, take);
		if (n > 0)
			n -= (long long)take;
	}
	return OUT_RESPONSE;
}

static enum outcome skip_chunked(struct slot *s)
{
	char line[1024];
	enum outcome o;

	for (;;) {
		unsigned long long size;
		char *end;

		o = read_line(s, line, sizeof(line));
		if (o != OUT_RESPONSE)
			return o;
		errno = 0;
		size = strtoull(line, &end, 16);
		if (errno || end == line || (*end && *end != ';' && *end != ' ') ||
		    size > (1ULL << 40))
			return OUT_BAD_RESPONSE;
		if (size == 0)
			break;
		o = skip_bytes(s, (long long)size + 2);
		if (o != OUT_RESPONSE)
			return o;
	}
	do {			/* trailers, up to the empty line */
		o = read_line(s, line, sizeof(line));
	} while (o == OUT_RESPONSE && line[0]);
	return o;
}

/*
 * Reads one complete response to a request of method. *status gets its
 * code; *keep_alive whether the connection may carry the next request.
 */
static enum outcome read_response(struct slot *s, const char *method, int *status,
				  bool *keep_alive)
{
	char line[8192];
	enum outcome o;

	for (;;) {
		long long clen = -1;
		bool chunked = false, conn_close = false, conn_ka = false;
		int minor;
		char *v;

		o = read_line(s, line, sizeof(line));
		if (o != OUT_RESPONSE)
			return o;
		if (strncmp(line, "HTTP/1.", 7) || (line[7] != '0' && line[7] != '1') ||
		    line[8] != ' ' || line[9] < '1' || line[9] > '5' ||
		    line[10] < '0' || line[10] > '9' || line[11] < '0' || line[11] > '9' ||
		    (line[12] && line[12] != ' '))
			return OUT_BAD_RESPONSE;
		minor = line[7] - '0';
		*status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
		for (;;) {
			o = read_line(s, line, sizeof(line));
			if (o != OUT_RESPONSE)
				return o;
			if (!line[0])
				break;
			v = strchr(line, ':');
			if (!v)
				return OUT_BAD_RESPONSE;
			*v++ = '\0';
			v += strspn(v, " \t");
			if (!strcasecmp(line, "Content-Length")) {
				char *end;

				errno = 0;
				clen = strtoll(v, &end, 10);
				if (errno || end == v || clen < 0)
					return OUT_BAD_RESPONSE;
			} else if (!strcasecmp(line, "Transfer-Encoding")) {
				chunked = strcasestr(v, "chunked") != NULL;
			} else if (!strcasecmp(line, "Connection")) {
				conn_close = strcasestr(v, "close") != NULL;
				conn_ka = strcasestr(v, "keep-alive") != NULL;
			}
		}
		if (*status >= 100 && *status < 200)
			continue;	/* interim: the final response follows */
		*keep_alive = minor == 1 ? !conn_close : conn_ka && !conn_close;
		if (!strcmp(method, "HEAD") || *status == 204 || *status == 304)
			return OUT_RESPONSE;
		if (chunked)
			return skip_chunked(s);
		if (clen >= 0)
			return skip_bytes(s, clen);
		*keep_alive = false;
		return skip_bytes(s, -1);
	}
}

static enum outcome send_all(struct slot *s, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errno_outcome(n < 0 ? errno : EPIPE);
		data += n;
		len -= (size_t)n;
	}
	return OUT_RESPONSE;
}

/* One request on s, connecting first if needed; records what happened. */
static void do_request(struct slot *s, const struct target *t, const char *method,
		       struct path_stats *ps)
{
	char req[MAX_PATH_LEN + 256];
	bool keep_alive = false;
	enum outcome o;
	int status = 0, n;

	stats.requests++;
	if (s->fd < 0) {
		int err = slot_connect(s, t);

		if (err) {
			stats.connect_errno[err < MAX_ERRNO ? err : 0]++;
			return;
		}
		stats.connects++;
	}
	n = snprintf(req, sizeof(req),
		     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: slotap-client\r\n%s\r\n",
		     method, ps->path, t->host_header,
		     !strcmp(method, "POST") || !strcmp(method, "PUT") ||
		     !strcmp(method, "PATCH") ? "Content-Length: 0\r\n" : "");
	o = send_all(s, req, (size_t)n);
	if (o == OUT_RESPONSE)
		o = read_response(s, method, &status, &keep_alive);
	stats.outcome[o]++;
	if (o == OUT_RESPONSE) {
		stats.status[status]++;
		ps->status[status]++;
	}
	if (o != OUT_RESPONSE || !keep_alive)
		slot_close(s);
}

static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void print_statuses(const unsigned long *status)
{
	const char *sep = "";

	putchar('{');
	for (int i = 0; i < STATUS_MAX; i++) {
		if (status[i]) {
			printf("%s\"%d\":%lu", sep, i, status[i]);
			sep = ",";
		}
	}
	putchar('}');
}

static void print_report(const struct path_stats *ps, size_t n_paths)
{
	const char *sep = "";

	printf("{\"requests\":%lu,\"responses\":", stats.requests);
	print_statuses(stats.status);
	printf(",\"by_path\":{");
	for (size_t i = 0; i < n_paths; i++) {
		printf("%s", i ? "," : "");
		print_json_string(ps[i].path);
		putchar(':');
		print_statuses(ps[i].status);
	}
	printf("},\"no_response\":{");
	for (int o = OUT_RESPONSE + 1; o < OUT_MAX; o++)
		printf("%s\"%s\":%lu", o == OUT_RESPONSE + 1 ? "" : ",", outcome_names[o],
		       stats.outcome[o]);
	printf("},\"connects\":%lu,\"connect_failures\":{", stats.connects);
	for (int e = 0; e < MAX_ERRNO; e++) {
		const char *name;

		if (!stats.connect_errno[e])
			continue;
		name = e ? strerrorname_np(e) : NULL;
		if (name)
			printf("%s\"%s\":%lu", sep, name, stats.connect_errno[e]);
		else
			printf("%s\"errno_%d\":%lu", sep, e, stats.connect_errno[e]);
		sep = ",";
	}
	printf("}}\n");
}

static int parse_target(const char *host, unsigned long port, int timeout_ms, struct target *t)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&t->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&t->addr;

	memset(t, 0, sizeof(*t));
	t->timeout_ms = timeout_ms;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		t->addr_len = sizeof(*in4);
		snprintf(t->host_header, sizeof(t->host_header), "%s:%lu", host, port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		t->addr_len = sizeof(*in6);
		snprintf(t->host_header, sizeof(t->host_header), "[%s]:%lu", host, port);
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "conns", required_argument, NULL, 'c' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "method", required_argument, NULL, 'm' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long port = 0, conns = 1, repeat = 1, timeout_ms = 10000;
	const char *host = "127.0.0.1", *method = "GET";
	struct path_stats *ps = NULL;
	struct slot *slots = NULL;
	size_t n_paths = 0, *plan = NULL, n_plan, k = 0;
	struct target t;
	int opt, li = 0, ret = 1;

	while ((opt = getopt_long(argc, argv, "", longopts, &li)) != -1) {
		bool ok = true;

		switch (opt) {
		case 'p':
			ok = parse_ulong(optarg, 1, 65535, &port);
			break;
		case 'H':
			host = optarg;
			break;
		case 'c':
			ok = parse_ulong(optarg, 1, MAX_CONNS, &conns);
			break;
		case 'r':
			ok = parse_ulong(optarg, 1, MAX_REPEAT, &repeat);
			break;
		case 'm':
			method = optarg;
			ok = valid_method(method);
			break;
		case 't':
			ok = parse_ulong(optarg, 1, MAX_TIMEOUT_MS, &timeout_ms);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (!ok) {
			fprintf(stderr, "slotap-client: bad --%s '%s'\n", longopts[li].name, optarg);
			return 2;
		}
	}
	if (!port || optind == argc) {
		fprintf(stderr, "slotap-client: %s\n", !port ? "--port is required" :
			"at least one PATH is required");
		usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		if (!valid_path(argv[i])) {
			fprintf(stderr, "slotap-client: bad path '%s': it must start with '/' "
				"and have no spaces or control characters\n", argv[i]);
			return 2;
		}
	}
	if (parse_target(host, port, (int)timeout_ms, &t)) {
		fprintf(stderr, "slotap-client: bad --host '%s': an IPv4 or IPv6 address\n", host);
		return 2;
	}
	if ((unsigned long)(argc - optind) > SIZE_MAX / repeat) {
		fprintf(stderr, "slotap-client: too many requests\n");
		return 2;
	}

	/* the same path given twice is one entry of by_path */
	ps = calloc((size_t)(argc - optind), sizeof(*ps));
	plan = calloc((size_t)(argc - optind), sizeof(*plan));
	slots = calloc(conns, sizeof(*slots));
	if (!ps || !plan || !slots) {
		fprintf(stderr, "slotap-client: out of memory\n");
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		size_t j;

		for (j = 0; j < n_paths && strcmp(ps[j].path, argv[i]); j++)
			;
		if (j == n_paths)
			ps[n_paths++].path = argv[i];
		plan[i - optind] = j;
	}
	n_plan = (size_t)(argc - optind);
	for (size_t i = 0; i < conns; i++)
		slots[i].fd = -1;

	signal(SIGPIPE, SIG_IGN);
	for (unsigned long r = 0; r < repeat; r++)
		for (size_t i = 0; i < n_plan; i++, k++)
			do_request(&slots[k % conns], &t, method, &ps[plan[i]]);
	for (size_t i = 0; i < conns; i++)
		slot_close(&slots[i]);

	print_report(ps, n_paths);
	ret = fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
	if (ret)
		fprintf(stderr, "slotap-client: cannot write the report: %s\n", strerror(errno));
out:
	free(slots);
	free(plan);
	free(ps);
	return ret;
}
