// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Alerts to Alertmanager (see alert_push.h): the set the agent evaluated,
 * kept with each alert's start and end, and a thread that posts it to
 * each Alertmanager when it changed, when a resend is due, or when a
 * failure's backoff is over.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "alert_push.h"
#include "alert_scheme.h"
#include "http_push.h"
#include "log.h"
#include "metric_names.h"
#include "prom.h"
#include "util.h"

enum {
	/* labels */
	F_ALERTNAME, F_SLO, F_SERVICE, F_ENDPOINT, F_SEVERITY, F_CONDITION, F_SLI, F_WINDOW,
	/* annotations */
	F_SUMMARY, F_DESCRIPTION, F_BROKEN_BY, F_BUDGET, F_RUNBOOK,
	F_MAX,
	F_LABELS = F_SUMMARY,
};

static const char *const field_names[F_MAX] = {
	ALERT_LABEL_ALERTNAME, ALERT_LABEL_SLO, ALERT_LABEL_SERVICE, ALERT_LABEL_ENDPOINT,
	ALERT_LABEL_SEVERITY, ALERT_LABEL_CONDITION, ALERT_LABEL_SLI, ALERT_LABEL_WINDOW,
	ALERT_ANN_SUMMARY, ALERT_ANN_DESCRIPTION, ALERT_ANN_BROKEN_BY, ALERT_ANN_BUDGET,
	ALERT_ANN_RUNBOOK,
};

struct pushed {
	char *f[F_MAX];		/* NULL: left out */
	__u64 key;		/* hash of the labels */
	double starts_s;
	double ends_s;		/* 0: active */
	__u64 resolved_gen;	/* the generation that ended it */
	bool seen;
};

struct target {
	struct http_push http;
	__u64 sent_gen;		/* the generation it last took */
	__u64 sent_ns;		/* when (monotonic); 0: never */
	__u64 alerts_sent;
	__u64 failures[HTTP_PUSH_FAILURE_MAX];
};

struct alert_push {
	struct push_thread t;	/* its lock guards the rest */
	struct pushed alerts[ALERT_PUSH_ALERTS_MAX];
	size_t n;
	__u64 gen;		/* bumped by every change of the set */
	struct target targets[ALERT_PUSH_TARGETS_MAX];
	size_t n_targets;
	__u64 dropped_too_many, dropped_undelivered;
};

static void item_fields(const struct alert_push_item *it, const char *f[F_MAX])
{
	const char *v[F_MAX] = {
		it->alertname, it->slo, it->service, it->endpoint, it->severity, it->condition,
		it->sli, it->window, it->summary, it->description, it->broken_by,
		it->budget_remaining, it->runbook_url,
	};

	for (int i = 0; i < F_MAX; i++)
		f[i] = v[i] && v[i][0] ? v[i] : NULL;
}

static __u64 labels_key(const char *const f[F_MAX])
{
	__u64 h = FNV1A64_OFFSET;

	for (int i = 0; i < F_LABELS; i++) {
		const char *s = f[i] ? f[i] : "";

		h = fnv1a64(h, s, strlen(s) + 1);	/* the NUL separates them */
	}
	return h;
}

static bool labels_equal(const struct pushed *a, const char *const f[F_MAX])
{
	for (int i = 0; i < F_LABELS; i++)
		if (strcmp(a->f[i] ? a->f[i] : "", f[i] ? f[i] : ""))
			return false;
	return true;
}

static void pushed_free(struct pushed *a)
{
	for (int i = 0; i < F_MAX; i++)
		free(a->f[i]);
	memset(a, 0, sizeof(*a));
}

/* The item's fields into a (annotations change with every evaluation). false: ENOMEM. */
static bool pushed_set(struct pushed *a, const char *const f[F_MAX])
{
	for (int i = 0; i < F_MAX; i++) {
		char *v;

		if (!f[i] ? !a->f[i] : a->f[i] && !strcmp(a->f[i], f[i]))
			continue;
		v = f[i] ? strdup(f[i]) : NULL;
		if (f[i] && !v)
			return false;
		free(a->f[i]);
		a->f[i] = v;
	}
	return true;
}

struct alert_push *alert_push__new(const char *const *urls, size_t n, char *err, size_t err_len)
{
	struct alert_push *p;

	if (n > ALERT_PUSH_TARGETS_MAX) {
		snprintf(err, err_len, "--alertmanager.url: at most %d Alertmanagers",
			 ALERT_PUSH_TARGETS_MAX);
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, err_len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	push_thread__init(&p->t);
	for (size_t i = 0; i < n; i++) {
		char url[600];
		int e = -EINVAL;

		/* the v2 API under the base URL, as Prometheus' alerting config takes it */
		if (strlen(urls[i]) < 500 && !http_push__redact(urls[i], url, sizeof(url))) {
			snprintf(url, sizeof(url), "%s%sapi/v2/alerts", urls[i],
				 urls[i][strlen(urls[i]) - 1] == '/' ? "" : "/");
			e = http_push__init(&p->targets[i].http, url, err, err_len);
		} else {
			snprintf(err, err_len, "%s: want an http:// or https:// URL with a host "
				 "(at most 500 bytes)", http_push__shown(urls[i], url, sizeof(url)));
		}
		if (e) {
			alert_push__free(p);
			errno = -e;
			return NULL;
		}
		p->n_targets++;
	}
	return p;
}

static void rfc3339(char *buf, size_t len, double t)
{
	time_t s = (time_t)t;
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((t - (double)s) * 1000));
}

static char *payload_locked(struct alert_push *p, double now_s, size_t *n_alerts)
{
	cJSON *arr = cJSON_CreateArray();
	char *out = NULL;
	bool ok = arr;

	for (size_t i = 0; ok && i < p->n; i++) {
		const struct pushed *a = &p->alerts[i];
		cJSON *o = cJSON_CreateObject(), *labels, *ann;
		char t[96];

		ok = o && cJSON_AddItemToArray(arr, o);
		if (!ok) {
			cJSON_Delete(o);
			break;
		}
		labels = cJSON_AddObjectToObject(o, "labels");
		ann = cJSON_AddObjectToObject(o, "annotations");
		ok = labels && ann;
		for (int f = 0; ok && f < F_MAX; f++)
			if (a->f[f])
				ok = cJSON_AddStringToObject(f < F_LABELS ? labels : ann,
							     field_names[f], a->f[f]);
		rfc3339(t, sizeof(t), a->starts_s);
		ok = ok && cJSON_AddStringToObject(o, "startsAt", t);
		/* active: valid for a few resends, so that a silent agent's alerts end */
		rfc3339(t, sizeof(t), a->ends_s ? a->ends_s
			: now_s + ALERT_PUSH_RESEND_S * ALERT_PUSH_VALID_FACTOR);
		ok = ok && cJSON_AddStringToObject(o, "endsAt", t);
	}
	if (ok)
		out = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	*n_alerts = out ? p->n : 0;
	return out;
}

char *alert_push__payload(struct alert_push *p, double now_s, size_t *n_alerts)
{
	char *out;

	pthread_mutex_lock(&p->t.lock);
	out = payload_locked(p, now_s, n_alerts);
	pthread_mutex_unlock(&p->t.lock);
	return out;
}

/* A resolved alert kept long enough goes; counted if some Alertmanager never took its end. */
static void expire_locked(struct alert_push *p, double now_s)
{
	for (size_t i = 0; i < p->n;) {
		struct pushed *a = &p->alerts[i];

		if (!a->ends_s || now_s - a->ends_s < ALERT_PUSH_RESOLVED_KEEP_S) {
			i++;
			continue;
		}
		for (size_t t = 0; t < p->n_targets; t++)
			if (p->targets[t].sent_gen < a->resolved_gen)
				p->dropped_undelivered++;
		pushed_free(a);
		*a = p->alerts[--p->n];
		memset(&p->alerts[p->n], 0, sizeof(p->alerts[p->n]));
	}
}

void alert_push__update(struct alert_push *p, const struct alert_push_item *items, size_t n,
			size_t n_more, double now_s)
{
	bool changed = false;

	pthread_mutex_lock(&p->t.lock);
	p->dropped_too_many += n_more;
	for (size_t i = 0; i < p->n; i++)
		p->alerts[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		const char *f[F_MAX];
		struct pushed *a = NULL;
		bool fresh = false;
		__u64 key;

		item_fields(&items[i], f);
		key = labels_key(f);
		for (size_t j = 0; j < p->n && !a; j++)
			if (p->alerts[j].key == key && labels_equal(&p->alerts[j], f))
				a = &p->alerts[j];
		if (!a) {
			if (p->n == ALERT_PUSH_ALERTS_MAX) {
				p->dropped_too_many++;
				continue;
			}
			a = &p->alerts[p->n++];
			a->key = key;
			fresh = true;
		}
		if (fresh || a->ends_s) {
			/* new, or back after it ended: a new start */
			a->starts_s = now_s;
			a->ends_s = 0;
			changed = true;
		}
		if (!pushed_set(a, f)) {
			pushed_free(a);	/* out of memory: as if it had not fitted */
			*a = p->alerts[--p->n];
			memset(&p->alerts[p->n], 0, sizeof(p->alerts[p->n]));
			p->dropped_too_many++;
			continue;
		}
		a->seen = true;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct pushed *a = &p->alerts[i];

		if (!a->seen && !a->ends_s) {
			a->ends_s = now_s;
			a->resolved_gen = p->gen + 1;
			changed = true;
		}
	}
	expire_locked(p, now_s);
	if (changed) {
		p->gen++;
		pthread_cond_signal(&p->t.wake);
	}
	pthread_mutex_unlock(&p->t.lock);
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Whether target t has something to send now; else when next (monotonic ns), in *next. */
static bool due_locked(struct alert_push *p, struct target *t, __u64 mono, __u64 *next)
{
	__u64 resend = ALERT_PUSH_RESEND_S * 1000000000ull, at;

	if (!p->n)
		return false;	/* nothing to say, nothing to refresh */
	if (t->sent_gen >= p->gen && t->sent_ns && mono - t->sent_ns < resend) {
		at = t->sent_ns + resend;
	} else if (http_push__backing_off(&t->http, mono)) {
		at = t->http.retry_ns;
	} else {
		return true;
	}
	if (at < *next)
		*next = at;
	return false;
}

static void *push_main(void *arg)
{
	struct alert_push *p = arg;

	pthread_setname_np(pthread_self(), "push-alertmgr");
	pthread_mutex_lock(&p->t.lock);
	while (!p->t.stop) {
		__u64 mono = monotonic_ns(), next = mono + ALERT_PUSH_RESEND_S * 1000000000ull;
		double now_s = wall_s();
		bool sent = false;

		for (size_t i = 0; i < p->n_targets && !p->t.stop; i++) {
			struct target *t = &p->targets[i];
			__u64 gen = p->gen;
			size_t count;
			char *body;
			int why;

			if (!due_locked(p, t, mono, &next))
				continue;
			body = payload_locked(p, now_s, &count);
			if (!body) {
				t->failures[HTTP_PUSH_OTHER]++;
				continue;
			}
			pthread_mutex_unlock(&p->t.lock);
			why = http_push__post(&t->http, "alerts", "application/json", body,
					      strlen(body), monotonic_ns());
			free(body);
			pthread_mutex_lock(&p->t.lock);
			if (why) {
				t->failures[why - 1]++;
			} else {
				t->sent_gen = gen;
				t->sent_ns = mono;
				t->alerts_sent += count;
			}
			sent = true;
		}
		if (sent)
			continue;	/* look again: the set may have changed meanwhile */
		push_thread__sleep_until(&p->t, next);
	}
	pthread_mutex_unlock(&p->t.lock);
	return NULL;
}

int alert_push__start(struct alert_push *p)
{
	return push_thread__start(&p->t, push_main, p, "Alertmanager");
}

void alert_push__free(struct alert_push *p)
{
	if (!p)
		return;
	push_thread__stop(&p->t);
	for (size_t i = 0; i < p->n; i++)
		pushed_free(&p->alerts[i]);
	for (size_t i = 0; i < p->n_targets; i++)
		http_push__free(&p->targets[i].http);
	free(p);
}

void alert_push__write_metrics(struct alert_push *p, FILE *out)
{
	size_t active = 0;

	pthread_mutex_lock(&p->t.lock);
	for (size_t i = 0; i < p->n; i++)
		active += !p->alerts[i].ends_s;
	prom__header(out, METRIC_AM_ALERTS, "gauge",
		     "SLO alerts the agent keeps for Alertmanager: active, and resolved ones "
		     "resent until they are 15 minutes old.");
	fprintf(out, METRIC_AM_ALERTS "{state=\"active\"} %zu\n", active);
	fprintf(out, METRIC_AM_ALERTS "{state=\"resolved\"} %zu\n", p->n - active);
	prom__header(out, METRIC_AM_ALERTS_SENT, "counter",
		     "Alerts in pushes an Alertmanager accepted (each push carries every alert).");
	for (size_t i = 0; i < p->n_targets; i++) {
		fputs(METRIC_AM_ALERTS_SENT "{alertmanager=", out);
		prom__label_value(out, p->targets[i].http.label);
		fprintf(out, "} %llu\n", (unsigned long long)p->targets[i].alerts_sent);
	}
	prom__header(out, METRIC_AM_FAILURES, "counter",
		     "Pushes to an Alertmanager that failed, by reason; each is retried with backoff.");
	for (size_t i = 0; i < p->n_targets; i++) {
		for (int r = 0; r < HTTP_PUSH_FAILURE_MAX; r++) {
			fputs(METRIC_AM_FAILURES "{alertmanager=", out);
			prom__label_value(out, p->targets[i].http.label);
			fprintf(out, ",reason=\"%s\"} %llu\n", http_push_failure_names[r],
				(unsigned long long)p->targets[i].failures[r]);
		}
	}
	prom__header(out, METRIC_AM_DROPPED, "counter",
		     "Alerts not pushed: beyond the alerts kept (too_many, per update), or "
		     "resolved ones whose end an Alertmanager never took (undelivered).");
	fprintf(out, METRIC_AM_DROPPED "{reason=\"too_many\"} %llu\n",
		(unsigned long long)p->dropped_too_many);
	fprintf(out, METRIC_AM_DROPPED "{reason=\"undelivered\"} %llu\n",
		(unsigned long long)p->dropped_undelivered);
	pthread_mutex_unlock(&p->t.lock);
}
