/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent: what turns the kernel's events into metric families and SLOs,
 * shared by the modules that make it up:
 *
 *   agent.c          set-up and tear-down, the kernel source, draining, saving state
 *   event_router.c   each event (and each kernel counter swept) to its families and SLOs
 *   reload.c         SIGHUP: a new config, its kernel programs, the SLO state carried over
 *   self_metrics.c   /metrics: the families, then the agent's own counters
 *
 * main.c keeps the flags, the signals and the loop. Threads: the main one
 * drains the ring buffer, libmicrohttpd's serve /metrics, and the push
 * threads (alert_push.h, otlp_push.h) send alerts and metrics out, these
 * with no capability (privileges.h); lock guards what they share.
 */
#ifndef SLOTAP_AGENT_H
#define SLOTAP_AGENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "config.h"
#include "histogram.h"
#include "http_source.h"
#include "trouble.h"
#include "state_journal.h"

#define SLOTAP_VERSION		"0.1.0"
/* How often the consumer drains the ring when nothing wakes it (see main.c). */
#define POLL_INTERVAL_MS	100

struct agent {
	pthread_mutex_t lock;		/* aggregator, services, counters below */
	/* settings from the command line */
	const char *config_path;	/* NULL: the built-in configuration */
	__u32 ringbuf_bytes;		/* 0: ringbuf_default_bytes() */
	const char *const *tls_paths;	/* --tls-library */
	unsigned int n_tls_paths;
	bool no_tls;			/* --no-tls */
	struct tls_libs *tls;		/* the files the TLS uprobes are on; NULL: --no-tls */
	struct slotap_config cfg;
	struct latency_buckets buckets;
	struct aggregator *agg;
	struct aggregator *rpc;			/* gRPC server calls */
	struct aggregator *h2_undecoded;	/* by service, field, cause */
	/* Redis (redis_events.c): commands served; sent, and sent unanswered */
	struct aggregator *db_server, *db_client, *db_client_failures;
	struct aggregator *grpc_streaming;	/* by service, method */
	struct h2_conns *h2;			/* HTTP/2 connections, from the kernel's records */
	struct aggregator *transport_failures;	/* server side, by service and reason */
	struct aggregator *retransmits;		/* server connections, by service */
	struct outbound *outbound;
	struct service_registry *services;
	struct slo_registry *slos;
	struct endpoint_cache *endpoints;	/* answered requests' series and SLOs */
	struct dependency_blame *blame;	/* failing calls of each process, lately */
	struct aggregator *blamed;	/* bad SLO events, by the dependency blamed */
	/* The server request being recorded, for blame: valid while blaming. */
	struct { bool on; __u32 tgid; __u64 start_ns, end_ns; } blaming;
	const char *state_dir;		/* NULL: no persistence */
	struct http_source *src;
	/* what sources a reload replaced had counted: counters never go back */
	struct http_source_counters retired;
	__u64 drain_unix_s;		/* wall clock of the current drain, for the SLO windows */
	__u64 events_received;
	__u64 events_unattributed;	/* no memory for a new service or series */
	__u64 events_unknown_protocol;	/* a protocol this agent has no families for */
	__u64 paths_truncated;		/* path longer than the kernel keeps */
	__u64 late_responses;		/* responses to requests reported timed out */
	__u64 started_ns;
	__u64 reloads_ok, reloads_failed;
	bool bpf_stats;			/* --bpf-stats: the kernel counts run time */
	/* saving the SLO state: main thread only, outside lock */
	struct {
		struct state_journal journal;	/* what the state on disk holds */
		__u64 content_hash;	/* of the last state written */
		bool written;		/* content_hash is valid */
		__u64 saves, unchanged, errors, bytes;
		struct trouble trouble;	/* a save failing, reported while it lasts */
	} save;
	/* the kernel sweeps of the main loop: failures reported while they last */
	struct trouble timeout_sweep, drop_sweep, retransmit_sweep;
	/* wall clock minus monotonic clock, in seconds: a change is a clock step */
	struct {
		bool known;
		__s64 offset_s;
		__u64 back, forward;	/* steps seen, under lock */
		__u64 reported_ns, unreported;
	} clock;
	bool last_reload_ok;
	double last_reload_ok_unix_s;	/* or the start */
	/* pushing (--alertmanager.url, --otlp.endpoint): NULL when not asked for */
	struct alert_push *alerts;
	struct otlp_push *otlp;
	__u64 last_drain_ns;		/* monotonic, under lock: /healthz */
};

/* The families, registries and caches for a->cfg (loaded by the caller). */
int agent__init(struct agent *a);
void agent__free(struct agent *a);	/* a->cfg too */

/* Every metric family the agent keeps: AGENT_FAMILIES_MAX at most. */
#define AGENT_FAMILIES_MAX	15
size_t agent__families(struct agent *a, struct aggregator *out[AGENT_FAMILIES_MAX]);
/* a->cfg's max_series_per_metric on every family (at start and on reload). */
void agent__limit_series(struct agent *a);

/* The kernel side for cfg, loaded and not attached yet. */
int agent__open_source(struct agent *a, const struct slotap_config *cfg, struct http_source **out);

/*
 * What the kernel sent, as of now_s; all: with what CPUs still have staged
 * (see http_source.h). Returns the records drained, or a negative error.
 * The _locked form with a->lock held.
 */
int agent__drain_locked(struct agent *a, bool all, __u64 now_s);
int agent__drain(struct agent *a, bool all);

/*
 * The SLO windows to disk, if they changed since the last save: a snapshot
 * under a->lock (memory only), written outside it. A failure is reported
 * once while it lasts (again when it changes, or hourly), counted in
 * slotap_state_save_errors_total, and the agent goes on.
 */
void agent__save_state(struct agent *a);

/* event_router.c: the agent's own families */
struct aggregator_family;
extern const struct aggregator_family agent_transport_failures;	/* by service, reason */
extern const struct aggregator_family agent_retransmits;	/* by service */
extern const struct aggregator_family agent_blamed_events;	/* by slo, ..., dependency */
extern const struct aggregator_family agent_rpc_server;		/* gRPC server calls */
extern const struct aggregator_family agent_h2_undecoded;	/* by service, field, cause */
extern const struct aggregator_family agent_grpc_streaming;	/* by service, method */

/* One event of a drain (http_source's on_event), a->lock held. */
int agent__route_event(void *ctx, const struct http_event *e);
/* One record of the kernel's h2_records ring (http_source's on_h2_record), a->lock held. */
int agent__h2_record(void *ctx, const struct h2_record *r, size_t len);
/* One HTTP/2 request or gRPC call (h2_conn's on_event), a->lock held. */
struct h2_event;
void agent__route_h2_event(void *ctx, const struct h2_event *h);
/* slo_registry's bad-event hook: blame the dependency that failed meanwhile. */
void agent__blame_bad_event(void *ctx, const char *slo, const char *service,
			    const char *endpoint, __u64 count);
/* What the kernel counts rather than reports: listen drops, retransmits. */
void agent__sweep_transport_locked(struct agent *a);
void agent__sweep_transport(struct agent *a);
/*
 * TLS: the uprobes on --tls-library files, the usual libssl files and
 * those of the processes serving now (0, or -errno when a --tls-library
 * file cannot be probed); then, each second, those of processes new since.
 */
int agent__tls_start(struct agent *a);
void agent__tls_refresh(struct agent *a);
/* Every file the TLS uprobes are on, to a reload's new kernel source. */
int agent__tls_attach(struct agent *a, struct http_source *src);
/* A configured service's retransmits are 0 until there are some, not absent. */
void agent__retransmits_zero(struct agent *a);

/* The SLO alerts of the last evaluation to the Alertmanager push, if any (takes a->lock). */
void agent__push_alerts(struct agent *a);

/* reload.c: SIGHUP; ep is the main loop's epoll set (the ring buffer's fd moves). */
void agent__reload(struct agent *a, int ep);

/* self_metrics.c: the metrics_server callback. */
int agent__write_metrics(void *ctx, FILE *out);
/*
 * /healthz: healthy while the kernel programs are attached and the ring
 * buffer was drained within AGENT_HEALTH_STALL_S (the main loop drains it
 * every 20 to 100 ms; a reload's drainer thread while programs load).
 */
#define AGENT_HEALTH_STALL_S	10
int agent__health(void *ctx, char *why, size_t len);

#endif /* SLOTAP_AGENT_H */
