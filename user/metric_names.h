/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The catalogue of what slotap exports: every metric's name and the label
 * sets and values the exporters share with `slotap status`, which reads
 * them back. The one place to rename or add a metric; README's table is
 * its documentation.
 */
#ifndef SLOTAP_METRIC_NAMES_H
#define SLOTAP_METRIC_NAMES_H

/* Request histograms (OpenTelemetry's HTTP conventions); _count is the request counter. */
#define METRIC_HTTP_SERVER	"http_server_request_duration_seconds"
	/* service_name, http_request_method, http_route, network_protocol_version,
	 * http_response_status_code */
#define METRIC_HTTP_CLIENT	"http_client_request_duration_seconds"
	/* service_name, server_address, server_port, http_request_method,
	 * network_protocol_version, http_response_status_code */
/* gRPC calls (OpenTelemetry's stable RPC conventions); not in the HTTP families */
#define METRIC_RPC_SERVER	"rpc_server_call_duration_seconds"
	/* service_name, rpc_system_name, rpc_method, rpc_response_status_code */
#define METRIC_RPC_CLIENT	"rpc_client_call_duration_seconds"
	/* service_name, server_address, server_port, rpc_system_name, rpc_method,
	 * rpc_response_status_code */
/* The values of network_protocol_version and rpc_system_name */
#define PROTOCOL_VERSION_HTTP1	"1.1"	/* the kernel does not tell 1.0 apart */
#define PROTOCOL_VERSION_HTTP2	"2"
#define RPC_SYSTEM_GRPC		"grpc"

/*
 * Database operations (OpenTelemetry's database conventions): Redis's
 * commands, served and called. No server-side metric is defined there:
 * ours is the client one's counterpart.
 */
#define METRIC_DB_SERVER	"db_server_operation_duration_seconds"
	/* service_name, db_system_name, db_operation_name, db_response_status_code */
#define METRIC_DB_CLIENT	"db_client_operation_duration_seconds"
	/* service_name, server_address, server_port, db_system_name, db_operation_name,
	 * db_response_status_code */
#define METRIC_DB_CLIENT_FAILURES	"slotap_db_client_operation_failures_total"
	/* service_name, server_address, server_port, reason */

/* Failures below HTTP and transport signals */
#define METRIC_TRANSPORT_FAILURES	"slotap_transport_failures_total"	/* service, reason */
#define METRIC_TCP_RETRANSMITS		"slotap_tcp_retransmits_total"	/* service */
#define METRIC_HTTP_CLIENT_FAILURES	"slotap_http_client_request_failures_total"
#define METRIC_TCP_CONNECT		"slotap_tcp_connect_duration_seconds"
#define METRIC_TCP_CONNECT_FAILURES	"slotap_tcp_connect_failures_total"
#define METRIC_OUTBOUND_OVERFLOW	"slotap_outbound_destinations_overflow_total"
#define METRIC_OUTBOUND_RPC_METHODS_OVERFLOW	"slotap_outbound_rpc_methods_overflow_total"

/* Routes */
#define METRIC_HTTP_ROUTES		"slotap_http_routes"		/* service_name */
#define METRIC_HTTP_ROUTE_OVERFLOW	"slotap_http_route_overflow_total"	/* service_name */

/* SLOs: every series has the labels LABELS_SLO */
#define LABELS_SLO			"slo", "service", "endpoint"
#define METRIC_SLO_PREFIX		"slotap_slo_"
#define METRIC_SLO_EVENTS		METRIC_SLO_PREFIX "events_total"	/* result: good, bad */
#define METRIC_SLO_WINDOW_EVENTS	METRIC_SLO_PREFIX "window_events"	/* result */
#define METRIC_SLO_OBJECTIVE		METRIC_SLO_PREFIX "objective_ratio"
#define METRIC_SLO_SLI			METRIC_SLO_PREFIX "sli_ratio"	/* window */
#define METRIC_SLO_BUDGET_REMAINING	METRIC_SLO_PREFIX "error_budget_remaining_ratio"
#define METRIC_SLO_BURN_RATE		METRIC_SLO_PREFIX "burn_rate"	/* window: slo_burn_window_names */
#define METRIC_SLO_EXHAUSTION		METRIC_SLO_PREFIX "budget_exhaustion_seconds"
#define METRIC_SLO_ALERT		METRIC_SLO_PREFIX "alert_active"	/* severity, condition */
#define METRIC_SLO_DEPLETION		METRIC_SLO_PREFIX "error_budget_depletion_per_hour_ratio"
#define METRIC_SLO_BLAMED		METRIC_SLO_PREFIX "bad_events_blamed_total"	/* + dependency */
#define METRIC_SLO_DEFAULT_INSTANCES	METRIC_SLO_PREFIX "default_instances"
#define METRIC_SLO_DEFAULTS_DROPPED	METRIC_SLO_PREFIX "default_instances_dropped_total"
#define METRIC_SLO_DEFAULT_REQS_DROPPED	METRIC_SLO_PREFIX "default_requests_dropped_total"

/* Low-traffic protection (min_events); the alerts' names are alert_scheme.h's */
#define METRIC_SLO_INSUFFICIENT_DATA	METRIC_SLO_PREFIX "insufficient_data"	/* 0 or 1 */
/* HTTP/2 and gRPC (h2_conn.c) */
#define METRIC_H2_UNDECODED		"slotap_h2_fields_undecoded_total"	/* service_name, field, cause */
#define METRIC_GRPC_STREAMING		"slotap_grpc_streaming_calls_total"	/* service_name, rpc_method */
#define METRIC_H2_GAPS			"slotap_h2_gaps_total"			/* cause */
#define METRIC_H2_CONNECTIONS		"slotap_h2_connections"			/* state */
#define METRIC_H2_EVICTED		"slotap_h2_connections_evicted_total"
#define METRIC_H2_STREAMS_OVERFLOW	"slotap_h2_streams_overflow_total"
#define METRIC_H2_RECORDS_DROPPED	"slotap_h2_records_dropped_total"	/* reason */
#define METRIC_H2_STREAMS_UNCOUNTED	"slotap_h2_streams_uncounted_total"	/* reason */
#define METRIC_H2_STREAMS_FORGOTTEN	"slotap_h2_streams_forgotten_total"	/* reason */
#define METRIC_H2_BLOCKS_LOST		"slotap_h2_header_blocks_lost_total"	/* reason */
#define METRIC_GRPC_FIRST_DATA_UNTRACKED	"slotap_grpc_calls_ended_at_trailers_total"

/* The agent itself */
#define METRIC_BUILD_INFO		"slotap_build_info"
#define METRIC_EVENTS_RECEIVED		"slotap_events_received_total"
#define METRIC_EVENTS_LOST		"slotap_events_lost_total"	/* reason */
#define METRIC_PATHS_TRUNCATED		"slotap_http_paths_truncated_total"
#define METRIC_LATE_RESPONSES		"slotap_http_late_responses_total"
#define METRIC_TRACKED_CONNECTIONS	"slotap_tracked_connections"
#define METRIC_CONNECTIONS_TRACKED	"slotap_connections_tracked_total"
#define METRIC_RINGBUF_BACKLOG		"slotap_ringbuf_backlog_bytes"
#define METRIC_RINGBUF_SIZE		"slotap_ringbuf_size_bytes"
#define METRIC_RINGBUF_WAKEUPS		"slotap_ringbuf_wakeups_total"
#define METRIC_H2_RECORDS		"slotap_h2_records_total"	/* kind */
#define METRIC_CONFIG_RELOADS		"slotap_config_reloads_total"	/* result */
#define METRIC_CONFIG_LAST_RELOAD_OK	"slotap_config_last_reload_successful"
#define METRIC_CONFIG_LAST_RELOAD_TIME	"slotap_config_last_reload_success_timestamp_seconds"
#define METRIC_UPTIME			"slotap_uptime_seconds"
#define METRIC_STATE_SAVES		"slotap_state_saves_total"	/* result */
#define METRIC_STATE_SAVE_ERRORS	"slotap_state_save_errors_total"
#define METRIC_STATE_WRITTEN_BYTES	"slotap_state_written_bytes_total"
#define METRIC_CLOCK_STEPS		"slotap_clock_steps_total"	/* direction */
#define METRIC_SERIES			"slotap_metric_series"		/* metric */
#define METRIC_SWEEP_FAILURES		"slotap_sweep_failures_total"	/* sweep */
#define METRIC_BPF_STATS_ENABLED	"slotap_bpf_stats_enabled"
#define METRIC_BPF_RUNS			"slotap_bpf_program_runs_total"		/* program */
#define METRIC_BPF_RUN_SECONDS		"slotap_bpf_program_run_seconds_total"	/* program */
#define METRIC_BPF_MAP_CAPACITY		"slotap_bpf_map_capacity"		/* map */
#define METRIC_BPF_MAP_ENTRIES		"slotap_bpf_map_entries"		/* map */
#define METRIC_SERIES_LIMIT		"slotap_metric_series_limit"
#define METRIC_SERIES_OVERFLOW		"slotap_metric_series_overflow_total"	/* metric */

/* The metrics endpoint (metrics_server.c) */
#define METRIC_WEB_UNAUTHORIZED		"slotap_web_requests_unauthorized_total"
	/* reason: no_credentials, wrong_credentials */
#define METRIC_WEB_REJECTED		"slotap_web_connections_rejected_total"
	/* reason: per_client_limit, connection_limit, client_certificate */
#define METRIC_WEB_TIMED_OUT		"slotap_web_connections_timed_out_total"

/* Pushing (alert_push.c, otlp_push.c) */
#define METRIC_AM_ALERTS_SENT		"slotap_alertmanager_alerts_sent_total"	/* alertmanager */
#define METRIC_AM_FAILURES		"slotap_alertmanager_push_failures_total"
	/* alertmanager, reason: connect, timeout, http_4xx, http_5xx, other */
#define METRIC_AM_DROPPED		"slotap_alertmanager_alerts_dropped_total"
	/* reason: too_many, undelivered */
#define METRIC_AM_ALERTS		"slotap_alertmanager_alerts"	/* state: active, resolved */
#define METRIC_OTLP_EXPORTS		"slotap_otlp_exports_total"	/* sent */
#define METRIC_OTLP_POINTS		"slotap_otlp_data_points_sent_total"
#define METRIC_OTLP_FAILURES		"slotap_otlp_export_failures_total"	/* reason, as above */
#define METRIC_OTLP_DROPPED		"slotap_otlp_exports_dropped_total"
	/* reason: superseded, encode */
/* TLS (tls_libs.c) */
#define METRIC_TLS_PROBES		"slotap_tls_probes"	/* path, found, file */
#define METRIC_TLS_ATTACH_FAILURES	"slotap_tls_attach_failures_total"

#endif /* SLOTAP_METRIC_NAMES_H */
