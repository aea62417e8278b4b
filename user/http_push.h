/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One destination the agent pushes to (an Alertmanager, an OTLP receiver):
 * an HTTP POST with libcurl, bounded in time, its failures sorted by reason
 * and followed by an exponential backoff. Used by one push thread at a
 * time; the counters are read under the owner's lock.
 */
#ifndef SLOTAP_HTTP_PUSH_H
#define SLOTAP_HTTP_PUSH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* A request gets this long, connecting included, before it counts as timed out. */
#define HTTP_PUSH_TIMEOUT_MS		10000
/* The first retry after a failure, then twice as long each time up to the maximum. */
#define HTTP_PUSH_BACKOFF_MIN_MS	1000
#define HTTP_PUSH_BACKOFF_MAX_MS	60000
/* Bytes of a reply body kept (for the log); the rest is read and dropped. */
#define HTTP_PUSH_REPLY_MAX		256

enum http_push_failure {
	HTTP_PUSH_CONNECT,	/* refused, unreachable, DNS, TLS handshake */
	HTTP_PUSH_TIMEOUT,
	HTTP_PUSH_HTTP_4XX,	/* the receiver refused the payload */
	HTTP_PUSH_HTTP_5XX,
	HTTP_PUSH_OTHER,	/* anything else: out of memory, a redirect, 1xx/3xx */
	HTTP_PUSH_FAILURE_MAX,
};
extern const char *const http_push_failure_names[HTTP_PUSH_FAILURE_MAX];

struct http_push {
	char *url;		/* where to POST */
	char *label;		/* url without user:password@, for metrics and logs */
	void *curl;		/* CURL *, kept so connections are reused */
	__u64 backoff_ms;	/* 0: the last request succeeded */
	__u64 retry_ns;		/* monotonic: not before this after a failure */
	bool failing;		/* logged as failing; logged again when it recovers */
};

/*
 * url must be http:// or https://; 0, -EINVAL (what is wrong in err) or
 * -ENOMEM. curl_global_init() must have run.
 */
int http_push__init(struct http_push *t, const char *url, char *err, size_t err_len);
void http_push__free(struct http_push *t);
/* url with its userinfo cut out (into out); -EINVAL when it is no URL. */
int http_push__redact(const char *url, char *out, size_t len);
/*
 * What an error message may show of a URL that may be malformed: anything
 * before its last '@' after the scheme masked (a password never reaches a
 * log), at most 200 bytes. Returns buf.
 */
const char *http_push__shown(const char *url, char *buf, size_t len);

/*
 * POSTs body; 0 on a 2xx reply, or the failure's reason + 1 for the caller
 * to count (the backoff moved on, a line logged when the target starts or
 * stops failing: what names the payload). Blocks up to HTTP_PUSH_TIMEOUT_MS.
 */
int http_push__post(struct http_push *t, const char *what, const char *content_type,
		    const void *body, size_t len, __u64 now_ns);
/* Whether a failure's backoff still runs at now_ns. */
bool http_push__backing_off(const struct http_push *t, __u64 now_ns);

/*
 * A push thread's life: its lock (which also guards what its owner shares
 * with it), a wake-up whose timed waits run on CLOCK_MONOTONIC (a wall
 * clock step neither wakes nor holds it), and the stop request.
 */
struct push_thread {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool started, stop;
};

void push_thread__init(struct push_thread *t);
/* Starts fn(arg); 0 or -errno (logged, naming what). */
int push_thread__start(struct push_thread *t, void *(*fn)(void *), void *arg, const char *what);
/* Asks the thread to stop, waits for it, and frees the lock and the wake-up. */
void push_thread__stop(struct push_thread *t);
/* Under the lock: sleeps until the monotonic mono_ns, a wake-up or a stop request. */
void push_thread__sleep_until(struct push_thread *t, __u64 mono_ns);

#endif /* SLOTAP_HTTP_PUSH_H */
