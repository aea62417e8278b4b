/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The SLOs the agent keeps: the configured ones, and a copy of every
 * default SLO (slotap_config.default_slos) for each endpoint that no
 * explicit SLO of the same SLI covers, made when the endpoint's first
 * request is recorded. Which requests each one counts, good or bad, fed to
 * its engine (slo.c); their Prometheus series; their alert transitions,
 * logged. Not thread-safe: one writer, readers under the caller's lock.
 */
#ifndef SLOTAP_SLO_REGISTRY_H
#define SLOTAP_SLO_REGISTRY_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

struct slotap_config;
struct slo_registry;

/*
 * Endpoints (service, method, route) remembered, with the SLOs that count
 * their requests. Past it an endpoint's requests still reach its explicit
 * SLOs, by a slower search, but no default ones (counted as dropped).
 */
#define SLO_REGISTRY_ENDPOINTS_MAX	65536
/* How often slo_registry__tick() evaluates the alert conditions. */
#define SLO_REGISTRY_ALERT_INTERVAL_S	10

/*
 * now_s: unix time. cfg must outlive the registry. NULL with errno set
 * (EINVAL: a spec the engine refuses; ENOMEM).
 */
struct slo_registry *slo_registry__new(const struct slotap_config *cfg, __u64 now_s);
void slo_registry__free(struct slo_registry *reg);
/* Neither explicit SLOs nor default ones: nothing will ever be counted. */
bool slo_registry__empty(const struct slo_registry *reg);
/* SLOs now: the explicit ones, then the default copies made so far. */
size_t slo_registry__count(const struct slo_registry *reg);

/*
 * The i-th SLO (0 <= i < count), for persistence: its config (a default
 * copy's is its template, whose service is NULL), its labels, its spec,
 * its engine, and a way to swap in an engine restored from disk.
 */
struct slo;
struct slo_config;
struct slo_spec;
const struct slo_config *slo_registry__config(const struct slo_registry *reg, size_t i);
const char *slo_registry__service(const struct slo_registry *reg, size_t i);
/*
 * The endpoint label: a default copy's "METHOD /route"; an explicit SLO's
 * endpoints joined by ",", or "" for the whole service.
 */
const char *slo_registry__endpoint(const struct slo_registry *reg, size_t i);
bool slo_registry__is_default(const struct slo_registry *reg, size_t i);
void slo_registry__spec(const struct slo_registry *reg, size_t i, struct slo_spec *out);
const struct slo *slo_registry__engine(const struct slo_registry *reg, size_t i);
/* Takes ownership of engine, freeing the one it replaces. */
void slo_registry__replace(struct slo_registry *reg, size_t i, struct slo *engine);

/*
 * Restoring default copies (state.c): the default SLO called name (NULL
 * when there is none) and its spec, and adoption of an engine restored for
 * its copy on the endpoint (service, "METHOD /route"). The endpoint is set
 * up as its first request at now_s would, then the copy's engine is
 * replaced. 0: engine taken; otherwise the caller keeps it: -ENOENT (no
 * such default SLO, or an explicit SLO covers the endpoint), -ENOSPC
 * (max_default_slos or SLO_REGISTRY_ENDPOINTS_MAX reached), -EINVAL (not
 * "METHOD /route"), -ENOMEM.
 */
const struct slo_config *slo_registry__default_spec(const struct slo_registry *reg,
						     const char *name, struct slo_spec *out);
/*
 * Around restoring saved default copies: endpoints made meanwhile get only
 * the copies adopted, so that copies not saved (dropped at the cap, or
 * starting fresh) cannot take the room of saved ones; the end gives every
 * endpoint the copies it still lacks, as its first request would have.
 */
void slo_registry__restore_begin(struct slo_registry *reg);
void slo_registry__restore_end(struct slo_registry *reg, __u64 now_s);
int slo_registry__adopt_default(struct slo_registry *reg, const char *name, const char *service,
				const char *endpoint, struct slo *engine, __u64 now_s);

/*
 * What one answered request was, for the SLOs that count it: its status
 * (HTTP's, or with grpc the gRPC code, which bad_grpc_codes judges
 * instead of bad_statuses) and latency. An undecoded status is neither
 * good nor bad for availability SLOs; a streaming call's latency is not
 * the call's, and latency SLOs skip it unless streaming: include
 * (docs/design-http2.md, section 7).
 */
struct slo_request {
	unsigned int status;
	__u64 latency_ns;
	bool grpc;
	bool status_undecoded;
	bool streaming;
};

/*
 * One measured request, at unix time now_s (an HTTP/1 one: status and
 * latency; _request: any). An endpoint whose route is ROUTE_UNDECODED gets
 * no default SLO copies: only the SLOs about its whole service count it.
 */
void slo_registry__record_request(struct slo_registry *reg, const char *service,
				  const char *method, const char *route,
				  const struct slo_request *r, __u64 now_s);
void slo_registry__record(struct slo_registry *reg, const char *service, const char *method,
			  const char *route, unsigned int status, __u64 latency_ns, __u64 now_s);
/*
 * The same in two steps, for callers that cache the first: the SLOs an
 * endpoint's requests feed, resolved (and its default copies made, as its
 * first request at now_s would), valid while reg lives. 0 with *out NULL
 * when no SLO is about any service; -ENOSPC or -ENOMEM when the endpoint
 * cannot be remembered (slo_registry__record() counts each request then).
 */
struct slo_endpoint;
int slo_registry__resolve(struct slo_registry *reg, const char *service, const char *method,
			  const char *route, __u64 now_s, struct slo_endpoint **out);
void slo_registry__record_endpoint(struct slo_registry *reg, struct slo_endpoint *ep,
				   unsigned int status, __u64 latency_ns, __u64 now_s);
void slo_registry__record_endpoint_request(struct slo_registry *reg, struct slo_endpoint *ep,
					   const struct slo_request *r, __u64 now_s);
/*
 * count requests of service that failed below HTTP, at unix time now_s: bad
 * events of the SLOs whose transport_failures say so. With method and
 * route (a request was read, then reset, closed or timed out), those of its
 * endpoint; without (NULL: a connection refused or dropped before any
 * request), the explicit SLOs about the whole service only.
 */
void slo_registry__record_failure(struct slo_registry *reg, const char *service,
				  const char *method, const char *route, __u64 count, __u64 now_s);

/*
 * One outbound call of a tracked process to dependency (answered with
 * status after latency_ns, or failed: a connect or the call itself), for
 * the SLOs about that dependency.
 */
void slo_registry__record_call(struct slo_registry *reg, const char *dependency,
			       unsigned int status, __u64 latency_ns, bool failed, __u64 now_s);
void slo_registry__record_call_request(struct slo_registry *reg, const char *dependency,
				       const struct slo_request *r, bool failed, __u64 now_s);

/*
 * Called, from within the record functions, for every SLO that counts the
 * request (or count of them) being recorded bad: its name and labels.
 */
typedef void (*slo_registry_bad_fn)(void *ctx, const char *slo, const char *service,
				    const char *endpoint, __u64 count);
void slo_registry__set_bad_hook(struct slo_registry *reg, slo_registry_bad_fn fn, void *ctx);

/*
 * Alerting: the multiwindow burn-rate rules and the policy conditions of
 * every SLO, evaluated now. Each condition that starts or ends since the
 * last evaluation is logged, one line with the on-call payload (SLO,
 * service, endpoint, severity, condition, burn rates against the factor,
 * SLI against the objective, budget remaining). Returns how many started
 * or ended. tick() evaluates at most every SLO_REGISTRY_ALERT_INTERVAL_S,
 * first moving back the SLOs of a clock set far back (slo__clock()).
 */
size_t slo_registry__evaluate_alerts(struct slo_registry *reg, __u64 now_s);
void slo_registry__tick(struct slo_registry *reg, __u64 now_s);
/*
 * A reload: carry_alerts copies the alert state and the exported counters
 * (slo__take_counters()) of every SLO of from that to has too (same name,
 * service, endpoint), so that only real transitions are logged afterwards
 * and no counter of the process steps back; once the reload is done, end_removed_alerts logs
 * the alerts of the SLOs to no longer has as ended. 0 or -ENOMEM.
 */
int slo_registry__carry_alerts(struct slo_registry *to, const struct slo_registry *from);
int slo_registry__end_removed_alerts(struct slo_registry *to, const struct slo_registry *from,
				     __u64 now_s);
/* The conditions of SLO i active at the last evaluation: bit r for burn-rate
 * rule r of slo_default_alert_rules, bit SLO_DEFAULT_ALERT_RULES + p for
 * policy condition p (exhausted, 70% of period, 30% in 24h, 50% in 7d). */
unsigned int slo_registry__alerts(const struct slo_registry *reg, size_t i);
/* Bit's severity and condition label (as slotap_slo_alert_active's); false past the last. */
bool slo_registry__alert_condition(unsigned int bit, const char **severity, char *cond,
				   size_t len);

/*
 * The names the agent's alerts and series use, shared with slotap rules:
 * a duration as people write it ("5m", "28d"), an SLO's window label
 * ("28d", "week", "4w", "month"), a burn-rate rule's condition
 * ("burn_rate_1h_5m_14.4"), and policy condition p (0: exhausted, 70% of
 * the period, 30% in 24h, 50% in 7d; -ENOENT past the last).
 */
struct slo_alert_rule;
void slo_registry__duration_label(char *buf, size_t len, __u64 s);
void slo_registry__window_label(char *buf, size_t len, const struct slo_config *sc);
void slo_registry__rule_condition(char *buf, size_t len, const struct slo_alert_rule *rule);
int slo_registry__policy(size_t p, unsigned int *bit, const char **severity,
			 const char **condition);

/* slotap_slo_* series; returns 0, -ENOMEM or -EIO. */
int slo_registry__write_prometheus(const struct slo_registry *reg, FILE *out, __u64 now_s);

#endif
