// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * /metrics: every metric family, then the agent's own counters (events
 * received and lost, connections, the ring buffer, reloads).
 */
#include <string.h>
#include <time.h>
#include "agent.h"
#include "aggregator.h"
#include "alert_push.h"
#include "bpf_stats.h"
#include "h2_conn.h"
#include "log.h"
#include "otlp_push.h"
#include "outbound.h"
#include "prom.h"
#include "services.h"
#include "slo_registry.h"
#include "tls_libs.h"
#include "util.h"
#include "metric_names.h"

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

/* One sample of a family with one label: NAME{LABEL="VALUE"} V. */
static void write_sample(FILE *out, const char *name, const char *label, const char *value,
			 __u64 v)
{
	fprintf(out, "%s{%s=\"%s\"} %llu\n", name, label, value, (unsigned long long)v);
}

/* How full each family is, and what its cap turned away. */
static void write_series_usage(FILE *out, struct agent *a)
{
	struct aggregator *fams[AGENT_FAMILIES_MAX];
	size_t n = agent__families(a, fams);

	prom__header(out, METRIC_SERIES, "gauge",
		     "Series of each metric family, its overflow series included.");
	for (size_t i = 0; i < n; i++)
		write_sample(out, METRIC_SERIES, "metric", aggregator__family(fams[i])->metric,
			     aggregator__series(fams[i]));
	write_gauge(out, METRIC_SERIES_LIMIT,
		    "max_series_per_metric: the series a family keeps before its overflow series.",
		    a->cfg.max_series_per_metric);
	prom__header(out, METRIC_SERIES_OVERFLOW, "counter",
		     "Events of label combinations beyond max_series_per_metric, counted in "
		     "the family's otel_metric_overflow=\"true\" series.");
	for (size_t i = 0; i < n; i++)
		write_sample(out, METRIC_SERIES_OVERFLOW, "metric", aggregator__family(fams[i])->metric,
			     aggregator__overflow_events(fams[i]));
}

/* What HTTP/2 lost or could not decode, and the connections it follows. */
static void write_h2(FILE *out, const struct agent *a)
{
	struct h2_conns_stats st;

	h2_conns__stats(a->h2, &st);
	prom__header(out, METRIC_H2_GAPS, "counter",
		     "HTTP/2 header compression state lost in one direction of a connection, by "
		     "cause: what is decoded after it is right or undecoded, never wrong.");
	for (int c = HPACK_CAUSE_NONE + 1; c < HPACK_CAUSE_MAX; c++)
		write_sample(out, METRIC_H2_GAPS, "cause", h2_cause__name(c), st.gaps[c]);
	prom__header(out, METRIC_H2_CONNECTIONS, "gauge",
		     "HTTP/2 connections followed now: known (seen from their start) or "
		     "partially_known (a table older than what was seen).");
	write_sample(out, METRIC_H2_CONNECTIONS, "state", "known", st.conns_known);
	write_sample(out, METRIC_H2_CONNECTIONS, "state", "partially_known", st.conns_partial);
	write_counter(out, METRIC_H2_EVICTED,
		      "HTTP/2 connections forgotten for max_h2_connections (least recently used).",
		      st.conns_evicted);
	write_counter(out, METRIC_H2_STREAMS_OVERFLOW,
		      "HTTP/2 requests not measured for max_h2_streams, or 256 open on one "
		      "connection.", st.streams_overflow);
	prom__header(out, METRIC_H2_STREAMS_UNCOUNTED, "counter",
		     "HTTP/2 streams that are no measured request, by reason: pushed (a server "
		     "push), unmatched (a response whose request was not seen), evicted (open when "
		     "their connection was forgotten), overflow (as slotap_h2_streams_overflow_total).");
	write_sample(out, METRIC_H2_STREAMS_UNCOUNTED, "reason", "pushed", st.pushed);
	write_sample(out, METRIC_H2_STREAMS_UNCOUNTED, "reason", "unmatched", st.unmatched);
	write_sample(out, METRIC_H2_STREAMS_UNCOUNTED, "reason", "evicted", st.streams_evicted);
	write_sample(out, METRIC_H2_STREAMS_UNCOUNTED, "reason", "overflow", st.streams_overflow);
	prom__header(out, METRIC_H2_STREAMS_FORGOTTEN, "counter",
		     "HTTP/2 streams counted already that the agent stopped following before "
		     "their end, by reason: late_expired (failed as timed out, and no answer "
		     "within 60 s more), connection_cap (the oldest such stream, for a new one on "
		     "a connection with 256 open). What comes for them later is counted "
		     "unmatched.");
	write_sample(out, METRIC_H2_STREAMS_FORGOTTEN, "reason", "late_expired",
		     st.streams_forgotten_late);
	write_sample(out, METRIC_H2_STREAMS_FORGOTTEN, "reason", "connection_cap",
		     st.streams_forgotten_cap);
	prom__header(out, METRIC_H2_BLOCKS_LOST, "counter",
		     "HTTP/2 header blocks in pieces (CONTINUATION) not put together, by reason: "
		     "unfinished (no last piece 2 s after the first), assembly_budget (a piece "
		     "beyond 8 MiB of blocks being put together on all connections). Each is a gap "
		     "(truncated): its request counted, its fields undecoded.");
	write_sample(out, METRIC_H2_BLOCKS_LOST, "reason", "unfinished", st.blocks_unfinished);
	write_sample(out, METRIC_H2_BLOCKS_LOST, "reason", "assembly_budget",
		     st.blocks_over_budget);
	write_counter(out, METRIC_GRPC_FIRST_DATA_UNTRACKED,
		      "gRPC calls measured to their trailers: no first response message was seen "
		      "(none sent, or more than 6 streams of a connection awaiting theirs at once).",
		      st.first_data_untracked);
	prom__header(out, METRIC_H2_RECORDS_DROPPED, "counter",
		     "HTTP/2 records from the kernel the agent did not use, by reason: malformed, "
		     "no_open (its connection's first record was not seen), stale (it came after "
		     "its place was given up as a gap).");
	for (int r = 0; r < H2_DROP_MAX; r++)
		write_sample(out, METRIC_H2_RECORDS_DROPPED, "reason", h2_drop__name(r),
			     st.dropped[r]);
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
	for (int k = 0; k < H2_RECEIVED_MAX; k++)
		c.h2_received[k] += a->retired.h2_received[k];
	err = aggregator__write_prometheus(a->agg, out);
	if (!err)
		err = aggregator__write_prometheus(a->rpc, out);
	if (!err)
		err = aggregator__write_prometheus(a->db_server, out);
	if (!err)
		err = aggregator__write_prometheus(a->db_client, out);
	if (!err)
		err = aggregator__write_prometheus(a->db_client_failures, out);
	if (!err)
		err = aggregator__write_prometheus(a->grpc_streaming, out);
	if (!err)
		err = aggregator__write_prometheus(a->h2_undecoded, out);
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

	prom__header(out, METRIC_BUILD_INFO, "gauge", "slotap's version.");
	fprintf(out, METRIC_BUILD_INFO "{version=\"%s\"} 1\n", SLOTAP_VERSION);
	write_counter(out, METRIC_EVENTS_RECEIVED,
		      "Request events received from the kernel.", a->events_received);
	prom__header(out, METRIC_EVENTS_LOST, "counter",
		     "Requests or responses not turned into a measurement, by reason.");
	for (int r = 0; r < LOSS_REASON_MAX; r++)
		write_sample(out, METRIC_EVENTS_LOST, "reason", http_loss_reason__name(r), c.loss[r]);
	write_sample(out, METRIC_EVENTS_LOST, "reason", "out_of_memory", a->events_unattributed);
	write_sample(out, METRIC_EVENTS_LOST, "reason", "unknown_protocol", a->events_unknown_protocol);
	write_h2(out, a);
	write_counter(out, METRIC_PATHS_TRUNCATED,
		      "Requests whose path was longer than the 64 bytes the kernel keeps "
		      "(their route ends in /{truncated}).", a->paths_truncated);
	write_counter(out, METRIC_LATE_RESPONSES,
		      "Responses to requests already counted as failed by request_timeout "
		      "(reason timeout): not counted again.", a->late_responses);
	write_gauge(out, METRIC_TRACKED_CONNECTIONS, "Connections being tracked now.",
		    c.stat[STAT_CONNS_OPENED] - c.stat[STAT_CONNS_CLOSED]);
	write_counter(out, METRIC_CONNECTIONS_TRACKED,
		      "Accepted connections of selected services that were tracked.",
		      c.stat[STAT_CONNS_OPENED] + a->retired.stat[STAT_CONNS_OPENED]);
	write_gauge(out, METRIC_RINGBUF_BACKLOG,
		    "Bytes waiting in the ring buffer at scrape time.", c.ringbuf_backlog_bytes);
	write_gauge(out, METRIC_RINGBUF_SIZE, "Size of the ring buffer.",
		    c.ringbuf_size_bytes);
	write_counter(out, METRIC_RINGBUF_WAKEUPS,
		      "Times the kernel woke the consumer because the backlog grew.",
		      c.stat[STAT_WAKEUPS] + a->retired.stat[STAT_WAKEUPS]);
	prom__header(out, METRIC_H2_RECORDS, "counter",
		     "HTTP/2 framing records from the kernel, and the header blocks they began, "
		     "by kind.");
	for (int k = 0; k < H2_RECEIVED_MAX; k++)
		write_sample(out, METRIC_H2_RECORDS, "kind", h2_received__name(k), c.h2_received[k]);
	service_registry__write_prometheus(a->services, out);
	write_series_usage(out, a);
	prom__header(out, METRIC_SWEEP_FAILURES, "counter",
		     "Kernel sweeps of the main loop that failed (request timeouts, listen "
		     "drops, retransmits): what they count waits until they work again.");
	write_sample(out, METRIC_SWEEP_FAILURES, "sweep", "request_timeouts", a->timeout_sweep.total);
	write_sample(out, METRIC_SWEEP_FAILURES, "sweep", "listen_drops", a->drop_sweep.total);
	write_sample(out, METRIC_SWEEP_FAILURES, "sweep", "retransmits", a->retransmit_sweep.total);
	if (a->tls)
		tls_libs__write_prometheus(a->tls, out);
	if (a->src)
		bpf_stats__write_prometheus(http_source__object(a->src),
					    a->bpf_stats || bpf_stats__sysctl_enabled(), out);
	prom__header(out, METRIC_CONFIG_RELOADS, "counter",
		     "Config reloads on SIGHUP, by result (failed: the running config stayed).");
	write_sample(out, METRIC_CONFIG_RELOADS, "result", "success", a->reloads_ok);
	write_sample(out, METRIC_CONFIG_RELOADS, "result", "failure", a->reloads_failed);
	write_gauge(out, METRIC_CONFIG_LAST_RELOAD_OK,
		    "1 unless the last reload on SIGHUP was refused.", a->last_reload_ok);
	prom__header(out, METRIC_CONFIG_LAST_RELOAD_TIME, "gauge",
		     "Unix time of the last successful reload, or of the start.");
	fprintf(out, METRIC_CONFIG_LAST_RELOAD_TIME " %.0f\n",
		a->last_reload_ok_unix_s);
	prom__header(out, METRIC_STATE_SAVES, "counter",
		     "SLO state saves, by result (unchanged: nothing new since the last, not written).");
	write_sample(out, METRIC_STATE_SAVES, "result", "written", a->save.saves);
	write_sample(out, METRIC_STATE_SAVES, "result", "unchanged", a->save.unchanged);
	write_counter(out, METRIC_STATE_SAVE_ERRORS,
		      "SLO state saves that failed (disk full, I/O error, directory refused): "
		      "the last state saved stays.", a->save.errors);
	write_counter(out, METRIC_STATE_WRITTEN_BYTES,
		      "Bytes of SLO state written to --state-dir.", a->save.bytes);
	prom__header(out, METRIC_CLOCK_STEPS, "counter",
		     "Wall clock steps of 2 s or more seen, by direction (SLOs wait or move back).");
	write_sample(out, METRIC_CLOCK_STEPS, "direction", "back", a->clock.back);
	write_sample(out, METRIC_CLOCK_STEPS, "direction", "forward", a->clock.forward);
	if (a->alerts)
		alert_push__write_metrics(a->alerts, out);
	if (a->otlp)
		otlp_push__write_metrics(a->otlp, out);
	prom__header(out, METRIC_UPTIME, "gauge", "Seconds since the agent started.");
	fprintf(out, METRIC_UPTIME " %.3f\n", (monotonic_ns() - a->started_ns) / 1e9);
	pthread_mutex_unlock(&a->lock);
	return err;
}

int agent__health(void *ctx, char *why, size_t len)
{
	struct agent *a = ctx;
	__u64 now, last, events;
	bool attached;

	pthread_mutex_lock(&a->lock);
	/* after the lock: a drain that began meanwhile must not be in our future */
	now = monotonic_ns();
	attached = a->src;
	last = a->last_drain_ns;
	events = a->events_received;
	pthread_mutex_unlock(&a->lock);
	if (!attached || !last) {
		snprintf(why, len, "not ready: the kernel programs are not attached");
		return -1;
	}
	if (now - last > AGENT_HEALTH_STALL_S * 1000000000ull) {
		snprintf(why, len, "stalled: the ring buffer was last drained %.1f s ago (more than "
			 "%d s)", (now - last) / 1e9, AGENT_HEALTH_STALL_S);
		return -1;
	}
	snprintf(why, len, "ok: kernel programs attached, ring buffer drained %.2f s ago, "
		 "%llu events received", (now - last) / 1e9, (unsigned long long)events);
	return 0;
}
