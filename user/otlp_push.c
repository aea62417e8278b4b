// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * OTLP export every interval (see otlp_push.h). The thread holds its lock
 * only to count and to sleep: the exposition takes the agent's lock, and
 * /metrics asks this module for its counters under this one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agent.h"
#include "http_push.h"
#include "log.h"
#include "metric_names.h"
#include "otlp_metrics.h"
#include "otlp_push.h"
#include "prom.h"
#include "util.h"

struct otlp_push {
	struct push_thread t;	/* its lock guards the rest */
	struct http_push http;
	unsigned int interval_s;
	metrics_write_fn write;
	void *ctx;
	char host[256];
	struct otlp_source src;
	/* counters, under lock */
	__u64 exports, points, failures[HTTP_PUSH_FAILURE_MAX];
	__u64 superseded, unencoded, skipped_lines;
};

struct otlp_push *otlp_push__new(const char *endpoint, unsigned int interval_s,
				 metrics_write_fn write, void *ctx, char *err, size_t err_len)
{
	struct otlp_push *p;
	char url[600], redacted[600];
	const char *path;
	struct timespec ts;
	int e;

	if (strlen(endpoint) >= 500 || http_push__redact(endpoint, redacted, sizeof(redacted))) {
		snprintf(err, err_len, "%s: want http://HOST[:PORT][/PATH] or https://... "
			 "(at most 500 bytes)", http_push__shown(endpoint, url, sizeof(url)));
		errno = EINVAL;
		return NULL;
	}
	/* the OTLP/HTTP default path, unless one is given */
	path = strchr(strstr(endpoint, "://") + 3, '/');
	snprintf(url, sizeof(url), "%s%s", endpoint,
		 !path ? "/v1/metrics" : !strcmp(path, "/") ? "v1/metrics" : "");
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, err_len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	e = http_push__init(&p->http, url, err, err_len);
	if (e) {
		free(p);
		errno = -e;
		return NULL;
	}
	push_thread__init(&p->t);
	p->interval_s = interval_s;
	p->write = write;
	p->ctx = ctx;
	if (gethostname(p->host, sizeof(p->host) - 1))
		snprintf(p->host, sizeof(p->host), "unknown");
	clock_gettime(CLOCK_REALTIME, &ts);
	p->src = (struct otlp_source){
		.service_name = "slotap",
		.service_version = SLOTAP_VERSION,
		.host_name = p->host,
		.start_unix_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec,
	};
	return p;
}

/* The exposition now, encoded; 0 or -errno. */
static int export_now(struct otlp_push *p, struct otlp_encoded *enc)
{
	struct timespec ts;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int err;

	if (!out)
		return -ENOMEM;
	err = p->write(p->ctx, out);
	if (fclose(out) && !err)
		err = -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (!err)
		err = otlp_metrics__encode(text, len, &p->src,
					   ts.tv_sec * 1000000000ull + ts.tv_nsec, enc);
	free(text);
	return err;
}

static void *push_main(void *arg)
{
	struct otlp_push *p = arg;
	__u64 interval_ns = p->interval_s * 1000000000ull, next = monotonic_ns() + interval_ns;
	struct otlp_encoded pending = { .buf = NULL };

	pthread_setname_np(pthread_self(), "push-otlp");
	pthread_mutex_lock(&p->t.lock);
	while (!p->t.stop) {
		__u64 now = monotonic_ns();
		int why;

		if (now >= next) {
			struct otlp_encoded enc;
			int err;

			if (pending.buf)
				p->superseded++;	/* the new one has its counts and more */
			free(pending.buf);
			pending.buf = NULL;
			pthread_mutex_unlock(&p->t.lock);
			err = export_now(p, &enc);
			pthread_mutex_lock(&p->t.lock);
			if (err) {
				p->unencoded++;
			} else {
				pending = enc;
				p->skipped_lines += enc.skipped;
			}
			next += interval_ns;
			if (next <= now)
				next = now + interval_ns;	/* fell behind: no burst */
			continue;
		}
		if (!pending.buf || http_push__backing_off(&p->http, now)) {
			__u64 until = next;

			if (pending.buf && p->http.retry_ns < until)
				until = p->http.retry_ns;
			push_thread__sleep_until(&p->t, until);
			continue;
		}
		pthread_mutex_unlock(&p->t.lock);
		why = http_push__post(&p->http, "metrics", "application/x-protobuf", pending.buf,
				      pending.len, now);
		pthread_mutex_lock(&p->t.lock);
		if (why) {
			p->failures[why - 1]++;
			continue;
		}
		p->exports++;
		p->points += pending.points;
		free(pending.buf);
		pending.buf = NULL;
	}
	pthread_mutex_unlock(&p->t.lock);
	free(pending.buf);
	return NULL;
}

int otlp_push__start(struct otlp_push *p)
{
	return push_thread__start(&p->t, push_main, p, "OTLP");
}

void otlp_push__free(struct otlp_push *p)
{
	if (!p)
		return;
	push_thread__stop(&p->t);
	http_push__free(&p->http);
	free(p);
}

void otlp_push__write_metrics(struct otlp_push *p, FILE *out)
{
	pthread_mutex_lock(&p->t.lock);
	prom__header(out, METRIC_OTLP_EXPORTS, "counter",
		     "OTLP metric exports the receiver accepted.");
	fprintf(out, METRIC_OTLP_EXPORTS " %llu\n", (unsigned long long)p->exports);
	prom__header(out, METRIC_OTLP_POINTS, "counter",
		     "Data points in OTLP exports the receiver accepted.");
	fprintf(out, METRIC_OTLP_POINTS " %llu\n", (unsigned long long)p->points);
	prom__header(out, METRIC_OTLP_FAILURES, "counter",
		     "OTLP exports that failed, by reason; each is retried with backoff until "
		     "the next is due.");
	for (int r = 0; r < HTTP_PUSH_FAILURE_MAX; r++)
		fprintf(out, METRIC_OTLP_FAILURES "{reason=\"%s\"} %llu\n",
			http_push_failure_names[r], (unsigned long long)p->failures[r]);
	prom__header(out, METRIC_OTLP_DROPPED, "counter",
		     "OTLP exports given up: replaced by the next before they went through "
		     "(superseded: cumulative counts, nothing lost but a point in time), or "
		     "not made (encode: out of memory, or exposition lines not understood).");
	fprintf(out, METRIC_OTLP_DROPPED "{reason=\"superseded\"} %llu\n",
		(unsigned long long)p->superseded);
	fprintf(out, METRIC_OTLP_DROPPED "{reason=\"encode\"} %llu\n",
		(unsigned long long)(p->unencoded + p->skipped_lines));
	pthread_mutex_unlock(&p->t.lock);
}
