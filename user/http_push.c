// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A push destination over libcurl (see http_push.h). One easy handle per
 * destination, so that its connection is kept between pushes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "http_push.h"
#include "log.h"
#include "util.h"

const char *const http_push_failure_names[HTTP_PUSH_FAILURE_MAX] = {
	[HTTP_PUSH_CONNECT] = "connect",
	[HTTP_PUSH_TIMEOUT] = "timeout",
	[HTTP_PUSH_HTTP_4XX] = "http_4xx",
	[HTTP_PUSH_HTTP_5XX] = "http_5xx",
	[HTTP_PUSH_OTHER] = "other",
};

int http_push__redact(const char *url, char *out, size_t len)
{
	const char *rest, *at, *slash;
	size_t scheme;

	if (!strncmp(url, "http://", 7))
		scheme = 7;
	else if (!strncmp(url, "https://", 8))
		scheme = 8;
	else
		return -EINVAL;
	rest = url + scheme;
	slash = rest + strcspn(rest, "/?#");
	at = memchr(rest, '@', slash - rest);
	if (slash == rest || (at && at + 1 == slash))
		return -EINVAL;	/* no host */
	snprintf(out, len, "%.*s%s", (int)scheme, url, at ? at + 1 : rest);
	return 0;
}

const char *http_push__shown(const char *url, char *buf, size_t len)
{
	const char *sep = strstr(url, "://"), *at = strrchr(url, '@');
	int head = sep ? (int)(sep + 3 - url) : 0;

	if (at && at >= url + head)
		snprintf(buf, len, "%.*s***%.200s", head, url, at);
	else
		snprintf(buf, len, "%.200s", url);
	return buf;
}

int http_push__init(struct http_push *t, const char *url, char *err, size_t err_len)
{
	char shown[256];

	char label[512];

	memset(t, 0, sizeof(*t));
	if (strlen(url) >= sizeof(label) || http_push__redact(url, label, sizeof(label))) {
		snprintf(err, err_len, "%s: want an http:// or https:// URL with a host "
			 "(at most %zu bytes)", http_push__shown(url, shown, sizeof(shown)),
			 sizeof(label) - 1);
		return -EINVAL;
	}
	t->url = strdup(url);
	t->label = strdup(label);
	t->curl = curl_easy_init();
	if (!t->url || !t->label || !t->curl) {
		http_push__free(t);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

void http_push__free(struct http_push *t)
{
	if (!t)
		return;
	if (t->curl)
		curl_easy_cleanup(t->curl);
	free(t->url);
	free(t->label);
	t->curl = NULL;
	t->url = t->label = NULL;
}

struct reply {
	char buf[HTTP_PUSH_REPLY_MAX];
	size_t len;
};

/* Keeps the start of the reply for the log; the rest is read and dropped. */
static size_t keep_reply(char *p, size_t size, size_t n, void *ctx)
{
	struct reply *r = ctx;
	size_t room = sizeof(r->buf) - 1 - r->len, take = size * n < room ? size * n : room;

	memcpy(r->buf + r->len, p, take);
	r->len += take;
	r->buf[r->len] = 0;
	return size * n;
}

static enum http_push_failure classify(CURLcode rc, long status)
{
	switch (rc) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_PUSH_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return HTTP_PUSH_CONNECT;
	default:
		return HTTP_PUSH_OTHER;
	}
	if (status >= 400 && status < 500)
		return HTTP_PUSH_HTTP_4XX;
	if (status >= 500 && status < 600)
		return HTTP_PUSH_HTTP_5XX;
	return HTTP_PUSH_OTHER;
}

/* Printable bytes of a reply, for one log line. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = ' ';
}

bool http_push__backing_off(const struct http_push *t, __u64 now_ns)
{
	return t->backoff_ms && now_ns < t->retry_ns;
}

int http_push__post(struct http_push *t, const char *what, const char *content_type,
		    const void *body, size_t len, __u64 now_ns)
{
	struct curl_slist *headers = NULL, *h;
	struct reply reply = { .len = 0 };
	char ctype[128], cerr[CURL_ERROR_SIZE] = "";
	enum http_push_failure why;
	long status = 0;
	CURLcode rc;
	CURL *c = t->curl;

	snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
	h = curl_slist_append(NULL, ctype);
	if (h)
		headers = h;
	h = h ? curl_slist_append(headers, "Expect:") : NULL;	/* no 100-continue round trip */
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, t->url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)HTTP_PUSH_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);	/* a thread of a multi-threaded agent */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "slotap");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_reply);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	rc = h ? curl_easy_perform(c) : CURLE_OUT_OF_MEMORY;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	if (rc == CURLE_OK && status >= 200 && status < 300) {
		if (t->failing)
			log__info("pushing %s to %s works again", what, t->label);
		t->failing = false;
		t->backoff_ms = 0;
		return 0;
	}

	why = classify(rc, status);
	t->backoff_ms = t->backoff_ms ? t->backoff_ms * 2 : HTTP_PUSH_BACKOFF_MIN_MS;
	if (t->backoff_ms > HTTP_PUSH_BACKOFF_MAX_MS)
		t->backoff_ms = HTTP_PUSH_BACKOFF_MAX_MS;
	t->retry_ns = now_ns + t->backoff_ms * 1000000ull;
	if (!t->failing) {
		printable(reply.buf);
		if (rc == CURLE_OK)
			log__warn("pushing %s to %s failed: HTTP %ld %s; retrying with backoff "
				  "(counted in the push's failure metrics)", what, t->label, status,
				  reply.buf);
		else
			log__warn("pushing %s to %s failed: %s; retrying with backoff "
				  "(counted in the push's failure metrics)", what, t->label,
				  cerr[0] ? cerr : curl_easy_strerror(rc));
	}
	t->failing = true;
	return why + 1;
}

void push_thread__init(struct push_thread *t)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wake, &attr);
	pthread_condattr_destroy(&attr);
	t->started = t->stop = false;
}

int push_thread__start(struct push_thread *t, void *(*fn)(void *), void *arg, const char *what)
{
	int err = pthread_create(&t->thread, NULL, fn, arg);

	if (err) {
		log__error("cannot start the %s push thread: %s", what, strerror(err));
		return -err;
	}
	t->started = true;
	return 0;
}

void push_thread__stop(struct push_thread *t)
{
	if (t->started) {
		pthread_mutex_lock(&t->lock);
		t->stop = true;
		pthread_cond_signal(&t->wake);
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->thread, NULL);
		t->started = false;
	}
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
}

void push_thread__sleep_until(struct push_thread *t, __u64 mono_ns)
{
	__u64 now = monotonic_ns(), d = mono_ns > now ? mono_ns - now : 0;
	struct timespec ts;

	if (!d)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the condition variable's clock */
	ts.tv_sec += d / 1000000000ull;
	ts.tv_nsec += d % 1000000000ull;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&t->wake, &t->lock, &ts);
}
