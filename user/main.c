// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * slotap: request latency and errors of unmodified services, measured
 * from the kernel, exported for Prometheus. This file: the flags, the
 * signals and the loop; the agent itself is agent.h's modules.
 */
#include <argp.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include "agent.h"
#include "alert_push.h"
#include "bpf_stats.h"
#include "config.h"
#include "http_push.h"
#include "http_source.h"
#include "log.h"
#include "metrics_server.h"
#include "otlp_push.h"
#include "privileges.h"
#include "rules.h"
#include "services.h"
#include "slo_registry.h"
#include "state.h"
#include "status.h"
#include "util.h"
#include "web_config.h"

/*
 * How often the consumer drains the ring without being woken: while events
 * flow, often enough that the ring never fills to the point where the
 * kernel wakes it (half the ring, see http_source.c). A wakeup is work on
 * the serving process's CPU, and its irq_work tends to pull the agent over
 * to that CPU, next to the server it measures.
 */
#define BUSY_POLL_INTERVAL_MS	20
/* Executable files and cgroups of services: an upgrade, a unit's restart. */
#define IDENTITY_REFRESH_INTERVAL_MS	1000
/* A request timeout is reported up to this late. */
#define TIMEOUT_SWEEP_INTERVAL_MS	1000

const char *argp_program_version = "slotap " SLOTAP_VERSION;
const char *argp_program_bug_address = "the slotap issue tracker";

static const char doc[] =
"slotap -- HTTP/1.x request latency and errors of the services on this node,\n"
"measured from the kernel with eBPF and exported for Prometheus.\n"
"\n"
"USAGE: slotap [--config FILE] [--web.listen-address HOST:PORT]\n"
"              [--web.config.file FILE] [--alertmanager.url URL]...\n"
"              [--otlp.endpoint URL] [-v]\n"
"       slotap status [--help]    the SLOs of a running agent at a glance\n"
"       slotap rules [--help]     the Prometheus rules of a config's SLOs\n"
"\n"
"EXAMPLES:\n"
"  slotap                         # every listening TCP service\n"
"  slotap -c /etc/slotap.yaml     # the services and routes of a config\n"
"  slotap -c f.yaml --check-config   # validate a config, attach nothing\n"
"  slotap --alertmanager.url http://am:9093   # also push its SLO alerts\n"
"  slotap --otlp.endpoint http://otel:4318    # and its metrics as OTLP\n"
"\n"
"SIGHUP reloads --config, keeping every count: services, SLOs, default SLOs,\n"
"dependencies and request_timeout; a config that does not load is refused\n"
"and the running one kept (the log says why).\n"
"\n"
"Exit status: 0 on SIGINT/SIGTERM, 1 on a runtime failure, 2 on a bad config or usage.";

enum {
	OPT_LISTEN = 0x100,
	OPT_RINGBUF,
	OPT_CHECK,
	OPT_PRINT_DEFAULT,
	OPT_STATE_DIR,
	OPT_STATE_INTERVAL,
	OPT_BPF_STATS,
	OPT_WEB_CONFIG,
	OPT_ALERTMANAGER,
	OPT_OTLP_ENDPOINT,
	OPT_OTLP_INTERVAL,
	OPT_TLS_LIBRARY,
	OPT_NO_TLS,
};

/* --tls-library: files given at most (besides those found: tls_libs.h) */
#define TLS_PATHS_MAX	16

static const struct argp_option options[] = {
	{ "config", 'c', "FILE", 0, "YAML configuration (default: the built-in one, see --print-default-config)", 0 },
	{ "web.listen-address", OPT_LISTEN, "HOST:PORT", 0, "Where /metrics is served: HOST:PORT or [V6HOST]:PORT, PORT 1-65535 (default 127.0.0.1:9464)", 0 },
	{ "web.config.file", OPT_WEB_CONFIG, "FILE", 0, "TLS and basic authentication of /metrics, in the Prometheus exporter-toolkit format (default: plain HTTP, no authentication)", 0 },
	{ "ringbuf-size", OPT_RINGBUF, "BYTES", 0, "Ring buffer size, a power of two >= 64K (default 512K per online CPU, 1M to 16M; K/M suffixes)", 0 },
	{ "check-config", OPT_CHECK, NULL, 0, "Validate the configuration and exit", 0 },
	{ "print-default-config", OPT_PRINT_DEFAULT, NULL, 0, "Print the built-in configuration and exit", 0 },
	{ "state-interval", OPT_STATE_INTERVAL, "SECONDS", 0, "How often the SLO state is saved: what a crash may lose (default 10)", 0 },
	{ "state-dir", OPT_STATE_DIR, "DIR", 0, "Where SLO window state survives restarts (default /var/lib/slotap; \"\" to keep none)", 0 },
	{ "tls-library", OPT_TLS_LIBRARY, "PATH", 0, "Also probe this file's OpenSSL functions for TLS plaintext (besides libssl.so.3/.so.1.1 and the libssl of tracked processes, found by themselves); repeatable, up to 16 (docs/tls.md)", 0 },
	{ "no-tls", OPT_NO_TLS, NULL, 0, "Do not measure HTTP over TLS: no uprobes (TLS connections are then counted not_http)", 0 },
	{ "bpf-stats", OPT_BPF_STATS, NULL, 0, "Have the kernel count each BPF program's runs and run time (slotap_bpf_program_*; costs every BPF program run of the node ~20-40 ns)", 0 },
	{ "alertmanager.url", OPT_ALERTMANAGER, "URL", 0, "Push the agent's SLO alerts to this Alertmanager (its v2 API under URL; repeatable, up to 8)", 0 },
	{ "otlp.endpoint", OPT_OTLP_ENDPOINT, "URL", 0, "Push the metrics as OTLP over HTTP/protobuf to this receiver (/v1/metrics unless URL has a path)", 0 },
	{ "otlp.interval", OPT_OTLP_INTERVAL, "SECONDS", 0, "How often --otlp.endpoint gets them (default 60)", 0 },
	{ "verbose", 'v', NULL, 0, "Debug messages and libbpf's log (verifier output truncated)", 0 },
	{},
};

static struct env {
	const char *config_path;
	const char *listen;
	const char *web_config_path;
	__u32 ringbuf_bytes;
	const char *state_dir;
	__u32 state_interval_s;
	bool check_only;
	bool bpf_stats;
	bool verbose;
	const char *alertmanagers[ALERT_PUSH_TARGETS_MAX];
	size_t n_alertmanagers;
	const char *otlp_endpoint;
	unsigned int otlp_interval_s;
	const char *tls_paths[TLS_PATHS_MAX];
	unsigned int n_tls_paths;
	bool no_tls;
} env = {
	.otlp_interval_s = OTLP_PUSH_INTERVAL_DEFAULT_S,
	.listen = "127.0.0.1:9464",
	.ringbuf_bytes = 0,	/* ringbuf_default_bytes() */
	.state_dir = "/var/lib/slotap",
	.state_interval_s = 10,
};

static int parse_size(const char *arg, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (*end || v == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	unsigned long long v = 0;

	switch (key) {
	case 'c':
		env.config_path = arg;
		break;
	case OPT_LISTEN: {
		char host[256], port[6];

		if (metrics_server__parse_address(arg, host, sizeof(host), port))
			argp_error(state, "--web.listen-address %s: want HOST:PORT or [V6HOST]:PORT, "
				   "PORT 1 to 65535", arg);
		env.listen = arg;
		break;
	}
	case OPT_WEB_CONFIG:
		env.web_config_path = arg;
		break;
	case OPT_RINGBUF:
		if (parse_size(arg, 1u << 30, &v) || v < (64u << 10) || (v & (v - 1)))
			argp_error(state, "--ringbuf-size %s: want a power of two between 64K and 1024M", arg);
		env.ringbuf_bytes = v;
		break;
	case OPT_STATE_DIR:
		env.state_dir = arg;
		break;
	case OPT_STATE_INTERVAL:
		if (parse_size(arg, 3600, &v))
			argp_error(state, "--state-interval %s: want 1 to 3600 seconds", arg);
		env.state_interval_s = v;
		break;
	case OPT_ALERTMANAGER: {
		char redacted[512];

		if (env.n_alertmanagers == ALERT_PUSH_TARGETS_MAX)
			argp_error(state, "--alertmanager.url: at most %d", ALERT_PUSH_TARGETS_MAX);
		if (strlen(arg) >= sizeof(redacted) - 16 ||
		    http_push__redact(arg, redacted, sizeof(redacted)))
			argp_error(state, "--alertmanager.url %s: want http://HOST[:PORT][/PATH] or "
				   "https://...", http_push__shown(arg, redacted, sizeof(redacted)));
		env.alertmanagers[env.n_alertmanagers++] = arg;
		break;
	}
	case OPT_OTLP_ENDPOINT: {
		char redacted[512];

		if (strlen(arg) >= 500 || http_push__redact(arg, redacted, sizeof(redacted)))
			argp_error(state, "--otlp.endpoint %s: want http://HOST[:PORT][/PATH] or "
				   "https://...", http_push__shown(arg, redacted, sizeof(redacted)));
		env.otlp_endpoint = arg;
		break;
	}
	case OPT_OTLP_INTERVAL:
		if (parse_size(arg, OTLP_PUSH_INTERVAL_MAX_S, &v) || arg[strlen(arg) - 1] > '9')
			argp_error(state, "--otlp.interval %s: want 1 to %d seconds", arg,
				   OTLP_PUSH_INTERVAL_MAX_S);
		env.otlp_interval_s = v;
		break;
	case OPT_CHECK:
		env.check_only = true;
		break;
	case OPT_BPF_STATS:
		env.bpf_stats = true;
		break;
	case OPT_TLS_LIBRARY:
		if (env.n_tls_paths == TLS_PATHS_MAX)
			argp_error(state, "--tls-library %s: at most %d files", arg, TLS_PATHS_MAX);
		if (access(arg, R_OK))
			argp_error(state, "--tls-library %s: %s", arg, strerror(errno));
		env.tls_paths[env.n_tls_paths++] = arg;
		break;
	case OPT_NO_TLS:
		env.no_tls = true;
		break;
	case OPT_PRINT_DEFAULT:
		fputs(config__default_yaml, stdout);
		exit(0);
	case 'v':
		env.verbose = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument %s", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int run_loop(struct agent *a, int sig_fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	__u64 next_scan = 0, next_sweep = 0, next_save = monotonic_ns() + env.state_interval_s * 1000000000ull;
	__u64 next_alerts = 0;
	int ep, err = 0, timeout_ms = POLL_INTERVAL_MS;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	ev.data.fd = sig_fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sig_fd, &ev))
		goto fail;
	ev.data.fd = http_source__epoll_fd(a->src);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev))
		goto fail;

	for (;;) {
		struct epoll_event got[2];
		int n = epoll_wait(ep, got, 2, timeout_ms);

		if (n < 0 && errno != EINTR)
			goto fail;
		for (int i = 0; i < n; i++) {
			if (got[i].data.fd == sig_fd) {
				struct signalfd_siginfo si;

				if (read(sig_fd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					agent__reload(a, ep);
					continue;
				}
				log__info("signal %u: stopping", si.ssi_signo);
				err = agent__drain(a, true);
				err = err < 0 ? err : 0;
				goto out;
			}
		}
		err = agent__drain(a, false);
		if (err < 0) {
			log__error("ring buffer: %s", strerror(-err));
			goto out;
		}
		timeout_ms = err > 0 ? BUSY_POLL_INTERVAL_MS : POLL_INTERVAL_MS;
		err = 0;
		if (monotonic_ns() >= next_scan) {
			pthread_mutex_lock(&a->lock);
			service_registry__refresh(a->services, a->src);
			pthread_mutex_unlock(&a->lock);
			agent__tls_refresh(a);
			next_scan = monotonic_ns() + IDENTITY_REFRESH_INTERVAL_MS * 1000000ull;
		}
		if (monotonic_ns() >= next_sweep) {
			err = http_source__sweep_timeouts(a->src);
			pthread_mutex_lock(&a->lock);	/* its count is a self-metric */
			trouble__note(&a->timeout_sweep, err, NULL, monotonic_ns());
			pthread_mutex_unlock(&a->lock);
			err = 0;
			agent__sweep_transport(a);
			next_sweep = monotonic_ns() + TIMEOUT_SWEEP_INTERVAL_MS * 1000000ull;
		}
		if (monotonic_ns() >= next_alerts) {
			/* what the drain's alert evaluation found, every interval */
			agent__push_alerts(a);
			next_alerts = monotonic_ns() + SLO_REGISTRY_ALERT_INTERVAL_S * 1000000000ull;
		}
		if (monotonic_ns() >= next_save) {
			agent__save_state(a);
			next_save = monotonic_ns() + env.state_interval_s * 1000000000ull;
		}
	}
fail:
	err = -errno;
out:
	close(ep);
	return err;
}

static int serve_metrics(void *server)
{
	return metrics_server__serve(server);
}

/* The push threads, started with no capability like the server's (SECURITY.md). */
static int start_pushers(void *agent)
{
	struct agent *a = agent;

	if (a->alerts && alert_push__start(a->alerts))
		return -1;
	return a->otlp ? otlp_push__start(a->otlp) : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "status"))
		return status__main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "rules"))
		return rules__main(argc - 1, argv + 1);

	static const struct argp argp = { options, parse_arg, NULL, doc, NULL, NULL, NULL };
	struct metrics_server *server = NULL;
	struct agent a = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct web_config web = {};
	char errbuf[512];
	sigset_t mask;
	int sig_fd = -1, stats_fd = -1, err, exit_code = 1;

	/*
	 * Big transient buffers (a state save's image, megabytes; a scrape's
	 * text) in mappings of their own, given back when freed. glibc's
	 * default threshold rises to the size of the largest such buffer
	 * freed, after which they stay in the heap and the agent's resident
	 * memory keeps the high-water mark of every save.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	argp_err_exit_status = 2;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 2;
	if (env.no_tls && env.n_tls_paths) {
		fprintf(stderr, "slotap: --tls-library and --no-tls: choose one\n");
		return 2;
	}
	log__set_verbose(env.verbose);
	log__install_libbpf_printer();
	a.started_ns = monotonic_ns();
	a.last_reload_ok = true;
	a.last_reload_ok_unix_s = time(NULL);

	a.config_path = env.config_path;
	a.ringbuf_bytes = env.ringbuf_bytes;
	a.tls_paths = env.tls_paths;
	a.n_tls_paths = env.n_tls_paths;
	a.no_tls = env.no_tls;
	err = a.config_path
		? config__load_file(&a.cfg, a.config_path, errbuf, sizeof(errbuf))
		: config__load_string(&a.cfg, config__default_yaml, strlen(config__default_yaml),
				      CONFIG_DEFAULT_SOURCE, errbuf, sizeof(errbuf));
	if (!err && env.web_config_path)
		err = web_config__load_file(&web, env.web_config_path, errbuf, sizeof(errbuf));
	if (err) {
		log__error("%s", errbuf);
		config__free(&a.cfg);
		return 2;
	}
	if (a.cfg.empty)
		log__warn("%s is empty: every setting is its default (a reload refuses an empty file)",
			  a.cfg.source);
	if (env.check_only) {
		log__info("%s: configuration is valid: %zu services, %zu SLOs, %zu default SLOs, "
			  "%zu dependencies", a.cfg.source, a.cfg.n_services, a.cfg.n_slos,
			  a.cfg.n_default_slos, a.cfg.n_dependencies);
		if (env.web_config_path)
			log__info("%s: web configuration is valid: %s, %zu basic auth users",
				  web.source, web.tls ? "TLS" : "plain HTTP", web.n_users);
		config__free(&a.cfg);
		web_config__free(&web);
		return 0;
	}

	/* Signals arrive through the epoll loop, not as interruptions. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) ||
	    (sig_fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		log__error("cannot set up signal handling: %s", strerror(errno));
		goto cleanup;
	}

	if (env.bpf_stats && (stats_fd = bpf_stats__enable()) < 0) {
		log__error("--bpf-stats: the kernel does not count BPF run time for us: %s",
			   strerror(-stats_fd));
		goto cleanup;
	}
	a.bpf_stats = stats_fd >= 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		log__error("cannot set up libcurl");
		goto cleanup;
	}
	if (env.n_alertmanagers &&
	    !(a.alerts = alert_push__new(env.alertmanagers, env.n_alertmanagers, errbuf,
					 sizeof(errbuf)))) {
		log__error("--alertmanager.url: %s", errbuf);
		goto cleanup;
	}
	if (env.otlp_endpoint &&
	    !(a.otlp = otlp_push__new(env.otlp_endpoint, env.otlp_interval_s,
				      agent__write_metrics, &a, errbuf, sizeof(errbuf)))) {
		log__error("--otlp.endpoint: %s", errbuf);
		goto cleanup;
	}
	if (agent__init(&a))
		goto cleanup;	/* it said why */
	/* even with no SLO yet: a reload may bring some, saved from then on */
	if (env.state_dir[0]) {
		size_t restored = 0;

		/* one others can write would let them steer root's writes: refused */
		if (state__check_dir(env.state_dir, errbuf, sizeof(errbuf))) {
			log__error("%s", errbuf);
			goto cleanup;
		}
		/* it says itself what it restored, or why it started fresh */
		a.state_dir = env.state_dir;
		if (state__load(a.slos, a.state_dir, time(NULL), &restored)) {
			log__error("out of memory");
			goto cleanup;
		}
	}

	if (agent__open_source(&a, &a.cfg, &a.src) || http_source__start(a.src) ||
	    agent__tls_start(&a))
		goto cleanup;
	/* executables and cgroups known before the first connection is classified */
	service_registry__refresh(a.services, a.src);
	http_source__measure(a.src, true);
	agent__retransmits_zero(&a);

	/*
	 * Attached and bound: from here on the server's threads run with no
	 * capability, this one with what reloads and sweeps need (SECURITY.md).
	 */
	server = metrics_server__listen(env.listen, &web, agent__write_metrics, &a);
	if (server)
		metrics_server__set_health(server, agent__health, &a);
	if (!server || privileges__run_unprivileged(serve_metrics, server) ||
	    privileges__run_unprivileged(start_pushers, &a) || privileges__drop())
		goto cleanup;
	log__info("tracking %s; metrics at %s://%s/metrics",
		  a.cfg.n_services ? "the configured services" : "every listening TCP service",
		  web.tls ? "https" : "http", env.listen);

	err = run_loop(&a, sig_fd);
	if (err)
		log__error("event loop: %s", strerror(-err));
	else
		exit_code = 0;
	agent__save_state(&a);

cleanup:
	metrics_server__stop(server);	/* before the state it reads goes away */
	alert_push__free(a.alerts);
	otlp_push__free(a.otlp);	/* before the agent it reads */
	web_config__free(&web);
	agent__free(&a);
	if (sig_fd >= 0)
		close(sig_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	curl_global_cleanup();
	return exit_code;
}
