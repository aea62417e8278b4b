// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * /metrics: every metric family, then the agent's own counters (events
 * received and lost, connections, the ring buffer, reloads).
 */
#include <string.h>
#include <time.h>
#include "agent.h"
#include "aggregator.h"
#include "log.h"
#include "outbound.h"
#include "prom.h"
#include "services.h"
#include "slo_registry.h"
#include "util.h"

static void write_counter(FILE *out, const char *name, const char *help, __u64 v)
{
	prom__header(out, name, "counter", help);
	fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void write_gauge(FILE *out, const char *name, const char *help, __u64 v)
{
	prom__header(out, name, "gauge", help);
	fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

int agent__write_metrics(void *ctx, FILE *out)
{
	struct agent *a = ctx;
	struct http_source_counters c = {};
	int err;

	pthread_mutex_lock(&a->lock);	/* a reload may replace the source */
	err = a->src ? http_source__read_counters(a->src, &c) : 0;
	if (err)
		log__warn("cannot read the kernel's counters: %s", strerror(-err));
	for (int r = 0; r < LOSS_REASON_MAX; r++)
		c.loss[r] += a->retired.loss[r];
	err = aggregator__write_prometheus(a->agg, out);
	if (!err)
		err = aggregator__write_prometheus(a->transport_failures, out);
	if (!err)
		err = aggregator__write_prometheus(a->retransmits, out);
	if (!err)
		err = outbound__write_prometheus(a->outbound, out);
	if (!err)
		err = slo_registry__write_prometheus(a->slos, out, time(NULL));
	/* after the SLOs: slotap status attaches blame to the SLOs it has seen */
	if (!err)
		err = aggregator__write_prometheus(a->blamed, out);

	prom__header(out, "slotap_build_info", "gauge", "slotap's version.");
	fprintf(out, "slotap_build_info{version=\"%s\"} 1\n", SLOTAP_VERSION);
	write_counter(out, "slotap_events_received_total",
		      "Request events received from the kernel.", a->events_received);
	prom__header(out, "slotap_events_lost_total", "counter",
		     "Requests or responses not turned into a measurement, by reason.");
	for (int r = 0; r < LOSS_REASON_MAX; r++)
		fprintf(out, "slotap_events_lost_total{reason=\"%s\"} %llu\n",
			http_loss_reason__name(r), (unsigned long long)c.loss[r]);
	fprintf(out, "slotap_events_lost_total{reason=\"out_of_memory\"} %llu\n",
		(unsigned long long)a->events_unattributed);
	fprintf(out, "slotap_events_lost_total{reason=\"unknown_protocol\"} %llu\n",
		(unsigned long long)a->events_unknown_protocol);
	write_counter(out, "slotap_http_paths_truncated_total",
		      "Requests whose path was longer than the 64 bytes the kernel keeps "
		      "(their route ends in /{truncated}).", a->paths_truncated);
	write_counter(out, "slotap_http_late_responses_total",
		      "Responses to requests already counted as failed by request_timeout "
		      "(reason timeout): not counted again.", a->late_responses);
	write_gauge(out, "slotap_tracked_connections", "Connections being tracked now.",
		    c.stat[STAT_CONNS_OPENED] - c.stat[STAT_CONNS_CLOSED]);
	write_counter(out, "slotap_connections_tracked_total",
		      "Accepted connections of selected services that were tracked.",
		      c.stat[STAT_CONNS_OPENED] + a->retired.stat[STAT_CONNS_OPENED]);
	write_gauge(out, "slotap_ringbuf_backlog_bytes",
		    "Bytes waiting in the ring buffer at scrape time.", c.ringbuf_backlog_bytes);
	write_gauge(out, "slotap_ringbuf_size_bytes", "Size of the ring buffer.",
		    c.ringbuf_size_bytes);
	write_counter(out, "slotap_ringbuf_wakeups_total",
		      "Times the kernel woke the consumer because the backlog grew.",
		      c.stat[STAT_WAKEUPS] + a->retired.stat[STAT_WAKEUPS]);
	service_registry__write_prometheus(a->services, out);
	prom__header(out, "slotap_config_reloads_total", "counter",
		     "Config reloads on SIGHUP, by result (failed: the running config stayed).");
	fprintf(out, "slotap_config_reloads_total{result=\"success\"} %llu\n",
		(unsigned long long)a->reloads_ok);
	fprintf(out, "slotap_config_reloads_total{result=\"failure\"} %llu\n",
		(unsigned long long)a->reloads_failed);
	write_gauge(out, "slotap_config_last_reload_successful",
		    "1 unless the last reload on SIGHUP was refused.", a->last_reload_ok);
	prom__header(out, "slotap_config_last_reload_success_timestamp_seconds", "gauge",
		     "Unix time of the last successful reload, or of the start.");
	fprintf(out, "slotap_config_last_reload_success_timestamp_seconds %.0f\n",
		a->last_reload_ok_unix_s);
	prom__header(out, "slotap_uptime_seconds", "gauge", "Seconds since the agent started.");
	fprintf(out, "slotap_uptime_seconds %.3f\n", (monotonic_ns() - a->started_ns) / 1e9);
	pthread_mutex_unlock(&a->lock);
	return err;
}
