/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent's YAML configuration: which services to measure, how to group
 * their request paths into routes, and the latency thresholds of the SLIs.
 * config__default_yaml documents every key.
 */
#ifndef SLOTAP_CONFIG_H
#define SLOTAP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "route.h"
#include "slo.h"

/* The source name messages use for config__default_yaml. */
#define CONFIG_DEFAULT_SOURCE		"<default>"

#define CONFIG_NAME_MAX			63
/*
 * Process names are compared with the executable's name as the kernel
 * side keeps it: 16 bytes with the NUL, as a comm (EXE_NAME_LEN).
 */
#define CONFIG_EXE_NAME_MAX		15
/*
 * Executable paths of all services: the agent holds up to
 * SERVICES_EXE_FILES descriptors open for each (user/services.c).
 */
#define CONFIG_MAX_EXE_PATHS		128
/* Cgroups of all services, and the length of one's path. */
#define CONFIG_MAX_CGROUPS		1024
#define CONFIG_CGROUP_PATH_MAX		1024
/* service_id is a __u16 and SERVICE_ID_AUTO (0xffff) is reserved. */
#define CONFIG_MAX_SERVICES		0xffff
/* Every threshold multiplies the number of exported series. */
#define CONFIG_MAX_THRESHOLDS		32
/* Upper bound of max_routes and max_routes_per_service: a cardinality cap. */
#define CONFIG_ROUTES_LIMIT		10000
#define CONFIG_DEFAULT_MAX_ROUTES	100
#define CONFIG_DEFAULT_REQUEST_TIMEOUT_NS	(30ull * 1000000000ull)
/* SLOs: each costs up to SLO_MEM_MAX_BYTES of engine state. */
#define CONFIG_MAX_SLOS			10000
/* default_slos items: each one is an SLO per endpoint. */
#define CONFIG_MAX_DEFAULT_SLOS		16
/* max_series_per_metric: the series a metric family keeps, 1..CONFIG_MAX_SERIES_LIMIT. */
#define CONFIG_DEFAULT_MAX_SERIES	5000
#define CONFIG_MAX_SERIES_LIMIT		1000000
/* max_default_slos: at most CONFIG_MAX_SLOS, default 1000 (about 22 MB). */
#define CONFIG_DEFAULT_MAX_DEFAULT_SLOS	1000
/* min_events: the default of every SLO, and the largest value taken. */
#define CONFIG_DEFAULT_MIN_EVENTS	20
#define CONFIG_MAX_MIN_EVENTS		1000000000
/* runbook_url: printable ASCII, no spaces, at most this long. */
#define CONFIG_RUNBOOK_URL_MAX		1024
/* HTTP/2 bounds (h2_conn.h): their defaults and limits. */
#define CONFIG_DEFAULT_MAX_H2_CONNECTIONS	16384
#define CONFIG_MAX_H2_CONNECTIONS_LIMIT		(1u << 20)
#define CONFIG_DEFAULT_MAX_H2_STREAMS		65536
#define CONFIG_MAX_H2_STREAMS_LIMIT		(1u << 22)
/* Larger files are refused rather than read: likely not a config at all. */
#define CONFIG_FILE_MAX			(4u << 20)

struct service_config {
	char *name;		/* 1..63 chars of [A-Za-z0-9_.-], unique */
	__u16 *ports;		/* match.port, in file order; no port in two services */
	size_t n_ports;
	/*
	 * match.process: a name without '/' (compared with the basename of
	 * the process's executable, so at most 15 bytes) or an absolute
	 * executable path. No entry is in two services.
	 */
	char **processes;
	size_t n_processes;
	/*
	 * match.cgroup: cgroup v2 paths from the hierarchy's root ("/a/b",
	 * no "." or ".." components, no empty ones, not "/" itself). No entry
	 * is in two services.
	 */
	char **cgroups;
	size_t n_cgroups;
	char **routes;		/* validated route templates, in file order, unique */
	size_t n_routes;
	unsigned max_routes;	/* 0 = use slotap_config.max_routes_per_service */
	enum route_mode route_mode;	/* its own route_mode, else slotap_config's */
};

/* At most this many dependencies: each one is looked up per client event. */
#define CONFIG_MAX_DEPENDENCIES		64

/*
 * A destination of the tracked processes' outbound calls, named so that
 * it gets SLOs of its own and the bad requests of the services calling it
 * can be blamed on it.
 */
struct dependency_config {
	char *name;		/* as a service name; unique, and no service's */
	__u16 port;		/* the destination port */
	bool any_address;	/* no address given: every host on that port */
	__u8 address[16];	/* IPv6, or IPv4-mapped (::ffff:a.b.c.d), as events carry it */
};

enum slo_sli_kind { SLO_SLI_AVAILABILITY, SLO_SLI_LATENCY };

/* Status codes 0..599: bit (code % 8) of byte code / 8 of bad_status. */
#define CONFIG_STATUS_MAX		599

struct slo_config {
	char *name;		/* 1..63 chars of [A-Za-z0-9_.-], unique among slos */
	char *service;		/* required; the service_name the SLO is about */
	/*
	 * service names one of dependencies: the SLO counts the calls the
	 * tracked processes make to it (never with endpoints).
	 */
	bool dependency;
	/*
	 * "METHOD /route", e.g. "GET /api/items/{id}": METHOD one of GET HEAD
	 * POST PUT DELETE PATCH OPTIONS CONNECT TRACE, one space, a template
	 * that route_template__validate() accepts; or a gRPC method,
	 * "grpc pkg.Service/Method". In file order, unique.
	 * n_endpoints 0 = the whole service.
	 */
	char **endpoints;
	size_t n_endpoints;
	enum slo_sli_kind sli;
	/*
	 * Ratio in (0,1): YAML gives percent, e.g. 99.5 -> 0.995 (the double
	 * nearest the decimal, as strtod("0.995") gives). Its rounding to
	 * parts per billion (the engine's precision) is in 1..999999999.
	 */
	double objective;
	__u64 threshold_ns;	/* latency SLOs: good = latency <= threshold; availability: 0 */
	/*
	 * Availability SLOs: HTTP status codes 0..599 counted bad, bit
	 * (code % 8) of byte code / 8; default 500..599. Latency SLOs: all 0.
	 */
	__u8 bad_status[75];
	/*
	 * Availability SLOs: the gRPC codes (0..16) counted bad, bit c for
	 * code c; default GRPC_BAD_CODES_DEFAULT. gRPC calls are judged by
	 * these, HTTP requests by bad_status. Latency SLOs: 0.
	 */
	__u32 bad_grpc_codes;
	/*
	 * Latency SLOs: count streaming gRPC calls too (streaming: include),
	 * whose latency is time to first message; default: they are skipped.
	 */
	bool streaming_include;
	enum slo_window_kind window;	/* from user/slo.h */
	/*
	 * Rolling: the length in seconds, one slo__new() accepts (60 s .. 31 d,
	 * a whole number of buckets). Calendar: 0.
	 */
	__u64 window_s;
	bool timeslices;	/* budgeting: timeslices (default occurrences) */
	/*
	 * Requests that failed below HTTP (connection refused, dropped on a
	 * full listen queue, reset or closed before any response, timed out)
	 * as bad events, or not counted at all. Default: bad for availability
	 * SLOs, ignored by latency ones; see slo_config__counts_failures().
	 */
	enum { SLO_FAILURES_DEFAULT = 0, SLO_FAILURES_BAD, SLO_FAILURES_IGNORE } transport_failures;
	/*
	 * Low-traffic protection (slo_spec.min_events): its own min_events, or
	 * once the config is loaded slotap_config.min_events.
	 */
	__u64 min_events;
	bool has_min_events;
	/* runbook_url: where on-call finds what to do, in alerts; NULL: none */
	char *runbook_url;
};

static inline bool slo_config__counts_failures(const struct slo_config *sc)
{
	if (sc->transport_failures == SLO_FAILURES_DEFAULT)
		return sc->sli == SLO_SLI_AVAILABILITY;
	return sc->transport_failures == SLO_FAILURES_BAD;
}

struct slotap_config {
	struct service_config *services;	/* index = service_id */
	size_t n_services;
	/*
	 * Sorted ascending, deduped, at least one, at most
	 * CONFIG_MAX_THRESHOLDS; holds every latency SLO's threshold_ns.
	 */
	__u64 *latency_thresholds_ns;
	size_t n_thresholds;
	unsigned max_routes_per_service;
	/* route_mode at the top: the services' default, and discovered services' mode */
	enum route_mode route_mode;
	__u64 request_timeout_ns;	/* unanswered longer: a failed request */
	struct dependency_config *dependencies;	/* in file order */
	size_t n_dependencies;
	struct slo_config *slos;	/* in file order, at most CONFIG_MAX_SLOS */
	size_t n_slos;
	/*
	 * Templates of the SLOs every endpoint gets unless an explicit SLO of
	 * the same sli covers it: service NULL, no endpoints, names unique
	 * among them (not among slos: the endpoint label tells them apart).
	 * In file order, at most CONFIG_MAX_DEFAULT_SLOS; without the key, the
	 * ones config__default_yaml shows; "default_slos: []" has none.
	 */
	struct slo_config *default_slos;
	size_t n_default_slos;
	/* The most default SLO instances (endpoints x templates), 0..CONFIG_MAX_SLOS. */
	unsigned max_default_slos;
	/* Series of each metric family; beyond, one overflow series. */
	unsigned max_series_per_metric;
	/* min_events of the SLOs without their own, 0..CONFIG_MAX_MIN_EVENTS */
	__u64 min_events;
	/* HTTP/2 connections followed, and requests open on them, at most. */
	unsigned max_h2_connections;
	unsigned max_h2_streams;
	char *source;		/* file name, or CONFIG_DEFAULT_SOURCE, for messages */
	/* no document with content (an empty file, comments alone): a reload refuses it */
	bool empty;
};

/*
 * Both loaders overwrite *cfg without freeing it (it may be uninitialised)
 * and return 0, or a negative errno with one line in err:
 * "SOURCE:LINE:COLUMN: message" for bad content (-EINVAL), "PATH: strerror"
 * for I/O errors. On error *cfg is left zeroed. An empty document (nothing
 * but comments, or "---" alone) loads the defaults, as if it were "{}".
 * The input is a YAML stream: at most one slotap document and any number
 * of OpenSLO v1 documents (apiVersion: openslo/v1, user/openslo.h), whose
 * SLOs follow the slotap document's in slos; empty documents are skipped.
 * source_name may be NULL ("<string>"); yaml need not be NUL-terminated.
 */
int config__load_file(struct slotap_config *cfg, const char *path,
		      char *err, size_t errlen);
int config__load_string(struct slotap_config *cfg, const char *yaml, size_t len,
			const char *source_name, char *err, size_t errlen);
/* Safe on a zeroed or partially filled cfg; leaves it zeroed. */
void config__free(struct slotap_config *cfg);

/*
 * What a reload needs new kernel programs for (their service filters and
 * ids): the first key that differs between the running config and the
 * next one among the services' order, names and match, e.g.
 * "services[1].match.port", written in buf if it needs formatting; NULL
 * when they agree and the rest (routes, SLOs, dependencies,
 * request_timeout, ...) applies to the running ones.
 */
const char *config__kernel_key(const struct slotap_config *now, const struct slotap_config *next,
				char *buf, size_t size);

/* The dependency an outbound call to (addr, port) goes to: an index, or -1. */
int config__dependency_of(const struct slotap_config *cfg, const __u8 addr[16], __u16 port);

/* The built-in configuration, NUL-terminated, documented by its comments. */
extern const char config__default_yaml[];

/*
 * "<digits>[.<digits>]<unit>" with unit ns, us, µs, ms, s, m or h, e.g.
 * "300ms", "1.5s". Fractions of a nanosecond are truncated; the result must
 * be > 0 and fit in a __u64. Returns 0 or -EINVAL (*out untouched).
 */
int parse_duration_ns(const char *s, __u64 *out);

#endif /* SLOTAP_CONFIG_H */
