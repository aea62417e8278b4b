/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent's SLO alerts, pushed to Alertmanager (its v2 API, POST
 * /api/v2/alerts) as Prometheus does: every active alert when it starts and
 * again every ALERT_PUSH_RESEND_S with an end ALERT_PUSH_VALID_FACTOR resends
 * ahead (so that Alertmanager resolves them by itself if the agent goes
 * away), and a resolved one with its end, resent until ALERT_PUSH_RESOLVED_KEEP_S
 * after it ended. Each push carries the whole set, so a push that failed
 * loses nothing the next one sends: failures are retried with backoff
 * (http_push.h) by a thread of its own, and the evaluating thread only
 * hands over the set (alert_push__update(), memory only).
 */
#ifndef SLOTAP_ALERT_PUSH_H
#define SLOTAP_ALERT_PUSH_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#define ALERT_PUSH_RESEND_S		60
#define ALERT_PUSH_VALID_FACTOR		4
#define ALERT_PUSH_RESOLVED_KEEP_S	900
/* Alerts kept (active and resolved); more in one update are dropped, counted. */
#define ALERT_PUSH_ALERTS_MAX		1000
/* Alertmanagers at most (--alertmanager.url). */
#define ALERT_PUSH_TARGETS_MAX		8

/* One active alert as evaluated: labels then annotations; NULL or "" leaves one out. */
struct alert_push_item {
	const char *alertname, *slo, *service, *endpoint, *severity, *condition, *sli, *window;
	const char *summary, *description, *broken_by, *budget_remaining, *runbook_url;
};

struct alert_push;

/*
 * urls: the Alertmanagers' base URLs (/api/v2/alerts is appended). NULL
 * with the reason in err (a bad URL: -EINVAL in errno) or errno ENOMEM.
 */
struct alert_push *alert_push__new(const char *const *urls, size_t n, char *err, size_t err_len);
/* Stops the thread, if started; the alerts not yet sent are lost. NULL is fine. */
void alert_push__free(struct alert_push *p);
/* The thread; it inherits the caller's capabilities (main.c gives it none). */
int alert_push__start(struct alert_push *p);

/*
 * The alerts active now (now_s: unix time): new ones start, ones missing
 * from items end; n_more: active ones the caller left out (over
 * ALERT_PUSH_ALERTS_MAX), counted as dropped. Memory only; wakes the
 * thread when something changed.
 */
void alert_push__update(struct alert_push *p, const struct alert_push_item *items, size_t n,
			size_t n_more, double now_s);

/*
 * The payload the thread would send to target now: a JSON array, malloc'd,
 * NULL on ENOMEM; *n_alerts: alerts in it. For the thread and the tests.
 */
char *alert_push__payload(struct alert_push *p, double now_s, size_t *n_alerts);

/* slotap_alertmanager_* self-metrics. */
void alert_push__write_metrics(struct alert_push *p, FILE *out);

#endif /* SLOTAP_ALERT_PUSH_H */
